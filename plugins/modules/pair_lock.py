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
  - A lock on the main host (a directory that appears complete, with the holder's identity inside, in one
    atomic step) so that a second run on the same pair waits or stops with a clear message instead of
    interleaving its stops and starts with the first run's.
  - The lock records which run holds it, from which controller, and when it expires. A lock whose time has
    run out, or that O(force) is set for, is taken over; the playbooks set O(force) when the holder was a run
    on the same controller whose process is gone (an interrupted run), so a rerun goes on by itself.
  - A lock directory without a readable holder (left by hand, or by an older version of this module that was
    stopped while taking the lock) is given O(grace) seconds before it counts as abandoned and is taken over.
  - O(state=absent) with O(force=true) breaks the lock whoever holds it, for a lock left by a run that no
    longer exists (a cancelled AWX or Automation Platform job, a controller that is gone).
  - Taking and releasing the lock does not count as a change of the managed system; both report
    C(changed=false) so that a rerun stays idempotent.
options:
  path:
    description: The lock directory; on a tmpfs such as C(/run) it goes away with a reboot.
    type: path
    required: true
  state:
    description:
      - V(present) takes the lock, V(absent) releases it when this O(owner) holds it.
      - V(absent) with O(force=true) removes the lock whoever holds it.
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
  grace:
    description:
      - Seconds a lock directory without a readable holder is left alone before it counts as abandoned and is
        taken over (the age of the directory, or how long this run has seen it so, whichever is longer).
      - While a directory is in its grace period the module waits for it, whatever O(wait) says.
    type: float
    default: 5
  force:
    description:
      - With O(state=present), take the lock over even when another run holds it. For a holder known to be gone.
      - With O(state=absent), remove the lock whoever holds it (break a stale lock).
    type: bool
    default: false
  force_owner:
    description:
      - With O(force), take over or break the lock only while the run with this O(owner) holds it. A lock that
        another run has taken in the meantime is then left alone (and waited for, or reported).
      - The playbooks set it to the owner of the interrupted run they judged gone, so that two reruns that find
        the same interrupted run do not both take the lock.
    type: str
    default: ""
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
notes:
  - How the lock is taken. The holder's record is written, and flushed to disk, into a fresh directory
    beside O(path) with a unique name; that complete directory is then renamed to O(path). A rename is atomic
    and cannot replace a directory that holds a file, so of two runs that take the lock at once exactly one
    rename succeeds, and no run ever sees the lock directory without its holder.
  - How a lock is taken over or released. The run locks the lock directory itself (C(flock) on it, held for
    a few milliseconds, released by the system if the run dies), checks that O(path) is still that directory and
    that its holder still allows the take-over (or is this O(owner), for a release), and renames it aside
    before removing it. Two runs that find the same expired lock cannot both remove it, and none removes a lock
    that another run took in the meantime.
  - Breaking a stale lock by hand, for example after a cancelled job, is O(state=absent) with O(force=true) and
    any O(owner) (RV(broken) shows the holder it removed), or C(rm -r) of O(path) on the main host.
  - A file or a link at O(path) is not a lock this module made; a run stops there, and O(state=absent) with
    O(force=true) removes it.
'''

EXAMPLES = r'''
- name: Take the pair's lock on the main
  fnls.failover.pair_lock:
    path: /run/fnls-failover-acme.lock
    owner: "{{ run_id }}"
    controller: "{{ lookup('ansible.builtin.pipe', 'uname -n') }}"
    wait: 60

- name: Release it
  fnls.failover.pair_lock:
    path: /run/fnls-failover-acme.lock
    owner: "{{ run_id }}"
    state: absent

- name: Break a lock left by a cancelled job (whoever holds it)
  fnls.failover.pair_lock:
    path: /run/fnls-failover-acme.lock
    owner: admin-break
    state: absent
    force: true
'''

RETURN = r'''
acquired:
  description: Whether this run holds the lock now (state=present), or released or broke it (state=absent).
  returned: always
  type: bool
holder:
  description: The lock's content when another run holds it (owner, controller, controller_pid, acquired_at, expires_at).
  returned: when another run holds the lock
  type: dict
taken_over:
  description: The content of an abandoned or forced lock that this run took over (empty for a lock without a holder).
  returned: when a lock was taken over
  type: dict
broken:
  description: The content of the lock that O(state=absent) with O(force=true) removed (empty for a lock without a holder).
  returned: when a lock held by another run was broken
  type: dict
waited:
  description: Seconds spent waiting for the lock.
  returned: always
  type: float
'''

from ansible.module_utils.basic import AnsibleModule

# run_module for main(); the other names for the code and tests that import them from here
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_pair_lock import (  # noqa: F401  # pylint: disable=unused-import
    acquire,
    expired,
    INFO,
    read_holder,
    release,
    run_module,
    stamp,
    try_take,
)


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
