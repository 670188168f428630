#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pair_converge
short_description: Bring one server of a failover pair to its end state - start, confirm, configure, verify - in one run
version_added: "1.2.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - The converge phase of the role C(fnls.failover.failover_pair), one run per host of the pair; both hosts run it
    in the same task, the back-up's guarded start waiting for the main's confirmed back-office contact. Each step
    is the code of an existing module, run in this module's process with that module's messages and results.
  - On the main (O(role=main)), in this order - delete the devices of O(repairs) (M(fnls.failover.device)
    C(state=absent)); create the pair's device (O(manual_device), M(fnls.failover.device)); start the server
    (O(start), M(fnls.failover.server) C(state=started)); wait for its back-office contact after its latest
    start (O(wait), M(fnls.failover.backoffice_wait)); set the producer settings of Step 5 (O(step5),
    M(fnls.failover.config)); bring the rights (O(rights), M(fnls.failover.rights)); check that the back office
    holds the pair, the main as main, and the back-up as a main server nowhere (O(verify),
    M(fnls.failover.pair_info)); release the pair's lock (O(lock), M(fnls.failover.pair_lock) C(state=absent)).
  - On the back-up (O(role=backup)), in this order - start the server, with the guard that refuses to start it
    before the main's back-office contact is confirmed (O(start), O(guard), M(fnls.failover.server)); enable its
    sync to the main, Step 4 (O(step4), M(fnls.failover.config)); wait until the main accepts its sync (O(sync),
    M(fnls.failover.sync_wait)); wait until it holds the main's features (O(features), M(fnls.failover.server_info)
    polled).
  - A step whose option is null (or, for O(repairs), empty) is not run. The first step that fails fails the module
    with the step's own message, prefixed C(Pair <pair>:) unless it has it; the steps after it are not run.
  - The main releases the pair's lock (O(lock)) at the end whatever happened, and a failure message says so.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  name:
    description: The server's service, normally C(flexnetls-<producer>), for example C(flexnetls-demo).
    type: str
    required: true
  role:
    description: Which server of the pair this host is.
    type: str
    choices: [main, backup]
    required: true
  pair:
    description: The pair's name, for the messages and RV(result).
    type: str
    required: true
  main:
    description: The main's name in the inventory; only words RV(result).
    type: str
    default: ""
  backup:
    description: The back-up's name in the inventory; only words RV(result).
    type: str
    default: ""
  main_hostid:
    description: The main's hostid, C(<value>/<TYPE>), for RV(result); default O(verify.main_hostid), else O(wait.main_hostid).
    type: str
  backup_hostid:
    description:
      - The back-up's hostid, C(<value>/<TYPE>), for RV(result); default O(verify.backup_hostid), else
        O(wait.backup_hostid).
    type: str
  restarted:
    description: Whether the pair went through the ordered restart in this run; only words RV(result).
    type: bool
    default: false
  sync_checked:
    description: Whether the back-up's sync is proved in this run (the back-up's O(sync)); only words RV(result).
    type: bool
    default: false
  portal_url:
    description:
      - The End-User Portal's base URL, for RV(result.portal_url); default O(backoffice.url) with C(/portal/).
      - With O(verify), the pair's View Server page below it is named (profile key C(portal.server_path)).
    type: str
  service_manager:
    description: How to control the service, as in M(fnls.failover.server).
    type: str
    choices: [auto, service, systemctl]
    default: auto
  ready_timeout:
    description: Seconds to wait for the server to become ready after its start.
    type: float
    default: 120
  start:
    description:
      - Start the server when it does not run (M(fnls.failover.server) C(state=started)); a running server is left
        alone, and waited for until it is ready.
      - On the back-up, with O(guard), only once the main's back-office contact is confirmed.
    type: bool
    default: true
  backoffice:
    description:
      - The back office, for O(repairs), O(manual_device), O(verify) and the V(backoffice) evidence of O(wait).
        Main only.
      - When not given, O(backoffice_url) with O(backoffice_user) and O(backoffice_password) is used, when
        O(backoffice_url) and O(backoffice_password) are set.
    type: dict
    suboptions:
      url:
        description: Base URL of the back office, for example C(http://fno.example.com:8888).
        type: str
        required: true
      user:
        description: User of the device API.
        type: str
        default: admin
      password:
        description: Password of O(backoffice.user). Never shown.
        type: str
        required: true
  backoffice_url:
    description:
      - The back office's base URL when O(backoffice) is not given, as the action group
        C(fnls.failover.backoffice_api) sets it for all its modules (C(module_defaults)). Main only; ignored on
        the back-up.
    type: str
  backoffice_user:
    description: User of the device API with O(backoffice_url).
    type: str
    default: admin
  backoffice_password:
    description: Password of O(backoffice_user). Never shown.
    type: str
  repairs:
    description:
      - Devices to delete first (main only), each as M(fnls.failover.device) with C(state=absent) deletes it - a
        wrong registration such as the back-up held as a main server, or a pair under a server's old hostid.
    type: list
    elements: dict
    default: []
    suboptions:
      device_id:
        description: The device to delete.
        type: str
        required: true
      server_ids:
        description: The hostids the device must hold exactly.
        type: list
        elements: str
  manual_device:
    description: The pair's device to create through the device API (main only, manual registration).
    type: dict
    suboptions:
      server_ids:
        description: The hostids, the main first, then the back-up.
        type: list
        elements: str
        required: true
      alias:
        description: Alias of a new device.
        type: str
  wait:
    description:
      - Wait for the main's back-office contact after its latest start (main only), as
        M(fnls.failover.backoffice_wait) does with these options (a suboption not given keeps that module's default).
      - The contact must not be older than the start of this run's start step, else than O(wait.since).
      - Not waited for in check mode.
    type: dict
    suboptions:
      evidence:
        description: Evidence sources, tried in this order at each poll.
        type: list
        elements: str
        choices: [status, log, backoffice]
      log_path:
        description: The server's log file, for the V(log) evidence.
        type: path
      main_hostid:
        description: The main's hostid, C(<value>/<TYPE>), for the V(backoffice) evidence.
        type: str
      backup_hostid:
        description: The back-up's hostid; the V(backoffice) evidence then needs the device to hold it as BACKUP.
        type: str
      since:
        description: ISO 8601 UTC time the contact must not be older than, when this run did not start the main.
        type: str
      wait_timeout:
        description: How long to wait in all, in seconds.
        type: float
      poll_interval:
        description: Seconds between two polls.
        type: float
  step5:
    description: Policy settings of Step 5 on the main (the clients' main and back-up URIs), as M(fnls.failover.config) sets them.
    type: dict
  rights:
    description: Rights to bring to the main, as M(fnls.failover.rights) does with these options.
    type: dict
    suboptions:
      rights:
        description: Rights ids to activate, each a dict with C(id) and C(count).
        type: list
        elements: dict
      features:
        description: Feature names the main must list.
        type: list
        elements: str
      wait_timeout:
        description: Seconds to wait for O(rights.features).
        type: float
      poll_interval:
        description: Seconds between two looks at the main's licenses.
        type: float
      poll_now:
        description: Ask the main to poll the back office at once.
        type: bool
  verify:
    description:
      - Check in the back office (M(fnls.failover.pair_info), with O(backoffice)) that one device holds the pair,
        the main as main (C(state=registered)), and that no device holds the back-up as a main server. Main only;
        not checked in check mode.
    type: dict
    suboptions:
      main_hostid:
        description: The main's hostid.
        type: str
        required: true
      backup_hostid:
        description: The back-up's hostid.
        type: str
      backup_hostids:
        description: Every hostid of the back-up (all its types).
        type: list
        elements: str
      main_name:
        description: The main's name in the inventory.
        type: str
      backup_name:
        description: The back-up's name in the inventory.
        type: str
  lock:
    description:
      - The pair's lock taken by M(fnls.failover.pair_prepare), released at the end whatever happened (main only).
    type: dict
    suboptions:
      path:
        description: The lock directory.
        type: path
        required: true
      owner:
        description: The run that holds it.
        type: str
        required: true
  guard:
    description:
      - The guard of the back-up's start (back-up only), the C(guard_*) options of M(fnls.failover.server) (a
        suboption not given keeps that module's default). Without it, the back-up starts unguarded.
    type: dict
    suboptions:
      guard_main_url:
        description: The main server's REST base URL.
        type: str
      guard_admin_user:
        description: Admin user at the main; defaults to O(admin_user).
        type: str
      guard_admin_password:
        description: Password of O(guard.guard_admin_user) at the main; defaults to O(admin_password). Never shown.
        type: str
      guard_boot_id:
        description: The main's boot id at the time its contact was confirmed.
        type: str
      guard_backup_hostid:
        description: This back-up's hostid.
        type: str
      guard_evidence:
        description: The kinds of evidence the guard accepts, tried in this order.
        type: list
        elements: str
        choices: [status, backoffice, confirmation]
      guard_main_hostid:
        description: The main's hostid, for the V(backoffice) evidence.
        type: str
      guard_main_names_backup:
        description: Whether the main's status must name this back-up as its own.
        type: bool
      guard_confirmation:
        description: The main's M(fnls.failover.backoffice_wait) result, for the V(confirmation) evidence.
        type: dict
      guard_since:
        description: ISO 8601 UTC time at or after which the main was stopped or started by this run.
        type: str
      guard_backoffice_url:
        description: Base URL of the back office, for the V(backoffice) evidence.
        type: str
      guard_backoffice_user:
        description: User of the back office's device API.
        type: str
      guard_backoffice_password:
        description: Password of O(guard.guard_backoffice_user). Never shown.
        type: str
      guard_wait:
        description: Seconds to keep asking while the guard does not pass yet.
        type: float
      guard_poll_interval:
        description: Seconds between two looks while O(guard.guard_wait) runs.
        type: float
      guard_check_mode_skip:
        description: In check mode, report a failing guard as a warning instead of failing.
        type: bool
      guard_main_ready_timeout:
        description: The main must answer as ready within this many seconds, else the guard gives up (M(fnls.failover.server)).
        type: float
      guard_main_wait_timeout:
        description: Once the main is ready, the guard waits at most this long more (M(fnls.failover.server)).
        type: float
      guard_main_gone_after:
        description: A main that was ready and does not answer this long ends the guard's wait (M(fnls.failover.server)).
        type: float
  step4:
    description: Policy settings of Step 4 on the back-up (sync to the main), as M(fnls.failover.config) sets them.
    type: dict
  sync:
    description:
      - Wait until the main accepts the back-up's sync (back-up only), as M(fnls.failover.sync_wait) does; a
        back-up not in sync fails the module with that module's message. Not waited for in check mode.
    type: dict
    suboptions:
      main_hostid:
        description: The main's hostid; the back-up must report it as its peer.
        type: str
        required: true
      since:
        description: The last sync must be later than this; default the back-up's start in this run, when it started.
        type: str
      timeout:
        description: How long to wait in all, in seconds.
        type: float
      poll_interval:
        description: Seconds between two reads of the status.
        type: float
  features:
    description:
      - Wait until the back-up holds the main's features through its sync (back-up only), reading its status as
        M(fnls.failover.server_info) does once a second. Not waited for in check mode.
    type: dict
    suboptions:
      names:
        description: The feature names the back-up's status must list.
        type: list
        elements: str
        required: true
      timeout:
        description: How long to wait in all, in seconds.
        type: float
        default: 300
attributes:
  check_mode:
    description:
      - Each step runs in check mode; nothing is waited for (O(wait), O(sync) and O(features) are not run, and
        neither is O(verify)).
    support: full
  diff_mode:
    description: Changes no file.
    support: none
  idempotent:
    description: A second run on a pair in its end state changes nothing (the servers run, the settings hold).
    support: full
notes:
  - The steps are the modules' own code run in this module's process (C(fnls_step) in the collection's
    module_utils); their interfaces are those of the modules named above.
seealso:
  - module: fnls.failover.pair_read
  - module: fnls.failover.pair_prepare
  - module: fnls.failover.server
  - module: fnls.failover.backoffice_wait
'''

EXAMPLES = r'''
- name: Start the main, wait for its back-office contact, verify the pair; start the back-up once it may
  fnls.failover.pair_converge:
    name: flexnetls-demo
    role: "{{ 'main' if inventory_hostname == 'lls-a' else 'backup' }}"
    pair: site-a
    main: lls-a
    backup: lls-b
    admin_password: "{{ fnls_admin_password }}"
    backoffice: "{{ {'url': fno_url, 'password': fno_password} if inventory_hostname == 'lls-a' else omit }}"
    wait: "{{ {'main_hostid': main_hostid, 'backup_hostid': backup_hostid} if inventory_hostname == 'lls-a' else omit }}"
    verify: "{{ {'main_hostid': main_hostid, 'backup_hostid': backup_hostid} if inventory_hostname == 'lls-a' else omit }}"
    lock: "{{ {'path': '/run/fnls-failover-site-a.lock', 'owner': run_id} if inventory_hostname == 'lls-a' else omit }}"
    guard: >-
      {{ {'guard_main_url': 'http://lls-a:7070', 'guard_backup_hostid': backup_hostid, 'guard_wait': 420}
         if inventory_hostname == 'lls-b' else omit }}
    step4: >-
      {{ {'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': 'http://lls-a:7070/fne/bin/sync'}
         if inventory_hostname == 'lls-b' else omit }}
    sync: "{{ {'main_hostid': main_hostid} if inventory_hostname == 'lls-b' else omit }}"
  register: converged

- name: Show the pair
  ansible.builtin.debug:
    var: converged.result
  when: inventory_hostname == 'lls-a'
'''

RETURN = r'''
role:
  description: The role given, V(main) or V(backup).
  returned: always
  type: str
  sample: main
repairs:
  description: The results of the repairs' device steps (M(fnls.failover.device)), one per device, in order.
  returned: when O(role=main)
  type: list
  elements: dict
manual_device:
  description: The result of the device step that created the pair's device (M(fnls.failover.device)); null when not run.
  returned: when O(role=main)
  type: dict
start:
  description:
    - The result of the start step (M(fnls.failover.server) - C(was_running), C(started_at), C(boot_id), C(guard),
      ...); null when O(start=false).
  returned: always
  type: dict
wait:
  description:
    - The result of the wait step (M(fnls.failover.backoffice_wait) - C(confirmed), C(source), C(confirmed_at),
      C(waited), ...); null when not run; in check mode C(skipped=true).
  returned: when O(role=main)
  type: dict
step5:
  description: The result of the Step 5 config step (M(fnls.failover.config)); null when not run.
  returned: when O(role=main)
  type: dict
rights:
  description: The result of the rights step (M(fnls.failover.rights)); null when not run.
  returned: when O(role=main)
  type: dict
verify:
  description:
    - The result of the verify step (M(fnls.failover.pair_info) - C(state), C(pair), C(backup_as_main),
      C(explanation), ...); null when not run; in check mode C(skipped=true).
  returned: when O(role=main)
  type: dict
lock:
  description:
    - The result of releasing the pair's lock (M(fnls.failover.pair_lock) C(state=absent)); null when O(lock) was
      not given.
  returned: when O(role=main)
  type: dict
step4:
  description: The result of the Step 4 config step (M(fnls.failover.config)); null when not run.
  returned: when O(role=backup)
  type: dict
sync:
  description:
    - The result of the sync step (M(fnls.failover.sync_wait) - C(synced), C(detail), C(peer), ...); null when not
      run; in check mode C(skipped=true).
  returned: when O(role=backup)
  type: dict
features:
  description: What the back-up held at the end of the features wait; null when not run; in check mode C(skipped=true).
  returned: when O(role=backup)
  type: dict
  contains:
    names:
      description: The feature names waited for.
      type: list
      elements: str
    held:
      description: The feature names the back-up's status listed last.
      type: list
      elements: str
    waited:
      description: Seconds waited.
      type: float
    polls:
      description: Reads of the status.
      type: int
failed_step:
  description: The step that failed.
  returned: on failure
  type: str
  sample: wait
timeline:
  description: The steps run, in order, each with its start and length (the failed step last).
  returned: always
  type: list
  elements: dict
  contains:
    step:
      description: The step - V(repairs[<n>]), V(manual_device), V(start), V(wait), V(step5), V(rights), V(verify),
        V(lock), V(step4), V(sync) or V(features).
      type: str
    started:
      description: When the step started, by the managed host's clock (ISO 8601 UTC).
      type: str
      sample: "2026-11-29T12:00:00.120Z"
    seconds:
      description: How long the step took.
      type: float
      sample: 3.512
result:
  description: The pair's summary, on the main; null on the back-up.
  returned: always
  type: dict
  contains:
    pair:
      description: O(pair).
      type: str
    main:
      description: O(main).
      type: str
    backup:
      description: O(backup).
      type: str
    main_hostid:
      description: The main's hostid (O(main_hostid)).
      type: str
    backup_hostid:
      description: The back-up's hostid (O(backup_hostid)).
      type: str
    device_id:
      description: The pair's device in the back office, as the verify step found it; empty when not verified.
      type: str
    confirmed_by:
      description: The evidence that confirmed the main's back-office contact (the wait step's C(source)); empty
        when not waited for.
      type: str
    restarted:
      description: O(restarted).
      type: bool
    backoffice_checked:
      description: Whether O(verify) was given.
      type: bool
    sync_checked:
      description: O(sync_checked).
      type: bool
    portal_url:
      description: The End-User Portal's View Server page of the pair (with O(verify)), else O(portal_url).
      type: str
  sample: {"pair": "site-a", "main": "lls-a", "backup": "lls-b", "main_hostid": "0A1B2C3D4E5F/ETHERNET",
           "backup_hostid": "0A1B2C3D4E60/ETHERNET", "device_id": "FNLS-000001", "confirmed_by": "status",
           "restarted": true, "backoffice_checked": true, "sync_checked": true,
           "portal_url": "http://fno.example.com:8888/portal/servers/FNLS-000001"}
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils import fnls_phase as phase
from ansible_collections.fnls.failover.plugins.module_utils.fnls_profile import portal_page
from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_phase import (
    COMMON_HTTP, Timeline, clean, given, release_lock, server_api, with_release)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step import StepFailed, run_step
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_backoffice_wait
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_config
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_device
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_pair_info
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_rights
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_server
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_server_info
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_sync_wait

MAIN_ONLY = ('backoffice', 'repairs', 'manual_device', 'wait', 'step5', 'rights', 'verify', 'lock')
BACKUP_ONLY = ('guard', 'step4', 'sync', 'features')
MAIN_STEPS = ('repairs', 'manual_device', 'start', 'wait', 'step5', 'rights', 'verify', 'lock')
BACKUP_STEPS = ('start', 'step4', 'sync', 'features')
FEATURES_POLL = 1.0

# Patchable in tests.
sleep = time.sleep


class Failed(Exception):
    """A step failed: ``msg`` as the step said it, ``step`` and its ``result``."""

    def __init__(self, step, msg, result=None):
        super(Failed, self).__init__(msg)
        self.step = step
        self.msg = msg
        self.result = result


def feature_names(status):
    names = []
    for item in (status or {}).get('features') or []:
        name = item.get('name') if isinstance(item, dict) else item
        if name:
            names.append(str(name))
    return names


class Converge(object):

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.role = self.p['role']
        self.timeline = Timeline()
        steps = MAIN_STEPS if self.role == 'main' else BACKUP_STEPS
        self.result = dict(changed=False, role=self.role, timeline=self.timeline.entries, result=None)
        self.result.update((step, None) for step in steps)
        if self.role == 'main':
            self.result['repairs'] = []

    # -- helpers -------------------------------------------------------------------------------------------
    def prefixed(self, msg):
        head = 'Pair %s:' % self.p['pair']
        msg = (msg or '').strip()
        return msg if msg.startswith(head) else '%s %s' % (head, msg)

    def step(self, name, run_module, params, key=None, check_mode=None):
        """Run one step, record it in the timeline and under ``key`` (default ``name``); a change counts."""
        self.timeline.begin(name)
        try:
            res = run_step(self.module, run_module, params, check_mode=check_mode)
        except StepFailed as e:
            self.timeline.end()
            raise Failed(name, e.msg, clean(e.result) or None)
        self.timeline.end()
        if res.get('changed'):
            self.result['changed'] = True
        if key is not False:
            self.result[key or name] = res
        return res

    def backoffice(self):
        """The back office (url, user, password): O(backoffice), else the backoffice_api group's options."""
        p = self.p
        if p['backoffice']:
            return p['backoffice']
        if p['backoffice_url'] and p['backoffice_password']:
            return dict(url=p['backoffice_url'], user=p['backoffice_user'], password=p['backoffice_password'])
        return None

    def backoffice_params(self):
        bo = self.backoffice()
        params = dict((k, self.p[k]) for k in COMMON_HTTP)
        params.update(backoffice_url=bo['url'], backoffice_user=bo['user'], backoffice_password=bo['password'])
        return params

    def local_params(self, **kw):
        params = server_api(self.p)
        params.update(kw)
        return params

    def skipped(self, name, why):
        self.result[name] = dict(skipped=True, detail=why)

    # -- the main -------------------------------------------------------------------------------------------
    def run_main(self):
        p = self.p
        check = self.module.check_mode
        for i, repair in enumerate(p['repairs']):
            params = self.backoffice_params()
            params.update(state='absent', device_id=repair['device_id'])
            if repair['server_ids'] is not None:
                params['server_ids'] = repair['server_ids']
            res = self.step('repairs[%d]' % i, fnls_step_device.run_module, params, key=False)
            self.result['repairs'].append(res)
        if p['manual_device']:
            params = self.backoffice_params()
            params.update(state='present', **given(p['manual_device']))
            self.step('manual_device', fnls_step_device.run_module, params)
        started_at = None
        if p['start']:
            res = self.step('start', fnls_step_server.run_module, self.local_params(
                name=p['name'], state='started', service_manager=p['service_manager'],
                ready_timeout=p['ready_timeout']))
            started_at = res.get('started_at')
        if p['wait']:
            if check:
                self.skipped('wait', 'check mode: the main\'s back-office contact is not waited for')
            else:
                params = self.local_params(**given(p['wait']))
                if started_at:
                    params['since'] = started_at
                bo = self.backoffice()
                if bo:
                    params.update(backoffice_url=bo['url'], backoffice_user=bo['user'],
                                  backoffice_password=bo['password'])
                self.step('wait', fnls_step_backoffice_wait.run_module, params)
        if p['step5']:
            self.step('step5', fnls_step_config.run_module, self.local_params(settings=p['step5']))
        if p['rights']:
            self.step('rights', fnls_step_rights.run_module, self.local_params(**given(p['rights'])))
        if p['verify']:
            if check:
                self.skipped('verify', 'check mode: the back office\'s registration is not checked')
            else:
                params = self.backoffice_params()
                params.update(given(p['verify']))
                self.check_pair(self.step('verify', fnls_step_pair_info.run_module, params))

    def check_pair(self, res):
        if res.get('state') != 'registered':
            raise Failed('verify', 'the back office does not show the pair as expected: %s %s'
                         % (res.get('explanation') or '', res.get('hint') or ''))
        held = res.get('backup_as_main') or []
        if held:
            held = held[0]
            raise Failed('verify', (
                'the back office holds the back-up %s\'s hostid %s as a main server (device %s); a back-up held as '
                'a main server cannot fail over for its main. Delete device %s (set '
                'failover_pair_repair_backup_registration=true to let the playbook do it; deleting it drops the '
                'licences mapped to it) and run again.'
                % (self.p['verify'].get('backup_name') or self.p['backup'] or 'server', held.get('hostid'),
                   held.get('deviceId'), held.get('deviceId'))))

    def release(self):
        """(released, problem) of releasing the pair's lock at the end; records the step."""
        lock = self.p['lock']
        if not lock:
            return False, None
        self.timeline.begin('lock')
        released, problem = release_lock(self.module, lock['path'], lock['owner'])
        self.timeline.end()
        self.result['lock'] = dict(acquired=released, msg=problem) if problem else dict(acquired=released)
        if self.module.check_mode:
            return False, None
        return released, problem

    def summary(self):
        p = self.p
        verify = p['verify'] or {}
        wait = p['wait'] or {}
        verified = self.result.get('verify') or {}
        confirmed = self.result.get('wait') or {}
        device_id = ((verified.get('pair') or {}).get('deviceId')) or ''
        portal = p['portal_url']
        if portal is None:
            bo = self.backoffice()
            portal = (bo['url'].rstrip('/') + '/portal/') if bo else ''
        if p['verify']:
            portal = portal_page(portal, self.module.fnls_profile, device_id)
        return dict(
            pair=p['pair'], main=p['main'], backup=p['backup'],
            main_hostid=p['main_hostid'] or verify.get('main_hostid') or wait.get('main_hostid') or '',
            backup_hostid=p['backup_hostid'] or verify.get('backup_hostid') or wait.get('backup_hostid') or '',
            device_id=device_id, confirmed_by=confirmed.get('source') or '', restarted=p['restarted'],
            backoffice_checked=bool(p['verify']), sync_checked=p['sync_checked'], portal_url=portal)

    # -- the back-up ------------------------------------------------------------------------------------------
    def run_backup(self):
        p = self.p
        check = self.module.check_mode
        started_at = None
        if p['start']:
            params = self.local_params(name=p['name'], state='started', service_manager=p['service_manager'],
                                       ready_timeout=p['ready_timeout'])
            params.update(given(p['guard']))
            res = self.step('start', fnls_step_server.run_module, params)
            started_at = res.get('started_at')
        if p['step4']:
            self.step('step4', fnls_step_config.run_module, self.local_params(settings=p['step4']))
        if p['sync']:
            if check:
                self.skipped('sync', 'check mode: the back-up\'s sync is not waited for')
            else:
                params = self.local_params()
                params.pop('timeout')   # sync_wait's timeout is the whole wait (its own default when not given)
                params.update(given(p['sync']))
                if 'since' not in params and started_at:
                    params['since'] = started_at
                res = self.step('sync', fnls_step_sync_wait.run_module, params)
                if not res.get('synced'):
                    raise Failed('sync', 'The back-up is not in sync with the main: %s.'
                                 % (res.get('detail') or 'no sync was proved'), res)
        if p['features'] and p['features']['names']:
            if check:
                self.skipped('features', 'check mode: the back-up\'s features are not waited for')
            else:
                self.wait_features()

    def wait_features(self):
        p = self.p
        wanted = list(p['features']['names'])
        timeout = p['features']['timeout']
        params = self.local_params(name=p['name'], service_manager=p['service_manager'])
        self.timeline.begin('features')
        t0 = phase.clock()
        polls = 0
        held, status_error = [], None
        while True:
            polls += 1
            try:
                res = run_step(self.module, fnls_step_server_info.run_module, params)
            except StepFailed as e:
                self.timeline.end()
                raise Failed('features', e.msg, clean(e.result) or None)
            status_error = res.get('status_error')
            if res.get('status') is not None:
                held = feature_names(res['status'])
            out = dict(names=wanted, held=held, waited=round(phase.clock() - t0, 3), polls=polls)
            self.result['features'] = out
            missing = [n for n in wanted if n not in held]
            if not missing:
                self.timeline.end()
                return
            if phase.clock() - t0 >= timeout:
                self.timeline.end()
                raise Failed('features', 'the back-up does not hold the feature(s) %s after %s s (it holds %s%s); '
                             'check its sync with the main and the main\'s licenses.'
                             % (', '.join(missing), _num(timeout), ', '.join(held) or 'none',
                                '; its status: %s' % status_error if status_error else ''), out)
            sleep(FEATURES_POLL)

    # -- the run ----------------------------------------------------------------------------------------------
    def misplaced(self):
        p = self.p
        other = BACKUP_ONLY if self.role == 'main' else MAIN_ONLY
        wrong = [k for k in other if p[k]]
        if wrong:
            return ('%s %s for the %s only; this host has role=%s. Nothing was changed.'
                    % (', '.join(wrong), 'is' if len(wrong) == 1 else 'are',
                       'back-up (role=backup)' if self.role == 'main' else 'main (role=main)', self.role))
        if self.role == 'main' and not self.backoffice():
            need = [k for k in ('repairs', 'manual_device', 'verify') if p[k]]
            if need:
                return '%s need the back office (backoffice: url, user, password). Nothing was changed.' % (
                    ', '.join(need))
        return None

    def run(self):
        failure = None
        problem = self.misplaced()
        if problem:
            failure = Failed('options', problem)
        else:
            try:
                if self.role == 'main':
                    self.run_main()
                else:
                    self.run_backup()
            except Failed as e:
                failure = e
            except Exception as e:  # anything unforeseen: the lock must still be released
                self.timeline.end()
                failure = Failed(self.timeline.entries[-1]['step'] if self.timeline.entries else 'options',
                                 'converging the %s failed: %s' % (self.role, e))
        released, release_problem = (False, None)
        if self.role == 'main':
            released, release_problem = self.release()
            self.result['result'] = self.summary()
        if failure is None:
            if release_problem:
                self.module.warn(self.prefixed('the pair was converged, but its lock was not released: %s'
                                               % release_problem))
            self.module.exit_json(**self.result)
        if failure.result is not None:
            if failure.step.startswith('repairs['):
                self.result['repairs'].append(failure.result)
            elif failure.step in self.result and self.result[failure.step] is None:
                self.result[failure.step] = failure.result
        self.result['failed_step'] = failure.step
        msg = self.prefixed(failure.msg)
        if self.role == 'main' and self.p['lock'] and not self.module.check_mode:
            msg = with_release(msg, released, release_problem or (None if released else 'the lock was not held'))
        self.module.fail_json(msg=msg, **self.result)


def _num(value):
    return int(value) if float(value).is_integer() else value


def main():
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        role=dict(type='str', required=True, choices=['main', 'backup']),
        pair=dict(type='str', required=True),
        main=dict(type='str', default=''),
        backup=dict(type='str', default=''),
        main_hostid=dict(type='str'),
        backup_hostid=dict(type='str'),
        restarted=dict(type='bool', default=False),
        sync_checked=dict(type='bool', default=False),
        portal_url=dict(type='str'),
        service_manager=dict(type='str', default='auto', choices=['auto', 'service', 'systemctl']),
        ready_timeout=dict(type='float', default=120),
        start=dict(type='bool', default=True),
        backoffice=dict(type='dict', options=dict(
            url=dict(type='str', required=True),
            user=dict(type='str', default='admin'),
            password=dict(type='str', required=True, no_log=True),
        )),
        backoffice_url=dict(type='str'),
        backoffice_user=dict(type='str', default='admin'),
        backoffice_password=dict(type='str', no_log=True),
        repairs=dict(type='list', elements='dict', default=[], options=dict(
            device_id=dict(type='str', required=True),
            server_ids=dict(type='list', elements='str'),
        )),
        manual_device=dict(type='dict', options=dict(
            server_ids=dict(type='list', elements='str', required=True),
            alias=dict(type='str'),
        )),
        wait=dict(type='dict', options=dict(
            evidence=dict(type='list', elements='str', choices=['status', 'log', 'backoffice']),
            log_path=dict(type='path'),
            main_hostid=dict(type='str'),
            backup_hostid=dict(type='str'),
            since=dict(type='str'),
            wait_timeout=dict(type='float'),
            poll_interval=dict(type='float'),
        )),
        step5=dict(type='dict'),
        rights=dict(type='dict', options=dict(
            rights=dict(type='list', elements='dict'),
            features=dict(type='list', elements='str'),
            wait_timeout=dict(type='float'),
            poll_interval=dict(type='float'),
            poll_now=dict(type='bool'),
        )),
        verify=dict(type='dict', options=dict(
            main_hostid=dict(type='str', required=True),
            backup_hostid=dict(type='str'),
            backup_hostids=dict(type='list', elements='str'),
            main_name=dict(type='str'),
            backup_name=dict(type='str'),
        )),
        lock=dict(type='dict', options=dict(
            path=dict(type='path', required=True),
            owner=dict(type='str', required=True),
        )),
        guard=dict(type='dict', options=dict(
            guard_main_url=dict(type='str'),
            guard_admin_user=dict(type='str'),
            guard_admin_password=dict(type='str', no_log=True),
            guard_boot_id=dict(type='str'),
            guard_backup_hostid=dict(type='str'),
            guard_evidence=dict(type='list', elements='str', choices=['status', 'backoffice', 'confirmation']),
            guard_main_hostid=dict(type='str'),
            guard_main_names_backup=dict(type='bool'),
            guard_confirmation=dict(type='dict'),
            guard_since=dict(type='str'),
            guard_backoffice_url=dict(type='str'),
            guard_backoffice_user=dict(type='str'),
            guard_backoffice_password=dict(type='str', no_log=True),
            guard_wait=dict(type='float'),
            guard_poll_interval=dict(type='float'),
            guard_check_mode_skip=dict(type='bool'),
            guard_main_ready_timeout=dict(type='float'),
            guard_main_wait_timeout=dict(type='float'),
            guard_main_gone_after=dict(type='float'),
        )),
        step4=dict(type='dict'),
        sync=dict(type='dict', options=dict(
            main_hostid=dict(type='str', required=True),
            since=dict(type='str'),
            timeout=dict(type='float'),
            poll_interval=dict(type='float'),
        )),
        features=dict(type='dict', options=dict(
            names=dict(type='list', elements='str', required=True),
            timeout=dict(type='float', default=300),
        )),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    Converge(module).run()


if __name__ == '__main__':
    main()
