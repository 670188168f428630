#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: server_info
short_description: Read a FlexNet Embedded license server's service state and status
version_added: 1.0.0
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Tells whether the service runs, whether the server answers, and, with admin credentials, its status
    (back-office contact with last attempt, last success and last error; failover role, sync and peer state).
  - Read-only; the playbooks use it to decide whether a pair needs the ordered restart at all, so that a
    rerun on a registered pair restarts nothing.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  name:
    description: The server's service, C(flexnetls-<producer>).
    type: str
    required: true
  service_manager:
    description: How the service state is read; C(auto) uses systemctl when systemd runs, else C(service).
    type: str
    choices: [auto, service, systemctl]
    default: auto
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
  platform:
    support: full
    description: Runs on the license server's host, a POSIX system.
    platforms: posix
notes:
  - The status endpoint C(GET /api/1.0/instances/~/status) and its fields are modelled (profile key C(paths.status), see the collection's C(docs/PROFILE.md));
    where a real server has no such endpoint, RV(status) is null and RV(status_error) says why.
'''

EXAMPLES = r'''
- name: Read the main's state
  fnls.failover.server_info:
    name: flexnetls-acme
    admin_password: "{{ vault_fnls_admin_password }}"
  register: main_state

- name: Show when it last talked to the back office
  ansible.builtin.debug:
    msg: "{{ main_state.status.backoffice.last_success }}"
  when: main_state.status is not none
'''

RETURN = r'''
process_started_at:
  description:
    - When the server's process started, by the managed host's clock (ISO 8601 UTC), read from C(/proc) for the
      PID that systemd (C(MainPID)) or the init script's PID file (profile key C(service.pid_file)) gives; null when
      the server does not run or the PID is not known. The collection dates the main's latest start with it when it
      did not start the main itself.
  returned: always
  type: str
  sample: "2026-11-29T12:00:00.120Z"
running:
  description: Whether the service runs.
  returned: always
  type: bool
reachable:
  description: Whether the server's REST API answers (a starting server answering 503 counts).
  returned: always
  type: bool
ready:
  description: Whether the server answers health with UP.
  returned: always
  type: bool
status:
  description: The server's status document, or null when it cannot be read (not running, no credentials).
  returned: always
  type: dict
  sample: {"state": "READY", "boot_id": "7f0c...", "backoffice": {"last_success": "2026-11-29T12:00:03.120Z"}}
status_error:
  description: Why RV(status) is null, when it is.
  returned: always
  type: str
boot_id:
  description: The identifier of the server's current start, when the status was read.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_server_info import run_module


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
