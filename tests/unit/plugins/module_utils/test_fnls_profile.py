# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The interface profile: merging a site's override, refusing a bad one, and reading both lab dialects'
answers into the collection's one form."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile as P

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
B = yaml.safe_load(open(os.path.join(TOP, 'playbooks', 'vars', 'dialect_b.yml')))['failover_pair_profile']


def prof_b():
    return P.merge(B)


# -- merging -------------------------------------------------------------------------------------------
def test_defaults_are_every_key_of_the_spec():
    prof = P.merge()
    for key, value, mark, what in P.SPEC:
        assert P.get(prof, key) == value, key
        assert mark in ('C', 'M') and what


def test_a_partial_override_keeps_every_other_default():
    prof = P.merge({'paths': {'status': '/x/status'}, 'status': {'fields': {'started_at': 'server.startTime'}}})
    assert prof['paths']['status'] == '/x/status'
    assert prof['paths']['health'] == P.DEFAULTS['paths']['health']
    assert prof['status']['fields']['started_at'] == 'server.startTime'
    assert prof['status']['fields']['boot_id'] == 'boot_id'      # the map merged entry by entry


def test_dotted_keys_and_api_paths():
    prof = P.merge({'log.format': 'json'}, {'status_path': '/s', 'device_api_path': '/d'})
    assert prof['log']['format'] == 'json' and prof['paths']['status'] == '/s' and prof['device_api']['path'] == '/d'


def test_merge_does_not_change_the_defaults():
    P.merge({'status': {'fields': {'hostid': 'elsewhere'}}})
    assert P.DEFAULTS['status']['fields']['hostid'] == 'hostid'
    assert P.merge()['status']['fields']['hostid'] == 'hostid'


@pytest.mark.parametrize('override,words', [
    ({'nope': 1}, ['unknown key nope']),
    ({'paths': {'health': 'relative'}}, ['paths.health', 'absolute']),
    ({'paths': {'statuss': '/x'}}, ['unknown key paths.statuss']),
    ({'device_api': {'style': 'soapy'}}, ['device_api.style', 'lab, rest, soap, none']),
    ({'log': {'patterns': {'start': '('}}}, ['log.patterns.start']),
    ({'log': {'time_regex': '^x'}}, ['group named ts']),
    ({'status': {'fields': {'started': 'x'}}}, ['unknown fact started']),
    ({'status': {'fields': 'x'}}, ['status.fields must be a mapping']),
    ({'config': {'typed': 'yes'}}, ['config.typed']),
    ({'settings': {'form': 'toml'}}, ['settings.form']),
    ('not a mapping', ['must be a mapping']),
])
def test_a_bad_override_names_the_key(override, words):
    with pytest.raises(P.ProfileError) as e:
        P.merge(override)
    for word in words:
        assert word in str(e.value)


def test_status_may_be_null_but_health_may_not():
    assert P.merge({'paths': {'status': None}})['paths']['status'] is None
    with pytest.raises(P.ProfileError):
        P.merge({'paths': {'health': None}})


def test_the_dialect_b_example_merges():
    prof = prof_b()
    assert prof['device_api']['style'] == 'rest' and prof['log']['format'] == 'json'


# -- times --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('value,iso', [
    ('2026-11-29T12:00:00.123Z', '2026-11-29T12:00:00.123Z'),
    ('2026-11-29 13:00:00+01:00', '2026-11-29T12:00:00.000Z'),
    (1764417600, '2025-11-29T12:00:00.000Z'),
    (1764417600123, '2025-11-29T12:00:00.123Z'),        # epoch milliseconds
    ('1764417600123', '2025-11-29T12:00:00.123Z'),
])
def test_times_in_every_form(value, iso):
    assert P.format_ts(value) == iso


def test_a_boolean_is_no_time():
    with pytest.raises(ValueError):
        P.parse_ts(True)


# -- answers -------------------------------------------------------------------------------------------
A_STATUS = {'state': 'READY', 'boot_id': 'b1', 'started_at': '2026-11-29T12:00:00.000Z', 'hostid': 'AA/ETHERNET',
            'backup_hostid': 'BB/ETHERNET',
            'backoffice': {'enabled': True, 'last_success': '2026-11-29T12:00:05.000Z', 'last_error': None,
                           'registered_role': 'MAIN', 'device_id': 'FNLS-000001', 'attempts': 3},
            'failover': {'role': 'main', 'sync_enabled': False, 'peer': {'hostid': 'BB/ETHERNET', 'state': 'UP'}},
            'features': []}
