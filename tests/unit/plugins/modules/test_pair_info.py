# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

import json

from ansible.module_utils.urls import open_url

from ansible_collections.fnls.failover.plugins.modules import pair_info

X = '0A1B2C3D4E5F/ETHERNET'
Y = '0A1B2C3D4E60/ETHERNET'
Z = '0A1B2C3D4E61/ETHERNET'
make = stubs.FakeBackOffice.make


@pytest.fixture
def bo():
    s = stubs.FakeBackOffice()
    yield s
    s.stop()


def args(url, main=X, backup=Y, password=PASSWORD):
    a = dict(backoffice_url=url, backoffice_password=password, main_hostid=main)
    if backup:
        a['backup_hostid'] = backup
    return a


@pytest.mark.parametrize('devices, state', [
    ([make('FNLS-000001', [X, Y])], 'registered'),
    ([], 'absent'),
    ([make('FNLS-000001', [X])], 'main_standalone'),
    ([make('FNLS-000002', [Y])], 'backup_is_main'),
    ([make('FNLS-000003', [Z, Y])], 'backup_in_other_pair'),
    ([make('FNLS-000003', [Z, X])], 'main_in_other_pair'),
    ([make('FNLS-000001', [X, Z])], 'conflict'),
])
def test_states(bo, devices, state):
    bo.devices = devices
    res = run(pair_info, args(bo.url))
    assert not res.get('failed'), res
    assert res['changed'] is False
    assert res['state'] == state
    assert res['explanation']
    if state == 'registered':
        assert res['pair']['deviceId'] == 'FNLS-000001'
        assert res['portal_url'] == bo.url + '/portal/servers/FNLS-000001'
        assert res['main_device'] == res['backup_device'] == res['pair']
    else:
        assert res['pair'] is None and res['portal_url'] is None
        assert res['hint']


def test_backup_is_main_hint(bo):
    bo.devices = [make('FNLS-000002', [Y])]
    res = run(pair_info, args(bo.url))
    assert res['hint'] == ('Delete device FNLS-000002 (set failover_pair_repair_backup_registration=true to let the '
                           'playbook do it) and rerun.')
    assert res['backup_device']['deviceId'] == 'FNLS-000002'
    assert [d['deviceId'] for d in res['devices']] == ['FNLS-000002']


def test_devices_listed_once(bo):
    bo.devices = [make('FNLS-000001', [X, Y]), make('FNLS-000009', ['AAAAAAAAAAAA/ETHERNET'])]
    res = run(pair_info, args(bo.url))
    assert [d['deviceId'] for d in res['devices']] == ['FNLS-000001']


def test_main_only(bo):
    bo.devices = [make('FNLS-000001', [X])]
    res = run(pair_info, args(bo.url, backup=None))
    assert res['state'] == 'registered'


def test_read_only_in_check_mode(bo):
    bo.devices = [make('FNLS-000001', [X, Y])]
    res = run(pair_info, args(bo.url), check=True)
    assert res['state'] == 'registered'
    assert all(r[0] == 'GET' for r in bo.stub.requests)


def test_bad_hostid():
    res = run(pair_info, args('http://127.0.0.1:1', main='0A1B2C3D4E5F'))
    assert_plain_failure(res)
    assert '<value>/<TYPE>' in res['msg']


def test_wrong_password(bo):
    res = run(pair_info, args(bo.url, password='wrong-' + PASSWORD))
    assert_plain_failure(res, PASSWORD)
    assert 'backoffice_password' in res['msg']


def test_unreachable():
    res = run(pair_info, args(stubs.closed_url()))
    assert_plain_failure(res, PASSWORD)
    assert 'connection refused' in res['msg']


# -- against the lab's back office, when it is importable --------------------------------------
class _Lab(object):
    def __init__(self, handle, style):
        self.handle, self.style, self.url = handle, style, handle.url


@pytest.fixture(params=['lab', 'rest', 'soap'])
def lab(tmp_path, request):
    backoffice = pytest.importorskip('fnlslab.backoffice')
    h = backoffice.start_in_thread(str(tmp_path / 'bo.sqlite'), host='127.0.0.1', port=0, user='admin',
                                   password=PASSWORD)
    yield _Lab(h, request.param)
    h.stop()


