# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

from ansible_collections.fnls.failover.plugins.modules import device

X = '0A1B2C3D4E5F/ETHERNET'
Y = '0A1B2C3D4E60/ETHERNET'
Z = '0A1B2C3D4E61/ETHERNET'
make = stubs.FakeBackOffice.make


@pytest.fixture
def bo():
    s = stubs.FakeBackOffice()
    yield s
    s.stop()


def args(url, **kw):
    a = dict(backoffice_url=url, backoffice_password=PASSWORD)
    a.update(kw)
    return a


def posts(bo, method):
    return [r for r in bo.stub.requests if r[0] == method]


def test_create_then_idempotent(bo):
    res = run(device, args(bo.url, server_ids=[X, Y], alias='pair-a'))
    assert res['changed'] is True, res
    assert res['device']['serverIds'] == [X, Y]
    assert res['device']['alias'] == 'pair-a'
    res = run(device, args(bo.url, server_ids=[X, Y], alias='pair-a'))
    assert res['changed'] is False
    assert res['device']['serverIds'] == [X, Y]
    assert len(posts(bo, 'POST')) == 1


def test_create_check_mode(bo):
    res = run(device, args(bo.url, server_ids=[X, Y]), check=True, diff=True)
    assert res['changed'] is True and res['device'] is None
    assert res['diff']['before'] == {'device': None}
    assert bo.devices == [] and posts(bo, 'POST') == []


def test_order_matters(bo):
    bo.devices = [make('FNLS-000001', [Y, X])]
    res = run(device, args(bo.url, server_ids=[X, Y]))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('The back office refused to create a device for %s, %s (HTTP 409 ' % (X, Y))


def test_conflict_reports_code_and_message(bo):
    bo.devices = [make('FNLS-000002', [Y])]
    res = run(device, args(bo.url, server_ids=[X, Y]))
    assert_plain_failure(res, PASSWORD)
    assert 'ALREADY_REGISTERED_AS_MAIN' in res['msg']
    assert 'is already registered (device FNLS-000002)' in res['msg']
    assert res['code'] == 'ALREADY_REGISTERED_AS_MAIN'


def test_delete_by_exact_ids_then_idempotent(bo):
    bo.devices = [make('FNLS-000002', [Y])]
    res = run(device, args(bo.url, state='absent', server_ids=[Y]))
    assert res['changed'] is True and res['deleted'] == ['FNLS-000002']
    assert bo.devices == []
    res = run(device, args(bo.url, state='absent', server_ids=[Y]))
    assert res['changed'] is False and res['deleted'] == []


def test_delete_leaves_other_devices_without_force(bo):
    bo.devices = [make('FNLS-000001', [Y, Z])]
    res = run(device, args(bo.url, state='absent', server_ids=[Y]))
    assert res['changed'] is False
    assert [d['deviceId'] for d in res['others']] == ['FNLS-000001']
    assert len(bo.devices) == 1
    res = run(device, args(bo.url, state='absent', server_ids=[Y], force=True))
    assert res['changed'] is True and res['deleted'] == ['FNLS-000001']
    assert bo.devices == []


def test_delete_by_id(bo):
    bo.devices = [make('FNLS-000002', [Y])]
    res = run(device, args(bo.url, state='absent', device_id='FNLS-000002'), check=True)
    assert res['changed'] is True and res['deleted'] == ['FNLS-000002']
    assert len(bo.devices) == 1
    res = run(device, args(bo.url, state='absent', device_id='FNLS-000002'))
    assert res['changed'] is True and bo.devices == []
    res = run(device, args(bo.url, state='absent', device_id='FNLS-000002'))
    assert res['changed'] is False


def test_delete_by_id_refuses_other_ids(bo):
    bo.devices = [make('FNLS-000001', [X, Y])]
    res = run(device, args(bo.url, state='absent', device_id='FNLS-000001', server_ids=[Y]))
    assert_plain_failure(res, PASSWORD)
    assert 'refusing to delete it' in res['msg']
    assert len(bo.devices) == 1
    res = run(device, args(bo.url, state='absent', device_id='FNLS-000001', server_ids=[Y], force=True))
    assert res['changed'] is True and bo.devices == []


@pytest.mark.parametrize('kw, text', [
    (dict(server_ids=['0A1B2C3D4E5F']), '<value>/<TYPE>'),
    (dict(server_ids=[X, X]), 'different back-up'),
    (dict(server_ids=[X, Y, Z]), 'different back-up'),
    (dict(server_ids=[X], device_id='FNLS-1'), 'only used with state=absent'),
    (dict(state='absent'), 'device_id or server_ids'),
])
def test_validation(kw, text):
    res = run(device, args('http://127.0.0.1:1', **kw))
    assert_plain_failure(res)
    assert text in res['msg']


# -- against the lab's back office, when it is importable --------------------------------------
class _Lab(object):
    def __init__(self, handle, style):
        self.handle, self.style, self.url = handle, style, handle.url


@pytest.fixture(params=['lab', 'rest', 'soap'])
def lab(tmp_path, request):
    from fnlslab import backoffice
    h = backoffice.start_in_thread(str(tmp_path / 'bo.sqlite'), host='127.0.0.1', port=0, user='admin',
                                   password=PASSWORD)
    yield _Lab(h, request.param)
    h.stop()


def largs(lab, **kw):
    """Module arguments for the lab back office in the device API style of the test."""
    return args(lab.url, profile={'device_api': {'style': lab.style}}, **kw)


def test_lab_repair_backup_registered_as_main(lab):
    res = run(device, largs(lab, server_ids=[Y]))
    assert res['changed'] is True
    wrong = res['device']['deviceId']
    res = run(device, largs(lab, server_ids=[X, Y]))
    assert_plain_failure(res, PASSWORD)
    assert 'ALREADY_REGISTERED_AS_MAIN' in res['msg'] and wrong in res['msg']
    res = run(device, largs(lab, state='absent', device_id=wrong, server_ids=[Y]))
    assert res['changed'] is True and res['deleted'] == [wrong]
    res = run(device, largs(lab, server_ids=[X, Y], alias='pair-a'))
    assert res['changed'] is True and res['device']['serverIds'] == [X, Y]
    assert [s['role'] for s in res['device']['servers']] == ['MAIN', 'BACKUP']
    res = run(device, largs(lab, server_ids=[X, Y]))
    assert res['changed'] is False


def test_lab_delete_pair_by_ids(lab):
    run(device, largs(lab, server_ids=[X, Y]))
    res = run(device, largs(lab, state='absent', server_ids=[Y]))
    assert res['changed'] is False and len(res['others']) == 1
    res = run(device, largs(lab, state='absent', server_ids=[X, Y]))
    assert res['changed'] is True
    res = run(device, largs(lab, state='absent', server_ids=[X, Y]))
    assert res['changed'] is False


def test_documentation_matches_argument_spec():
    returns = check_documentation(device)
    assert {'device', 'deleted', 'others', 'diff'} <= set(returns)
