# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

from ansible_collections.fnls.failover.plugins.modules import server
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_server
from ansible_collections.fnls.failover.plugins.module_utils import fnls_service  # noqa: E402

Y = '0A1B2C3D4E60/ETHERNET'
ts = stubs.ts
make_status = stubs.make_status


class FakeService(object):
    """``service NAME start|stop|restart|status`` with LSB exit codes; ``on_start`` runs after a start."""

    def __init__(self, running=False, on_start=None, on_stop=None, status_rc=None, start_keeps_running=True):
        self.running = running
        self.calls = []
        self.on_start = on_start
        self.on_stop = on_stop
        self.status_rc = status_rc
        self.start_keeps_running = start_keeps_running

    def __call__(self, module, argv, **kwargs):
        argv = list(argv)
        self.calls.append(' '.join(argv))
        action = argv[-1]
        if argv[0].endswith('systemctl'):
            action = argv[1]
            if action == 'show':
                return 0, 'loaded\n', ''
            if action == 'is-active':
                return (0, 'active', '') if self.running else (3, 'inactive', '')
        if action == 'status':
            if self.status_rc is not None:
                return self.status_rc, '', 'unrecognized service'
            return (0, 'running', '') if self.running else (3, 'stopped', '')
        if action in ('start', 'restart'):
            self.running = self.start_keeps_running
            if self.on_start:
                self.on_start()
            return 0, '', ''
        if action == 'stop':
            self.running = False
            if self.on_stop:
                self.on_stop()
            return 0, '', ''
        return 1, '', 'unknown action'

    def actions(self):
        out = []
        for c in self.calls:
            words = c.split()
            action = words[1] if words[0].endswith('systemctl') else words[-1]
            if action not in ('status', 'is-active', 'show'):
                out.append(action)
        return out


@pytest.fixture
def svc():
    fake = FakeService()

    def run_command(self, argv, **kw):
        return fake(self, argv, **kw)

    with mock.patch.object(basic.AnsibleModule, 'run_command', run_command), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path',
                              lambda self, name, required=False, opt_dirs=None: '/usr/sbin/' + name):
        yield fake


@pytest.fixture
def own():
    """The server being managed (UP, no back-office contact needed)."""
    s = stubs.FakeLicenseServer(status=make_status(last_success=None, boot_id='own-1'))
    yield s
    s.stop()


@pytest.fixture
def main():
    """The main of the pair, confirmed: READY, contact after its start, registered as MAIN."""
    s = stubs.FakeLicenseServer(status=make_status(last_success=ts(4), boot_id='main-7', backup_hostid=Y))
    yield s
    s.stop()


def args(own_url, **kw):
    a = dict(name='flexnetls-demo', service_manager='service', server_url=own_url, admin_password=PASSWORD,
             ready_timeout=5, stop_timeout=2)
    a.update(kw)
    return a


def refusal(url, why):
    return ('Refusing to start the back-up server: the main server at %s has not confirmed back-office contact '
            'since its latest start (%s). Start and confirm the main first (fnls.failover.backoffice_wait).'
            % (url, why))


def test_started_when_running_is_unchanged(svc, own):
    svc.running = True
    res = run(server, args(own.url))
    assert res['changed'] is False and res['was_running'] is True
    assert svc.actions() == []
    assert res['ready'] is True and res['boot_id'] == 'own-1'


def test_start_and_wait_ready(svc, own):
    res = run(server, args(own.url))
    assert not res.get('failed'), res
    assert res['changed'] is True and res['was_running'] is False and res['running'] is True
    assert svc.actions() == ['start']
    assert res['commands'] == ['/usr/sbin/service flexnetls-demo start']
    assert res['boot_id'] == 'own-1' and res['ready'] is True


def test_start_waits_through_starting(svc, own):
    own.health = 'STARTING'
    own.not_ready = True
    import threading
    t = threading.Timer(0.5, lambda: (setattr(own, 'health', 'UP'), setattr(own, 'not_ready', False)))
    t.start()
    try:
        res = run(server, args(own.url))
    finally:
        t.cancel()
    assert res['changed'] is True and res['ready'] is True and res['boot_id'] == 'own-1', res


def test_start_check_mode(svc, own):
    res = run(server, args(own.url), check=True)
    assert res['changed'] is True and svc.actions() == []
    assert res['commands'] == ['/usr/sbin/service flexnetls-demo start']


def test_service_died_during_start(svc):
    svc.start_keeps_running = False
    with mock.patch.object(fnls_step_server, 'SERVICE_CHECK_EVERY', 0.1):
        res = run(server, args(stubs.closed_url()))
    assert_plain_failure(res, PASSWORD)
    assert 'stopped during start-up' in res['msg']


def test_not_ready_in_time(svc, own):
    own.health = 'STARTING'
    res = run(server, args(own.url, ready_timeout=0.5))
    assert_plain_failure(res, PASSWORD)
    assert 'did not become ready within 0.5 s' in res['msg']


def test_not_installed(svc):
    svc.status_rc = 4
    res = run(server, args(stubs.closed_url()))
    assert_plain_failure(res)
    assert 'is not installed' in res['msg']


