#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pair_prepare
short_description: Prepare one server of a failover pair for its ordered start - lock, settings, stop - in one run
version_added: "1.2.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - The prepare phase of the role C(fnls.failover.failover_pair), one run per host of the pair. It runs, in this
    one module run, what M(fnls.failover.pair_lock), M(fnls.failover.local_settings) and M(fnls.failover.server)
    do, with their own messages and results.
  - On the main (O(role=main)) - take the pair's lock (O(lock)); when another run holds it, fail with that
    module's message, RV(acquired=false) and RV(holder), touching nothing else. Then, when O(settings) has an
    O(settings.expected_checksum) and the settings file's SHA-1 differs from it (the file changed since the run
    read it, for example with M(fnls.failover.pair_read)), release the lock and fail, writing nothing. Then set
    (or remove) O(settings.key) in the settings file, and stop the server when O(stop=true).
  - On the back-up (O(role=backup)) - stop the server when O(stop=true); nothing else.
  - Any failure after the lock was taken releases the lock before the module fails, and the message says so.
  - The lock is left held on success; M(fnls.failover.pair_converge) releases it at the end of the pair's run.
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
  service_manager:
    description:
      - How to control the service; V(auto) uses C(systemctl) when systemd runs, else C(service). As in
        M(fnls.failover.server).
    type: str
    choices: [auto, service, systemctl]
    default: auto
  stop:
    description:
      - Stop the server (and check that it stopped and its port closed), as M(fnls.failover.server) with
        C(state=stopped) does. A server that does not run is left alone.
    type: bool
    default: false
  stop_timeout:
    description: Seconds to wait for the service to stop and its port to close.
    type: float
    default: 60
  lock:
    description:
      - The pair's lock on the main, as M(fnls.failover.pair_lock) with C(state=present) takes it. Only with
        O(role=main). When not given, no lock is taken.
      - Taking the lock does not count as a change; RV(lock) reports it.
    type: dict
    suboptions:
      path:
        description: The lock directory.
        type: path
        required: true
      owner:
        description: Identity of the run (unique per run).
        type: str
        required: true
      controller:
        description: Name of the controller the run comes from.
        type: str
        default: ""
      controller_pid:
        description: Process (group) id of the run on its controller.
        type: int
        default: 0
      ttl:
        description: Seconds after which a held lock counts as abandoned.
        type: int
        default: 3600
      wait:
        description: Seconds to wait for a lock held by another run. V(0) gives up at once.
        type: float
        default: 0
      force:
        description: Take the lock over even when another run holds it (for a holder known to be gone).
        type: bool
        default: false
      force_owner:
        description: With O(lock.force), take the lock over only while the run with this owner holds it.
        type: str
        default: ""
  settings:
    description:
      - The main's local settings change, as M(fnls.failover.local_settings) makes it (every other line is kept).
        Only with O(role=main). When not given, the settings file is not touched.
    type: dict
    suboptions:
      path:
        description: The settings file.
        type: path
        required: true
      form:
        description: The file's form; default the interface profile's C(settings.form).
        type: str
        choices: [auto, shell, systemd, yaml]
      key:
        description: The setting to set or remove; default the interface profile's C(settings.backup_hostid_key).
        type: str
      value:
        description:
          - The value to set; V(null) (or not given) removes the key.
        type: str
      expected_checksum:
        description:
          - SHA-1 (hex) of the file as the run read it (RV(fnls.failover.pair_read#module:settings.checksum)). When
            given and the file's bytes now differ, nothing is written, the lock is released and the module fails.
          - V(null) skips the check.
        type: str
      backup:
        description: Keep a copy of the file before the change.
        type: bool
        default: true
attributes:
  check_mode:
    description:
      - The lock is not taken (RV(lock) reports a lock held by another run); the settings change is reported
        (with C(--diff), RV(diff)) and the stop too, nothing is written or stopped.
    support: full
  diff_mode:
    description: Shows the settings file's text before and after the change.
    support: full
  idempotent:
    description:
      - A run on a main whose settings hold the value already, with O(stop=false), changes nothing but takes
        the lock, which does not count as a change.
    support: full
notes:
  - The steps are the modules' own code run in this module's process (C(fnls_step) in the collection's
    module_utils); their interfaces are those of M(fnls.failover.pair_lock), M(fnls.failover.local_settings) and
    M(fnls.failover.server).
seealso:
  - module: fnls.failover.pair_read
  - module: fnls.failover.pair_converge
  - module: fnls.failover.pair_lock
  - module: fnls.failover.local_settings
  - module: fnls.failover.server
'''

EXAMPLES = r'''
- name: Lock the pair, name the back-up in the main's settings, stop the main
  fnls.failover.pair_prepare:
    name: flexnetls-demo
    role: main
    stop: true
    lock:
      path: /run/fnls-failover-acme.lock
      owner: "{{ run_id }}"
      controller: "{{ lookup('ansible.builtin.pipe', 'uname -n') }}"
      wait: 60
    settings:
      path: /etc/default/flexnetls-demo
      key: BACKUP_SERVER_HOSTID
      value: 0A1B2C3D4E60/ETHERNET
      expected_checksum: "{{ main_read.settings.checksum }}"
  register: main_prepared

- name: Stop the back-up
  fnls.failover.pair_prepare:
    name: flexnetls-demo
    role: backup
    stop: true
'''

RETURN = r'''
role:
  description: The role given, V(main) or V(backup).
  returned: always
  type: str
  sample: main
lock:
  description:
    - The result of taking the lock (M(fnls.failover.pair_lock) - RV(fnls.failover.pair_lock#module:acquired),
      RV(fnls.failover.pair_lock#module:waited), and RV(fnls.failover.pair_lock#module:holder) or
      RV(fnls.failover.pair_lock#module:taken_over) when so); null when no lock was asked for.
    - In check mode the lock is not taken (C(acquired=false)).
  returned: always
  type: dict
  sample: {"acquired": true, "waited": 0.0}
acquired:
  description: Whether this run holds the lock; false when another run holds it (the module then fails).
  returned: when O(lock) is given
  type: bool
holder:
  description: The lock's holder when another run holds it (owner, controller, controller_pid, acquired_at, expires_at).
  returned: when another run holds the lock
  type: dict
lock_released:
  description: Whether the module released the lock it had taken because a later step failed.
  returned: always
  type: bool
settings:
  description:
    - The result of the settings change (M(fnls.failover.local_settings) - C(changed), C(dest), C(form),
      C(previous), C(settings), C(backup_file) when a copy was made, C(diff) in diff mode); null when O(settings)
      was not given.
  returned: always
  type: dict
  sample: {"changed": true, "dest": "/etc/default/flexnetls-demo", "form": "shell",
           "previous": {"BACKUP_SERVER_HOSTID": null}, "settings": {"BACKUP_SERVER_HOSTID": "0A1B2C3D4E60/ETHERNET"}}
checksum:
  description: SHA-1 (hex) of the settings file before the run changed it; null when the file does not exist.
  returned: when O(settings) is given
  type: str
stop:
  description:
    - The result of the stop (M(fnls.failover.server) with C(state=stopped) - C(changed), C(was_running),
      C(running), C(stopped_at), C(commands), ...); null when O(stop=false).
  returned: always
  type: dict
  sample: {"changed": true, "was_running": true, "running": false, "stopped_at": "2026-11-29T11:59:58.000Z"}
diff:
  description: The settings file's text before and after the change.
  returned: when diff mode is on and O(settings) is given
  type: dict
  contains:
    before:
      description: The text before.
      type: str
    after:
      description: The text after.
      type: str
    before_header:
      description: The path.
      type: str
    after_header:
      description: The path.
      type: str
'''

import hashlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_common import (
    check_api_paths, server_api_argument_spec)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_phase import (
    clean, local_settings_step, release_lock, server_api, with_release)
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step import StepFailed, run_step
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_pair_lock
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_server

LOCK_KEYS = ('path', 'owner', 'controller', 'controller_pid', 'ttl', 'wait', 'force', 'force_owner')


def file_checksum(path):
    """SHA-1 (hex) of the file's bytes, or None when there is no file."""
    try:
        with open(path, 'rb') as handle:
            return hashlib.sha1(handle.read()).hexdigest()
    except (IOError, OSError):
        return None


class Prepare(object):

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.result = dict(changed=False, role=self.p['role'], lock=None, settings=None, stop=None,
                           lock_released=False)
        self.lock_taken = False

    def fail(self, msg, **extra):
        """Release the lock when this run took it, then fail with ``msg`` saying so."""
        released, problem = False, None
        if self.lock_taken:
            self.lock_taken = False
            released, problem = release_lock(self.module, self.p['lock']['path'], self.p['lock']['owner'])
            if not released and not problem:
                problem = 'the lock was not held by this run any more'
        self.result.update(extra)
        self.result['lock_released'] = released
        self.module.fail_json(msg=with_release(msg, released, problem), **self.result)

    def take_lock(self):
        lock = self.p['lock']
        params = dict((k, lock[k]) for k in LOCK_KEYS)
        params['state'] = 'present'
        try:
            res = run_step(self.module, fnls_step_pair_lock.run_module, params)
        except StepFailed as e:
            res = clean(e.result)
            res.setdefault('acquired', False)
            self.result.update(lock=res, acquired=False)
            if res.get('holder') is not None:
                self.result['holder'] = res['holder']
            self.module.fail_json(msg=e.msg, **self.result)
        self.result.update(lock=res, acquired=bool(res.get('acquired')))
        if res.get('holder') is not None:
            self.result['holder'] = res['holder']
        self.lock_taken = bool(res.get('acquired')) and not self.module.check_mode

    def change_settings(self):
        s = self.p['settings']
        prof = self.module.fnls_profile
        key = s['key'] or prof['settings']['backup_hostid_key']
        form = s['form'] or prof['settings']['form']
        checksum = file_checksum(s['path'])
        self.result['checksum'] = checksum
        expected = s['expected_checksum']
        if expected is not None and checksum != expected.strip().lower():
            self.fail('the settings file %s changed since this run read it; run again (nothing was written)'
                      % s['path'])
        params = dict(path=s['path'], settings={key: s['value']}, form=form, backup=s['backup'], state='present')
        try:
            res = run_step(self.module, local_settings_step, params)
        except StepFailed as e:
            self.fail(e.msg, settings=clean(e.result) or None)
        self.result['settings'] = res
        if 'diff' in res:
            self.result['diff'] = res['diff']
        if res.get('changed'):
            self.result['changed'] = True

    def stop(self):
        p = self.p
        params = server_api(p)
        params.update(name=p['name'], state='stopped', service_manager=p['service_manager'],
                      stop_timeout=p['stop_timeout'])
        try:
            res = run_step(self.module, fnls_step_server.run_module, params)
        except StepFailed as e:
            self.fail(e.msg, stop=clean(e.result) or None)
        self.result['stop'] = res
        if res.get('changed'):
            self.result['changed'] = True

    def run(self):
        p = self.p
        if p['role'] == 'backup' and (p['lock'] or p['settings']):
            self.module.fail_json(msg='lock and settings are for the main (role=main) only; the back-up\'s lock and '
                                      'settings are never touched. Nothing was changed.', **self.result)
        if p['role'] == 'main' and p['lock']:
            self.take_lock()
        try:
            if p['role'] == 'main' and p['settings']:
                self.change_settings()
            if p['stop']:
                self.stop()
        except Exception as e:  # anything unforeseen: the lock must not stay held
            if not self.lock_taken:
                raise
            self.fail('Preparing the %s failed: %s' % (p['role'], e))
        self.module.exit_json(**self.result)


def main():
    argument_spec = server_api_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        role=dict(type='str', required=True, choices=['main', 'backup']),
        service_manager=dict(type='str', default='auto', choices=['auto', 'service', 'systemctl']),
        stop=dict(type='bool', default=False),
        stop_timeout=dict(type='float', default=60),
        lock=dict(type='dict', options=dict(
            path=dict(type='path', required=True),
            owner=dict(type='str', required=True),
            controller=dict(type='str', default=''),
            controller_pid=dict(type='int', default=0),
            ttl=dict(type='int', default=3600),
            wait=dict(type='float', default=0),
            force=dict(type='bool', default=False),
            force_owner=dict(type='str', default=''),
        )),
        settings=dict(type='dict', options=dict(
            path=dict(type='path', required=True),
            form=dict(type='str', choices=['auto', 'shell', 'systemd', 'yaml']),
            key=dict(type='str', no_log=False),
            value=dict(type='str'),
            expected_checksum=dict(type='str'),
            backup=dict(type='bool', default=True),
        )),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    check_api_paths(module)
    Prepare(module).run()


if __name__ == '__main__':
    main()
