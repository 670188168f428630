# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import time
from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

import threading

from ansible_collections.fnls.failover.plugins.modules import backoffice_wait
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_backoffice_wait

X = '0A1B2C3D4E5F/ETHERNET'
Y = '0A1B2C3D4E60/ETHERNET'
ts = stubs.ts
make_status = stubs.make_status

START = ts(0)
LOG_START = '%s INFO  [main] FlexNet Embedded License Server starting (boot b-1)\n' % START
LOG_READY = '%s INFO  [main] Server ready on port 7070\n' % ts(2)
LOG_FAIL = '%s ERROR [backoffice] Back-office communication failed: connection refused; retrying in 2 s\n' % ts(3)
LOG_OK = ('%s INFO  [backoffice] Back-office communication successful: registered as MAIN, device FNLS-000001\n'
          % ts(4))
LOG_STOP = '%s INFO  [main] Server stopping\n' % ts(6)


@pytest.fixture
def srv():
    s = stubs.FakeLicenseServer(status=make_status(last_success=None, last_error='connection refused'))
    yield s
    s.stop()


@pytest.fixture
def bo():
    s = stubs.FakeBackOffice()
    yield s
    s.stop()


def args(srv_url, log_path, **kw):
    a = dict(server_url=srv_url, admin_password=PASSWORD, log_path=str(log_path), wait_timeout=5, poll_interval=0.05)
    a.update(kw)
    return a


def test_confirmed_by_status(srv, tmp_path):
    srv.status = make_status(last_success=ts(4))
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log'))
    assert not res.get('failed'), res
    assert res['confirmed'] is True and res['source'] == 'status'
    assert res['confirmed_at'] == ts(4)
    assert res['boot_id'] == 'b-1' and res['started_at'] == START
    assert res['registered_role'] == 'MAIN' and res['device_id'] == 'FNLS-000001'
    assert res['polls'] == 1 and res['changed'] is False
    assert res['skipped_sources'] == {'backoffice': 'backoffice_url and backoffice_password are not both set'}


def test_confirmed_by_log(srv, tmp_path):
    log = tmp_path / 'flexnetls.log'
    log.write_text(LOG_START + LOG_READY + LOG_FAIL + LOG_OK)
    res = run(backoffice_wait, args(srv.url, log))
    assert res['confirmed'] is True and res['source'] == 'log', res
    assert res['confirmed_at'] == ts(4)
    assert res['boot_id'] == 'b-1'
    assert res['device_id'] == 'FNLS-000001'


def test_log_only_without_password(tmp_path):
    log = tmp_path / 'flexnetls.log'
    log.write_text(LOG_START + LOG_OK)
    res = run(backoffice_wait, dict(server_url=stubs.closed_url(), log_path=str(log), evidence=['log'],
                                    wait_timeout=2, poll_interval=0.05))
    assert res['confirmed'] is True and res['source'] == 'log', res


def test_confirmed_by_backoffice(srv, bo, tmp_path):
    bo.devices = [bo.make('FNLS-000001', [X, Y], last_contact=ts(5))]
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', evidence=['backoffice'], backoffice_url=bo.url,
                                    backoffice_password=PASSWORD, backup_hostid=Y))
    assert res['confirmed'] is True and res['source'] == 'backoffice', res
    assert res['device_id'] == 'FNLS-000001' and res['confirmed_at'] == ts(5)
    assert res['started_at'] == START


def test_backoffice_contact_before_start_does_not_count(srv, bo, tmp_path):
    bo.devices = [bo.make('FNLS-000001', [X, Y], last_contact=ts(-60))]
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', evidence=['backoffice'], backoffice_url=bo.url,
                                    backoffice_password=PASSWORD, main_hostid=X, wait_timeout=0.3))
    assert_plain_failure(res, PASSWORD)
    assert res['confirmed'] is False


def test_order_first_confirming_source_wins(srv, bo, tmp_path):
    srv.status = make_status(last_success=ts(4))
    log = tmp_path / 'flexnetls.log'
    log.write_text(LOG_START + LOG_OK)
    res = run(backoffice_wait, args(srv.url, log, evidence=['log', 'status']))
    assert res['source'] == 'log'


def test_timeout_carries_last_error(srv, tmp_path):
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', wait_timeout=0.4, poll_interval=0.1))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'] == (
        'The main server did not confirm contact with the back office within 0.4 s; its last error: connection '
        'refused (source status). Check that the main can reach http://198.18.0.2:8888/flexnet/deviceservices and '
        'that the back office accepts its hostid, then rerun.')
    assert res['last_error'] == 'connection refused'
    assert res['confirmed'] is False and res['polls'] >= 2