# -- stopped ---------------------------------------------------------------------------------
def test_stop(svc):
    svc.running = True
    res = run(server, args(stubs.closed_url(), state='stopped'))
    assert res['changed'] is True and res['running'] is False, res
    assert svc.actions() == ['stop']
    res = run(server, args(stubs.closed_url(), state='stopped'))
    assert res['changed'] is False


def test_stop_check_mode(svc):
    svc.running = True
    res = run(server, args(stubs.closed_url(), state='stopped'), check=True)
    assert res['changed'] is True and svc.actions() == [] and svc.running is True


def test_stop_port_still_open(svc, own):
    svc.running = True
    res = run(server, args(own.url, state='stopped', stop_timeout=0.3))
    assert_plain_failure(res)
    assert 'still answers' in res['msg']


# -- restarted ---------------------------------------------------------------------------------
def test_restart_waits_for_new_boot(svc, own):
    svc.running = True
    svc.on_start = lambda: own.status.update(boot_id='own-2')
    res = run(server, args(own.url, state='restarted'))
    assert res['changed'] is True and svc.actions() == ['restart']
    assert res['boot_id'] == 'own-2'


def test_restart_when_stopped_starts(svc, own):
    res = run(server, args(own.url, state='restarted'))
    assert res['changed'] is True and svc.actions() == ['start']


# -- the guard -------------------------------------------------------------------------------------
def test_guard_passes(svc, own, main):
    res = run(server, args(own.url, guard_main_url=main.url, guard_boot_id='main-7', guard_backup_hostid=Y))
    assert not res.get('failed'), res
    assert res['changed'] is True and svc.actions() == ['start']
    g = res['guard']
    assert g['checked'] is True and g['passed'] is True
    assert g['main_boot_id'] == 'main-7' and g['main_last_success'] == ts(4)


def test_guard_refuses_without_contact(svc, own, main):
    main.status = make_status(last_success=None, last_error='connection refused', boot_id='main-7')
    res = run(server, args(own.url, guard_main_url=main.url))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'] == refusal(main.url, 'last error: connection refused')
    assert svc.actions() == []
    assert res['guard']['passed'] is False and res['guard']['checked'] is True


def test_guard_refuses_contact_before_latest_start(svc, own, main):
    main.status = make_status(last_success=ts(-30), last_error='HTTP 503', boot_id='main-8')
    main.status['backoffice']['registered_role'] = 'MAIN'
    res = run(server, args(own.url, guard_main_url=main.url))
    assert res['msg'] == refusal(main.url, 'last error: HTTP 503')
    assert svc.actions() == []


def test_guard_refuses_registered_as_backup(svc, own, main):
    main.status['backoffice']['registered_role'] = 'BACKUP'
    res = run(server, args(own.url, guard_main_url=main.url))
    assert_plain_failure(res)
    assert res['msg'].startswith('Refusing to start the back-up server')
    assert 'BACKUP' in res['msg']
    assert svc.actions() == []


def test_guard_refuses_main_not_ready(svc, own, main):
    main.status['state'] = 'STARTING'
    res = run(server, args(own.url, guard_main_url=main.url))
    assert_plain_failure(res)
    assert 'not READY' in res['msg'] and svc.actions() == []


def test_guard_refuses_main_starting(svc, own, main):
    main.not_ready = True
    res = run(server, args(own.url, guard_main_url=main.url))
    assert res['msg'] == refusal(main.url, 'it is still starting')
    assert svc.actions() == []


def test_guard_refuses_main_down(svc, own):
    url = stubs.closed_url()
    res = run(server, args(own.url, guard_main_url=url))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Refusing to start the back-up server: the main server at %s has not confirmed'
                                 % url)
    assert 'connection refused' in res['msg'] and svc.actions() == []


def test_guard_refuses_other_boot(svc, own, main):
    res = run(server, args(own.url, guard_main_url=main.url, guard_boot_id='main-6'))
    assert_plain_failure(res)
    assert 'has started again since its contact was confirmed (boot main-7, expected main-6)' in res['msg']
    assert svc.actions() == []


def test_guard_refuses_other_backup_hostid(svc, own, main):
    res = run(server, args(own.url, guard_main_url=main.url, guard_backup_hostid='0A1B2C3D4E99/ETHERNET'))
    assert_plain_failure(res)
    assert 'names the back-up %s, not 0A1B2C3D4E99/ETHERNET' % Y in res['msg']


def test_guard_uses_own_credentials(svc, own, main):
    res = run(server, args(own.url, guard_main_url=main.url, guard_admin_password='wrong-' + PASSWORD))
    assert_plain_failure(res, PASSWORD)
    assert 'could not be asked for its status' in res['msg']
    assert 'guard_admin_password' in res['msg']


def test_guard_not_evaluated_when_running(svc, own, main):
    svc.running = True
    main.status = make_status(last_success=None)
    res = run(server, args(own.url, guard_main_url=main.url))
    assert res['changed'] is False and res['guard']['checked'] is False
    assert main.stub.requests == []


