# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pair_read: one host's hostids, server state, settings file, lock and policy settings in one read-only run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)

from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_hostid_info
from ansible_collections.fnls.failover.plugins.modules import hostid_info, pair_read, server_info

make_status = stubs.make_status
ts = stubs.ts

MAIN = '0A1B2C3D4E5F/ETHERNET'
OTHER = '0A1B2C3D4E60/ETHERNET'
VM = '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'


class Service(object):
    """``service NAME status`` answering with ``rc``; the commands run are kept."""

    def __init__(self, rc=0):
        self.rc = rc
        self.calls = []


@pytest.fixture
def svc():
    fake = Service()

    def run_command(module, argv, **kwargs):
        fake.calls.append(' '.join(argv))
        return fake.rc, 'running' if fake.rc == 0 else 'stopped', ''

    with mock.patch.object(basic.AnsibleModule, 'run_command', run_command), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path',
                              lambda self, name, required=False, opt_dirs=None: '/usr/sbin/' + name):
        yield fake


@pytest.fixture
def server():
    s = stubs.FakeLicenseServer(status=make_status(last_success=ts(5), boot_id='boot-42'))
    s.config['licensing.backup.uri'] = 'http://backup.example.com:7070/fne/bin/capability'
    yield s
    s.stop()


@pytest.fixture
def host(tmp_path):
    """Host mode reads a fake /sys/class/net and machine id."""
    net = tmp_path / 'net'
    for name, address in (('lo', '00:00:00:00:00:00'), ('eth0', '0a:1b:2c:3d:4e:5f'), ('eth1', '0a:1b:2c:3d:4e:60')):
        (net / name).mkdir(parents=True)
        (net / name / 'address').write_text(address + '\n')
    machine_id = tmp_path / 'machine-id'
    machine_id.write_text('4c4c4544004235108056b4c04f4e3732\n')
    real = fnls_step_hostid_info.host_hostids

    def host_hostids(sys_class_net, machine_id_path, net_interface=None):
        return real(str(net), str(machine_id), net_interface=net_interface)

    real_listdir = os.listdir

    def listdir(path):
        return real_listdir(str(net) if path == '/sys/class/net' else path)

    with mock.patch.object(fnls_step_hostid_info, 'host_hostids', host_hostids), \
            mock.patch.object(fnls_step_hostid_info.os, 'listdir', listdir):
        yield net


@pytest.fixture
def settings(tmp_path):
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(b'# settings\nPORT=7070\nBACKUP_SERVER_HOSTID=%s\n' % OTHER.encode())
    return path


def args(url, settings_path, **kw):
    a = dict(name='flexnetls-demo', service_manager='service', server_url=url, admin_password=PASSWORD, timeout=5,
             settings_path=str(settings_path))
    a.update((k, v) for k, v in kw.items() if v is not None or k == 'admin_password')
    return a


def test_documentation_matches_the_argument_spec():
    import yaml
    returns = check_documentation(pair_read)
    assert set(returns) == {'hostids', 'server', 'settings', 'lock', 'config', 'config_error'}
    server_keys = set(check_documentation(server_info))
    assert set(returns['server']['contains']) == server_keys
    assert set(returns['hostids']['contains']) == set(yaml.safe_load(hostid_info.RETURN))


def test_in_the_server_api_action_group():
    import yaml
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(top, 'meta', 'runtime.yml')) as handle:
        groups = yaml.safe_load(handle)['action_groups']
    assert 'pair_read' in groups['server_api'] and 'pair_read' not in groups['backoffice_api']


def test_a_running_server(svc, server, settings, tmp_path):
    keys = ['licensing.backup.uri', 'fne.syncTo.mainUri', 'no.such.key']
    res = run(pair_read, args(server.url, settings, config_keys=keys))
    assert 'failed' not in res and res['changed'] is False, res
    assert res['hostids'] == dict(hostids=[dict(type='ETHERNET', value='0A1B2C3D4E5F', hostid=MAIN, selected=True)],
                                  selected=MAIN, selected_type='ETHERNET', by_type={'ETHERNET': MAIN}, source='api')
    assert res['server'] == dict(running=True, reachable=True, ready=True, status=server.status, status_error=None,
                                 boot_id='boot-42', process_started_at=res['server']['process_started_at'])
    assert res['settings'] == dict(path=str(settings), exists=True, form='shell',
                                   checksum=hashlib.sha1(settings.read_bytes()).hexdigest(),
                                   values={'BACKUP_SERVER_HOSTID': OTHER, 'ACTIVE_HOSTID': None})
    assert res['lock'] is None
    assert res['config'] == {'licensing.backup.uri': 'http://backup.example.com:7070/fne/bin/capability',
                             'fne.syncTo.mainUri': '', 'no.such.key': None}
    assert res['config_error'] is None
    assert server.posts == []
    assert PASSWORD not in json.dumps(res)