def test_timeout_is_one_request_and_does_not_end_the_wait(srv, tmp_path):
    """timeout means one request's timeout, as in the rest of the action group: the value module_defaults sets
    for the group (10 in the repository's own example) no longer ends the wait; wait_timeout does."""
    with mock.patch.object(fnls_step_backoffice_wait, 'WAIT_TIMEOUT', 0.5), \
            mock.patch.object(fnls_step_backoffice_wait, 'LicenseServerClient', wraps=backoffice_wait.LicenseServerClient) as cls:
        res = run(backoffice_wait, dict(server_url=srv.url, admin_password=PASSWORD, log_path=str(tmp_path / 'none'),
                                        timeout=0.2, poll_interval=0.05))
    assert_plain_failure(res)
    assert 'within 0.5 s' in res['msg'], res['msg']
    assert res['waited'] >= 0.5
    assert cls.call_args.kwargs['timeout'] == 0.2


def test_request_timeout_is_an_alias_of_timeout(srv, tmp_path):
    srv.status = make_status(last_success=ts(4))
    with mock.patch.object(fnls_step_backoffice_wait, 'LicenseServerClient', wraps=backoffice_wait.LicenseServerClient) as cls:
        res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', request_timeout=3))
    assert res['confirmed'] is True, res
    assert cls.call_args.kwargs['timeout'] == 3


def test_a_1_0_timeout_is_read_as_the_whole_wait_with_a_deprecation(srv, tmp_path):
    """Kept for one release: a timeout above 60 s and no wait_timeout is 1.0.0's whole wait; each request keeps
    the default timeout; the module says so in a deprecation warning."""
    with mock.patch.object(basic.AnsibleModule, 'deprecate') as deprecate, \
            mock.patch.object(fnls_step_backoffice_wait, 'LEGACY_TIMEOUT_ABOVE', 0.1), \
            mock.patch.object(fnls_step_backoffice_wait, 'LicenseServerClient', wraps=backoffice_wait.LicenseServerClient) as cls:
        res = run(backoffice_wait, dict(server_url=srv.url, admin_password=PASSWORD, log_path=str(tmp_path / 'none'),
                                        timeout=0.3, poll_interval=0.05))
    assert_plain_failure(res)
    assert 'within 0.3 s' in res['msg'], res['msg']
    assert cls.call_args.kwargs['timeout'] == backoffice_wait.REQUEST_TIMEOUT
    (msg,), kw = deprecate.call_args
    assert 'Set wait_timeout: 0.3 instead' in msg
    assert kw == dict(version='2.0.0', collection_name='fnls.failover')


def test_wait_timeout_given_leaves_timeout_alone(srv, tmp_path):
    with mock.patch.object(basic.AnsibleModule, 'deprecate') as deprecate:
        res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', wait_timeout=0.2, timeout=90))
    assert_plain_failure(res)
    assert 'within 0.2 s' in res['msg']
    assert not deprecate.called


def test_timeout_with_stale_success(srv, tmp_path):
    srv.status = make_status(last_success=ts(-100), last_error='HTTP 503 from the back office')
    srv.status['backoffice']['registered_role'] = 'MAIN'
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', wait_timeout=0.2))
    assert_plain_failure(res)
    assert 'HTTP 503 from the back office (source status)' in res['msg']
    assert 'older than the latest start' in res['detail']


def test_waits_while_starting(srv, tmp_path):
    srv.not_ready = True

    def become_ready():
        srv.not_ready = False
        srv.status = make_status(last_success=ts(4))
    timer = threading.Timer(0.4, become_ready)
    timer.start()
    try:
        res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log'))
    finally:
        timer.cancel()
    assert res['confirmed'] is True and res['source'] == 'status', res
    assert res['polls'] > 1 and res['waited'] >= 0.3


def test_waits_while_port_closed(tmp_path):
    url = stubs.closed_url()
    port = int(url.rsplit(':', 1)[1])
    started = []

    def start():
        started.append(stubs.FakeLicenseServer(status=make_status(last_success=ts(4)), port=port))
    timer = threading.Timer(0.4, start)
    timer.start()
    try:
        res = run(backoffice_wait, args(url, tmp_path / 'none.log'))
    finally:
        timer.cancel()
        for s in started:
            s.stop()
    assert res['confirmed'] is True and res['source'] == 'status', res
    assert res['polls'] > 1


