# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: hostid
short_description: Normalise a FlexNet hostid, refusing malformed or dangerous values
version_added: 1.0.0
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Takes a hostid written C(<value>/<TYPE>) (the type in any case) and returns it normalised
    (C(0A1B2C3D4E5F/ETHERNET)); an ETHERNET value written with C(:) or C(-) separators is normalised.
  - Fails with a message saying what is wrong when the value is malformed, of an unknown type, or holds a
    newline, C(=), a quote, white space or a shell character.
options:
  _input:
    description: The hostid.
    type: str
    required: true
  default_type:
    description: Type to assume when the input has no C(/<TYPE>) part.
    type: str
'''

EXAMPLES = r'''
- name: Normalise a MAC written with separators
  ansible.builtin.debug:
    msg: "{{ '0a:1b:2c:3d:4e:5f/ethernet' | fnls.failover.hostid }}"   # 0A1B2C3D4E5F/ETHERNET
'''

RETURN = r'''
_value:
  description: The normalised hostid, C(<VALUE>/<TYPE>).
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.fnls.failover.plugins.module_utils.fnls_hostid import HostidError, normalise_hostid


def hostid(value, default_type=None):
    try:
        return normalise_hostid(value, default_type=default_type)
    except HostidError as e:
        raise AnsibleFilterError(str(e))


class FilterModule(object):
    def filters(self):
        return {'hostid': hostid}
