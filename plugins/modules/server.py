#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: server
short_description: Start, stop or restart a FlexNet Embedded license server, refusing to start a back-up too early
version_added: "1.0.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - Manages the license server's service C(flexnetls-<producer>) through C(service) (SysV init script,
    LSB exit codes) or C(systemctl), and waits until the server's REST API is ready.
  - With O(guard_main_url), the module protects the seed procedure's rule "start the back-up only once the
    main has successfully communicated with FlexNet Operations". Before starting (or restarting) the
    service it reads the main's status and refuses unless the main is READY, has a back-office success not
    older than its latest start, and is registered as MAIN. A back-up started too early can be registered
    by the back office as a main server, after which registering the real pair fails.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  name:
    description: Name of the service, normally C(flexnetls-<producer>), for example C(flexnetls-demo).
    type: str
    required: true
  state:
    description:
      - V(started) starts the service when it is not running (a running service is left alone).
      - V(stopped) stops it and checks that it stopped and its port is closed.
      - V(restarted) always restarts it (or starts it when it is not running).
    type: str
    choices: [started, stopped, restarted]
    default: started
  service_manager:
    description:
      - How to control the service. V(auto) uses C(systemctl) when C(/run/systemd/system) exists, else C(service)
        (or the init script C(/etc/init.d/<name>) when C(service) is not installed).
    type: str
    choices: [auto, service, systemctl]
    default: auto
  wait_ready:
    description:
      - After a start, wait until the health endpoint answers C(UP) (through the closed port and the
        503 C(STARTING) phase).
    type: bool
    default: true
  ready_timeout:
    description: Seconds to wait for the server to become ready after a start.
    type: float
    default: 120
  stop_timeout:
    description: Seconds to wait for the service to stop and its port to close.
    type: float
    default: 60
  guard_main_url:
    description:
      - The main server's REST base URL, for example C(http://main.example.com:7070). When set, the service is
        only started (or restarted) when the main's status confirms back-office contact since its latest start.
      - Set it when this host is the back-up of a failover pair.
    type: str
  guard_admin_user:
    description: Admin user at the main for the guard; defaults to O(admin_user).
    type: str
  guard_admin_password:
    description: Password of O(guard_admin_user) at the main; defaults to O(admin_password). Never shown.
    type: str
  guard_boot_id:
    description:
      - The main's boot id at the time its contact was confirmed (RV(fnls.failover.backoffice_wait#module:boot_id)).
        When given, the guard also refuses if the main has started again since.
    type: str
  guard_backup_hostid:
    description:
      - This back-up's hostid, C(<value>/<TYPE>). When given, the main's status must name it as its back-up, and
        the V(backoffice) evidence needs it (the device must hold it as the main's back-up).
    type: str
  guard_evidence:
    description:
      - The kinds of evidence the guard accepts, tried in this order; the first that confirms passes the guard. A
        kind whose inputs are not given is left out (RV(guard.skipped_sources)).
      - V(status) reads the main's status endpoint (O(guard_main_url); a modelled endpoint, profile key
        C(paths.status)).
      - V(confirmation) accepts O(guard_confirmation), the result of M(fnls.failover.backoffice_wait) on the main's
        own host (for servers with neither a status endpoint nor a device API, where only the main's log can tell);
        it must be confirmed and not older than O(guard_since), and the main must still answer. It is never tried
        unless listed.
      - V(backoffice) asks the back office, where a device must hold O(guard_main_hostid) as main and
        O(guard_backup_hostid) as its back-up, with a device contact not older than O(guard_since). It needs no
        endpoint of the main, so it works on servers without a status endpoint.
    type: list
    elements: str
    choices: [status, backoffice, confirmation]
    default: [status, backoffice]
  guard_main_hostid:
    description: The main's hostid, C(<value>/<TYPE>), for the V(backoffice) evidence.
    type: str
  guard_confirmation:
    description:
      - The registered result of M(fnls.failover.backoffice_wait) on the main, for the V(confirmation) evidence.
    type: dict
  guard_main_names_backup:
    description:
      - With the V(status) evidence and O(guard_backup_hostid), the main's status must name this back-up as its own
        (automatic registration, C(BACKUP_SERVER_HOSTID)). Set V(false) for a pair registered through the device API,
        whose main names no back-up.
    type: bool
    default: true
  guard_since:
    description:
      - ISO 8601 UTC time at or after which the main is known to have been stopped or started by this run
        (RV(stopped_at) or RV(started_at) of the main's own task); a back-office contact older than this does
        not count. Needed for the V(backoffice) evidence; with V(status), the contact must not be older either.
    type: str
  guard_backoffice_url:
    description: Base URL of the back office, for the V(backoffice) evidence.
    type: str
  guard_backoffice_user:
    description: User of the back office's device API.
    type: str
    default: admin
  guard_backoffice_password:
    description: Password of O(guard_backoffice_user). Never shown.
    type: str
  guard_wait:
    description:
      - Seconds to keep asking the main while the guard does not pass yet, polling every O(guard_poll_interval)
        seconds; the back-up starts as soon as the main's contact is confirmed. V(0) asks once.
      - Whatever this value, the back-up is never started before the guard passes; at the deadline the module
        refuses as it does without waiting.
    type: float
    default: 0
  guard_poll_interval:
    description: Seconds between two looks at the main's status while O(guard_wait) runs.
    type: float
    default: 0.25
  guard_check_mode_skip:
    description:
      - In check mode, report a failing guard in RV(guard) and a warning instead of failing; the main may only be
        started by this same run. Set to V(false) to fail in check mode too.
    type: bool
    default: true
attributes:
  check_mode:
    description: Reads the service state and evaluates the guard; starts or stops nothing.
    support: full
  diff_mode:
    description: Changes no file.
    support: none
  idempotent:
    description: V(started) and V(stopped) report no change when the service is already so.
    support: partial
    details: V(restarted) always restarts the service and reports a change.
notes:
  - Interfaces used; every modelled one is a key of the interface profile (O(profile), the collection's
    C(docs/PROFILE.md)). The service C(flexnetls-<producer>) [confirmed
    name] with C(start), C(stop), C(restart), C(status) and LSB exit codes (C(status) is 0 when running, 3 when
    stopped) [modelled init script]; C(GET /api/1.0/instances/~/health) [confirmed path; modelled body
    C(UP)/C(STARTING) and 503 while starting]; C(GET /api/1.0/instances/~/status) [modelled; fields C(state),
    C(boot_id), C(started_at), C(backup_hostid), C(backoffice.last_success), C(backoffice.last_error),
    C(backoffice.registered_role)].
  - The module reports; it never deletes a wrong registration. See M(fnls.failover.pair_info) and M(fnls.failover.device).
seealso:
  - module: fnls.failover.backoffice_wait
'''

EXAMPLES = r'''
- name: Start the main and wait until it is ready
  fnls.failover.server:
    name: flexnetls-demo
    state: started
    admin_password: "{{ fnls_admin_password }}"

- name: Start the back-up only once the main has confirmed back-office contact
  fnls.failover.server:
    name: flexnetls-demo
    state: started
    admin_password: "{{ fnls_admin_password }}"
    guard_main_url: "http://{{ fnls_main_host }}:7070"
    guard_boot_id: "{{ main_contact.boot_id }}"
    guard_backup_hostid: 0A1B2C3D4E60/ETHERNET

- name: Stop the server
  fnls.failover.server:
    name: flexnetls-demo
    state: stopped
'''

RETURN = r'''
state:
  description: The requested state.
  returned: always
  type: str
  sample: started
name:
  description: The service name.
  returned: always
  type: str
  sample: flexnetls-demo
service_manager:
  description: The service manager used, V(service) or V(systemctl).
  returned: always
  type: str
  sample: service
was_running:
  description: Whether the service ran before the module acted.
  returned: always
  type: bool
running:
  description: Whether the service runs afterwards (in check mode, whether it would).
  returned: always
  type: bool
ready:
  description: Whether the health endpoint answered C(UP); null when not waited for.
  returned: always
  type: bool
commands:
  description: Service commands run (or, in check mode, that would be run).
  returned: always
  type: list
  elements: str
  sample: ["service flexnetls-demo start"]
boot_id:
  description: The server's own boot id after the start, when readable (needs O(admin_password)).
  returned: always
  type: str
  sample: 5f0c4a52-1b7e-4a3c-9a7b-2f9d1c0e8b11
started_at:
  description: The managed host's time (ISO 8601 UTC) just before the module started the service; null when it did
    not start it. The collection's own record of the server's latest start.
  returned: always
  type: str
  sample: "2026-11-29T12:00:00.000Z"
stopped_at:
  description: The managed host's time (ISO 8601 UTC) once the service was seen stopped (V(stopped)); null otherwise.
  returned: always
  type: str
  sample: "2026-11-29T11:59:58.000Z"
guard:
  description: The result of the guard on the main server.
  returned: always
  type: dict
  contains:
    checked:
      description: Whether the guard was evaluated.
      type: bool
      returned: always
    passed:
      description: Whether the main confirmed back-office contact since its latest start; null when not checked.
      type: bool
      returned: always
    source:
      description: The evidence that passed the guard, V(status) or V(backoffice); null when it did not pass.
      type: str
      returned: always
    skipped_sources:
      description: Evidence kinds left out because their inputs were not given, with the reason.
      type: dict
      returned: always
    unfit:
      description: True when waiting cannot help - every evidence kind tried answered in a form the interface
        profile does not describe, or the main refused the admin credentials; the guard then stops waiting at once.
      type: bool
      returned: when the guard was evaluated and refused
    main_boot_id:
      description: The main's current boot id.
      type: str
      returned: always
    main_last_success:
      description: The main's last back-office success.
      type: str
      returned: always
    detail:
      description: What the guard found.
      type: str
      returned: always
    waited:
      description: Seconds spent waiting for the guard to pass (O(guard_wait)).
      type: float
      returned: when O(guard_wait) was used
'''

from ansible.module_utils.basic import AnsibleModule

# run_module for main(); the other names for the code and tests that import them from here
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_server import (  # noqa: F401  # pylint: disable=unused-import
    evaluate_guard,
    run_module,
)


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
