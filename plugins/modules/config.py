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

# run_module for main(); the other names for the code and tests that import them from here
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_config import (  # noqa: F401  # pylint: disable=unused-import
    normalise,
    plan,
    run_module,
)


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
