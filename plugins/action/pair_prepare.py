# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of fnls.failover.pair_prepare. With a plan (the role): stops a host whose pair the plan
refused, or whose partner failed, with the message and no module run; runs nothing on a back-up that has nothing
to prepare; takes over the lock left by an interrupted run of this same controller (its ansible-playbook process
is gone), the only case that costs a second module run. Without a plan, the task's own options are the module's."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess


from ansible_collections.fnls.failover.plugins.plugin_utils import fnls_action as fa


def controller_process_is_ansible(pid):
    """Whether process ``pid`` on this controller runs Ansible (ps where it exists, else /proc)."""
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        out = subprocess.run(['ps', '-o', 'args=', '-p', str(pid)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             check=False, timeout=10).stdout.decode('utf-8', 'replace')
    except (OSError, subprocess.SubprocessError):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                out = f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
        except (IOError, OSError):
            out = ''
    return 'ansible' in out


class ActionModule(fa.PhaseAction):

    def run(self, tmp=None, task_vars=None):
        task_vars, result, host, args, dec = self.begin(tmp, task_vars)
        if dec is not None:
            if dec.get('action') == 'error':
                return dict(result, failed=True, msg=dec['msg'])
            gone = fa.partner_gone(task_vars, host, dec)
            if gone:
                return dict(result, failed=True, msg=gone)
            if dec.get('action') != 'converge' or not dec.get('prepare'):
                return dict(result, changed=False, msg='nothing to prepare on %s' % host, prepared=False)
            args.update(dec['prepare'])
            for key in ('name', 'service_manager', 'stop_timeout', 'server_url'):
                if key not in args and dec['converge'].get(key) is not None:
                    args[key] = dec['converge'][key]
        out = self._execute_module(module_name='fnls.failover.pair_prepare', module_args=args, task_vars=task_vars)
        lock = out.get('lock') or {}
        holder = lock.get('holder') or {}
        run_controller = (args.get('lock') or {}).get('controller')
        if out.get('failed') and lock and not lock.get('acquired') and not self._play_context.check_mode \
                and holder.get('owner') and run_controller and holder.get('controller') == run_controller \
                and int(holder.get('controller_pid') or 0) > 0 \
                and int(holder.get('controller_pid')) != os.getppid() \
                and not controller_process_is_ansible(holder.get('controller_pid')):
            args['lock'] = dict(args['lock'], force=True, force_owner=holder['owner'])
            out = self._execute_module(module_name='fnls.failover.pair_prepare', module_args=args, task_vars=task_vars)
            out['taken_over_from'] = holder.get('owner')
        if out.get('failed') and dec is not None and not str(out.get('msg', '')).startswith('Pair '):
            out['msg'] = 'Pair %s: %s' % (dec.get('pair'), out.get('msg', ''))
        result.update(out)
        return result
