# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sync_wait: the proof that the main accepts the back-up's sync, waited for with a deadline."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

from ansible_collections.fnls.failover.plugins.modules import sync_wait

MAIN = '0A1B2C3D4E5F/ETHERNET'
ts = stubs.ts
REFUSAL = ('HTTP 403 from http://198.18.1.2:7070/fne/bin/sync: 0A1B2C3D4E60/ETHERNET is not the registered back-up '
           'server of 0A1B2C3D4E5F/ETHERNET (the registered back-up is 4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID)')


def backup_status(peer_hostid=MAIN, state='UP', last_sync=None, error=None, sync=True):
    st = stubs.make_status(hostid='0A1B2C3D4E60/ETHERNET', enabled=not sync)
    st['failover'] = {'role': 'backup', 'sync_enabled': sync, 'main_uri': 'http://198.18.1.2:7070/fne/bin/sync',
                      'peer': {'hostid': peer_hostid, 'state': state, 'last_sync': last_sync, 'last_error': error},
                      'failover_active': False, 'failover_since': None}
    return st


@pytest.fixture
def server():
    s = stubs.FakeLicenseServer(status=backup_status(last_sync=ts(10)))
    yield s
    s.stop()


def args(url, **kw):
    a = dict(server_url=url, admin_password=PASSWORD, main_hostid=MAIN, since=ts(5), timeout=5, poll_interval=0.05,
             refused_after=0.2)
    a.update(kw)
    return a


def test_documentation_matches_the_argument_spec():
    check_documentation(sync_wait)


def test_a_sync_after_the_start_is_proved_at_once(server):
    res = run(sync_wait, args(server.url))
    assert not res.get('failed'), res
    assert res['synced'] is True and res['state'] == 'synced' and res['changed'] is False
    assert res['peer']['hostid'] == MAIN
    assert res['waited'] < 2


def test_check_mode_reads_the_same(server):
    assert run(sync_wait, args(server.url), check=True)['synced'] is True


def test_a_refused_sync_fails_with_the_mains_answer_before_the_deadline(server):
    server.status = backup_status(peer_hostid=None, last_sync=None, error=REFUSAL)
    res = run(sync_wait, args(server.url, timeout=30))
    assert_plain_failure(res, PASSWORD)
    assert REFUSAL in res['msg'] and 'not in sync with the main' in res['msg']
    assert res['state'] == 'refused' and res['waited'] < 10


def test_a_refusal_that_clears_is_waited_out(server):
    """A back-up whose settings were just corrected still shows its last refusal until its next sync."""
    server.status = backup_status(peer_hostid=None, last_sync=None, error=REFUSAL)

    def corrected():
        server.status = backup_status(last_sync=ts(20))
    timer = threading.Timer(0.3, corrected)
    timer.start()
    try:
        res = run(sync_wait, args(server.url, refused_after=3))
    finally:
        timer.cancel()
    assert not res.get('failed'), res
    assert res['synced'] is True


def test_a_sync_older_than_the_start_is_not_enough(server):
    server.status = backup_status(last_sync=ts(1))
    res = run(sync_wait, args(server.url, timeout=0.3))
    assert_plain_failure(res, PASSWORD)
    assert 'older than' in res['msg'] and res['synced'] is False


def test_a_back_up_syncing_with_another_main_is_not_in_sync(server):
    server.status = backup_status(peer_hostid='0A1B2C3D4E61/ETHERNET', last_sync=ts(10))
    res = run(sync_wait, args(server.url, timeout=0.3))
    assert_plain_failure(res)
    assert 'not with the main %s' % MAIN in res['msg']


def test_the_back_up_starting_is_waited_for(server):
    server.not_ready = True

    def ready():
        server.not_ready = False
    timer = threading.Timer(0.3, ready)
    timer.start()
    try:
        res = run(sync_wait, args(server.url))
    finally:
        timer.cancel()
    assert res['synced'] is True, res


def test_an_unreachable_back_up_fails_at_the_deadline():
    res = run(sync_wait, args(stubs.closed_url(), timeout=0.3))
    assert_plain_failure(res, PASSWORD)
    assert 'does not answer' in res['msg']


def test_wrong_admin_password_fails_at_once(server):
    res = run(sync_wait, args(server.url, admin_password='wrong-' + PASSWORD, timeout=30))
    assert_plain_failure(res, PASSWORD)
    assert res['waited'] < 5


def test_bad_since_is_refused():
    res = run(sync_wait, args('http://127.0.0.1:1', since='yesterday'))
    assert_plain_failure(res)
    assert 'ISO 8601' in res['msg']