def largs(lab, **kw):
    """Module arguments for the lab back office in the device API style of the test."""
    a = args(lab.url, **kw)
    a['profile'] = {'device_api': {'style': lab.style}}
    return a


def capability(url, hostid, backup=None):
    body = json.dumps({'hostid': hostid, 'backupHostid': backup, 'rightsIds': [], 'serverVersion': 'test'})
    try:
        resp = open_url(url + '/flexnet/deviceservices', data=body, method='POST',
                        headers={'Content-Type': 'application/json'})
        return resp.getcode(), json.loads(resp.read())
    except Exception as e:  # HTTPError
        return e.code, json.loads(e.read())


def test_lab_backup_started_first(lab):
    assert capability(lab.url, Y)[0] == 200
    status, answer = capability(lab.url, X, Y)
    assert status == 409 and answer['code'] == 'ALREADY_REGISTERED_AS_MAIN'
    res = run(pair_info, largs(lab))
    assert res['state'] == 'backup_is_main', res
    assert res['backup_device']['serverIds'] == [Y]


def test_lab_registered_pair(lab):
    assert capability(lab.url, X, Y)[0] == 200
    res = run(pair_info, largs(lab))
    assert res['state'] == 'registered', res
    assert res['pair']['serverIds'] == [X, Y]
    assert res['portal_url'] == '%s/portal/servers/%s' % (lab.url, res['pair']['deviceId'])
    page = open_url(res['portal_url']).read().decode()
    assert 'MAIN' in page and 'BACKUP' in page


def test_lab_main_standalone(lab):
    capability(lab.url, X)
    assert run(pair_info, largs(lab))['state'] == 'main_standalone'
    assert run(pair_info, largs(lab, backup=None))['state'] == 'registered'


def test_documentation_matches_argument_spec():
    returns = check_documentation(pair_info)
    assert {'devices', 'pair', 'state', 'explanation', 'hint', 'main_device', 'backup_device',
            'portal_url'} <= set(returns)


def test_the_back_up_held_as_a_main_under_another_of_its_hostids(bo):
    """The pair is registered with the back-up's VM_UUID, but its ETHERNET hostid is a main server too."""
    uuid = '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'
    bo.devices = [make('FNLS-000001', [X, uuid]), make('FNLS-000002', [Y])]
    res = run(pair_info, dict(args(bo.url, backup=uuid), backup_hostids=[Y, uuid]))
    assert res['state'] == 'registered'
    assert res['backup_as_main'] == [{'deviceId': 'FNLS-000002', 'hostid': Y, 'servers': [Y]}]
    res = run(pair_info, dict(args(bo.url, backup=uuid), backup_hostids=[uuid]))
    assert res['backup_as_main'] == []


def test_a_registered_pair_has_no_back_up_as_main_and_no_hostid_change(bo):
    bo.devices = [make('FNLS-000001', [X, Y])]
    res = run(pair_info, dict(args(bo.url), backup_hostids=[Y, Y.lower()]))
    assert res['state'] == 'registered' and res['backup_as_main'] == [] and res['hostid_change'] is None


def test_a_back_up_whose_hostid_changed_is_named(bo):
    bo.devices = [make('FNLS-000001', [X, Z])]
    res = run(pair_info, dict(args(bo.url), backup_name='fnls-p01-backup'))
    assert res['hostid_change']['old_hostid'] == Z and res['hostid_change']['device_id'] == 'FNLS-000001'
    assert res['explanation'].startswith('fnls-p01-backup now identifies as %s; the back office pairs the main %s '
                                         'with its old hostid %s' % (Y, X, Z))


def test_a_bad_hostid_among_the_back_ups_hostids_is_refused():
    res = run(pair_info, dict(args('http://127.0.0.1:1'), backup_hostids=['0A1B2C3D4E60']))
    assert_plain_failure(res)
    assert 'backup_hostids' in res['msg']