B_STATUS = {'server': {'state': 'READY', 'instanceId': 'i-1', 'startTime': 1764417600000, 'hostId': 'AA/ETHERNET',
                       'backupHostId': 'BB/ETHERNET'},
            'backOffice': {'active': True, 'lastSuccessTime': 1764417605000, 'lastErrorMessage': None,
                           'registeredAs': 'PRIMARY', 'deviceName': 'FNLS-000001'},
            'failover': {'serverRole': 'PRIMARY', 'syncEnabled': False,
                         'peer': {'hostId': 'BB/ETHERNET', 'status': 'CONNECTED', 'lastSyncTime': 1764417606000}}}


def _within(part, whole):
    for key, value in part.items():
        if isinstance(value, dict):
            _within(value, whole[key])
        else:
            assert whole[key] == value, key


def test_a_status_comes_back_as_it_was():
    out = P.status(A_STATUS, P.merge())
    _within(A_STATUS, out)                      # every field kept, with its value
    assert out['backoffice']['url'] is None     # and the facts it lacks are there, empty


def test_b_status_in_the_collections_words():
    out = P.status(B_STATUS, prof_b())
    assert out['started_at'] == '2025-11-29T12:00:00.000Z' and out['boot_id'] == 'i-1'
    assert out['backoffice']['registered_role'] == 'MAIN' and out['backoffice']['device_id'] == 'FNLS-000001'
    assert out['backoffice']['last_success'] == '2025-11-29T12:00:05.000Z'
    assert out['failover']['role'] == 'main' and out['failover']['peer']['state'] == 'UP'
    assert out['failover']['peer']['last_sync'] == '2025-11-29T12:00:06.000Z'
    assert out['backup_hostid'] == 'BB/ETHERNET' and out['state'] == 'READY'


def test_a_status_with_none_of_the_fields_names_the_key():
    with pytest.raises(P.AnswerError) as e:
        P.status(B_STATUS, P.merge())
    assert 'status.fields' in str(e.value) and 'backOffice' in str(e.value)


def test_hostids_of_both_dialects():
    a = {'hostids': [{'type': 'ETHERNET', 'value': 'AA', 'selected': True}, {'type': 'VM_UUID', 'value': 'U',
                                                                             'selected': False}]}
    assert P.hostids(a, P.merge()) == [('ETHERNET', 'AA', True), ('VM_UUID', 'U', False)]
    b = {'selected': {'hostidType': 'VM_UUID', 'hostidValue': 'U'},
         'hostids': [{'hostidType': 'ETHERNET', 'hostidValue': 'AA'}, {'hostidType': 'vm_uuid', 'hostidValue': 'U'}]}
    assert P.hostids(b, prof_b()) == [('ETHERNET', 'AA', False), ('VM_UUID', 'U', True)]
    assert P.hostids([{'type': 'ETHERNET', 'value': 'AA'}], P.merge()) == [('ETHERNET', 'AA', None)]
    with pytest.raises(P.AnswerError) as e:
        P.hostids(b, P.merge())
    assert 'hostids.type' in str(e.value)


def test_health_starting_by_the_profile():
    prof = P.merge()
    assert P.health_starting({'LLS': {'status': 'STARTING'}}, prof)
    assert not P.health_starting({'LLS': {'status': 'UP'}}, prof)
    assert not P.health_starting({'LLS': {}}, prof)
    assert not P.health_starting({'LLS': {'status': 'STARTING'}}, P.merge({'health': {'state': None}}))


@pytest.mark.parametrize('typed,current,text,sent', [
    (False, True, 'true', 'true'),
    (True, None, 'true', True),
    (True, None, '1000', 1000),
    (True, None, 'http://x/fne/bin/sync', 'http://x/fne/bin/sync'),
    ('auto', True, 'false', False),
    ('auto', 1000, '500', 500),
    ('auto', 'true', 'true', 'true'),
    ('auto', None, 'true', 'true'),
])
def test_config_values_typed_as_the_profile_says(typed, current, text, sent):
    value = P.config_value(text, current, P.merge({'config': {'typed': typed}}))
    assert value == sent and type(value) is type(sent)


def test_config_read_as_text():
    assert P.config_read({'a': True, 'b': 1000, 'c': 'x', 'd': None}, P.merge()) == \
        {'a': 'true', 'b': '1000', 'c': 'x', 'd': ''}