def test_server_died(srv, tmp_path):
    log = tmp_path / 'flexnetls.log'
    log.write_text(LOG_START + LOG_READY + LOG_FAIL)
    real_sleep = fnls_step_backoffice_wait.sleep

    def sleep_then_die(seconds):
        if not log.read_text().endswith(LOG_STOP):
            srv.stop()
            log.write_text(log.read_text() + LOG_STOP)
        real_sleep(seconds)
    with mock.patch.object(fnls_step_backoffice_wait, 'sleep', sleep_then_die):
        res = run(backoffice_wait, args(srv.url, log, wait_timeout=5))
    assert_plain_failure(res, PASSWORD)
    assert 'stopped while waiting' in res['msg'], res['msg']
    assert 'connection refused' in res['msg']
    assert res['waited'] < 4


def test_check_mode_server_down(tmp_path):
    res = run(backoffice_wait, args(stubs.closed_url(), tmp_path / 'none.log', wait_timeout=30), check=True)
    assert not res.get('failed'), res
    assert res['confirmed'] is False and res['skipped'] is True
    assert res['waited'] < 5


def test_check_mode_still_reads(srv, tmp_path):
    srv.status = make_status(last_success=ts(4))
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log'), check=True)
    assert res['confirmed'] is True and res['skipped'] is False


def test_wrong_password_fails_at_once(srv, tmp_path):
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', admin_password='wrong-' + PASSWORD))
    assert_plain_failure(res, PASSWORD)
    assert 'refused the admin credentials' in res['msg']


def test_no_usable_source(tmp_path):
    res = run(backoffice_wait, dict(server_url='http://127.0.0.1:1', evidence=['status', 'backoffice']))
    assert_plain_failure(res)
    assert res['msg'].startswith('No evidence source can be used')


def test_bad_since(srv, tmp_path):
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', since='yesterday'))
    assert_plain_failure(res)
    assert 'ISO 8601' in res['msg']


def test_since_later_than_contact(srv, tmp_path):
    srv.status = make_status(last_success=ts(4))
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', since=ts(10), wait_timeout=0.2))
    assert_plain_failure(res)
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', since=ts(3)))
    assert res['confirmed'] is True


def test_documentation_matches_argument_spec():
    returns = check_documentation(backoffice_wait)
    assert {'confirmed', 'skipped', 'source', 'confirmed_at', 'boot_id', 'started_at', 'waited', 'polls',
            'registered_role', 'device_id', 'last_error', 'detail', 'skipped_sources'} <= set(returns)