def test_the_same_as_the_modules_it_stands_for(svc, server, settings):
    res = run(pair_read, args(server.url, settings))
    alone = run(hostid_info, dict(server_url=server.url, settings_path=str(settings)))
    alone.pop('changed')
    assert res['hostids'] == alone
    alone = run(server_info, dict(name='flexnetls-demo', service_manager='service', server_url=server.url,
                                  admin_password=PASSWORD, timeout=5))
    alone.pop('changed')
    assert res['server'] == alone


def test_check_mode_reads_the_same(svc, server, settings):
    a = args(server.url, settings, config_keys=['fne.syncTo.enabled'])
    assert run(pair_read, a, check=True) == run(pair_read, a)


def test_a_stopped_server(svc, host, tmp_path):
    svc.rc = 3
    path = tmp_path / 'flexnetls-demo'
    path.write_text('ACTIVE_HOSTID=%s\n' % VM)
    res = run(pair_read, args(stubs.closed_url(), path, config_keys=['licensing.main.uri']))
    assert 'failed' not in res, res
    assert res['hostids']['source'] == 'host' and 'connection refused' in res['hostids']['fallback_reason']
    assert res['hostids']['selected'] == VM and res['hostids']['by_type']['ETHERNET'] == MAIN
    assert (res['server']['running'], res['server']['reachable'], res['server']['ready']) == (False, False, False)
    assert res['settings']['values'] == {'BACKUP_SERVER_HOSTID': None, 'ACTIVE_HOSTID': VM}
    assert res['config'] is None and res['config_error'] == 'the service flexnetls-demo is not running'


def test_net_interface_and_hostid_source(svc, server, host, settings):
    res = run(pair_read, args(server.url, settings, hostid_source='host', net_interface='eth1'))
    assert res['hostids']['source'] == 'host' and res['hostids']['by_type']['ETHERNET'] == OTHER
    res = run(pair_read, args(server.url, settings, hostid_source='host', net_interface='eth9'))
    assert_plain_failure(res, PASSWORD)
    assert "net_interface 'eth9' is not a network interface" in res['msg']


def test_hostid_source_api_on_a_stopped_server_fails_with_hostid_infos_message(svc, settings):
    res = run(pair_read, args(stubs.closed_url(), settings, hostid_source='api'))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Asking the license server for its hostids, ')


def test_a_missing_settings_file(svc, server, tmp_path):
    path = tmp_path / 'nothing-here'
    res = run(pair_read, args(server.url, path))
    assert res['settings'] == dict(path=str(path), exists=False, form='shell', checksum=None,
                                   values={'BACKUP_SERVER_HOSTID': None, 'ACTIVE_HOSTID': None})


@pytest.mark.parametrize('name, content, form, given, keys', [
    ('local-configuration.yaml', b'backup-server-hostid: %s\n' % OTHER.encode(), 'yaml', None,
     {'settings': {'backup_hostid_key': 'backup-server-hostid', 'active_hostid_key': 'active-hostid'}}),
    ('failover-pair.conf', b'[Service]\nEnvironment="BACKUP_SERVER_HOSTID=%s"\n' % OTHER.encode(), 'systemd', None,
     {}),
    ('settings.txt', b'[Service]\nEnvironment="BACKUP_SERVER_HOSTID=%s"\n' % OTHER.encode(), 'systemd', 'systemd',
     {}),
])
def test_settings_forms(svc, server, tmp_path, name, content, form, given, keys):
    path = tmp_path / name
    path.write_bytes(content)
    res = run(pair_read, args(server.url, path, settings_form=given, profile=keys))
    assert res['settings']['form'] == form
    backup_key = keys.get('settings', {}).get('backup_hostid_key', 'BACKUP_SERVER_HOSTID')
    assert res['settings']['values'][backup_key] == OTHER
    assert res['settings']['checksum'] == hashlib.sha1(content).hexdigest()


def test_settings_form_from_the_profile_and_the_option_over_it(svc, server, tmp_path):
    path = tmp_path / 'flexnetls-demo'
    path.write_text('backup-server-hostid: %s\n' % OTHER)
    profile = {'settings': {'form': 'yaml', 'backup_hostid_key': 'backup-server-hostid'}}
    res = run(pair_read, args(server.url, path, profile=profile))
    assert res['settings']['form'] == 'yaml' and res['settings']['values']['backup-server-hostid'] == OTHER
    res = run(pair_read, args(server.url, path, profile=profile, settings_form='shell'))
    assert res['settings']['form'] == 'shell' and res['settings']['values']['backup-server-hostid'] is None