def test_guard_check_mode_reports_without_failing(svc, own, main):
    main.status = make_status(last_success=None, last_error='connection refused')
    res = run(server, args(own.url, guard_main_url=main.url), check=True)
    assert not res.get('failed'), res
    assert res['changed'] is True and res['guard']['passed'] is False
    assert svc.actions() == []
    res = run(server, args(own.url, guard_main_url=main.url, guard_check_mode_skip=False), check=True)
    assert_plain_failure(res)
    assert res['msg'] == refusal(main.url, 'last error: connection refused')


def test_guard_needs_password(svc, own, main):
    a = args(own.url, guard_main_url=main.url)
    del a['admin_password']
    res = run(server, a)
    assert_plain_failure(res)
    assert 'guard_admin_password' in res['msg']


def test_auto_uses_service_without_systemd(svc, own):
    with mock.patch.object(fnls_service.os.path, 'isdir', lambda p: False):
        res = run(server, args(own.url, service_manager='auto'))
    assert res['service_manager'] == 'service'


def test_systemctl(svc, own):
    res = run(server, args(own.url, service_manager='systemctl'))
    assert res['service_manager'] == 'systemctl'
    assert res['commands'] == ['/usr/sbin/systemctl start flexnetls-demo']
    assert svc.actions() == ['start']
    svc.running = True
    res = run(server, args(own.url, service_manager='systemctl', state='stopped', server_url=stubs.closed_url()))
    assert res['changed'] is True and svc.actions() == ['start', 'stop']


def test_bad_name(svc):
    res = run(server, args(stubs.closed_url(), name='../etc/x'))
    assert_plain_failure(res)
    assert 'not a service name' in res['msg']


def test_documentation_matches_argument_spec():
    returns = check_documentation(server)
    assert {'state', 'name', 'service_manager', 'was_running', 'running', 'ready', 'commands', 'boot_id',
            'guard'} <= set(returns)
    assert set(returns['guard']['contains']) == {'checked', 'passed', 'main_boot_id', 'main_last_success', 'detail',
                                                 'waited', 'source', 'skipped_sources', 'unfit', 'main_gave_up'}


def test_guard_wait_starts_once_the_main_confirms(svc, own, main):
    """With guard_wait the back-up waits for the main's confirmation, then starts at once."""
    main.status['backoffice']['last_success'] = None
    calls = {'n': 0}
    real = server.evaluate_guard

    def confirm_on_third_look(p, timeout):
        calls['n'] += 1
        if calls['n'] == 3:
            main.status['backoffice']['last_success'] = main.status['started_at']
        return real(p, timeout)

    with mock.patch.object(fnls_step_server, 'evaluate_guard', confirm_on_third_look):
        res = run(server, args(own.url, guard_main_url=main.url, guard_wait=30, guard_poll_interval=0.05))
    assert res.get('failed') is not True, res
    assert res['changed'] is True and res['guard']['passed'] is True
    assert calls['n'] >= 3
    assert svc.actions() == ['start']


def test_guard_wait_refuses_at_the_deadline(svc, own, main):
    main.status['backoffice']['last_success'] = None
    res = run(server, args(own.url, guard_main_url=main.url, guard_wait=0.5, guard_poll_interval=0.05))
    assert_plain_failure(res)
    assert 'Refusing to start the back-up' in res['msg']
    assert svc.actions() == []


# -- the guard follows its main (guard_main_*) -------------------------------------------------------
def test_a_guard_following_a_main_that_never_answers_gives_up_after_its_ready_timeout(svc, own):
    url = stubs.closed_url()
    res = run(server, args(own.url, guard_main_url=url, guard_wait=120, guard_poll_interval=0.05,
                           guard_main_ready_timeout=0.2, guard_main_wait_timeout=60))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Refusing to start the back-up server: the main did not become ready within 0 s')
    assert 'the back-up was not started' in res['msg'] and svc.actions() == []
    assert res['guard']['waited'] < 30 and res['guard']['main_gave_up']


def test_a_guard_following_a_ready_main_waits_no_longer_than_the_mains_own_wait(svc, own, main):
    main.status = make_status(last_success=None, last_error='connection refused', boot_id='main-7')
    with mock.patch.object(fnls_step_server, 'MainWatch', wraps=fnls_step_server.MainWatch) as watch:
        res = run(server, args(own.url, guard_main_url=main.url, guard_wait=120, guard_poll_interval=0.05,
                               guard_main_ready_timeout=60, guard_main_wait_timeout=0.1))
    assert watch.call_args[0][1:4] == (120, 60, 0.1)
    assert_plain_failure(res, PASSWORD)
    assert res['msg'] == refusal(main.url, 'last error: connection refused')
    assert res['guard']['waited'] < 30 and svc.actions() == []


def test_a_guard_following_its_main_still_starts_the_backup_on_the_confirmation(svc, own, main):
    res = run(server, args(own.url, guard_main_url=main.url, guard_wait=30, guard_poll_interval=0.05,
                           guard_main_ready_timeout=10, guard_main_wait_timeout=10))
    assert not res.get('failed'), res
    assert svc.actions() == ['start'] and res['guard']['passed'] is True
