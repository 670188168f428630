# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The license server's service, through ``service``/its init script or ``systemctl``.

The service name ``flexnetls-<producer>`` is confirmed; whether a host runs a SysV script or a systemd
unit varies by install, hence ``service_manager`` (auto picks systemctl when systemd runs).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

SYSTEMD_DIR = '/run/systemd/system'


class Service(object):
    """start/stop/restart/status of one service through ``service``/the init script or ``systemctl``."""

    def __init__(self, module, name, manager):
        self.module = module
        self.name = name
        self.commands = []
        if manager == 'auto':
            manager = 'systemctl' if os.path.isdir(SYSTEMD_DIR) and module.get_bin_path('systemctl') else 'service'
        self.manager = manager
        if manager == 'systemctl':
            self.bin = module.get_bin_path('systemctl', required=True)
            self.prefix = [self.bin]
        else:
            self.bin = module.get_bin_path('service')
            script = '/etc/init.d/%s' % name
            if self.bin:
                self.prefix = [self.bin, name]
            elif os.path.exists(script):
                self.prefix = [script]
            else:
                module.fail_json(msg='Controlling the service %s needs the service command or %s; neither exists. '
                                     'Install the license server or set service_manager.' % (name, script))

    def argv(self, action):
        if self.manager == 'systemctl':
            return self.prefix + [action, self.name]
        return self.prefix + [action]

    def show(self, action):
        return ' '.join(self.argv(action))

    def is_running(self):
        if self.manager == 'systemctl':
            rc, out, err = self.module.run_command(self.prefix + ['is-active', self.name])
            if rc != 0:
                rc2, out2, err2 = self.module.run_command(
                    self.prefix + ['show', '-p', 'LoadState', '--value', self.name])
                if rc2 == 0 and out2.strip() == 'not-found':
                    self.module.fail_json(msg='The service %s is not installed (systemd reports no such unit); '
                                              'install the license server or correct name.' % self.name)
            return rc == 0
        rc, out, err = self.module.run_command(self.argv('status'))
        if rc == 0:
            return True
        if rc in (1, 2, 3):
            return False
        if rc == 4:
            self.module.fail_json(msg='The service %s is not installed (status exit code 4); install the license '
                                      'server or correct name.' % self.name)
        self.module.fail_json(msg='Reading the state of the service %s failed: "%s" exited with %s: %s'
                                  % (self.name, self.show('status'), rc, (err or out).strip()[:300] or 'no output'))

    def main_pid(self, pid_file=None):
        """The PID of the running server: systemd's MainPID, else the first number in ``pid_file``; None when
        not known."""
        if self.manager == 'systemctl':
            rc, out, err = self.module.run_command(self.prefix + ['show', '-p', 'MainPID', '--value', self.name])
            if rc == 0 and out.strip().isdigit() and int(out.strip()) > 0:
                return int(out.strip())
            return None
        if not pid_file:
            return None
        try:
            with open(pid_file) as handle:
                text = handle.read(64).strip().split()
        except (IOError, OSError):
            return None
        return int(text[0]) if text and text[0].isdigit() else None

    def process_started_at(self, pid_file=None):
        """The host's time (epoch seconds) at which the server's process started, from /proc; None when not
        known (no PID, or no /proc)."""
        pid = self.main_pid(pid_file)
        if not pid:
            return None
        try:
            with open('/proc/%d/stat' % pid) as handle:
                stat = handle.read()
            with open('/proc/stat') as handle:
                btime = [int(line.split()[1]) for line in handle if line.startswith('btime ')][0]
            ticks = int(stat[stat.rindex(')') + 2:].split()[19])
            return btime + ticks / float(os.sysconf('SC_CLK_TCK'))
        except (IOError, OSError, ValueError, IndexError):
            return None

    def run(self, action):
        self.commands.append(self.show(action))
        rc, out, err = self.module.run_command(self.argv(action))
        if rc != 0:
            self.module.fail_json(msg='"%s" failed with exit code %s: %s. Read the server log for the cause.'
                                      % (self.show(action), rc, (err or out).strip()[:300] or 'no output'),
                                  commands=self.commands)
