# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JsonHttp error classification, the two clients, URL building.

The stub servers defined here (``StubServer``, ``FakeLicenseServer``, ``FakeBackOffice``) are also
loaded by the module tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from ansible_collections.fnls.failover.plugins.module_utils import fnls_interfaces as ifc
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    AuthFailed, BackOfficeClient, BadResponse, FnlsHttpError, HttpError, JsonHttp, LicenseServerClient, NotReady,
    Timeout, Unreachable)

PASSWORD = 'Sup3r-Secret-pw'


# --------------------------------------------------------------------------------------------
# stub HTTP server
# --------------------------------------------------------------------------------------------
class StubServer(object):
    """A tiny HTTP server on 127.0.0.1; ``handle(method, path, query, headers, body)`` returns
    ``(status, body)`` (a dict/list is sent as JSON, bytes as they are), or the string ``'drop'``
    to close the connection without an answer."""

    def __init__(self, handle, port=0):
        self.handle = handle
        self.requests = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.0'

            def log_message(self, *args):
                pass

            def _do(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                body = None
                if raw:
                    try:
                        body = json.loads(raw.decode())
                    except ValueError:
                        body = raw
                query = dict((k, v[0]) for k, v in parse_qs(parts.query).items())
                stub.requests.append((self.command, parts.path, dict(self.headers), body))
                answer = stub.handle(self.command, unquote(parts.path), query, self.headers, body)
                if answer == 'drop':
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                status, out = answer
                if isinstance(out, (dict, list)):
                    data = json.dumps(out).encode()
                elif out is None:
                    data = b''
                else:
                    data = out
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _do

        self.httpd = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.httpd.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05})
        self.thread.daemon = True
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def closed_url():
    return 'http://127.0.0.1:%d' % free_port()


def ts(offset=0.0, base=1795953600.0):
    """ISO 8601 UTC with milliseconds, ``offset`` seconds after a fixed base."""
    t = base + offset
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)) + '.%03dZ' % int(round((t % 1) * 1000))


def make_status(last_success=None, started_at=None, role='MAIN', state='READY', boot_id='b-1', last_error=None,
                backup_hostid=None, device_id='FNLS-000001', hostid='0A1B2C3D4E5F/ETHERNET', enabled=True,
                url='http://198.18.0.2:8888/flexnet/deviceservices'):
    return {
        'state': state, 'version': '2026.11-lab', 'boot_id': boot_id, 'started_at': started_at or ts(0),
        'ready_at': ts(2), 'hostid': hostid, 'backup_hostid': backup_hostid,
        'backoffice': {'url': url, 'enabled': enabled, 'attempts': 1, 'last_attempt': last_success,
                       'last_success': last_success, 'last_error': last_error,
                       'last_error_at': ts(3) if last_error else None,
                       'registered_role': role if last_success else None,
                       'device_id': device_id if last_success else None},
        'failover': {'role': 'main', 'sync_enabled': False, 'main_uri': '',
                     'peer': {'hostid': None, 'state': 'UNKNOWN', 'last_sync': None, 'last_error': None},
                     'failover_active': False, 'failover_since': None},
        'features': [],
    }


