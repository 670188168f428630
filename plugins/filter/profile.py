# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: profile
short_description: The interface profile with a site's override laid over the defaults
version_added: 1.1.0
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Takes a partial interface profile (the role's C(failover_pair_profile)) and returns the whole profile, every
    key present, the override laid over the defaults key by key, exactly as the modules merge it.
  - Fails with a message naming the key when the override has an unknown key or a value of the wrong kind.
  - Every key, its default and whether it is confirmed or modelled is listed in the collection's
    C(docs/PROFILE.md).
options:
  _input:
    description: The partial profile, a mapping (may be empty).
    type: dict
    required: true
  api_paths:
    description: The older C(api_paths) overrides (C(health_path), ...), laid over C(paths).
    type: dict
'''

EXAMPLES = r'''
- name: The name of the policy setting that turns failover on, as this site's servers call it
  ansible.builtin.debug:
    msg: "{{ (failover_pair_profile | fnls.failover.profile).config['keys'].sync_enabled }}"
'''

RETURN = r'''
_value:
  description: The whole interface profile.
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile


def profile(override, api_paths=None):
    try:
        return fnls_profile.merge(override or {}, api_paths or {})
    except fnls_profile.ProfileError as e:
        raise AnsibleFilterError('failover_pair_profile cannot be used: %s' % e)


class FilterModule(object):

    def filters(self):
        return {'profile': profile}
