# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""server_info: the service state, whether the server answers, and its status document; every way of not
getting the status is said in status_error, and only refused admin credentials fail the module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

from ansible_collections.fnls.failover.plugins.modules import server_info

make_status = stubs.make_status
ts = stubs.ts


class Service(object):
    """``service NAME status`` answering with ``rc``; the commands run are kept."""

    def __init__(self, rc=0):
        self.rc = rc
        self.calls = []

    def __call__(self, module, argv, **kwargs):
        self.calls.append(' '.join(argv))
        return self.rc, 'running' if self.rc == 0 else 'stopped', ''


@pytest.fixture
def svc():
    fake = Service()

    def run_command(module, argv, **kwargs):
        return fake(module, argv, **kwargs)

    with mock.patch.object(basic.AnsibleModule, 'run_command', run_command), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path',
                              lambda self, name, required=False, opt_dirs=None: '/usr/sbin/' + name):
        yield fake


@pytest.fixture
def server():
    s = stubs.FakeLicenseServer(status=make_status(last_success=ts(5), boot_id='boot-42'))
    yield s
    s.stop()


def args(url, **kw):
    a = dict(name='flexnetls-demo', service_manager='service', server_url=url, admin_password=PASSWORD, timeout=5)
    a.update(kw)
    return a


def test_documentation_matches_the_argument_spec():
    returns = check_documentation(server_info)
    assert set(returns) == {'running', 'reachable', 'ready', 'status', 'status_error', 'boot_id',
                            'process_started_at'}


def test_a_running_ready_server_with_its_status(svc, server):
    res = run(server_info, args(server.url))
    assert res['changed'] is False and 'failed' not in res, res
    assert (res['running'], res['reachable'], res['ready']) == (True, True, True)
    assert res['status'] == server.status and res['status_error'] is None
    assert res['boot_id'] == 'boot-42'
    assert res['status']['backoffice']['last_success'] == ts(5)
    assert svc.calls == ['/usr/sbin/service flexnetls-demo status']


def test_check_mode_reads_the_same(svc, server):
    assert run(server_info, args(server.url), check=True) == run(server_info, args(server.url))


def test_without_admin_password_the_status_is_not_read(svc, server):
    res = run(server_info, args(server.url, admin_password=None))
    assert (res['reachable'], res['ready'], res['status'], res['boot_id']) == (True, True, None, None)
    assert res['status_error'] == 'no admin_password was given'
    assert server.issued == 0


def test_a_starting_server_is_reachable_but_not_ready(svc, server):
    server.health = 'STARTING'
    res = run(server_info, args(server.url))
    assert (res['running'], res['reachable'], res['ready'], res['status']) == (True, True, False, None)
    assert res['status_error'] == 'the server is still starting'


def test_a_stopped_server_is_neither_running_nor_reachable(svc):
    svc.rc = 3
    res = run(server_info, args(stubs.closed_url()))
    assert 'failed' not in res, res
    assert (res['running'], res['reachable'], res['ready'], res['status']) == (False, False, False, None)
    assert 'Could not connect' in res['status_error'] and 'connection refused' in res['status_error']


def test_a_server_that_answers_while_its_service_says_stopped(svc, server):
    """Both facts are reported as they are; the playbooks decide what they mean."""
    svc.rc = 3
    res = run(server_info, args(server.url))
    assert (res['running'], res['reachable'], res['ready']) == (False, True, True)


def test_refused_admin_credentials_fail_without_the_password(svc, server):
    res = run(server_info, args(server.url, admin_password='wrong-' + PASSWORD))
    assert_plain_failure(res, 'wrong-' + PASSWORD)
    assert res['msg'].startswith('Reading the status of flexnetls-demo failed: ')
    assert 'refused the admin credentials' in res['msg']


def test_a_status_that_is_not_an_object(svc, server):
    server.status = ['READY']
    res = run(server_info, args(server.url))
    assert res['status'] is None and res['boot_id'] is None
    assert 'the status answer is not a JSON object' in res['status_error'], res


def test_a_status_endpoint_that_fails(svc, server):
    real = server.handle

    def handle(method, path, query, headers, body):
        if path.endswith('/status'):
            return 500, {'error': 'database locked'}
        return real(method, path, query, headers, body)

    server.stub.handle = handle
    res = run(server_info, args(server.url))
    assert (res['reachable'], res['ready'], res['status']) == (True, True, None)
    assert 'HTTP 500' in res['status_error'] and 'database locked' in res['status_error']


def test_a_health_endpoint_that_fails(svc, server):
    server.stub.handle = lambda method, path, query, headers, body: (502, {'error': 'bad gateway'})
    res = run(server_info, args(server.url))
    assert (res['reachable'], res['ready'], res['status']) == (True, False, None)
    assert 'HTTP 502' in res['status_error']


def test_a_service_that_is_not_installed_fails(svc, server):
    svc.rc = 4
    res = run(server_info, args(server.url))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'] == ('The service flexnetls-demo is not installed (status exit code 4); install the license '
                          'server or correct name.')


def test_an_unknown_api_path_key_fails_before_anything_is_read(svc, server):
    res = run(server_info, args(server.url, api_paths={'no_such_path': '/x'}))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].endswith('Nothing was changed.')
    assert svc.calls == [] and server.stub.requests == []


def test_api_paths_move_the_status_endpoint(svc, server):
    real = server.handle
    moved = '/api/9.9/status-elsewhere'

    def handle(method, path, query, headers, body):
        if path == moved:
            path = '/api/1.0/instances/~/status'
        elif path.endswith('/status'):
            return 404, {'error': 'not here'}
        return real(method, path, query, headers, body)

    server.stub.handle = handle
    res = run(server_info, args(server.url, api_paths={'status_path': moved}))
    assert res['status'] == server.status, res
    assert any(r[1] == moved for r in server.stub.requests)
