# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller side of the role's phases: the host's decision, the partner check, the platform refusal, and
what the converge action fills in and prints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.fnls.failover.plugins.plugin_utils import fnls_action as fa
from ansible_collections.fnls.failover.plugins.action import pair_converge as conv


def test_the_hosts_decision_comes_from_the_registered_plan():
    tv = {fa.PLAN_VAR: {'plan': {'hosts': {'m': {'action': 'converge'}}}}}
    assert fa.decision(tv, 'm') == {'action': 'converge'}
    assert fa.decision(tv, 'b') is None and fa.decision({}, 'm') is None


def test_a_partner_that_left_the_run_stops_the_host():
    dec = dict(pair='p1', role='backup', partner='m')
    assert fa.partner_gone({'ansible_play_hosts': ['m', 'b']}, 'b', dec) is None
    msg = fa.partner_gone({'ansible_play_hosts': ['b']}, 'b', dec)
    assert msg.startswith('Pair p1 stopped: its main m failed or became unreachable earlier in this run')


def test_a_windows_host_is_known_from_its_inventory():
    assert fa.windows_host({'ansible_connection': 'winrm'}, None)
    assert fa.windows_host({'ansible_shell_type': 'powershell'}, None)
    assert not fa.windows_host({'ansible_connection': 'ssh'}, None)
    assert 'Linux hosts only' in fa.windows_message('w', {'ansible_connection': 'psrp'})


def test_the_python_probe_and_its_answer():
    cmd = fa.python_probe_command(['python3.11', "/opt/it's/python"])
    assert "'python3.11'" in cmd and "'/opt/it'\\''s/python'" in cmd and cmd.endswith('echo "fnls-python none"')
    assert fa.parse_probe('noise\nfnls-python 3.6 /usr/libexec/platform-python\n') == \
        ('3.6', '/usr/libexec/platform-python')
    assert fa.parse_probe('fnls-python none') == ('0.0', '')
    assert fa.too_old('3.6', '2.19.4') and not fa.too_old('3.8', '2.19.4') and fa.too_old('3.8', '2.20.0')
    msg = fa.python_message('h', '2.20.1', '3.8', '/usr/bin/python3.8', ['python3'])
    assert 'need Python 3.9 or later on the managed host; found Python 3.8 (/usr/bin/python3.8)' in msg
    assert 'found no Python 3 that runs (looked for python3, python3.9)' in \
        fa.python_message('h', '2.19.4', '0.0', '', ['python3', 'python3.9'])
    assert fa.interpreters({'ansible_python_interpreter': '/usr/bin/python3.11'}) == ['/usr/bin/python3.11']
    assert fa.interpreters({'ansible_python_interpreter': 'auto_silent'}) == fa.PYTHONS


def test_the_time_the_mains_contact_counts_after():
    stopped = {fa.PREPARE_VAR: {'stop': {'stopped_at': 'T-stop'}},
               fa.READ_VAR: {'server': {'running': True, 'process_started_at': 'T-proc'}, 'read_at': 'T-read'}}
    assert conv.since_of(stopped) == 'T-stop'
    running = {fa.READ_VAR: {'server': {'running': True, 'process_started_at': 'T-proc'}, 'read_at': 'T-read'}}
    assert conv.since_of(running) == 'T-proc'
    was_stopped = {fa.READ_VAR: {'server': {'running': False, 'process_started_at': None}, 'read_at': 'T-read'}}
    assert conv.since_of(was_stopped) == 'T-read'


def test_each_host_says_what_it_does_and_how_long_it_may_wait():
    assert conv.start_line('m', 'main', dict(start=True, wait=dict(wait_timeout=300.0, evidence=['status', 'log']))) \
        == 'm (main): starts, then waits up to 300 s for its back-office contact (status, log)'
    assert conv.start_line('b', 'backup', dict(start=True, guard=dict(guard_evidence=['status'], guard_wait=600))) \
        == "b (back-up): waits in its guard for the main's confirmed contact (status, up to 600 s), then starts"
    out = dict(timeline=[dict(step='start', seconds=3.25), dict(step='wait', seconds=12)])
    assert conv.done_line('m', 'main', out) == 'm (main): done: start 3.2 s, wait 12.0 s'
    assert conv.done_line('m', 'main', dict(out, failed=True)).startswith('m (main): stopped: ')


def test_the_mains_confirmation_is_left_for_its_backup_without_secrets(tmp_path):
    path = str(tmp_path / 'marker.json')
    conv.leave_marker(path, dict(wait=dict(confirmed=True, source='log'), backoffice_password='x'))
    with open(path) as handle:
        assert json.load(handle) == dict(failed=False, wait=dict(confirmed=True, source='log'), msg='')
