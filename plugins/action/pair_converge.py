# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of fnls.failover.pair_converge. With a plan (the role), both hosts of a pair run in the same
task: the main starts, its back-office contact is confirmed, Step 5, the back-office check, its lock released; the
back-up waits in its guard for that contact, starts, Step 4, the sync proof. This side fills what only the run
knows (the times the guard and the wait date the contact after, the back office's credentials), stops a host
whose partner failed, and prints one line per host when it is done, instead of retry noise."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time

from ansible import constants as C
from ansible.utils.display import Display

from ansible_collections.fnls.failover.plugins.plugin_utils import fnls_action as fa

display = Display()
BACKOFFICE = ('backoffice_url', 'backoffice_user', 'backoffice_password')


def since_of(hostvars_of_main):
    """The time after which the main's back-office contact counts: when this run stopped it, else when its
    running process started, else when it was read stopped (any contact after that is a new start's)."""
    prep = (hostvars_of_main.get(fa.PREPARE_VAR) or {}) if hasattr(hostvars_of_main, 'get') else {}
    read = (hostvars_of_main.get(fa.READ_VAR) or {}) if hasattr(hostvars_of_main, 'get') else {}
    stop = prep.get('stop') or {}
    server = read.get('server') or {}
    return stop.get('stopped_at') or (server.get('process_started_at') if server.get('running') else None) \
        or read.get('read_at')


def marker_path(run_id, pair):
    """Where a main's converge leaves its own confirmation for a back-up that starts on it (on the controller, in
    the run's own temporary directory, removed when the run ends)."""
    return os.path.join(C.DEFAULT_LOCAL_TMP, 'fnls-failover-%s-%s.json' % (run_id, pair))


def leave_marker(path, out):
    data = dict(failed=bool(out.get('failed')), wait=out.get('wait') or {},
                msg=out.get('msg') if out.get('failed') else '')
    tmp = '%s.%d' % (path, os.getpid())
    with open(tmp, 'w') as handle:
        json.dump(data, handle)
    os.rename(tmp, path)


def start_line(host, role, params):
    """What the host is about to do, and how long it may wait, printed when its converge begins."""
    if role == 'main':
        wait = params.get('wait') or {}
        return ('%s (main): %s, then waits up to %s s for its back-office contact (%s)'
                % (host, 'starts' if params.get('start') else 'already runs', _n(wait.get('wait_timeout')),
                   ', '.join(wait.get('evidence') or [])))
    guard = params.get('guard') or {}
    if not params.get('start'):
        return '%s (back-up): already runs; Step 4 and the sync proof' % host
    return ('%s (back-up): waits in its guard for the main\'s confirmed contact (%s, up to %s s), then starts'
            % (host, ', '.join(guard.get('guard_evidence') or []), _n(guard.get('guard_wait'))))


def _n(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return '?'
    return '%d' % value if value.is_integer() else '%s' % value


def read_marker(path, wait=0.0):
    """The main's marker (None when it is not there within ``wait`` seconds); removed once read."""
    deadline = time.time() + wait
    while True:
        if os.path.exists(path):
            with open(path) as handle:
                data = json.load(handle)
            os.unlink(path)
            return data
        if time.time() >= deadline:
            return None
        time.sleep(0.25)


def done_line(host, role, out):
    who = 'back-up' if role == 'backup' else role
    steps = ', '.join('%s %.1f s' % (s.get('step'), float(s.get('seconds') or 0)) for s in out.get('timeline') or [])
    if out.get('failed'):
        return '%s (%s): stopped: %s' % (host, who, steps or 'before its first step')
    wait = out.get('wait') or {}
    said = ''
    if wait.get('confirmed'):
        said = '; the back-office contact was confirmed by %s after %.1f s' % (
            wait.get('source'), float(wait.get('waited') or 0))
    return '%s (%s): done: %s%s' % (host, who, steps or 'nothing to do', said)


class ActionModule(fa.PhaseAction):

    def run(self, tmp=None, task_vars=None):
        task_vars, result, host, args, dec = self.begin(tmp, task_vars)
        if dec is None:
            return self._run(result, args, task_vars, host, None)
        if dec.get('action') == 'error':
            return dict(result, failed=True, msg=dec['msg'])
        if dec.get('action') != 'converge':
            return dict(result, changed=False, skipped=True, msg='the pair is converged')
        gone = fa.partner_gone(task_vars, host, dec)
        if gone:
            if dec['role'] == 'main' and not self._play_context.check_mode:
                # the main took the pair's lock in the prepare phase: released, nothing started
                lock = dec['converge'].get('lock') or {}
                rel = self._execute_module(module_name='fnls.failover.pair_lock', task_vars=task_vars, module_args=dict(
                    path=lock.get('path'), owner=lock.get('owner'), state='absent'))
                gone += ' The pair\'s lock was %s.' % (
                    'released' if not rel.get('failed') else 'not released (%s)' % rel.get('msg'))
            return dict(result, failed=True, msg=gone)
        params = dict(dec['converge'])
        hostvars = task_vars.get('hostvars') or {}
        if dec['role'] == 'main':
            params['wait'] = dict(params.get('wait') or {}, since=since_of(hostvars.get(host) or {}))
        else:
            main_vars = hostvars.get(dec['partner']) or {}
            guard = dict(params.get('guard') or {}, guard_since=since_of(main_vars))
            if 'backoffice' in guard.get('guard_evidence', []):
                guard.update(guard_backoffice_url=args.get('backoffice_url'),
                             guard_backoffice_user=args.get('backoffice_user', 'admin'),
                             guard_backoffice_password=args.get('backoffice_password'))
            if dec.get('deferred') and params.get('start') and not self._play_context.check_mode:
                confirmation, problem = self._main_confirmation(task_vars, dec, guard)
                if problem:
                    return dict(result, failed=True, msg=problem)
                guard['guard_confirmation'] = confirmation
            params['guard'] = dict((k, v) for k, v in guard.items() if v is not None)
        args.update(params)
        return self._run(result, args, task_vars, host, dec)

    def _main_confirmation(self, task_vars, dec, guard):
        """A back-up whose host can watch no evidence starts on its main's own confirmation: wait here, on the
        controller, until the main's converge (a worker of this same task) left it, or failed."""
        plan = (task_vars.get(fa.PLAN_VAR) or {}).get('plan') or {}
        path = marker_path((plan.get('run') or {}).get('id'), dec['pair'])
        data = read_marker(path, wait=float(guard.get('guard_wait') or 600) + 60)
        if data is not None:
            if data.get('failed'):
                return None, ('Pair %s stopped: its main %s failed (see its error above); the back-up was not '
                              'started.' % (dec['pair'], dec['partner']))
            return data.get('wait') or {}, None
        return None, ('Pair %s: the main %s did not finish its part within %d s; the back-up was not started.'
                      % (dec['pair'], dec['partner'], float(guard.get('guard_wait') or 600) + 60))

    def _run(self, result, args, task_vars, host, dec):
        if args.get('role') == 'main' and args.get('backoffice_url'):
            args['backoffice'] = dict(url=args.get('backoffice_url'), user=args.get('backoffice_user', 'admin'),
                                      password=args.get('backoffice_password'))
        for key in BACKOFFICE:
            args.pop(key, None)
        if dec is not None:
            display.display(start_line(host, dec['role'], args))
        out = self._execute_module(module_name='fnls.failover.pair_converge', module_args=args, task_vars=task_vars)
        plan = (task_vars.get(fa.PLAN_VAR) or {}).get('plan') or {}
        run_id = (plan.get('run') or {}).get('id')
        if dec is not None and dec['role'] == 'main':
            # the back-up's side of this task reads it: to start on it (deferred), or to say why it stopped
            leave_marker(marker_path(run_id, dec['pair']), out)
        if dec is not None and dec['role'] == 'backup' and out.get('failed') and not dec.get('deferred'):
            main_out = read_marker(marker_path(run_id, dec['pair']), wait=15)
            if main_out is not None and main_out.get('failed'):
                out['guard_said'] = out.get('msg', '')
                out['msg'] = ('Pair %s stopped: its main %s failed (see its error above); the back-up was not started.'
                              % (dec['pair'], dec['partner']))
        if dec is not None:
            out['msg'] = out.get('msg') if out.get('failed') else done_line(host, dec['role'], out)
            display.display(done_line(host, dec['role'], out))
            if out.get('failed') and not str(out.get('msg', '')).startswith('Pair '):
                out['msg'] = 'Pair %s: %s' % (dec.get('pair'), out.get('msg', ''))
        result.update(out)
        return result
