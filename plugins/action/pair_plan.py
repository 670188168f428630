# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""fnls.failover.pair_plan: the plan of the run, once for the play, on the controller (no module runs on a
host). It forms the pairs from what every host read, checks every input, chooses the hostids, reads the back
office's answers for all pairs (each host read the devices that hold its own hostids, so the controller need not
reach the back office) and decides per pair (fnls_plan): converged, converge with its reasons, or an error with its
message."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import platform
import uuid

from ansible import context
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.fnls.failover.plugins.module_utils import fnls_plan as fp
from ansible_collections.fnls.failover.plugins.plugin_utils import fnls_action as fa

display = Display()

ARGS = ('reads', 'forks')


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = False
    _requires_connection = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._task.args
        unknown = sorted(set(args) - set(ARGS))
        if unknown:
            return dict(result, failed=True, msg='pair_plan: unknown option(s) %s.' % ', '.join(unknown))
        hostvars = task_vars.get('hostvars') or {}
        batch = list(task_vars.get('ansible_play_batch') or task_vars.get('ansible_play_hosts') or [])
        active = set(task_vars.get('ansible_play_hosts') or batch)
        read_var = args.get('reads') or fa.READ_VAR
        # the hosts that read in this run, the ones that failed or were unreachable included (no longer in the batch)
        started = list(batch) + [h for h in task_vars.get('ansible_play_hosts_all') or []
                                 if h not in batch and h not in active and self._get(hostvars.get(h), read_var)]
        inputs, reads, missing = {}, {}, {}
        for host in started:
            hv = hostvars.get(host) or {}
            read = self._get(hv, read_var)
            if host in active and isinstance(read, dict) and not read.get('failed') and 'hostids' in read:
                inputs[host] = read.get('inputs') or {}
                reads[host] = read
            else:
                given = read.get('inputs') if isinstance(read, dict) else None
                missing[host] = given or self._inventory_inputs(hv)
        left_out = {}
        for host in (task_vars.get('groups') or {}).get('all', []):
            if host in started:
                continue
            name = self._get(hostvars.get(host), 'failover_pair_name')
            if name:
                left_out[host] = name
        run = dict(id=uuid.uuid4().hex[:16], controller=platform.node(), pid=os.getppid())
        pairs, errors = fp.first_pass(inputs, reads, missing, left_out)
        readings = dict((name, fp.backoffice_reading(pair, reads)) for name, pair in pairs.items())
        hosts = {}
        for host, msg in errors.items():
            if host in inputs:
                hosts[host] = dict(action='error', msg=msg, pair=inputs[host].get('name'),
                                   role=inputs[host].get('role'), partner=None, reasons=[], prepare=None,
                                   converge=None, result=None)
        for name, pair in sorted(pairs.items()):
            hosts.update(fp.decide(pair, inputs, reads, readings.get(name), run))
        forks = args.get('forks') or context.CLIARGS.get('forks')
        order = [h for h in batch if (hosts.get(h) or {}).get('action') == 'converge']
        mains_of = dict((h, hosts[h]['partner']) for h in order if hosts[h]['role'] == 'backup')
        stuck = fp.dispatch_deadlock(order, mains_of, forks)
        if stuck:
            msg = ('With forks=%s, the back-up %s would wait in its guard for its main %s while no worker is free to '
                   'start that main: the run\'s host order puts back-ups ahead of their mains. List each pair\'s main '
                   'before its back-up in the inventory, or raise forks to at least %d; nothing was changed.'
                   % (forks, stuck, mains_of.get(stuck), len(order)))
            for h in order:
                hosts[h].update(action='error', msg=msg)
        lines = []
        for name in sorted(set(d['pair'] for d in hosts.values() if d.get('pair'))):
            lines.append(fp.describe(name, dict((h, d) for h, d in hosts.items() if d.get('pair') == name)))
        for line in lines:
            display.display(line)
        counts = {}
        for d in hosts.values():
            if d['role'] == 'main' or d['action'] == 'error':
                counts[d['action']] = counts.get(d['action'], 0) + (1 if d['role'] == 'main' else 0)
        every = {}
        for host, v in sorted(list(inputs.items()) + list(missing.items())):
            if v and v.get('name'):
                entry = every.setdefault(v['name'], dict(main='', backup='', action='failed before the plan'))
                if v.get('role') in ('main', 'backup'):
                    entry[v['role']] = host
                if host in hosts:
                    entry['action'] = hosts[host]['action']
        result.update(changed=False, plan=dict(run=run, hosts=hosts, pairs=every), lines=lines,
                      msg='%d pair(s): %d converged, %d to converge, %d stopped before anything was touched.'
                          % (len(set(d['pair'] for d in hosts.values())), counts.get('converged', 0),
                             counts.get('converge', 0), len(set(d['pair'] for d in hosts.values()
                                                                if d['action'] == 'error'))))
        return result

    @staticmethod
    def _get(hv, key):
        try:
            return hv[key] if hv is not None and key in hv else None
        except Exception:  # pylint: disable=broad-except  # an undefined variable in the inventory
            return None

    def _inventory_inputs(self, hv):
        name, role = self._get(hv, 'failover_pair_name'), self._get(hv, 'failover_pair_role')
        if not name:
            return {}
        address = self._get(hv, 'failover_pair_address') or self._get(hv, 'ansible_host') or ''
        return dict(name=name, role=role, address=address or 'unknown', port=7070, scheme='http')
