# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules against servers and back offices that misbehave: a TLS certificate the controller does not
trust (validate_certs is on by default; ca_path makes it trusted), answers that are not JSON, server
errors, slow answers. Every failure is one plain sentence that says what to do and carries no secret;
the guard refuses a back-up start whenever it cannot read a confirmed main. docs/FAULTS.md lists these
tests in the fault matrix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile
from ansible_collections.fnls.failover.plugins.modules import backoffice_wait, config, device, pair_info, server
from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, load_module_utils_test, run, stubs)

tls = load_module_utils_test('fnls_failover_unit_tls', 'test_fnls_http_faults.py')
MAIN, BACKUP = '0A1B2C3D4E5F/ETHERNET', '0A1B2C3D4E60/ETHERNET'


def plain_failure(res, *words):
    assert res.get('failed'), res
    msg = res['msg']
    assert 'Traceback' not in msg and '\n' not in msg, msg
    assert PASSWORD not in repr(res)
    for word in words:
        assert word in msg, msg
    return msg


@pytest.fixture(scope='module')
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp('tls-modules')
    try:
        import cryptography  # noqa: F401
    except ImportError:
        if not __import__('shutil').which('openssl'):
            pytest.skip('neither the cryptography package nor the openssl command is available')
        return tls._make_certs_openssl(directory)
    return tls._make_certs_cryptography(directory)


@pytest.fixture
def https_fnls(certs):
    s = stubs.FakeLicenseServer()
    s.url = tls.serve_tls(s.stub, certs['server'])
    yield s
    s.stop()


@pytest.fixture
def https_bo(certs):
    s = stubs.FakeBackOffice()
    s.url = tls.serve_tls(s.stub, certs['server'])
    yield s
    s.stop()


@pytest.fixture
def stub():
    routes = {}

    def handle(method, path, query, headers, body):
        fn = routes.get(path)
        return (404, {'error': 'not found'}) if fn is None else fn(method, body)

    s = stubs.StubServer(handle)
    s.httpd.handle_error = lambda *args: None
    s.routes = routes
    yield s
    s.stop()


CERT_HINT = 'set ca_path to the CA that signed it'


# --------------------------------------------------------------------------------------------
# TLS: validate_certs on by default, a clear error, ca_path works
# --------------------------------------------------------------------------------------------
def test_pair_info_untrusted_backoffice_certificate(https_bo, certs):
    base = dict(backoffice_url=https_bo.url, backoffice_password=PASSWORD, main_hostid=MAIN, backup_hostid=BACKUP)
    plain_failure(run(pair_info, base), 'Querying the back office', 'certificate verify failed', CERT_HINT)
    res = run(pair_info, dict(base, ca_path=str(certs['ca'])))
    assert not res.get('failed') and res['state'] == 'absent', res


def test_device_untrusted_backoffice_certificate_changes_nothing(https_bo, certs):
    base = dict(backoffice_url=https_bo.url, backoffice_password=PASSWORD, server_ids=[MAIN, BACKUP])
    plain_failure(run(device, base), CERT_HINT)
    assert https_bo.devices == []
    res = run(device, dict(base, ca_path=str(certs['ca'])))
    assert res['changed'] and [d['serverIds'] for d in https_bo.devices] == [[MAIN, BACKUP]], res


def test_config_untrusted_server_certificate_changes_nothing(https_fnls, certs):
    base = dict(server_url=https_fnls.url, admin_password=PASSWORD, settings={'fne.syncTo.enabled': 'true'})
    plain_failure(run(config, base), 'Reading the policy settings', CERT_HINT)
    assert https_fnls.posts == []
    res = run(config, dict(base, ca_path=str(certs['ca'])))
    assert res['changed'] and https_fnls.config['fne.syncTo.enabled'] == 'true', res


def test_backoffice_wait_untrusted_server_certificate_names_the_cause(https_fnls, certs, tmp_path):
    https_fnls.status = stubs.make_status(last_success=stubs.ts(4))
    base = dict(server_url=https_fnls.url, admin_password=PASSWORD, evidence=['status'], wait_timeout=1,
                poll_interval=0.05, log_path=str(tmp_path / 'absent.log'))
    plain_failure(run(backoffice_wait, base), 'did not confirm', CERT_HINT)
    res = run(backoffice_wait, dict(base, ca_path=str(certs['ca'])))
    assert res.get('confirmed') is True and res['source'] == 'status', res


