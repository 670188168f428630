#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: config
short_description: Set policy settings of a FlexNet Embedded license server through its admin API
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Reads the license server's policy settings with C(GET /api/1.0/instances/~/config), compares them with
    O(settings) after normalising both sides, and sends only the keys that differ with
    C(POST /api/1.0/instances/~/config).
  - This is what C(flexnetlsadmin -config -set key=value) does. Typical keys are C(licensing.main.uri) and
    C(licensing.backup.uri) on the main (Step 5) and C(fne.syncTo.enabled) and C(fne.syncTo.mainUri) on the
    back-up (Step 4).
  - Values are compared as strings; booleans become C(true)/C(false), numbers their decimal form, trailing
    whitespace is removed. URIs are compared exactly.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  settings:
    description:
      - Policy settings to enforce, key to value. Keys the server does not know are refused before anything
        is changed.
    type: dict
    required: true
  state:
    description:
      - Only V(present) is supported; the server has no way to remove a policy setting.
    type: str
    choices: [present]
    default: present
attributes:
  check_mode:
    description:
      - Reads the settings and reports what would change; sends nothing.
      - When the server is not running, reports every setting as a change instead of failing, since the
        playbooks start it before this step in a real run.
    support: full
  diff_mode:
    description: Shows the old and new values of the keys that change.
    support: full
  idempotent:
    description: A second run with the same settings reports no change.
    support: full
notes:
  - Interfaces used; every modelled one is a key of the interface profile (O(profile), the collection's
    C(docs/PROFILE.md)). C(POST /api/1.0/instances/~/authorize) [confirmed]
    for a bearer token; C(GET)/C(POST /api/1.0/instances/~/config) [modelled path and body; all values are
    strings; an unknown key is answered with HTTP 400]. The setting names C(licensing.main.uri) and
    C(licensing.backup.uri) are confirmed, the C(fne.syncTo.*) and C(backoffice.url) names are modelled.
  - Policy changes take effect at once; no restart is needed.
seealso:
  - module: fnls.failover.backoffice_wait
'''

EXAMPLES = r'''
- name: Turn failover support on at the back-up (Step 4)
  fnls.failover.config:
    server_url: http://backup.example.com:7070
    admin_password: "{{ fnls_admin_password }}"
    settings:
      fne.syncTo.enabled: true
      fne.syncTo.mainUri: http://main.example.com:7070/fne/bin/sync

- name: Tell clients about both servers (Step 5, on the main)
  fnls.failover.config:
    admin_password: "{{ fnls_admin_password }}"
    settings:
      licensing.main.uri: http://main.example.com:7070/fne/bin/capability
      licensing.backup.uri: http://backup.example.com:7070/fne/bin/capability
'''

RETURN = r'''
changed_keys:
  description: Keys whose value changed, or would change in check mode, sorted.
  returned: always
  type: list
  elements: str
  sample: [fne.syncTo.enabled, fne.syncTo.mainUri]
config:
  description:
    - The whole policy configuration after the run, as the server reports it.
    - In check mode, the current configuration with the planned values applied.
    - Null in check mode when the server is not running (a real run would start it first); every
      setting is then reported as a change.
  returned: success
  type: dict
  sample: {"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": "http://main.example.com:7070/fne/bin/sync"}
diff:
  description: Old and new values of the changed keys, when run with C(--diff).
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Old values of the changed keys.
      type: dict
      returned: always
    after:
      description: New values of the changed keys.
      type: dict
      returned: always
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec, server_client)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import FnlsHttpError, NotReady, Unreachable


def normalise(value):
    """A policy value as the string the server stores."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).rstrip()
    if text.lower() in ('true', 'false'):
        return text.lower()
    return text


def plan(current, wanted):
    """{key: (old, new)} of the keys whose normalised values differ."""
    changes = {}
    for key, value in wanted.items():
        new = normalise(value)
        old = current.get(key)
        if old is None or normalise(old) != new:
            changes[key] = (old, new)
    return changes


def run_module():
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        settings=dict(type='dict', required=True),
        state=dict(type='str', default='present', choices=['present']),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    p = module.params
    if not p['admin_password']:
        module.fail_json(msg='Reading the policy settings needs the admin password; set admin_password.')
    client = server_client(p)
    url = client.url

    try:
        current = client.config_get()
    except Unreachable as e:
        if not module.check_mode:
            module.fail_json(msg='Reading the policy settings of %s failed: %s' % (url, e))
        # Check mode on a stopped server (the run would start it before this step): report every
        # setting as a change a real run would make.
        wanted = dict((k, normalise(v)) for k, v in p['settings'].items())
        result = dict(changed=True, changed_keys=sorted(wanted), config=None,
                      msg='The server is not running; a real run would set %s once it is started.'
                      % ', '.join(sorted(wanted)))
        if module._diff:
            result['diff'] = dict(before={}, after=wanted)
        module.exit_json(**result)
    except NotReady:
        module.fail_json(msg='Reading the policy settings of %s failed: the server is still starting; '
                             'wait until it is ready (fnls.failover.server with wait_ready) and rerun.' % url)
    except FnlsHttpError as e:
        module.fail_json(msg='Reading the policy settings of %s failed: %s' % (url, e))
    if not isinstance(current, dict):
        module.fail_json(msg='Reading the policy settings of %s returned no JSON object; check server_url.' % url)

    unknown = sorted(k for k in p['settings'] if k not in current)
    if unknown:
        module.fail_json(msg='The license server at %s has no policy setting %s; known settings are: %s.'
                             % (url, ', '.join(unknown), ', '.join(sorted(current))))

    changes = plan(current, p['settings'])
    changed_keys = sorted(changes)
    result = dict(changed=bool(changes), changed_keys=changed_keys)
    if module._diff:
        result['diff'] = dict(before=dict((k, changes[k][0]) for k in changed_keys),
                              after=dict((k, changes[k][1]) for k in changed_keys))

    after = dict(current)
    if changes and module.check_mode:
        after.update((k, changes[k][1]) for k in changed_keys)
    elif changes:
        try:
            answer = client.config_set(dict((k, changes[k][1]) for k in changed_keys))
        except FnlsHttpError as e:
            module.fail_json(msg='Setting %s on %s failed: %s' % (', '.join(changed_keys), url, e), **result)
        after = answer if isinstance(answer, dict) else client.config_get()
        left = sorted(k for k in changed_keys if normalise(after.get(k)) != changes[k][1])
        if left:
            module.fail_json(msg='The license server at %s accepted the change but still reports other values for '
                                 '%s; check the server log.' % (url, ', '.join(left)), config=after, **result)
    result['config'] = after
    module.exit_json(**result)


def main():
    run_module()


if __name__ == '__main__':
    main()
