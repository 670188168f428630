#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: pair_plan
short_description: Decide, on the controller, what each failover pair of the run needs
version_added: "1.2.0"
author: fnls.failover maintainers (!UNKNOWN)
description:
  - The plan phase of the role C(fnls.failover.failover_pair), once for the play (C(run_once)), on the controller;
    nothing runs on the hosts.
  - From what every host of the play's batch read (M(fnls.failover.pair_read), registered as
    C(__failover_pair_read), with the host's pair inputs in its C(inputs)) it forms the pairs, checks every input,
    chooses the pair's hostids (the back-up's of the type of the main's active hostid) and refuses what cannot
    work, classifies each pair's registration in the back office from the devices both hosts read (so the
    controller need not reach the back office), and decides per pair - V(converged) (registered,
    both servers running, Steps 4 and 5 in place, the back-up's sync proven, nothing to do), V(converge) (with the
    reasons for an ordered restart, if any, and the parameters of M(fnls.failover.pair_prepare) and
    M(fnls.failover.pair_converge)), or V(error) with the message that stops the pair before anything is touched.
  - Every decision is the tested Python of C(plugins/module_utils/fnls_plan.py).
  - Prints one line per pair. With too few forks for a host order that puts back-ups ahead of their mains (a
    back-up would wait in its guard for a main no worker is free to start), it stops the pairs with a message that
    says which forks or order to use.
options:
  reads:
    description: The variable each host registered its read in.
    type: str
    default: __failover_pair_read
  forks:
    description: The forks the run uses; default the run's own C(--forks).
    type: int
attributes:
  check_mode:
    description: Reads only; the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing.
    support: none
  idempotent:
    description: Reads only.
    support: full
  action:
    description: Runs on the controller only.
    support: full
notes:
  - Only for the role's run; it reads C(hostvars) of the play's hosts.
'''

EXAMPLES = r'''
- name: Plan - the pairs, every input, the hostids, the back office; a decision per pair
  fnls.failover.pair_plan: {}
  run_once: true
  register: failover_pair_plan
'''

RETURN = r'''
plan:
  description: The run's plan.
  returned: always
  type: dict
  contains:
    run:
      description: The run's id, the controller's name and its ansible-playbook process (the lock's owner).
      type: dict
      sample: {"id": "4f1c2a9b0d3e5f67", "controller": "ctl", "pid": 4242}
    hosts:
      description:
        - By host, its decision - C(action) (V(converged), V(converge) or V(error)), C(msg), C(pair), C(role),
          C(partner), C(reasons), C(prepare), C(converge), C(result) (the main's public result when converged),
          C(deferred).
      type: dict
    pairs:
      description: By pair name, its main, its back-up and its action (V(failed before the plan) for a pair whose
        hosts failed before it).
      type: dict
lines:
  description: The line printed for each pair.
  returned: always
  type: list
  elements: str
  sample: ["Pair p01: ordered restart because the back office does not hold the pair yet."]
'''

from ansible.module_utils.basic import AnsibleModule


def main():
    argument_spec = dict(reads=dict(type='str', default='__failover_pair_read'), forks=dict(type='int'))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    module.fail_json(msg='fnls.failover.pair_plan runs on the controller as an action; it cannot run on a host.')


if __name__ == '__main__':
    main()