# -- against the lab's emulated server and back office, when they are importable --------------------
@pytest.fixture
def lab_main(tmp_path):
    backoffice = pytest.importorskip('fnlslab.backoffice')
    install = pytest.importorskip('fnlslab.install')
    flexnetls = pytest.importorskip('fnlslab.flexnetls')
    import subprocess
    bo = backoffice.start_in_thread(str(tmp_path / 'bo.sqlite'), host='127.0.0.1', port=0, user='admin',
                                    password=PASSWORD)
    port = int(stubs.closed_url().rsplit(':', 1)[1])
    lab = {'startup_delay': 0.3, 'boot_fraction': 0.4, 'retry_initial': 0.2, 'retry_max': 0.8,
           'poll_interval': 1.0, 'bind': '127.0.0.1', 'hostid_overrides': {'ETHERNET': X.split('/', maxsplit=1)[0]}}
    paths = install.install_server(str(tmp_path / 'main'), backoffice_url=bo.url + '/flexnet/deviceservices',
                                   admin_password=PASSWORD, lab=lab, port=port,
                                   settings_extra_lines=['BACKUP_SERVER_HOSTID=%s' % Y])
    emulator = os.path.join(os.path.dirname(flexnetls.__file__), 'flexnetls.py')
    proc = subprocess.Popen([sys.executable, emulator, '--producer', 'demo', '--program-dir', paths['program_dir'],
                             '--settings', paths['settings'], '--data-dir', paths['data_dir']],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield dict(url='http://127.0.0.1:%d' % port, bo=bo.url,
                   log=os.path.join(paths['log_dir'], 'flexnetls.log'))
    finally:
        proc.terminate()
        proc.wait(10)
        bo.stop()


def test_lab_main_confirms_by_each_source(lab_main):
    base = dict(server_url=lab_main['url'], admin_password=PASSWORD, log_path=lab_main['log'], wait_timeout=20,
                poll_interval=0.1, backoffice_url=lab_main['bo'], backoffice_password=PASSWORD, backup_hostid=Y)
    res = run(backoffice_wait, dict(base, evidence=['status']))
    assert res['confirmed'] is True and res['source'] == 'status', res
    assert res['registered_role'] == 'MAIN' and res['device_id']
    boot = res['boot_id']
    for source in ('log', 'backoffice'):
        res = run(backoffice_wait, dict(base, evidence=[source]))
        assert res['confirmed'] is True and res['source'] == source, res
        assert res['boot_id'] == boot


# -- a profile that does not fit the server stops the wait within seconds -----------------------------------
def test_no_fitting_source_stops_the_wait_within_the_grace(srv, tmp_path):
    """The status path answers 404 and the log's lines are in another wording: both sources are dropped, and
    the wait ends after log.start_grace, not at its timeout, naming the keys to set."""
    log = tmp_path / 'flexnetls.log'
    log.write_text('{"timestamp": "%s", "message": "New license server instance i-1 has been constructed"}\n' % START)
    res = run(backoffice_wait, args(srv.url, log, wait_timeout=60, evidence=['status', 'log'],
                                    profile={'paths': {'status': '/api/1.0/instances/~/server-status'},
                                             'log': {'start_grace': 1}}))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('No evidence source fits this server'), res['msg']
    assert 'paths.status' in res['msg'] and 'log.patterns.start' in res['msg'], res['msg']
    assert set(res['broken_sources']) == {'status', 'log'}
    assert res['polls'] < 200, res['polls']     # 0.05 s polls: it stopped after about a second, not 60 s


def test_a_source_that_does_not_fit_is_dropped_and_another_confirms(srv, tmp_path):
    srv.status = make_status(last_success=ts(4))
    log = tmp_path / 'flexnetls.log'
    log.write_text('nothing the patterns know\n')
    res = run(backoffice_wait, args(srv.url, log, evidence=['log', 'status'], profile={'log': {'start_grace': 0}}))
    assert res['confirmed'] is True and res['source'] == 'status', res
    assert 'log.patterns.start' in res['broken_sources']['log'], res


def test_the_status_in_another_dialect_confirms(srv, tmp_path):
    """Dialect b's status (another path, fields, words and epoch-millisecond times), read through the profile."""
    import yaml
    prof = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'playbooks', 'vars',
                                            'dialect_b.yml')))['failover_pair_profile']
    srv.status = {'server': {'state': 'READY', 'instanceId': 'i-1', 'startTime': 1764417600000,
                             'hostId': X, 'backupHostId': Y},
                  'backOffice': {'active': True, 'lastSuccessTime': 1764417604000, 'lastErrorMessage': None,
                                 'registeredAs': 'PRIMARY', 'deviceName': 'FNLS-000001'},
                  'failover': {'serverRole': 'PRIMARY', 'syncEnabled': False, 'peer': {}}}
    prof['paths']['health'] = '/api/1.0/instances/~/health'      # the stub's
    prof['paths']['status'] = '/api/1.0/instances/~/status'
    res = run(backoffice_wait, args(srv.url, tmp_path / 'none.log', evidence=['status'], profile=prof))
    assert res['confirmed'] is True and res['source'] == 'status', res
    assert res['confirmed_at'] == '2025-11-29T12:00:04.000Z' and res['registered_role'] == 'MAIN', res


def test_a_status_path_that_answers_404_only_once_the_server_is_up_still_starts_the_log_grace(srv, tmp_path):
    """The server answers 503 while it starts, then 404 on the profile's status path, and its log has no start
    line: the wait stops once log.start_grace has passed since that 404, instead of waiting for its timeout."""
    log = tmp_path / 'flexnetls.log'
    log.write_text('%s INFO  [main] New license server instance b-1 has been constructed\n' % START)
    srv.not_ready = True
    timer = threading.Timer(0.3, lambda: setattr(srv, 'not_ready', False))
    timer.start()
    t0 = time.monotonic()
    try:
        res = run(backoffice_wait, args(srv.url, log, timeout=30, evidence=['status', 'log'],
                                        profile={'paths': {'status': '/api/1.0/instances/~/server-status'},
                                                 'log': {'start_grace': 1}}))
    finally:
        timer.cancel()
    assert_plain_failure(res, PASSWORD)
    assert 'No evidence source fits this server' in res['msg'], res
    assert time.monotonic() - t0 < 15, res
