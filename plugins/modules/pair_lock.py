#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pair_lock
short_description: Take or release the lock that keeps two runs on the same failover pair apart
version_added: 1.0.0
author: fnls.failover maintainers (!UNKNOWN)
description:
  - A lock on the main host (a directory created atomically, with the holder's identity inside) so that a
    second run on the same pair waits or stops with a clear message instead of interleaving its stops and
    starts with the first run's.
  - The lock records which run holds it, from which controller, and when it expires. A lock whose time has
    run out, or that O(force) is set for, is taken over; the playbooks set O(force) when the holder was a run
    on the same controller whose process is gone (an interrupted run), so a rerun goes on by itself.
  - Taking and releasing the lock does not count as a change of the managed system; both report
    C(changed=false) so that a rerun stays idempotent.
options:
  path:
    description: The lock directory; on a tmpfs such as C(/run) it goes away with a reboot.
    type: path
    required: true
  state:
    description: V(present) takes the lock, V(absent) releases it when this O(owner) holds it.
    type: str
    choices: [present, absent]
    default: present
  owner:
    description: Identity of the run (unique per run).
    type: str
    required: true
  controller:
    description: Name of the controller the run comes from, kept in the lock for the messages and staleness check.
    type: str
    default: ""
  controller_pid:
    description: Process (group) id of the run on its controller, kept in the lock for the staleness check.
    type: int
    default: 0
  ttl:
    description: Seconds after which a held lock counts as abandoned and may be taken over.
    type: int
    default: 3600
  wait:
    description: Seconds to wait for a lock held by another run before giving up. V(0) gives up at once.
    type: float
    default: 0
  force:
    description: Take the lock over even when another run holds it. For a holder known to be gone.
    type: bool
    default: false
attributes:
  check_mode:
    support: partial
    description: In check mode the lock is not taken; a lock held by another run is reported in RV(holder).
    details: The lock file is neither written nor removed in check mode.
  diff_mode:
    support: none
    description: Shows no diff.
  platform:
    support: full
    description: Runs on the license server's host, a POSIX system.
    platforms: posix
'''

EXAMPLES = r'''
- name: Take the pair's lock on the main
  fnls.failover.pair_lock:
    path: /run/fnls-failover-acme.lock
    owner: "{{ run_id }}"
    controller: "{{ lookup('ansible.builtin.pipe', 'hostname') }}"
    wait: 60

- name: Release it
  fnls.failover.pair_lock:
    path: /run/fnls-failover-acme.lock
    owner: "{{ run_id }}"
    state: absent
'''

RETURN = r'''
acquired:
  description: Whether this run holds the lock now (state=present), or released it (state=absent).
  returned: always
  type: bool
holder:
  description: The lock's content when another run holds it (owner, controller, controller_pid, acquired_at, expires_at).
  returned: when another run holds the lock
  type: dict
taken_over:
  description: The content of an abandoned or forced lock that this run took over.
  returned: when a lock was taken over
  type: dict
waited:
  description: Seconds spent waiting for the lock.
  returned: always
  type: float
'''

import json
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

INFO = 'holder.json'


def read_holder(path):
    try:
        with open(os.path.join(path, INFO)) as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def expired(holder, now):
    try:
        return float(holder.get('expires_at_epoch', 0)) <= now
    except (TypeError, ValueError):
        return True


def try_take(path, record):
    """Create the lock directory atomically and write the holder's record into it."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return False
    tmp = os.path.join(path, INFO + '.tmp')
    with open(tmp, 'w') as fh:
        json.dump(record, fh)
    os.rename(tmp, os.path.join(path, INFO))
    return True


def describe(holder):
    return 'run %s from %s since %s (until %s)' % (
        holder.get('owner', '?'), holder.get('controller') or 'an unknown controller',
        holder.get('acquired_at', '?'), holder.get('expires_at', '?'))


def stamp(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            owner=dict(type='str', required=True),
            controller=dict(type='str', default=''),
            controller_pid=dict(type='int', default=0),
            ttl=dict(type='int', default=3600),
            wait=dict(type='float', default=0),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = p['path']
    if not os.path.isdir(os.path.dirname(path) or '/'):
        module.fail_json(msg='The lock %s cannot be made: its directory does not exist; set a lock path in an '
                             'existing directory.' % path, acquired=False)

    if p['state'] == 'absent':
        holder = read_holder(path)
        if not os.path.isdir(path):
            module.exit_json(changed=False, acquired=False, waited=0.0)
        if holder.get('owner') != p['owner']:
            module.exit_json(changed=False, acquired=False, waited=0.0, holder=holder,
                             msg='The lock is held by another run (%s); left in place.' % describe(holder))
        if not module.check_mode:
            shutil.rmtree(path, ignore_errors=True)
        module.exit_json(changed=False, acquired=True, waited=0.0)

    start = time.time()
    deadline = start + max(0.0, p['wait'])
    while True:
        now = time.time()
        holder = read_holder(path) if os.path.isdir(path) else None
        if holder is not None and holder.get('owner') == p['owner']:
            module.exit_json(changed=False, acquired=True, waited=round(now - start, 2))
        takeover = holder is not None and (p['force'] or expired(holder, now))
        if module.check_mode:
            result = dict(changed=False, acquired=False, waited=0.0)
            if holder is not None and not takeover:
                result['holder'] = holder
                module.warn('Another run holds the pair\'s lock: %s.' % describe(holder))
            module.exit_json(**result)
        if takeover:
            shutil.rmtree(path, ignore_errors=True)
        record = dict(owner=p['owner'], controller=p['controller'], controller_pid=p['controller_pid'],
                      acquired_at=stamp(now), expires_at=stamp(now + p['ttl']), expires_at_epoch=now + p['ttl'])
        if holder is None or takeover:
            if try_take(path, record):
                result = dict(changed=False, acquired=True, waited=round(time.time() - start, 2))
                if takeover:
                    result['taken_over'] = holder
                module.exit_json(**result)
            continue  # another run took it between our look and our mkdir: look again
        if now >= deadline:
            module.fail_json(
                msg='Another run is working on this failover pair: %s holds the lock %s. This run stops here '
                    'without touching the pair. Wait for that run to finish (or set a lock wait), or, if that run '
                    'no longer exists, remove %s.' % (describe(holder), path, path),
                acquired=False, holder=holder, waited=round(now - start, 2))
        time.sleep(0.5)


if __name__ == '__main__':
    main()
