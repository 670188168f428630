# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.fnls.failover.plugins.module_utils.fnls_evidence import (
    PAIR_STATES, backoffice_confirms, classify_pair, format_ts, last_error, log_confirms, norm_hostid, parse_ts,
    scan_log, status_confirms)

X = '0A1B2C3D4E5F/ETHERNET'
Y = '0A1B2C3D4E60/ETHERNET'
Z = '0A1B2C3D4E61/ETHERNET'


def status(last_success, started_at='2026-11-29T12:00:00.000Z', role='MAIN', err=None, enabled=True):
    return {'state': 'READY', 'boot_id': 'b-2', 'started_at': started_at,
            'backoffice': {'enabled': enabled, 'last_success': last_success, 'last_error': err,
                           'registered_role': role if last_success else None, 'device_id': 'FNLS-000001'}}


def device(did, ids, contact='2026-11-29T12:00:05.000Z'):
    return {'deviceId': did, 'serverIds': list(ids), 'lastContact': contact,
            'servers': [{'hostid': h, 'role': 'MAIN' if i == 0 else 'BACKUP'} for i, h in enumerate(ids)]}


# -- timestamps ---------------------------------------------------------------------------
def test_parse_ts_forms():
    want = datetime.datetime(2026, 11, 29, 12, 0, 0, 123000, tzinfo=datetime.timezone.utc)
    assert parse_ts('2026-11-29T12:00:00.123Z') == want
    assert parse_ts('2026-11-29T13:00:00.123+01:00') == want
    assert parse_ts('2026-11-29 12:00:00,123') == want
    assert parse_ts('2026-11-29T12:00Z') == want.replace(microsecond=0)
    assert parse_ts(None) is None
    assert parse_ts('') is None
    assert parse_ts(0) == datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    with pytest.raises(ValueError):
        parse_ts('yesterday')


def test_format_ts_round_trip():
    assert format_ts(parse_ts('2026-11-29T12:00:00.123Z')) == '2026-11-29T12:00:00.123Z'
    assert format_ts(None) is None


def test_norm_hostid():
    assert norm_hostid('0a1b2c3d4e5f/ethernet') == X
    assert norm_hostid('Some-Name/string') == 'Some-Name/STRING'


# -- status ------------------------------------------------------------------------------------
def test_status_confirms_after_start():
    ok, detail = status_confirms(status('2026-11-29T12:00:04.000Z'))
    assert ok
    assert 'MAIN' in detail and 'FNLS-000001' in detail


def test_status_no_success_reports_error():
    ok, detail = status_confirms(status(None, err='connection refused'))
    assert not ok
    assert 'connection refused' in detail


def test_status_success_before_start_is_stale():
    ok, detail = status_confirms(status('2026-11-29T11:59:59.999Z', err='timed out'))
    assert not ok
    assert 'older than the latest start' in detail


def test_status_equal_times_confirm():
    assert status_confirms(status('2026-11-29T12:00:00.000Z'))[0]


def test_status_since():
    s = status('2026-11-29T12:00:04.000Z')
    assert status_confirms(s, since='2026-11-29T12:00:03.000Z')[0]
    ok, detail = status_confirms(s, since='2026-11-29T12:00:05.000Z')
    assert not ok and 'older than 2026-11-29T12:00:05.000Z' in detail


def test_status_backup_role_does_not_confirm():
    ok, detail = status_confirms(status('2026-11-29T12:00:04.000Z', role='BACKUP'))
    assert not ok and 'BACKUP' in detail


def test_status_disabled_backoffice():
    ok, detail = status_confirms(status(None, enabled=False))
    assert not ok and 'disabled' in detail


def test_status_not_a_dict():
    assert status_confirms(None) == (False, 'the status answer is not a JSON object')


def test_last_error():
    assert last_error(status(None, err='HTTP 503')) == 'HTTP 503'
    assert last_error(status('2026-11-29T12:00:04.000Z')) is None
    assert last_error({}) is None
    assert last_error(None) is None


# -- log ---------------------------------------------------------------------------------------
LOG_OLD_BOOT = """\
2026-11-29T11:00:00.000Z INFO  [main] FlexNet Embedded License Server starting (boot aaaa-1111)
2026-11-29T11:00:03.000Z INFO  [main] Server ready on port 7070
2026-11-29T11:00:03.100Z INFO  [backoffice] Sending capability request to http://bo/flexnet/deviceservices (hostid X)
2026-11-29T11:00:03.200Z INFO  [backoffice] Back-office communication successful: registered as MAIN, device FNLS-000001
2026-11-29T11:30:00.000Z INFO  [main] Server stopping
"""
LOG_NEW_FAIL = """\
2026-11-29T12:00:00.000Z INFO  [main] FlexNet Embedded License Server starting (boot bbbb-2222)
2026-11-29T12:00:03.000Z INFO  [main] Server ready on port 7070
2026-11-29T12:00:03.200Z ERROR [backoffice] Back-office communication failed: connection refused; retrying in 2 s
"""
LOG_NEW_OK = LOG_NEW_FAIL + (
    '2026-11-29T12:00:05.200Z INFO  [backoffice] Back-office communication successful: registered as MAIN, '
    'device FNLS-000001\n')


