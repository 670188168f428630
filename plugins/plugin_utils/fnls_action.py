# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the controller side of the role's phases shares: this host's decision in the run's plan, the partner
check, and the platform refusal (a Windows host, a Python on the host that cannot run the modules)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

PLAN_VAR = 'failover_pair_plan'
READ_VAR = '__failover_pair_read'
PREPARE_VAR = '__failover_pair_prepare'
PYTHONS = ['python3.14', 'python3.13', 'python3.12', 'python3.11', 'python3.10', 'python3.9', 'python3.8',
           '/usr/bin/python3', 'python3']


def decision(task_vars, host):
    """This host's decision in the plan registered by the plan task (None when the plan did not run)."""
    plan = task_vars.get(PLAN_VAR) or {}
    return ((plan.get('plan') or {}).get('hosts') or {}).get(host)


def partner_gone(task_vars, host, dec):
    """The message when the host's partner failed or became unreachable earlier in the run, else None."""
    peer = dec.get('partner')
    if not peer or peer in (task_vars.get('ansible_play_hosts') or []):
        return None
    return ('Pair %s stopped: its %s %s failed or became unreachable earlier in this run (see its error above). %s '
            'was left as it was; fix the cause and run the playbook again.'
            % (dec.get('pair'), 'back-up' if dec.get('role') == 'main' else 'main', peer, host))


def windows_host(task_vars, connection):
    """Whether the host is a Windows host, from its inventory and connection alone (nothing is sent to it)."""
    conn = task_vars.get('ansible_connection') or 'ssh'
    shell = task_vars.get('ansible_shell_type') or ''
    family = getattr(getattr(connection, '_shell', None), 'SHELL_FAMILY', '')
    os_family = (task_vars.get('ansible_facts') or {}).get('os_family', '')
    return conn in ('winrm', 'psrp') or shell in ('powershell', 'cmd') or family == 'powershell' \
        or os_family == 'Windows'


def windows_message(host, task_vars):
    return ('%s is a Windows host (connection %s, shell %s): fnls.failover supports license servers on Linux hosts '
            'only; on Windows, register the pair by hand (flexnetls.settings and the End-User Portal). Take the host '
            'out of the run (its pair with it); nothing was changed.'
            % (host, task_vars.get('ansible_connection') or 'ssh', task_vars.get('ansible_shell_type') or 'the default'))


def minimum_python(ansible_version):
    parts = [int(x) for x in re.findall(r'\d+', ansible_version)[:2]] + [0, 0]
    return '3.9' if tuple(parts[:2]) >= (2, 20) else '3.8'


def python_probe_command(interpreters):
    quoted = ' '.join("'%s'" % i.replace("'", "'\\''") for i in interpreters)
    return ('for p in %s; do command -v "$p" >/dev/null 2>&1 || continue; "$p" -c \'import sys; '
            'print("fnls-python %%d.%%d %%s" %% (sys.version_info[0], sys.version_info[1], sys.executable))\' '
            '2>/dev/null && exit 0; done; echo "fnls-python none"' % quoted)


def interpreters(task_vars):
    configured = task_vars.get('ansible_python_interpreter') or ''
    if configured and not configured.startswith('auto'):
        return [configured]
    return list(task_vars.get('ansible_interpreter_python_fallback') or PYTHONS)


def parse_probe(stdout):
    """(version, path) from the probe's answer; ('0.0', '') when no Python answered."""
    for line in to_text(stdout or '').splitlines():
        m = re.match(r'fnls-python (\d+\.\d+) (.*)$', line.strip())
        if m:
            return m.group(1), m.group(2).strip()
    return '0.0', ''


def python_message(host, ansible_version, version, path, looked_for):
    minimum = minimum_python(ansible_version)
    found = ('Python %s (%s)' % (version, path)) if version != '0.0' else \
        'no Python 3 that runs (looked for %s)' % ', '.join(looked_for)
    return ('%s: the modules of ansible-core %s need Python %s or later on the managed host; found %s. Install a newer '
            'Python 3 on the host (EL 8: dnf install python3.11) and point ansible_python_interpreter at it; nothing '
            'was changed.' % (host, ansible_version, minimum, found))


def too_old(version, ansible_version):
    want = tuple(int(x) for x in minimum_python(ansible_version).split('.'))
    have = tuple(int(x) for x in version.split('.'))
    return have < want


class PhaseAction(ActionBase):
    """The controller side of a phase module: with a plan (the role), the host's decision in it; without one, the
    task's own options are the module's."""

    _supports_check_mode = True
    _supports_async = False

    def begin(self, tmp, task_vars):
        """(task_vars, result, host, module args, this host's decision or None)."""
        task_vars = task_vars or {}
        result = super(PhaseAction, self).run(tmp, task_vars)
        host = task_vars.get('inventory_hostname')
        return task_vars, result, host, dict(self._task.args), decision(task_vars, host)