def test_settings_form_reaches_the_hostid_pin(svc, host, tmp_path):
    svc.rc = 3
    path = tmp_path / 'flexnetls-demo'
    path.write_text('active-hostid: %s\n' % VM)
    res = run(pair_read, args(stubs.closed_url(), path, settings_form='yaml',
                              profile={'settings': {'active_hostid_key': 'active-hostid'}}))
    assert res['hostids']['selected'] == VM and res['settings']['values']['active-hostid'] == VM


def test_an_unreadable_settings_file_fails(svc, server, tmp_path):
    path = tmp_path / 'local-configuration.yaml'
    path.write_text('backup-server-hostid: |\n  x\n')
    profile = {'settings': {'backup_hostid_key': 'backup-server-hostid', 'active_hostid_key': 'active-hostid'}}
    res = run(pair_read, args(server.url, path, config_keys=[], profile=profile))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Reading backup-server-hostid and active-hostid from %s (form yaml) failed: '
                                 % path), res
    res = run(pair_read, args(server.url, tmp_path))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Reading the settings file %s failed (' % tmp_path)


def test_the_lock(svc, server, settings, tmp_path):
    lock = tmp_path / 'pair.lock'
    res = run(pair_read, args(server.url, settings, lock_path=str(lock)))
    assert res['lock'] == dict(path=str(lock), held=False, holder=None)
    lock.mkdir()
    res = run(pair_read, args(server.url, settings, lock_path=str(lock)))
    assert res['lock'] == dict(path=str(lock), held=True, holder=None)
    holder = dict(owner='run-1', controller='ctl', controller_pid=42, acquired_at=ts(0), expires_at=ts(60),
                  expires_at_epoch=1.0)
    (lock / 'holder.json').write_text(json.dumps(holder))
    res = run(pair_read, args(server.url, settings, lock_path=str(lock)), check=True)
    assert res['lock'] == dict(path=str(lock), held=True, holder=holder)
    assert os.listdir(str(lock)) == ['holder.json']


def test_refused_admin_credentials_fail_with_server_infos_message(svc, server, settings):
    wrong = 'wrong-' + PASSWORD
    res = run(pair_read, args(server.url, settings, admin_password=wrong))
    assert_plain_failure(res, wrong)
    assert res['msg'].startswith('Reading the status of flexnetls-demo failed: ')
    assert 'refused the admin credentials' in res['msg']


def test_config_not_read(svc, server, settings):
    res = run(pair_read, args(server.url, settings, admin_password=None, config_keys=['licensing.main.uri']))
    assert res['config'] is None and res['config_error'] == 'no admin_password was given'
    assert res['server']['status_error'] == 'no admin_password was given'
    server.health = 'STARTING'
    res = run(pair_read, args(server.url, settings, config_keys=['licensing.main.uri']))
    assert res['config'] is None
    assert res['config_error'] == 'the server does not answer: the server is still starting'


def test_config_without_keys_is_not_asked(svc, server, settings):
    res = run(pair_read, args(server.url, settings))
    assert res['config'] == {} and res['config_error'] is None
    assert not any(r[1].endswith('/config') for r in server.stub.requests)


def test_a_config_endpoint_that_fails(svc, server, settings):
    real = server.handle

    def handle(method, path, query, headers, body):
        if path.endswith('/config'):
            return 500, {'error': 'database locked'}
        return real(method, path, query, headers, body)

    server.stub.handle = handle
    res = run(pair_read, args(server.url, settings, config_keys=['licensing.main.uri']))
    assert 'failed' not in res, res
    assert res['config'] is None
    assert res['config_error'].startswith('Reading the policy settings of %s failed: ' % server.url)
    assert 'HTTP 500' in res['config_error']


def test_a_bad_profile_fails_before_anything_is_read(svc, server, settings):
    res = run(pair_read, args(server.url, settings, api_paths={'no_such_path': '/x'}))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].endswith('Nothing was changed.')
    assert svc.calls == [] and server.stub.requests == []


def test_api_paths_reach_the_steps(svc, server, settings):
    real = server.handle
    moved = '/api/9.9/status-elsewhere'

    def handle(method, path, query, headers, body):
        if path == moved:
            path = '/api/1.0/instances/~/status'
        elif path.endswith('/status'):
            return 404, {'error': 'not here'}
        return real(method, path, query, headers, body)

    server.stub.handle = handle
    res = run(pair_read, args(server.url, settings, api_paths={'status_path': moved}))
    assert res['server']['status'] == server.status, res