def test_log_success_after_last_start():
    ok, detail, boot = log_confirms(LOG_OLD_BOOT + LOG_NEW_OK)
    assert ok and boot == 'bbbb-2222'
    assert 'Back-office communication successful' in detail


def test_log_success_of_previous_boot_does_not_count():
    ok, detail, boot = log_confirms(LOG_OLD_BOOT + LOG_NEW_FAIL)
    assert not ok and boot == 'bbbb-2222'
    assert 'connection refused' in detail


def test_log_without_start():
    ok, detail, boot = log_confirms('')
    assert (ok, boot) == (False, None)
    assert detail.startswith('the log has no line matching the start pattern (profile key log.patterns.start')


def test_log_stopped_after_start():
    info = scan_log(LOG_OLD_BOOT)
    assert info['stopped'] and info['boot_id'] == 'aaaa-1111'
    assert info['role'] == 'MAIN' and info['device_id'] == 'FNLS-000001'
    assert info['started_at'] == '2026-11-29T11:00:00.000Z'


def test_log_backup_role_does_not_confirm():
    text = LOG_NEW_FAIL + '2026-11-29T12:00:05.200Z INFO  [backoffice] Back-office communication successful: ' \
                          'registered as BACKUP, device FNLS-000002\n'
    ok, detail, dummy = log_confirms(text)
    assert not ok and 'BACKUP' in detail


def test_log_since():
    assert log_confirms(LOG_NEW_OK, since='2026-11-29T12:00:05.000Z')[0]
    assert not log_confirms(LOG_NEW_OK, since='2026-11-29T12:00:06.000Z')[0]


# -- back office ---------------------------------------------------------------------------
def test_backoffice_confirms_pair():
    ok, detail, dev = backoffice_confirms([device('D1', [X, Y])], X, Y, since='2026-11-29T12:00:00.000Z')
    assert ok and dev['deviceId'] == 'D1'


def test_backoffice_main_only():
    assert backoffice_confirms([device('D1', [X])], X)[0]
    ok, detail, dummy = backoffice_confirms([device('D1', [X])], X, Y)
    assert not ok and 'not %s as its back-up' % Y in detail


def test_backoffice_old_contact():
    ok, detail, dummy = backoffice_confirms([device('D1', [X, Y], contact='2026-11-29T11:00:00.000Z')], X, Y,
                                            since='2026-11-29T12:00:00.000Z')
    assert not ok and 'before' in detail


def test_backoffice_main_held_as_backup():
    ok, detail, dummy = backoffice_confirms([device('D1', [Z, X])], X)
    assert not ok and 'not as MAIN' in detail


def test_backoffice_no_device():
    assert not backoffice_confirms([], X)[0]


def test_backoffice_hostid_case():
    assert backoffice_confirms([device('D1', [X])], X.lower())[0]


# -- classify_pair ----------------------------------------------------------------------------
@pytest.mark.parametrize('devices, state', [
    ([device('D1', [X, Y])], 'registered'),
    ([], 'absent'),
    ([device('D1', [X])], 'main_standalone'),
    ([device('D2', [Y])], 'backup_is_main'),
    ([device('D1', [X]), device('D2', [Y])], 'backup_is_main'),
    ([device('D2', [Y, Z])], 'backup_is_main'),
    ([device('D3', [Z, Y])], 'backup_in_other_pair'),
    ([device('D3', [Z, X])], 'main_in_other_pair'),
    ([device('D1', [X, Z])], 'conflict'),
    ([device('D1', [Y, X])], 'conflict'),
])
def test_classify_pair_states(devices, state):
    res = classify_pair(devices, X, Y)
    assert res['state'] == state
    assert res['state'] in PAIR_STATES
    assert res['explanation']
    if state == 'registered':
        assert res['pair']['deviceId'] == 'D1' and res['hint'] == ''
    else:
        assert res['pair'] is None and res['hint']


def test_classify_backup_is_main_message():
    res = classify_pair([device('FNLS-000002', [Y])], X, Y)
    assert res['message'] == (
        'The back-up %s was registered as a main server (device FNLS-000002), most likely because it was started '
        'before the main had registered the pair. Delete device FNLS-000002 (set '
        'failover_pair_repair_backup_registration=true to let the playbook do it) and rerun.' % Y)
    assert res['backup_device']['deviceId'] == 'FNLS-000002'
    assert res['main_device'] is None


def test_classify_without_backup():
    assert classify_pair([device('D1', [X])], X)['state'] == 'registered'
    assert classify_pair([device('D1', [X, Y])], X)['state'] == 'registered'
    assert classify_pair([], X)['state'] == 'absent'
    assert classify_pair([device('D1', [Z, X])], X)['state'] == 'main_in_other_pair'


def test_classify_falls_back_to_server_ids_order():
    dev = {'deviceId': 'D1', 'serverIds': [X, Y]}
    assert classify_pair([dev], X, Y)['state'] == 'registered'
