# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of fnls.failover.pair_read: refuses a Windows host from its inventory alone, runs the read
module once, turns a Python on the host that cannot run it into a plain message (one raw command, only then),
and keeps the host's pair inputs (option ``pair``) in the result for the plan."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.fnls.failover.plugins.module_utils import fnls_plan as fp
from ansible_collections.fnls.failover.plugins.plugin_utils import fnls_action as fa


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        inputs = args.pop('pair', None) or {}
        host = task_vars.get('inventory_hostname')
        result['inputs'] = inputs
        cut = self._left_out(task_vars, inputs.get('name'))
        if cut:
            result.update(failed=True, msg=cut)
            return result
        if fa.windows_host(task_vars, self._connection):
            result.update(failed=True, msg=fa.windows_message(host, task_vars), platform='windows')
            return result
        out = self._execute_module(module_name='fnls.failover.pair_read', module_args=args, task_vars=task_vars)
        crashed = 'module_stderr' in out or 'module_stdout' in out or 'rc' in out \
            or 'interpreter' in out.get('msg', '')
        if out.get('failed') and 'hostids' not in out and crashed:
            version, path, looked = self._python(task_vars)
            ansible_version = (task_vars.get('ansible_version') or {}).get('full', '')
            if version == '0.0' or fa.too_old(version, ansible_version):
                result.update(failed=True, platform='python',
                              msg=fa.python_message(host, ansible_version, version, path, looked))
                return result
        result.update(out)
        result['inputs'] = inputs
        return result

    @staticmethod
    def _left_out(task_vars, name):
        """The message when the run holds this host but not its partner of the inventory (nothing is sent)."""
        if not name:
            return None
        hostvars = task_vars.get('hostvars') or {}
        batch = list(task_vars.get('ansible_play_batch') or task_vars.get('ansible_play_hosts') or [])

        def pair_of(host):
            try:
                hv = hostvars[host]
                return hv['failover_pair_name'] if 'failover_pair_name' in hv else None
            except Exception:  # pylint: disable=broad-except  # an inventory variable that does not template
                return None
        left = [h for h in (task_vars.get('groups') or {}).get('all', []) if h not in batch and pair_of(h) == name]
        if not left:
            return None
        members = [h for h in batch if pair_of(h) == name] or [task_vars.get('inventory_hostname')]
        return fp.left_out_message(name, members, left)

    def _python(self, task_vars):
        looked = fa.interpreters(task_vars)
        try:
            res = self._low_level_execute_command(fa.python_probe_command(looked), sudoable=False)
        except Exception:  # pylint: disable=broad-except  # the host answers no command at all
            return '0.0', '', looked
        version, path = fa.parse_probe(res.get('stdout'))
        return version, path, looked
