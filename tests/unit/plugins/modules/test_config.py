# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

import pytest

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

import json
import subprocess

from ansible_collections.fnls.failover.plugins.modules import config


@pytest.fixture
def srv():
    s = stubs.FakeLicenseServer()
    yield s
    s.stop()


def args(srv, settings, **kw):
    a = dict(server_url=srv.url, admin_password=PASSWORD, settings=settings)
    a.update(kw)
    return a


SYNC = {'fne.syncTo.enabled': True, 'fne.syncTo.mainUri': 'http://main.example.com:7070/fne/bin/sync'}


def test_normalise():
    assert config.normalise(True) == 'true'
    assert config.normalise('False ') == 'false'
    assert config.normalise(3) == '3'
    assert config.normalise(3.0) == '3'
    assert config.normalise('http://x/ ') == 'http://x/'
    assert config.normalise(None) == ''


def test_plan_compares_normalised_values():
    current = {'a': 'true', 'b': 'http://x/', 'c': '3'}
    assert config.plan(current, {'a': True, 'c': 3}) == {}
    assert config.plan(current, {'b': 'http://x'}) == {'b': ('http://x/', 'http://x')}


def test_sets_then_idempotent(srv):
    res = run(config, args(srv, SYNC))
    assert res['changed'] is True
    assert res['changed_keys'] == ['fne.syncTo.enabled', 'fne.syncTo.mainUri']
    assert res['config']['fne.syncTo.enabled'] == 'true'
    assert srv.config['fne.syncTo.mainUri'] == SYNC['fne.syncTo.mainUri']
    assert srv.posts == [{'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': SYNC['fne.syncTo.mainUri']}]
    res = run(config, args(srv, dict(SYNC, **{'fne.syncTo.enabled': 'TRUE '})))
    assert res['changed'] is False
    assert res['changed_keys'] == []
    assert len(srv.posts) == 1


def test_check_mode_changes_nothing(srv):
    res = run(config, args(srv, SYNC), check=True, diff=True)
    assert res['changed'] is True
    assert res['config']['fne.syncTo.enabled'] == 'true'
    assert srv.config['fne.syncTo.enabled'] == 'false'
    assert srv.posts == []
    assert res['diff'] == {'before': {'fne.syncTo.enabled': 'false', 'fne.syncTo.mainUri': ''},
                           'after': {'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': SYNC['fne.syncTo.mainUri']}}


def test_diff_only_changed_keys(srv):
    srv.config['fne.syncTo.enabled'] = 'true'
    res = run(config, args(srv, SYNC), diff=True)
    assert res['diff'] == {'before': {'fne.syncTo.mainUri': ''},
                           'after': {'fne.syncTo.mainUri': SYNC['fne.syncTo.mainUri']}}


def test_uri_compared_exactly(srv):
    srv.config['licensing.main.uri'] = 'http://main.example.com:7070/fne/bin/capability/'
    res = run(config, args(srv, {'licensing.main.uri': 'http://main.example.com:7070/fne/bin/capability'}))
    assert res['changed'] is True


def test_unknown_key_refused_before_any_change(srv):
    res = run(config, args(srv, {'fne.syncTo.enabled': 'true', 'no.such.key': 'x'}))
    assert_plain_failure(res, PASSWORD)
    assert 'has no policy setting no.such.key' in res['msg']
    assert srv.posts == []


def test_needs_password(srv):
    res = run(config, dict(server_url=srv.url, settings=SYNC))
    assert_plain_failure(res)
    assert 'admin_password' in res['msg']


def test_wrong_password(srv):
    res = run(config, dict(server_url=srv.url, admin_password='wrong-' + PASSWORD, settings=SYNC))
    assert_plain_failure(res, PASSWORD)
    assert 'refused the admin credentials' in res['msg']


def test_server_down():
    res = run(config, dict(server_url=stubs.closed_url(), admin_password=PASSWORD, settings=SYNC))
    assert_plain_failure(res, PASSWORD)
    assert 'connection refused' in res['msg']


def test_server_starting(srv):
    srv.not_ready = True
    res = run(config, args(srv, SYNC))
    assert_plain_failure(res)
    assert 'still starting' in res['msg']


def test_as_a_process_hides_the_password(srv, tmp_path):
    """The module run the way Ansible runs it: JSON out, the password masked by no_log."""
    srv.config['fne.syncTo.mainUri'] = 'http://x/%s/sync' % PASSWORD
    argsfile = tmp_path / 'args.json'
    argsfile.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args(srv, {'fne.syncTo.enabled': 'true'})}))
    proc = subprocess.run([sys.executable, '-m', 'ansible_collections.fnls.failover.plugins.modules.config',
                           str(argsfile)], capture_output=True, text=True, timeout=60, check=False)
    out = json.loads(proc.stdout)
    assert out['changed'] is True, out
    assert PASSWORD not in proc.stdout


def test_documentation_matches_argument_spec():
    returns = check_documentation(config)
    assert {'changed_keys', 'config', 'diff'} <= set(returns)
