# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


def _stubs():
    """The stub servers of test_fnls_http.py, loaded once."""
    name = 'fnls_failover_unit_stubs'
    if name not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'module_utils', 'test_fnls_http.py')
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


stubs = _stubs()
PASSWORD = stubs.PASSWORD


class _Exit(Exception):
    pass


def run(module, args, check=False, diff=False):
    """Run ``module.main()`` with ``args``; the dict given to exit_json or fail_json (with failed=True)."""
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise _Exit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=msg)
        raise _Exit(kwargs)

    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, 'exit_json', exit_json), \
            mock.patch.object(basic.AnsibleModule, 'fail_json', fail_json):
        with pytest.raises(_Exit) as e:
            module.main()
    return e.value.args[0]


def assert_plain_failure(res, *secrets):
    assert res.get('failed'), res
    assert 'Traceback' not in res['msg']
    for s in secrets:
        assert s not in repr(res)


def argument_spec_of(module, args=None):
    """The argument_spec the module gives AnsibleModule."""
    seen = {}

    class _Stop(Exception):
        pass

    def init(self, argument_spec=None, **kwargs):
        seen['spec'] = argument_spec
        seen['kwargs'] = kwargs
        raise _Stop()

    with patch_module_args(args or {}), mock.patch.object(basic.AnsibleModule, '__init__', init):
        with pytest.raises(_Stop):
            module.main()
    return seen['spec'], seen['kwargs']


def documented_options(module):
    """DOCUMENTATION options with the collection's doc fragments merged in (module options win)."""
    import yaml
    from ansible_collections.fnls.failover.plugins.doc_fragments import backoffice_api, server_api
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = {}
    fragments = {'fnls.failover.server_api': server_api, 'fnls.failover.backoffice_api': backoffice_api}
    for name in doc.get('extends_documentation_fragment', []):
        options.update(yaml.safe_load(fragments[name].ModuleDocFragment.DOCUMENTATION)['options'])
    options.update(doc.get('options') or {})
    return doc, options


def check_documentation(module):
    import yaml
    spec, kwargs = argument_spec_of(module)
    doc, options = documented_options(module)
    assert kwargs.get('supports_check_mode') is True
    assert doc['version_added'] == '1.0.0'
    assert doc['author'] == 'fnls.failover maintainers (!UNKNOWN)'
    assert set(spec) == set(options), set(spec) ^ set(options)
    for name, arg in spec.items():
        opt = options[name]
        assert opt.get('type', 'str') == arg.get('type', 'str'), name
        assert opt.get('required', False) == arg.get('required', False), name
        assert opt.get('default') == arg.get('default'), name
        assert opt.get('choices') == arg.get('choices'), name
        assert opt.get('elements') == arg.get('elements'), name
        assert opt.get('description'), name
        if 'password' in name:
            assert arg.get('no_log') is True, name
    for key in ('check_mode', 'diff_mode'):
        assert key in doc['attributes']
    examples = yaml.safe_load(module.EXAMPLES)
    modname = module.__name__.rsplit('.', 1)[-1]
    assert all('fnls.failover.' + modname in task for task in examples if 'ansible.builtin.fail' not in task)
    returns = yaml.safe_load(module.RETURN)
    for key, value in returns.items():
        assert value.get('description') and value.get('returned') and value.get('type'), key
    return returns


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
@pytest.fixture
def lab(tmp_path):
    backoffice = pytest.importorskip('fnlslab.backoffice')
    h = backoffice.start_in_thread(str(tmp_path / 'bo.sqlite'), host='127.0.0.1', port=0, user='admin',
                                   password=PASSWORD)
    yield h
    h.stop()


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
    res = run(pair_info, args(lab.url))
    assert res['state'] == 'backup_is_main', res
    assert res['backup_device']['serverIds'] == [Y]


def test_lab_registered_pair(lab):
    assert capability(lab.url, X, Y)[0] == 200
    res = run(pair_info, args(lab.url))
    assert res['state'] == 'registered', res
    assert res['pair']['serverIds'] == [X, Y]
    assert res['portal_url'] == '%s/portal/servers/%s' % (lab.url, res['pair']['deviceId'])
    page = open_url(res['portal_url']).read().decode()
    assert 'MAIN' in page and 'BACKUP' in page


def test_lab_main_standalone(lab):
    capability(lab.url, X)
    assert run(pair_info, args(lab.url))['state'] == 'main_standalone'
    assert run(pair_info, args(lab.url, backup=None))['state'] == 'registered'


def test_documentation_matches_argument_spec():
    returns = check_documentation(pair_info)
    assert {'devices', 'pair', 'state', 'explanation', 'hint', 'main_device', 'backup_device',
            'portal_url'} <= set(returns)