def guard_params(main_url, **kw):
    p = dict(guard_main_url=main_url, guard_admin_user=None, guard_admin_password=None, admin_user='admin',
             admin_password=PASSWORD, validate_certs=True, ca_path=None, api_paths={}, guard_boot_id=None,
             guard_backup_hostid=None, guard_evidence=['status', 'backoffice'], guard_since=None,
             guard_main_hostid=None, guard_backoffice_url=None, guard_backoffice_user='admin',
             guard_backoffice_password=None, _fnls_profile=fnls_profile.merge())
    p.update(kw)
    return p


def test_guard_refuses_a_main_behind_an_untrusted_certificate(https_fnls, certs):
    https_fnls.status = stubs.make_status(last_success=stubs.ts(4))
    guard, refusal = server.evaluate_guard(guard_params(https_fnls.url), 5)
    assert refusal and refusal.startswith('Refusing to start the back-up server'), refusal
    assert CERT_HINT in refusal and guard['passed'] is False
    guard, refusal = server.evaluate_guard(guard_params(https_fnls.url, ca_path=str(certs['ca'])), 5)
    assert refusal is None and guard['passed'] is True


# --------------------------------------------------------------------------------------------
# answers that are not JSON, server errors, slow answers
# --------------------------------------------------------------------------------------------
def test_pair_info_html_instead_of_json(stub):
    stub.routes['/flexnet/operations/devices'] = lambda m, b: (200, b'<html>Sign in</html>')
    msg = plain_failure(run(pair_info, dict(backoffice_url=stub.url, backoffice_password=PASSWORD,
                                            main_hostid=MAIN, backup_hostid=BACKUP)), 'not JSON')
    assert stub.url in msg


def test_pair_info_backoffice_error_500(stub):
    stub.routes['/flexnet/operations/devices'] = lambda m, b: (500, {'status': 'ERROR', 'code': 'INTERNAL_ERROR',
                                                                     'message': 'Internal error.'})
    plain_failure(run(pair_info, dict(backoffice_url=stub.url, backoffice_password=PASSWORD, main_hostid=MAIN)),
                  'HTTP 500', 'INTERNAL_ERROR')


def test_pair_info_slow_backoffice_times_out(stub):
    def slow(method, body):
        time.sleep(1.5)
        return 200, {'devices': []}
    stub.routes['/flexnet/operations/devices'] = slow
    plain_failure(run(pair_info, dict(backoffice_url=stub.url, backoffice_password=PASSWORD, main_hostid=MAIN,
                                      timeout=0.3)), 'no answer within 0.3 s')


def test_config_status_not_json(stub):
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (200, {'token': 'tok-9', 'expires': 'x'})
    stub.routes['/api/1.0/instances/~/config'] = lambda m, b: (200, b'{"licensing.main.uri": ')
    msg = plain_failure(run(config, dict(server_url=stub.url, admin_password=PASSWORD,
                                         settings={'fne.syncTo.enabled': 'true'})), 'not JSON')
    assert 'tok-9' not in msg


def test_backoffice_wait_status_not_json_is_reported_at_the_deadline(stub, tmp_path):
    stub.routes['/api/1.0/instances/~/health'] = lambda m, b: (200, {'status': 'UP'})
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (200, {'token': 'tok-7', 'expires': 'x'})
    stub.routes['/api/1.0/instances/~/status'] = lambda m, b: (200, b'<html>proxy error</html>')
    msg = plain_failure(run(backoffice_wait, dict(server_url=stub.url, admin_password=PASSWORD, evidence=['status'],
                                                  wait_timeout=0.6, poll_interval=0.05,
                                                  log_path=str(tmp_path / 'absent.log'))),
                        'did not confirm', 'not JSON')
    assert 'tok-7' not in msg


