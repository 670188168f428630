# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rights: activating rights ids on a main server (only those it does not hold with the count wanted), check
mode and diff, the back office's refusals, and the wait for features delivered by capability polling."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

from ansible_collections.fnls.failover.plugins.modules import rights

LICENSES = '/api/1.0/instances/~/licenses'
ACTIVATE = '/api/1.0/instances/~/activate'
POLL = '/api/1.0/instances/~/sync-backoffice'


class LicensedServer(stubs.FakeLicenseServer):
    """The fake license server with the licence endpoints of MODEL.md section 6: a back office that knows
    ``catalogue`` (rights id -> (copies available, features)); ``mapped`` is what polling delivers."""

    def __init__(self, held=None, catalogue=None, mapped=None, polls_to_deliver=0):
        self.held = dict(held or {})
        self.catalogue = dict(catalogue or {'ACT-0001': (10, ['cad_pro']), 'ACT-0002': (1, ['cad_viewer'])})
        self.mapped = list(mapped or [])          # features the back office has mapped to the pair
        self.delivered = []
        self.polls = 0
        self.polls_to_deliver = polls_to_deliver  # license reads before polling delivers ``mapped``
        self.reads = 0
        self.activations = []
        super(LicensedServer, self).__init__()

    def licenses(self):
        features = set(self.delivered)
        for rid in self.held:
            features.update(self.catalogue.get(rid, (0, []))[1])
        return {'rights': [{'rightsId': rid, 'count': n} for rid, n in sorted(self.held.items())],
                'features': [{'name': f, 'version': '1.0', 'count': 10} for f in sorted(features)]}

    def handle(self, method, path, query, headers, body):
        if path not in (LICENSES, ACTIVATE, POLL):
            return super(LicensedServer, self).handle(method, path, query, headers, body)
        auth = headers.get('Authorization') or ''
        if not auth.startswith('Bearer ') or auth[7:] not in self.tokens:
            return 401, {'error': 'missing or invalid token'}
        if path == LICENSES and method == 'GET':
            self.reads += 1
            if self.reads > self.polls_to_deliver:
                self.delivered = list(self.mapped)
            return 200, self.licenses()
        if path == ACTIVATE and method == 'POST':
            rid, count = body.get('rightsId'), body.get('count', 1)
            self.activations.append((rid, count))
            if rid not in self.catalogue:
                return 404, {'error': 'unknown rights id %s' % rid, 'code': 'UNKNOWN_RIGHTS_ID'}
            if count > self.catalogue[rid][0]:
                return 409, {'error': 'only %d copies left' % self.catalogue[rid][0], 'code': 'COUNT_EXCEEDED',
                             'available': self.catalogue[rid][0]}
            self.held[rid] = count
            return 200, {'rightsId': rid, 'count': count, 'features': self.licenses()['features']}
        if path == POLL and method == 'POST':
            self.polls += 1
            self.delivered = list(self.mapped)
            return 200, {'registered_role': 'MAIN', 'device_id': 'FNLS-000001'}
        return 405, {'error': 'method not allowed'}


@pytest.fixture
def server():
    s = LicensedServer()
    yield s
    s.stop()


def args(url, **kw):
    a = dict(server_url=url, admin_password=PASSWORD, timeout=5, wait_timeout=5, poll_interval=0.1)
    a.update(kw)
    return a


def test_documentation_matches_the_argument_spec():
    returns = check_documentation(rights)
    assert set(returns) == {'activated', 'rights', 'features', 'waited'}


def test_plan_sends_only_what_is_not_held_with_the_count():
    wanted = [{'id': 'A', 'count': 2}, {'id': 'B', 'count': 1}, {'id': 'C', 'count': 3}]
    assert rights.plan({'A': 2, 'B': 0, 'C': 5}, wanted) == [{'id': 'B', 'count': 1}]
    assert rights.held({'rights': [{'rightsId': 'A', 'count': '2'}, {'count': 1}, 'junk', {'rightsId': 'B'}]}) == \
        {'A': 2, 'B': 0}
    assert rights.held(None) == {} and rights.feature_names({'features': [{'name': 'x'}, 'y', {'name': 'x'}]}) == ['x']


def test_activate_then_idempotent(server):
    res = run(rights, args(server.url, rights=[{'id': 'ACT-0001', 'count': 2}], features=['cad_pro']))
    assert res['changed'] is True and 'failed' not in res, res
    assert res['activated'] == [{'id': 'ACT-0001', 'count': 2}]
    assert server.activations == [('ACT-0001', 2)]
    assert res['rights'] == [{'rightsId': 'ACT-0001', 'count': 2}]
    assert [f['name'] for f in res['features']] == ['cad_pro']
    res = run(rights, args(server.url, rights=[{'id': 'ACT-0001', 'count': 2}], features=['cad_pro']))
    assert res['changed'] is False and res['activated'] == []
    assert server.activations == [('ACT-0001', 2)]                 # not sent again