class FakeLicenseServer(object):
    """The license server's REST API as MODEL.md section 2 describes it, in memory."""

    def __init__(self, password=PASSWORD, status=None, config=None, port=0):
        self.password = password
        self.health = 'UP'
        self.not_ready = False
        self.tokens = set()
        self.issued = 0
        self.status = status if status is not None else make_status(last_success=ts(5))
        self.config = config if config is not None else {
            'licensing.main.uri': '', 'licensing.backup.uri': '', 'fne.syncTo.enabled': 'false',
            'fne.syncTo.mainUri': '', 'fne.syncTo.interval': '2s', 'fne.syncTo.pageSize': '1000',
            'fne.syncTo.retries': '3', 'backoffice.url': 'http://198.18.0.2:8888/flexnet/deviceservices'}
        self.posts = []
        self.stub = StubServer(self.handle, port=port)
        self.url = self.stub.url

    def stop(self):
        self.stub.stop()

    def expire_tokens(self):
        self.tokens.clear()

    def handle(self, method, path, query, headers, body):
        if path == ifc.default('health_path'):
            if self.health == 'STARTING':
                return 503, {'status': 'STARTING', 'version': '2026.11-lab'}
            return 200, {'status': 'UP', 'version': '2026.11-lab', 'database': {'status': 'OK'}}
        if self.not_ready:
            return 503, {'error': 'not ready'}
        if path == ifc.default('hostids_path'):
            return 200, [{'type': 'ETHERNET', 'value': '0A1B2C3D4E5F', 'selected': True}]
        if path == ifc.default('authorize_path') and method == 'POST':
            if isinstance(body, dict) and body.get('user') == 'admin' and body.get('password') == self.password:
                self.issued += 1
                token = 'tok-%d-abcdef' % self.issued
                self.tokens.add(token)
                return 200, {'token': token, 'expires': ts(3600)}
            return 401, {'error': 'bad credentials'}
        auth = headers.get('Authorization') or ''
        if not auth.startswith('Bearer ') or auth[7:] not in self.tokens:
            return 401, {'error': 'missing or invalid token'}
        if path == ifc.default('config_path'):
            if method == 'GET':
                return 200, dict(self.config)
            unknown = [k for k in body if k not in self.config]
            if unknown:
                return 400, {'error': 'unknown setting %s' % unknown[0]}
            self.posts.append(body)
            self.config.update((k, str(v)) for k, v in body.items())
            return 200, dict(self.config)
        if path == ifc.default('status_path'):
            return 200, self.status
        return 404, {'error': 'not found'}


class FakeBackOffice(object):
    """The back office's device API as MODEL.md section 5 describes it, in memory (simplified rules)."""

    def __init__(self, user='admin', password=PASSWORD, devices=None):
        self.auth = 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode()
        self.devices = list(devices or [])
        self.next = 100
        self.stub = StubServer(self.handle)
        self.url = self.stub.url

    def stop(self):
        self.stub.stop()

    @staticmethod
    def make(device_id, ids, last_contact=None, by='capability-request'):
        return {'deviceId': device_id, 'alias': '', 'type': 'SERVER', 'serverIds': list(ids),
                'servers': [{'hostid': h, 'role': 'MAIN' if i == 0 else 'BACKUP'} for i, h in enumerate(ids)],
                'registeredBy': by, 'createdAt': ts(0), 'lastContact': last_contact or ts(1)}

    def handle(self, method, path, query, headers, body):
        if headers.get('Authorization') != self.auth:
            return 401, {'status': 'ERROR', 'code': 'UNAUTHORIZED', 'message': 'authentication required'}
        base = ifc.default('device_api_path')
        if path == base and method == 'GET':
            devs = self.devices
            if 'hostid' in query:
                devs = [d for d in devs if query['hostid'] in d['serverIds']]
            if 'alias' in query:
                devs = [d for d in devs if d['alias'] == query['alias']]
            return 200, {'devices': devs}
        if path == base and method == 'POST':
            ids = body.get('serverIds') or []
            for d in self.devices:
                for h in ids:
                    if h in d['serverIds']:
                        code = 'ALREADY_REGISTERED_AS_MAIN' if d['serverIds'][0] == h else 'ALREADY_IN_PAIR'
                        return 409, {'status': 'ERROR', 'code': code,
                                     'message': 'Server %s is already registered (device %s).' % (h, d['deviceId'])}
            self.next += 1
            dev = self.make('FNLS-%06d' % self.next, ids, by='device-api')
            dev['alias'] = body.get('alias') or ''
            self.devices.append(dev)
            return 201, dev
        if path.startswith(base + '/'):
            did = path[len(base) + 1:]
            for d in self.devices:
                if d['deviceId'] == did:
                    if method == 'DELETE':
                        self.devices.remove(d)
                        return 200, {'deleted': did}
                    return 200, d
            return 404, {'status': 'ERROR', 'code': 'NOT_FOUND', 'message': 'no device %s' % did}
        return 404, {'status': 'ERROR', 'code': 'NOT_FOUND', 'message': 'no such page'}


