# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the hostid_info module in a separate Python against a fake host and a small HTTP server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

MODULE = 'ansible_collections.fnls.failover.plugins.modules.hostid_info'


def run(tmp_path, args, check=False):
    module_args = dict(args)
    module_args['_ansible_check_mode'] = check
    args_file = tmp_path / ('args-%d.json' % len(list(tmp_path.glob('args-*.json'))))
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args}))
    env = dict((k, v) for k, v in os.environ.items() if k.lower() not in ('http_proxy', 'https_proxy', 'all_proxy'))
    proc = subprocess.run([sys.executable, '-m', MODULE, str(args_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    try:
        result = json.loads(proc.stdout.decode())
    except ValueError:
        raise AssertionError('module printed no JSON: %r %r' % (proc.stdout, proc.stderr))
    assert ('failed' in result) == (proc.returncode != 0), result
    return result


@pytest.fixture
def host(tmp_path):
    """A fake host: two NICs, lo, a machine id and a settings file."""
    net = tmp_path / 'net'
    for name, address in (('lo', '00:00:00:00:00:00'), ('eth1', '0a:1b:2c:3d:4e:60'),
                          ('eth0', '0a:1b:2c:3d:4e:5f')):
        (net / name).mkdir(parents=True)
        (net / name / 'address').write_text(address + '\n')
    machine_id = tmp_path / 'machine-id'
    machine_id.write_text('4c4c4544004235108056b4c04f4e3732\n')
    settings = tmp_path / 'flexnetls-demo'
    settings.write_text('# settings\nPORT=7070\n')
    return {
        'sys_class_net': str(net),
        'machine_id_path': str(machine_id),
        'settings_path': str(settings),
    }


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class FakeServer(object):
    def __init__(self, status, body):
        outer = self
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever)
        self.thread.daemon = True
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    servers = []

    def start(status=200, body=None):
        fake = FakeServer(status, body)
        servers.append(fake)
        return fake

    yield start
    for fake in servers:
        fake.close()


API_HOSTIDS = [
    {'type': 'ETHERNET', 'value': '0a1b2c3d4e5f', 'selected': False},
    {'type': 'VM_UUID', 'value': '4C4C4544-0042-3510-8056-B4C04F4E3732', 'selected': True},
    {'type': 'SOMETHING_NEW', 'value': 'abc', 'selected': False},
]


def test_api(tmp_path, host, server):
    fake = server(200, API_HOSTIDS)
    result = run(tmp_path, dict(host, server_url=fake.url + '/'), check=True)
    assert fake.requests == ['/api/1.0/hostids']
    assert result['changed'] is False
    assert result['source'] == 'api'
    assert 'fallback_reason' not in result
    assert result['selected'] == '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'
    assert result['selected_type'] == 'VM_UUID'
    assert result['hostids'][0] == {
        'type': 'ETHERNET', 'value': '0A1B2C3D4E5F', 'hostid': '0A1B2C3D4E5F/ETHERNET', 'selected': False}
    assert result['hostids'][2]['hostid'] == 'abc/SOMETHING_NEW'
    assert result['by_type'] == {
        'ETHERNET': '0A1B2C3D4E5F/ETHERNET',
        'VM_UUID': '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID',
        'SOMETHING_NEW': 'abc/SOMETHING_NEW',
    }


def test_api_wrapped_list_and_nothing_selected(tmp_path, host, server):
    body = {'hostids': [dict(item, selected=False) for item in API_HOSTIDS]}
    fake = server(200, body)
    result = run(tmp_path, dict(host, server_url=fake.url, source='api'))
    assert result['selected'] == '0A1B2C3D4E5F/ETHERNET'


def test_host_mode(tmp_path, host):
    result = run(tmp_path, dict(host, source='host'), check=True)
    assert result['changed'] is False
    assert result['source'] == 'host'
    assert result['selected'] == '0A1B2C3D4E5F/ETHERNET'
    assert result['selected_type'] == 'ETHERNET'
    assert [h['hostid'] for h in result['hostids']] == [
        '0A1B2C3D4E5F/ETHERNET', '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID']
    assert [h['selected'] for h in result['hostids']] == [True, False]


def test_host_mode_net_interface_and_active_hostid(tmp_path, host):
    with open(host['settings_path'], 'a') as handle:
        handle.write("export ACTIVE_HOSTID='0a:1b:2c:3d:4e:60/ethernet'\n")
    result = run(tmp_path, dict(host, source='host', net_interface='eth1'))
    assert result['selected'] == '0A1B2C3D4E60/ETHERNET'


def test_host_mode_active_hostid_not_the_hosts_own(tmp_path, host):
    with open(host['settings_path'], 'a') as handle:
        handle.write('ACTIVE_HOSTID=0A1B2C3D4E99/ETHERNET\n')
    result = run(tmp_path, dict(host, source='host'))
    assert result['failed'] is True
    assert 'ACTIVE_HOSTID' in result['msg']
    assert host['settings_path'] in result['msg']


def test_host_mode_without_settings_file(tmp_path, host):
    result = run(tmp_path, dict(host, source='host', settings_path=str(tmp_path / 'absent')))
    assert result['selected'] == '0A1B2C3D4E5F/ETHERNET'


def test_auto_falls_back_when_refused(tmp_path, host):
    url = 'http://127.0.0.1:%d' % free_port()
    result = run(tmp_path, dict(host, server_url=url, timeout=2))
    assert result['source'] == 'host'
    assert 'refused' in result['fallback_reason']
    assert result['selected'] == '0A1B2C3D4E5F/ETHERNET'


def test_auto_falls_back_when_not_ready(tmp_path, host, server):
    fake = server(503, {'error': 'not ready'})
    result = run(tmp_path, dict(host, server_url=fake.url))
    assert result['source'] == 'host'
    assert '503' in result['fallback_reason']


@pytest.mark.parametrize('status, body, words', [
    (404, {'error': 'no such page'}, ['HTTP 404', 'server_url']),
    (200, b'<html>hello</html>', ['not JSON']),
    (200, {'unexpected': True}, ['no list at', 'hostids.list']),
])
def test_auto_fails_on_other_answers(tmp_path, host, server, status, body, words):
    fake = server(status, body)
    result = run(tmp_path, dict(host, server_url=fake.url))
    assert result['failed'] is True
    for word in words:
        assert word in result['msg']


def test_api_source_fails_when_refused(tmp_path, host):
    url = 'http://127.0.0.1:%d' % free_port()
    result = run(tmp_path, dict(host, server_url=url, source='api'))
    assert result['failed'] is True
    assert 'refused' in result['msg']
    assert 'source=host' in result['msg']


def test_no_hostids_found(tmp_path):
    result = run(tmp_path, {
        'source': 'host',
        'sys_class_net': str(tmp_path / 'none'),
        'machine_id_path': str(tmp_path / 'none'),
        'settings_path': str(tmp_path / 'none'),
    })
    assert result['hostids'] == []
    assert result['selected'] is None
    assert result['selected_type'] is None
    assert result['by_type'] == {}
