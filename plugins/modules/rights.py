#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: rights
short_description: Bring license rights to a FlexNet Embedded main server and wait for its features
version_added: 1.0.0
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Activates rights ids on a main server, the admin API's equivalent of
    C(flexnetlsadmin -activate -id <rights id> -count <n>); the server sends them in a capability request
    to the back office, which maps them to the server's device (for a pair, the pair's device).
  - A rights id the server already holds with at least the count asked for is not sent again.
  - Or, for rights mapped to the pair in the back office, waits until capability polling has delivered
    the features named in O(features).
  - Errors from the back office (unknown rights id, count exceeded) are reported as such.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  rights:
    description: Rights ids to activate, each with the number of copies wanted on the server in all.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The rights id (activation id), for example C(ACT-0001).
        type: str
        required: true
      count:
        description: Copies wanted on the server in all.
        type: int
        default: 1
  features:
    description: Feature names the server must list before the module returns; it waits up to O(wait_timeout).
    type: list
    elements: str
    default: []
  wait_timeout:
    description: Seconds to wait for O(features).
    type: float
    default: 300
  poll_interval:
    description: Seconds between two looks at the server's licenses.
    type: float
    default: 1
  poll_now:
    description:
      - Ask the server to poll the back office at once instead of waiting for its next capability poll.
      - The endpoint for this is modelled (profile key C(paths.status), see the collection's C(docs/PROFILE.md)); leave it off for a real server without it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the server's licenses and reports which rights ids would be activated; sends nothing.
  diff_mode:
    support: full
    description: Shows the rights ids and counts before and after.
  platform:
    support: full
    description: Runs on the license server's host, a POSIX system.
    platforms: posix
notes:
  - The license endpoints C(GET /api/1.0/instances/~/licenses) and C(POST /api/1.0/instances/~/activate) are
    modelled on what C(flexnetlsadmin -licenses) and C(-activate) do; see the collection's C(docs/PROFILE.md).
'''

EXAMPLES = r'''
- name: Activate two copies of a rights id on the main
  fnls.failover.rights:
    admin_password: "{{ vault_fnls_admin_password }}"
    rights:
      - id: ACT-0001
        count: 2
    features: [cad_pro]

- name: Wait for rights mapped to the pair in the back office to arrive by capability polling
  fnls.failover.rights:
    admin_password: "{{ vault_fnls_admin_password }}"
    features: [cad_pro, cad_viewer]
    wait_timeout: 900
'''

RETURN = r'''
activated:
  description: The rights ids sent to the back office by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "ACT-0001", "count": 2}]
rights:
  description: The rights the server holds after the run.
  returned: always
  type: list
  elements: dict
features:
  description: The features the server holds after the run.
  returned: always
  type: list
  elements: dict
waited:
  description: Seconds spent waiting for O(features).
  returned: always
  type: float
'''

from ansible.module_utils.basic import AnsibleModule

# run_module for main(); the other names for the code and tests that import them from here
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_rights import (  # noqa: F401  # pylint: disable=unused-import
    feature_names,
    held,
    plan,
    run_module,
)


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