# --------------------------------------------------------------------------------------------
# URL building
# --------------------------------------------------------------------------------------------
def test_urls_from_base():
    base = 'http://main.example.com:7070/'
    assert ifc.health_url(base) == 'http://main.example.com:7070/api/1.0/instances/~/health'
    assert ifc.status_url(base) == 'http://main.example.com:7070/api/1.0/instances/~/status'
    assert ifc.config_url(base) == 'http://main.example.com:7070/api/1.0/instances/~/config'
    assert ifc.hostids_url(base) == 'http://main.example.com:7070/api/1.0/hostids'
    assert ifc.sync_url(base) == 'http://main.example.com:7070/fne/bin/sync'
    assert ifc.server_url('main.example.com') == 'http://main.example.com:7070'
    assert ifc.server_url('::1', 1443, 'https') == 'https://[::1]:1443'


def test_backoffice_urls():
    base = 'http://fno.example.com:8888'
    assert ifc.backoffice_capability_url(base) == base + '/flexnet/deviceservices'
    assert ifc.backoffice_base(base + '/flexnet/deviceservices') == base
    assert ifc.backoffice_base(base + '/') == base
    assert ifc.devices_url(base) == base + '/flexnet/operations/devices'
    assert ifc.devices_url(base, hostid='0A1B2C3D4E5F/ETHERNET') == \
        base + '/flexnet/operations/devices?hostid=0A1B2C3D4E5F%2FETHERNET'
    assert ifc.device_url(base, 'FNLS-000001') == base + '/flexnet/operations/devices/FNLS-000001'
    assert ifc.device_url(base, '../x') == base + '/flexnet/operations/devices/..%2Fx'
    assert ifc.portal_server_url(base, 'FNLS-000001') == base + '/portal/servers/FNLS-000001'


def test_defaults_are_marked():
    for key, entry in ifc.DEFAULTS.items():
        assert entry['mark'] in ('C', 'M'), key
        assert entry['override'], key
    assert ifc.service_name() == 'flexnetls-demo'
    assert ifc.service_name('acme') == 'flexnetls-acme'
    assert ifc.log_path() == '/var/opt/flexnetls/demo/logs/flexnetls.log'
    assert ifc.settings_path('acme') == '/etc/default/flexnetls-acme'
    assert ifc.default('port') == 7070


def test_redact_url():
    assert ifc.redact_url('http://u:p@h:1/x') == 'http://h:1/x'
    assert ifc.redact_url('http://h:1/x') == 'http://h:1/x'


# --------------------------------------------------------------------------------------------
# error classification
# --------------------------------------------------------------------------------------------
@pytest.fixture
def stub():
    routes = {}

    def handle(method, path, query, headers, body):
        fn = routes.get(path)
        if fn is None:
            return 404, {'error': 'not found'}
        return fn(method, body)

    s = StubServer(handle)
    s.routes = routes
    yield s
    s.stop()


def test_connection_refused_is_unreachable():
    http = JsonHttp(closed_url(), timeout=2)
    with pytest.raises(Unreachable) as e:
        http.get('/x')
    assert 'connection refused' in str(e.value)


def test_reset_is_unreachable(stub):
    stub.routes['/x'] = lambda m, b: 'drop'
    with pytest.raises(Unreachable):
        JsonHttp(stub.url, timeout=2).get('/x')


def test_slow_answer_is_timeout(stub):
    def slow(m, b):
        time.sleep(1.0)
        return 200, {}
    stub.routes['/x'] = slow
    with pytest.raises(Timeout) as e:
        JsonHttp(stub.url, timeout=0.3).get('/x')
    assert 'no answer within 0.3 s' in str(e.value)