# -- the log -------------------------------------------------------------------------------------------
A_LOG = '\n'.join([
    '2026-11-29T12:00:00.000Z INFO  [main] FlexNet Embedded License Server starting (boot 1111-aa)',
    '2026-11-29T12:00:02.000Z ERROR [backoffice] Back-office communication failed: refused; retrying in 1 s',
    '2026-11-29T12:00:04.000Z INFO  [backoffice] Back-office communication successful: registered as MAIN, '
    'device FNLS-000001',
])
B_LOG = '\n'.join(json.dumps(d) for d in [
    {'timestamp': '2026-11-29T12:00:00.000Z', 'level': 'INFO', 'message': 'New license server instance i-9 has been '
                                                                          'constructed'},
    {'timestamp': '2026-11-29T12:00:02.000Z', 'level': 'ERROR', 'message': 'Back office synchronization failed: '
                                                                           'refused'},
    {'timestamp': '2026-11-29T12:00:04.000Z', 'level': 'INFO', 'message': 'Back office synchronization completed '
                                                                          '(device FNLS-000001, role PRIMARY)'},
])


@pytest.mark.parametrize('text,prof,boot', [(A_LOG, P.merge(), '1111-aa'), (B_LOG, prof_b(), 'i-9')])
def test_scan_log_of_both_dialects(text, prof, boot):
    info = P.scan_log(text, prof)
    assert info['started'] and info['boot_id'] == boot and info['started_at'] == '2026-11-29T12:00:00.000Z'
    assert info['success_at'] == '2026-11-29T12:00:04.000Z' and info['role'] == 'MAIN'
    assert info['device_id'] == 'FNLS-000001' and info['last_error'] == 'refused'


def test_a_json_log_under_the_plain_patterns_has_no_start():
    assert not P.scan_log(B_LOG, P.merge())['started']


def test_a_torn_json_line_is_refused_when_the_log_is_json():
    with pytest.raises(P.AnswerError) as e:
        P.log_lines(B_LOG + '\n{"timestamp": "2026', prof_b())
    assert 'log.format' in str(e.value)


def test_plain_lines_with_a_time_of_day_only():
    prof = P.merge({'log': {'time_regex': r'^(?P<ts>\d{2}:\d{2}:\d{2},\d{3})', 'time_format': '%H:%M:%S,%f'}})
    lines = P.log_lines('12:00:04,250 INFO  - Back-office communication successful', prof,
                        today=datetime.date(2026, 11, 29))
    assert lines == [(datetime.datetime(2026, 11, 29, 12, 0, 4, 250000, tzinfo=P.UTC),
                      'INFO  - Back-office communication successful')]


# -- devices -------------------------------------------------------------------------------------------
def test_device_records_of_both_styles():
    lab = {'deviceId': 'FNLS-000001', 'serverIds': ['AA/ETHERNET', 'BB/ETHERNET'],
           'servers': [{'hostid': 'BB/ETHERNET', 'role': 'BACKUP'}, {'hostid': 'AA/ETHERNET', 'role': 'MAIN'}],
           'lastContact': '2026-11-29T12:00:04.000Z'}
    d = P.device(lab, P.merge())
    assert d['serverIds'] == ['AA/ETHERNET', 'BB/ETHERNET'] and d['servers'][0]['role'] == 'MAIN'
    rest = {'statusInfo': {'status': 'SUCCESS'}, 'responseData': {'device': [
        {'deviceId': {'id': 'AA', 'idType': 'ETHERNET', 'deviceClass': 'SERVER'},
         'backupDeviceId': {'id': 'BB', 'idType': 'ETHERNET'}, 'name': 'FNLS-000001',
         'lastContactDate': '2026-11-29T12:00:04.000Z'}]}}
    [r] = P.device_list(rest, prof_b())
    assert r['deviceId'] == 'FNLS-000001' and r['serverIds'] == ['AA/ETHERNET', 'BB/ETHERNET']
    assert r['servers'] == [{'hostid': 'AA/ETHERNET', 'role': 'MAIN'}, {'hostid': 'BB/ETHERNET', 'role': 'BACKUP'}]
    assert r['lastContact'] == '2026-11-29T12:00:04.000Z'
    assert P.device_list({'statusInfo': {'status': 'SUCCESS'}}, prof_b()) == []
    with pytest.raises(P.AnswerError) as e:
        P.device_list({'devices': []}, prof_b())
    assert 'device_api.fields.rest_list' in str(e.value)


# -- the page ------------------------------------------------------------------------------------------
def test_the_profile_page_is_up_to_date():
    proc = subprocess.run([sys.executable, os.path.join(TOP, 'scripts', 'profile_doc.py'), '--check'],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    page = open(os.path.join(TOP, 'docs', 'PROFILE.md')).read()
    for key, _v, _m, _w in P.SPEC:
        assert '`%s`' % key in page
