#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: backoffice_wait
short_description: Wait until a main license server has confirmed contact with the back office since its latest start
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - The seed procedure says to start the back-up only once the main license server "has successfully
    communicated with FlexNet Operations". This module waits for exactly that, after the main's latest start.
  - Each poll tries the evidence sources in the order of O(evidence); the first that confirms wins and is
    returned as RV(source). V(status) reads the server's status endpoint (needs O(admin_password)); the last
    back-office success must not be older than the server's latest start and the server must be registered
    as MAIN. V(log) reads O(log_path) on the managed host; a success line must follow the last start line.
    V(backoffice) asks the back office's device API (needs O(backoffice_url) and O(backoffice_password));
    a device must hold the main as MAIN (and O(backup_hostid) as BACKUP, when given) with a last contact not
    older than the latest start (or O(since)).
  - A source whose inputs are missing is left out and listed in RV(skipped_sources).
  - While the server is starting (port closed, or 503 "not ready") the module keeps polling.
  - At the deadline the module fails with the last back-office error the server reported.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  wait_timeout:
    description:
      - How long to wait in all, in seconds. V(300) when not set.
      - In 1.0.0 this was O(timeout), which now means one request's timeout as in every module of the
        action group C(fnls.failover.server_api). See O(timeout) for how a 1.0.0 task that sets it is read in
        this release.
    type: float
    version_added: 1.1.0
  timeout:
    description:
      - Timeout in seconds of each single HTTP request, as in the other modules of the action group
        C(fnls.failover.server_api), so one C(module_defaults) value means the same everywhere. No request
        outlasts the remaining O(wait_timeout).
      - In 1.0.0 O(timeout) was the whole wait and C(request_timeout) the timeout of one request;
        C(request_timeout) is kept as an alias.
      - Deprecated reading, for one release only (removed in 2.0.0) - when O(wait_timeout) is not set and
        O(timeout) is more than 60, the value is read as the whole wait, as in 1.0.0, each request keeping the
        default timeout of 10 s, and the module warns. Set O(wait_timeout) instead.
    type: float
    default: 10
    aliases: [request_timeout]
  poll_interval:
    description: Seconds between two polls.
    type: float
    default: 0.5
  evidence:
    description: Evidence sources, tried in this order at each poll.
    type: list
    elements: str
    choices: [status, log, backoffice]
    default: [status, log, backoffice]
  log_path:
    description: The server's log file on the managed host, for the V(log) evidence.
    type: path
    default: /var/opt/flexnetls/demo/logs/flexnetls.log
  backoffice_url:
    description:
      - Base URL of the back office, for the V(backoffice) evidence, for example C(http://fno.example.com:8888).
    type: str
  backoffice_user:
    description: User for HTTP Basic authentication to the back office's device API.
    type: str
    default: admin
  backoffice_password:
    description: Password of O(backoffice_user). Never shown in output or messages.
    type: str
  main_hostid:
    description:
      - Hostid of the main, C(<value>/<TYPE>), for the V(backoffice) evidence.
      - When omitted, the hostid the server's status reports is used.
    type: str
  backup_hostid:
    description:
      - Hostid of the back-up, C(<value>/<TYPE>). When given, the V(backoffice) evidence also requires the
        device to hold it as BACKUP.
    type: str
  since:
    description:
      - An ISO 8601 UTC timestamp; the contact must not be older. The server's latest start always applies too.
    type: str
attributes:
  check_mode:
    description:
      - Runs the same read-only polls. When the server does not answer at all in check mode, returns
        RV(confirmed=false) and RV(skipped=true) at once instead of waiting.
    support: full
  diff_mode:
    description: Changes nothing, so there is nothing to show.
    support: none
  idempotent:
    description: Read-only.
    support: full
notes:
  - Interfaces used; every modelled one is a key of the interface profile (O(profile), the collection's
    C(docs/PROFILE.md)). C(GET /api/1.0/instances/~/status) [modelled; fields
    C(started_at), C(boot_id), C(backoffice.last_success), C(backoffice.last_error),
    C(backoffice.registered_role), C(backoffice.device_id)]; the log lines
    C(FlexNet Embedded License Server starting (boot <id>)) and C(Back-office communication successful)
    [modelled wording]; C(GET /flexnet/operations/devices?hostid=X/T) [modelled device API].
  - A site whose real server writes other log lines changes the patterns in the collection's
    C(fnls_interfaces) module_utils.
seealso:
  - module: fnls.failover.server
  - module: fnls.failover.pair_info
'''

EXAMPLES = r'''
- name: Wait until the main has talked to the back office since its start
  fnls.failover.backoffice_wait:
    admin_password: "{{ fnls_admin_password }}"
    wait_timeout: 300
  register: contact

- name: Use only the back office as evidence, from the controller
  fnls.failover.backoffice_wait:
    evidence: [backoffice]
    backoffice_url: http://fno.example.com:8888
    backoffice_password: "{{ fnls_backoffice_password }}"
    main_hostid: 0A1B2C3D4E5F/ETHERNET
    backup_hostid: 0A1B2C3D4E60/ETHERNET
    since: "{{ main_start.started_at }}"
  delegate_to: localhost
'''

RETURN = r'''
confirmed:
  description: Whether contact after the latest start was confirmed.
  returned: always
  type: bool
  sample: true
skipped:
  description: True when, in check mode, the server did not answer and the module did not wait.
  returned: always
  type: bool
  sample: false
source:
  description: The evidence source that confirmed the contact, V(status), V(log) or V(backoffice).
  returned: when confirmed
  type: str
  sample: status
detail:
  description: What the confirming source (or, otherwise, the last source tried) found.
  returned: always
  type: str
confirmed_at:
  description: Time of the confirmed contact as the source reports it (ISO 8601 UTC).
  returned: when confirmed
  type: str
  sample: "2026-11-29T12:00:04.512Z"
boot_id:
  description: Boot id of the server's latest start, when known.
  returned: always
  type: str
started_at:
  description: Time of the server's latest start, when known.
  returned: always
  type: str
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 3.5
polls:
  description: Number of polls.
  returned: always
  type: int
  sample: 8
registered_role:
  description: The role the back office gave the server, when known (V(MAIN) when confirmed).
  returned: always
  type: str
  sample: MAIN
device_id:
  description: The back office's device id of the server, when known.
  returned: always
  type: str
  sample: FNLS-000001
last_error:
  description: The last back-office error the server reported (status or log), or null.
  returned: always
  type: str
  sample: "connection refused (http://198.18.0.2:8888/flexnet/deviceservices)"
skipped_sources:
  description: Evidence sources left out because their inputs were missing, with the reason.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

# run_module for main(); the other names for the code and tests that import them from here
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_backoffice_wait import (  # noqa: F401  # pylint: disable=unused-import
    LicenseServerClient,
    REQUEST_TIMEOUT,
    run_module,
)


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