def test_503_not_ready(stub):
    stub.routes['/x'] = lambda m, b: (503, {'error': 'not ready'})
    with pytest.raises(NotReady):
        JsonHttp(stub.url).get('/x')


def test_503_other_is_http_error(stub):
    stub.routes['/x'] = lambda m, b: (503, {'error': 'back-up server is not active: the main server is up'})
    with pytest.raises(HttpError) as e:
        JsonHttp(stub.url).get('/x')
    assert not isinstance(e.value, NotReady)
    assert e.value.status == 503
    assert 'not active' in str(e.value)


def test_401_is_auth_failed(stub):
    stub.routes['/x'] = lambda m, b: (401, {'error': 'bad token'})
    with pytest.raises(AuthFailed) as e:
        JsonHttp(stub.url).get('/x')
    assert e.value.status == 401


def test_http_error_carries_code_and_message(stub):
    stub.routes['/x'] = lambda m, b: (409, {'status': 'ERROR', 'code': 'PAIR_CONFLICT', 'message': 'X is paired.'})
    with pytest.raises(HttpError) as e:
        JsonHttp(stub.url).post('/x', {'a': 1})
    assert e.value.status == 409
    assert e.value.code == 'PAIR_CONFLICT'
    assert str(e.value) == 'POST %s/x answered HTTP 409 (PAIR_CONFLICT): X is paired.' % stub.url


def test_malformed_json_is_bad_response(stub):
    stub.routes['/x'] = lambda m, b: (200, b'{"broken": ')
    with pytest.raises(BadResponse):
        JsonHttp(stub.url).get('/x')


def test_error_with_html_body(stub):
    stub.routes['/x'] = lambda m, b: (500, b'<html>oops</html>')
    with pytest.raises(HttpError) as e:
        JsonHttp(stub.url).get('/x')
    assert e.value.status == 500
    assert 'oops' in str(e.value)


def test_errors_share_a_base():
    for cls in (Unreachable, Timeout, NotReady, AuthFailed, HttpError, BadResponse):
        assert issubclass(cls, FnlsHttpError)


def test_empty_body_is_none(stub):
    stub.routes['/x'] = lambda m, b: (204, None)
    assert JsonHttp(stub.url).get('/x') is None


def test_secret_echoed_by_server_is_scrubbed(stub):
    stub.routes['/x'] = lambda m, b: (400, {'error': 'bad value %s' % PASSWORD})
    http = JsonHttp(stub.url)
    http.add_secret(PASSWORD)
    with pytest.raises(HttpError) as e:
        http.get('/x')
    assert PASSWORD not in str(e.value)
    assert '********' in str(e.value)


# --------------------------------------------------------------------------------------------
# LicenseServerClient
# --------------------------------------------------------------------------------------------
@pytest.fixture
def fnls():
    s = FakeLicenseServer()
    yield s
    s.stop()


def test_health_up_and_starting(fnls):
    c = LicenseServerClient(fnls.url, 'admin', PASSWORD)
    assert c.health()['status'] == 'UP'
    fnls.health = 'STARTING'
    with pytest.raises(NotReady):
        c.health()


def test_authorize_caches_token(fnls):
    c = LicenseServerClient(fnls.url, 'admin', PASSWORD)
    c.status()
    c.config_get()
    c.hostids()
    assert fnls.issued == 1


def test_reauthorizes_once_on_401(fnls):
    c = LicenseServerClient(fnls.url, 'admin', PASSWORD)
    c.status()
    fnls.expire_tokens()
    assert c.status()['state'] == 'READY'
    assert fnls.issued == 2


def test_gives_up_after_second_401(fnls):
    c = LicenseServerClient(fnls.url, 'admin', PASSWORD)
    c.status()
    original = fnls.handle

    def refuse_admin(method, path, query, headers, body):
        if path == ifc.default('status_path'):
            return 401, {'error': 'token expired'}
        return original(method, path, query, headers, body)
    fnls.stub.handle = refuse_admin
    with pytest.raises(AuthFailed):
        c.status()
    assert fnls.issued == 2