def test_guard_refuses_when_the_main_answers_garbage(stub):
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (200, {'token': 'tok-5', 'expires': 'x'})
    stub.routes['/api/1.0/instances/~/status'] = lambda m, b: (502, b'<html>Bad gateway</html>')
    guard, refusal = server.evaluate_guard(guard_params(stub.url), 5)
    assert refusal.startswith('Refusing to start the back-up server') and 'HTTP 502' in refusal, refusal
    stub.routes['/api/1.0/instances/~/status'] = lambda m, b: (200, ['not', 'an', 'object'])
    guard, refusal = server.evaluate_guard(guard_params(stub.url), 5)
    assert refusal.startswith('Refusing to start the back-up server') and 'the status answer is not a JSON object' in refusal, refusal


def test_guard_refuses_a_main_that_answers_too_slowly(stub):
    def slow(method, body):
        time.sleep(1.5)
        return 200, stubs.make_status(last_success=stubs.ts(4))
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (200, {'token': 'tok-3', 'expires': 'x'})
    stub.routes['/api/1.0/instances/~/status'] = slow
    guard, refusal = server.evaluate_guard(guard_params(stub.url), 0.3)
    assert refusal.startswith('Refusing to start the back-up server') and 'no answer within 0.3 s' in refusal


def test_guard_refuses_with_wrong_admin_credentials_without_showing_them():
    s = stubs.FakeLicenseServer(status=stubs.make_status(last_success=stubs.ts(4)))
    try:
        wrong = 'Wr0ng-' + PASSWORD[::-1]
        guard, refusal = server.evaluate_guard(guard_params(s.url, admin_password=wrong), 5)
        assert refusal.startswith('Refusing to start the back-up server'), refusal
        assert 'admin credentials' in refusal and wrong not in refusal and PASSWORD not in refusal
    finally:
        s.stop()


def test_backoffice_wait_names_a_main_that_crashed_during_the_wait(tmp_path):
    """A crash (no "Server stopping" in the log) is noticed at the deadline; the message gives the last
    back-office error and says that the server stopped answering, not only the back-office error."""
    import threading
    s = stubs.FakeLicenseServer(status=stubs.make_status(last_success=None,
                                                         last_error='HTTP 503 from the back office'))
    threading.Timer(0.4, s.stop).start()
    res = run(backoffice_wait, dict(server_url=s.url, admin_password=PASSWORD, evidence=['status'], wait_timeout=1.5,
                                    poll_interval=0.05, log_path=str(tmp_path / 'absent.log')))
    plain_failure(res, 'did not confirm contact with the back office within 1.5 s',
                  'HTTP 503 from the back office', 'the server has stopped answering', 'connection refused')


def test_guard_on_a_status_that_does_not_fit_says_so_and_stops_waiting(stub):
    """A 404 where the profile puts the status: the guard refuses naming the profile, marked unfit, so that its
    wait ends at once instead of at guard_wait."""
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (200, {'token': 'tok-9', 'expires': 'x'})
    guard, refusal = server.evaluate_guard(guard_params(stub.url, guard_evidence=['status']), 5)
    assert refusal and 'interface profile' in refusal and 'paths.status' in refusal, refusal
    assert guard['unfit'] is True and guard['passed'] is False
    assert 'unfit_sources' not in guard


def test_guard_with_wrong_admin_credentials_tries_no_other_evidence(stub):
    """The main refuses the run's admin credentials: the guard refuses at once and does not go on to the back
    office, whose evidence would be real - the run's pair has stopped, and a back-up must not start behind it."""
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (401, {'error': 'bad credentials'})
    p = guard_params(stub.url, guard_backoffice_url='http://127.0.0.1:9', guard_backoffice_password='bo-secret',
                     guard_main_hostid='0A1B2C3D4E5F/ETHERNET', guard_backup_hostid='0A1B2C3D4E60/ETHERNET',
                     guard_since='2026-11-29T12:00:00.000Z')
    guard, refusal = server.evaluate_guard(p, 5)
    assert refusal and 'refused the admin credentials' in refusal and PASSWORD not in refusal, refusal
    assert guard['unfit'] is True and guard['passed'] is False
    assert 'backoffice' not in guard['detail'], guard