def test_a_higher_count_is_sent_again(server):
    server.held = {'ACT-0001': 1}
    res = run(rights, args(server.url, rights=[{'id': 'ACT-0001', 'count': 3}]))
    assert res['changed'] is True and server.activations == [('ACT-0001', 3)]


def test_check_mode_with_diff_sends_nothing(server):
    server.held = {'ACT-0002': 1}
    wanted = [{'id': 'ACT-0001', 'count': 2}, {'id': 'ACT-0002', 'count': 1}]
    res = run(rights, args(server.url, rights=wanted), check=True, diff=True)
    assert res['changed'] is True and res['activated'] == [{'id': 'ACT-0001', 'count': 2}]
    assert res['diff'] == {'before': {'ACT-0001': 0, 'ACT-0002': 1}, 'after': {'ACT-0001': 2, 'ACT-0002': 1}}
    assert server.activations == [] and server.held == {'ACT-0002': 1}


def test_check_mode_on_a_stopped_server_says_every_rights_id_would_be_sent():
    wanted = [{'id': 'ACT-0001', 'count': 1}]
    res = run(rights, args(stubs.closed_url(), rights=wanted), check=True)
    assert res['changed'] is True and res['activated'] == wanted and 'failed' not in res
    assert 'not running' in res['msg']


def test_a_stopped_server_fails_a_real_run():
    res = run(rights, args(stubs.closed_url(), rights=[{'id': 'ACT-0001', 'count': 1}]))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Reading the licenses of the server at ')


@pytest.mark.parametrize('rid, count, code, what', [
    ('ACT-9999', 1, 'UNKNOWN_RIGHTS_ID', 'does not know this rights id'),
    ('ACT-0002', 5, 'COUNT_EXCEEDED', 'has not enough copies left'),
])
def test_the_back_office_refusal_is_named(server, rid, count, code, what):
    res = run(rights, args(server.url, rights=[{'id': rid, 'count': count}]))
    assert_plain_failure(res, PASSWORD)
    assert res['code'] == code
    assert res['msg'].startswith('Activating rights id %s (count %d) failed: the back office %s (%s: '
                                 % (rid, count, what, code)), res['msg']
    assert 'Check the rights id and its quantity in the back office.' in res['msg']
    assert res['activated'] == [{'id': rid, 'count': count}]


def test_other_activation_errors_are_reported(server):
    real = server.handle

    def handle(method, path, query, headers, body):
        if path == ACTIVATE:
            return 'drop'
        return real(method, path, query, headers, body)

    server.stub.handle = handle
    res = run(rights, args(server.url, rights=[{'id': 'ACT-0001', 'count': 1}]))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Activating rights id ACT-0001 on %s failed: ' % server.url)


@pytest.mark.parametrize('bad, text', [
    ({'id': 'ACT 1', 'count': 1}, 'is not valid'),
    ({'id': 'ACT-1;rm', 'count': 1}, 'is not valid'),
    ({'id': '', 'count': 1}, 'is not valid'),
    ({'id': 'ACT-0001', 'count': 0}, 'must be 1 or more'),
])
def test_bad_rights_are_refused_before_anything_is_sent(server, bad, text):
    res = run(rights, args(server.url, rights=[bad]))
    assert_plain_failure(res, PASSWORD)
    assert text in res['msg']
    assert server.stub.requests == []


def test_waits_for_features_that_polling_delivers(server):
    server.mapped = ['cad_viewer']
    server.polls_to_deliver = 3
    res = run(rights, args(server.url, features=['cad_viewer']))
    assert res['changed'] is False and 'failed' not in res, res
    assert [f['name'] for f in res['features']] == ['cad_viewer']
    assert server.reads == 4 and res['waited'] >= 0.2
    assert server.polls == 0                                          # poll_now was not asked for


def test_poll_now_asks_the_server_to_poll(server):
    server.mapped = ['cad_viewer']
    server.polls_to_deliver = 100
    res = run(rights, args(server.url, features=['cad_viewer'], poll_now=True))
    assert 'failed' not in res, res
    assert server.polls == 1 and server.reads == 3      # before, missing, after the poll


def test_features_that_never_arrive_fail_at_the_deadline(server):
    server.held = {'ACT-0001': 1}
    res = run(rights, args(server.url, features=['cad_pro', 'cad_viewer'], wait_timeout=0.5))
    assert_plain_failure(res, PASSWORD)
    assert 'does not list the feature(s) cad_viewer after 0 s; it holds cad_pro.' in res['msg']
    assert 'mapped to the pair in the back office' in res['msg']
    assert server.reads >= 3


def test_refused_admin_credentials_fail_without_the_password(server):
    res = run(rights, args(server.url, admin_password='wrong-' + PASSWORD, rights=[{'id': 'ACT-0001'}]))
    assert_plain_failure(res, 'wrong-' + PASSWORD)
    assert 'refused the admin credentials' in res['msg']
    assert server.activations == []
