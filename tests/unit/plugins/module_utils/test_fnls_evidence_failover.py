# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions behind "registered means can fail over": the proof of the back-up's sync, a back-up held as
a main server, a server whose hostid changed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.fnls.failover.plugins.module_utils.fnls_evidence import (
    REFUSED, SYNCED, WAITING, classify_pair, held_as_main, sync_proof)

X = '0A1B2C3D4E5F/ETHERNET'       # the main
Y = '0A1B2C3D4E60/ETHERNET'       # the back-up
Y_OLD = '0A1B2C3D4E99/ETHERNET'   # the back-up before its new NIC
Y_UUID = '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'
Z = '0A1B2C3D4E61/ETHERNET'
START = '2026-11-29T12:00:00.000Z'


def device(did, ids):
    return {'deviceId': did, 'serverIds': list(ids),
            'servers': [{'hostid': h, 'role': 'MAIN' if i == 0 else 'BACKUP'} for i, h in enumerate(ids)]}


def backup_status(peer_hostid=X, state='UP', last_sync='2026-11-29T12:00:05.000Z', error=None, sync=True):
    return {'state': 'READY', 'failover': {'role': 'backup', 'sync_enabled': sync,
                                           'peer': {'hostid': peer_hostid, 'state': state, 'last_sync': last_sync,
                                                    'last_error': error}}}


# -- the proof of sync -------------------------------------------------------------------
def test_a_sync_accepted_after_the_start_is_the_proof():
    state, detail = sync_proof(backup_status(), X, START)
    assert state == SYNCED
    assert X in detail and '2026-11-29T12:00:05' in detail


def test_the_refused_sync_of_issue_12_is_no_proof():
    """sync_enabled and a peer UP, as the old check wanted, but the main answered 403."""
    refusal = ('HTTP 403 from http://198.18.1.2:7070/fne/bin/sync: %s is not the registered back-up server of %s '
               '(the registered back-up is %s)' % (Y_OLD, X, Y_UUID))
    state, detail = sync_proof(backup_status(peer_hostid=None, last_sync=None, error=refusal), X, START)
    assert state == REFUSED
    assert refusal in detail and 'refused' in detail


def test_a_refusal_wins_over_an_older_good_sync():
    state, _detail = sync_proof(backup_status(error='HTTP 403 from ...: not the registered back-up'), X, START)
    assert state == REFUSED


@pytest.mark.parametrize('status, why', [
    (backup_status(sync=False), 'not enabled'),
    (backup_status(peer_hostid=None, last_sync=None), 'accepted no sync'),
    (backup_status(peer_hostid=Z), 'not with the main'),
    (backup_status(last_sync=None), 'no time'),
    (backup_status(last_sync='2026-11-29T11:59:59.000Z'), 'older than'),
    (backup_status(state='DOWN', error='cannot connect to http://main:7070/fne/bin/sync'), 'cannot sync'),
    (None, 'no status'),
])
def test_no_proof_yet(status, why):
    state, detail = sync_proof(status, X, START)
    assert state == WAITING
    assert why in detail


def test_without_since_any_sync_with_the_main_is_enough():
    assert sync_proof(backup_status(last_sync='2020-01-01T00:00:00.000Z'), X)[0] == SYNCED


def test_the_peer_hostid_is_compared_as_a_hostid():
    assert sync_proof(backup_status(peer_hostid=X.lower()), X, START)[0] == SYNCED


def test_epoch_milliseconds_are_read_too():
    # dialect b reports lastSyncTime in epoch milliseconds; the profile maps it to failover.peer.last_sync
    assert sync_proof(backup_status(last_sync=1795953605000), X, START)[0] == SYNCED
    assert sync_proof(backup_status(last_sync=1795953595000), X, START)[0] == WAITING


# -- the back-up held as a main server ------------------------------------------------------
def test_a_back_up_held_as_a_main_under_another_hostid_is_found():
    devices = [device('D1', [X, Y_UUID]), device('D2', [Y])]
    assert [(d['deviceId'], h) for d, h in held_as_main(devices, [Y_UUID, Y])] == [('D2', Y)]


def test_the_back_up_as_a_back_up_is_not_held_as_a_main():
    assert held_as_main([device('D1', [X, Y])], [Y, Y_UUID]) == []
    assert held_as_main([device('D2', [Y])], [Y], except_device='D2') == []


# -- a hostid change -------------------------------------------------------------------------
def test_a_back_up_with_a_new_nic_is_recognised():
    res = classify_pair([device('FNLS-000001', [X, Y_OLD])], X, Y, main_name='fnls-p01-main',
                        backup_name='fnls-p01-backup')
    assert res['state'] == 'conflict'
    assert res['hostid_change'] == {'server': 'backup', 'old_hostid': Y_OLD, 'new_hostid': Y,
                                    'device_id': 'FNLS-000001', 'device_hostids': [X, Y_OLD]}
    assert res['explanation'] == ('fnls-p01-backup now identifies as %s; the back office pairs the main %s with its '
                                  'old hostid %s (device FNLS-000001).' % (Y, X, Y_OLD))
    assert 'failover_pair_repair_hostid_change=true' in res['hint']
    assert 'deleting device FNLS-000001 drops the licences mapped to it' in res['hint']


def test_a_main_with_a_new_nic_is_recognised():
    res = classify_pair([device('FNLS-000001', [Z, Y])], X, Y, main_name='fnls-p01-main')
    assert res['state'] == 'backup_in_other_pair'
    assert res['hostid_change']['server'] == 'main' and res['hostid_change']['old_hostid'] == Z
    assert res['explanation'].startswith('fnls-p01-main now identifies as %s; the back office pairs the back-up %s '
                                         'with its old hostid %s' % (X, Y, Z))
    assert 'drops the licences mapped to it' in res['hint']


@pytest.mark.parametrize('devices', [
    [device('D1', [X, Z]), device('D2', [Y])],    # the back-up is known to the back office (as a main)
    [device('D1', [X, Y])],                       # registered
    [device('D1', [Y, X])],                       # the wrong way round
    [device('D1', [X])],                          # standalone
    [],
])
def test_no_hostid_change_where_both_servers_are_known_or_nothing_is_paired(devices):
    assert classify_pair(devices, X, Y)['hostid_change'] is None
