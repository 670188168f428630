#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: sync_wait
short_description: Wait until the main has accepted a back-up license server's sync
version_added: "1.1.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - A failover pair can fail over only when the main accepts the back-up's synchronisation. This module, run
    on the back-up, reads the back-up's status until it proves exactly that - no sync error, the peer's hostid
    is O(main_hostid), and a last sync after O(since) - and fails otherwise.
  - A back-up whose peer is up but which reports a sync error has been refused by the main (for example
    C(not the registered back-up), HTTP 403). When the refusal lasts O(refused_after) seconds the module fails
    with the main's answer, without waiting for the deadline.
  - While the back-up is starting, or cannot reach the main, the module keeps polling until O(timeout).
  - Read-only; runs the same in check mode.
extends_documentation_fragment:
  - fnls.failover.server_api
options:
  main_hostid:
    description: The main's hostid, C(<value>/<TYPE>); the back-up must report it as its peer.
    type: str
    required: true
  since:
    description:
      - The back-up's last sync must be later than this (ISO 8601), for example the back-up's start in this run.
      - Default the moment the module starts, so that a sync accepted during this check is the proof.
    type: str
  timeout:
    description: How long to wait in all, in seconds.
    type: float
    default: 120
  refused_after:
    description:
      - How long, in seconds, a refusal by the main must last before the module fails (a back-up whose settings
        were just corrected still reports its previous refusal until its next sync).
    type: float
    default: 15
  poll_interval:
    description: Seconds between two reads of the status.
    type: float
    default: 1
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
  platform:
    support: full
    description: Runs on the back-up's host, or anywhere that reaches its admin API.
    platforms: posix
notes:
  - Needs the status endpoint (profile key C(paths.status)); the status fields are read as the interface profile
    says (C(status.fields) C(failover.*)); see the collection's C(docs/PROFILE.md).
  - The decision is C(fnls_evidence.sync_proof) in the collection's module_utils.
seealso:
  - module: fnls.failover.server_info
  - module: fnls.failover.config
'''

EXAMPLES = r'''
- name: Wait until the main accepts the back-up's sync
  fnls.failover.sync_wait:
    admin_password: "{{ vault_fnls_admin_password }}"
    main_hostid: 0A1B2C3D4E5F/ETHERNET
    since: "{{ backup_start.started_at }}"
    timeout: 120
'''

RETURN = r'''
synced:
  description: Whether the sync was proved.
  returned: always
  type: bool
state:
  description: The last decision, V(synced), V(refused) or V(waiting).
  returned: always
  type: str
detail:
  description: What the last status showed, one sentence.
  returned: always
  type: str
  sample: the main 0A1B2C3D4E5F/ETHERNET accepted the back-up's sync at 2026-11-29T12:00:03.120Z
since:
  description: The time the last sync had to follow.
  returned: always
  type: str
waited:
  description: Seconds waited.
  returned: always
  type: float
peer:
  description: The failover peer as the back-up last reported it (hostid, state, last_sync, last_error).
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fnls.failover.plugins.module_utils.fnls_step_sync_wait import run_module


def main():
    run_module(make_module=AnsibleModule)


if __name__ == '__main__':
    main()