def test_bad_password_message_has_no_secret(fnls):
    c = LicenseServerClient(fnls.url, 'admin', 'wrong-' + PASSWORD)
    with pytest.raises(AuthFailed) as e:
        c.status()
    assert PASSWORD not in str(e.value)
    assert 'admin_password' in str(e.value)


def test_token_never_in_messages(fnls):
    c = LicenseServerClient(fnls.url, 'admin', PASSWORD)
    c.authorize()
    fnls.not_ready = True
    with pytest.raises(NotReady) as e:
        c.status()
    assert c.token not in str(e.value)


def test_config_set_and_get(fnls):
    c = LicenseServerClient(fnls.url, 'admin', PASSWORD)
    after = c.config_set({'fne.syncTo.enabled': 'true'})
    assert after['fne.syncTo.enabled'] == 'true'
    assert c.config_get()['fne.syncTo.enabled'] == 'true'
    with pytest.raises(HttpError) as e:
        c.config_set({'no.such.key': 'x'})
    assert e.value.status == 400


def test_not_ready_while_starting(fnls):
    fnls.not_ready = True
    c = LicenseServerClient(fnls.url, 'admin', PASSWORD)
    with pytest.raises(NotReady):
        c.status()


# --------------------------------------------------------------------------------------------
# BackOfficeClient
# --------------------------------------------------------------------------------------------
@pytest.fixture
def bo():
    s = FakeBackOffice()
    yield s
    s.stop()


def test_backoffice_device_cycle(bo):
    c = BackOfficeClient(bo.url + '/flexnet/deviceservices', 'admin', PASSWORD)
    assert c.base_url == bo.url
    assert c.devices() == []
    dev = c.create_device(['0A1B2C3D4E5F/ETHERNET', '0A1B2C3D4E60/ETHERNET'], alias='pair')
    assert dev['serverIds'] == ['0A1B2C3D4E5F/ETHERNET', '0A1B2C3D4E60/ETHERNET']
    assert [d['deviceId'] for d in c.devices(hostid='0A1B2C3D4E60/ETHERNET')] == [dev['deviceId']]
    assert c.device(dev['deviceId'])['alias'] == 'pair'
    assert c.device('FNLS-999999') is None
    assert c.delete_device(dev['deviceId']) == {'deleted': dev['deviceId']}
    with pytest.raises(HttpError) as e:
        c.delete_device(dev['deviceId'])
    assert e.value.status == 404
    assert c.portal_url('FNLS-1') == bo.url + '/portal/servers/FNLS-1'


def test_backoffice_conflict(bo):
    c = BackOfficeClient(bo.url, 'admin', PASSWORD)
    c.create_device(['0A1B2C3D4E60/ETHERNET'])
    with pytest.raises(HttpError) as e:
        c.create_device(['0A1B2C3D4E5F/ETHERNET', '0A1B2C3D4E60/ETHERNET'])
    assert e.value.status == 409
    assert e.value.code == 'ALREADY_REGISTERED_AS_MAIN'


def test_backoffice_bad_credentials(bo):
    c = BackOfficeClient(bo.url, 'admin', 'wrong-' + PASSWORD)
    with pytest.raises(AuthFailed) as e:
        c.devices()
    assert PASSWORD not in str(e.value)
    assert 'backoffice_password' in str(e.value)


def test_https_to_plain_http_port_is_unreachable(stub):
    stub.routes['/x'] = lambda m, b: (200, {})
    http = JsonHttp(stub.url.replace('http://', 'https://'), timeout=2, validate_certs=False)
    with pytest.raises(Unreachable) as e:
        http.get('/x')
    assert str(e.value).startswith('Could not connect to https://127.0.0.1:')
