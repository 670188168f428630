# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Servers and back offices that misbehave, at the HTTP layer: TLS (a certificate of an unknown CA with
validate_certs on by default, ca_path, validate_certs off, a name mismatch), answers that are not JSON,
errors without a JSON body, slow answers, and secrets kept out of every message.

The HTTPS stubs are the plain stubs of test_fnls_http.py with their listening socket wrapped in TLS; the
certificates are made here (a CA and a server certificate for 127.0.0.1) with ``cryptography`` when it is
installed, else with the ``openssl`` command. docs/FAULTS.md lists these tests in the fault matrix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import shutil
import ssl
import subprocess
import time

import pytest

from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    AuthFailed, BackOfficeClient, BadResponse, HttpError, JsonHttp, LicenseServerClient, NotReady, Timeout,
    Unreachable)
# the stub servers of test_fnls_http.py, loaded once and shared with the module tests
from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import PASSWORD, stubs


# --------------------------------------------------------------------------------------------
# certificates
# --------------------------------------------------------------------------------------------
def _make_certs_cryptography(directory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)

    def key_pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'fnls test CA')])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    def leaf(names, ips):
        key = ec.generate_private_key(ec.SECP256R1())
        san = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (names or ips)[0])]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(san), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM), key_pem(key)

    files = {'ca': directory / 'ca.pem'}
    files['ca'].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for name, (names, ips) in (('server', ([u'localhost'], [u'127.0.0.1'])), ('other', ([u'fno.example.com'], []))):
        cert, key = leaf(names, ips)
        (directory / (name + '.pem')).write_bytes(cert)
        (directory / (name + '.key')).write_bytes(key)
        files[name] = (directory / (name + '.pem'), directory / (name + '.key'))
    return files


def _make_certs_openssl(directory):
    def sh(*args):
        subprocess.run(['openssl'] + list(args), check=True, cwd=str(directory),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sh('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
       '-subj', '/CN=fnls test CA', '-keyout', 'ca.key', '-out', 'ca.pem',
       '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    files = {'ca': directory / 'ca.pem'}
    for name, cn, san in (('server', 'localhost', 'DNS:localhost,IP:127.0.0.1'),
                          ('other', 'fno.example.com', 'DNS:fno.example.com')):
        (directory / (name + '.ext')).write_text('subjectAltName=%s\nextendedKeyUsage=serverAuth\n' % san)
        sh('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=' + cn,
           '-keyout', name + '.key', '-out', name + '.csr')
        sh('x509', '-req', '-in', name + '.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
           '-days', '1', '-extfile', name + '.ext', '-out', name + '.pem')
        files[name] = (directory / (name + '.pem'), directory / (name + '.key'))
    return files


@pytest.fixture(scope='module')
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp('tls')
    try:
        import cryptography  # noqa: F401
    except ImportError:
        if shutil.which('openssl') is None:
            pytest.skip('neither the cryptography package nor the openssl command is available')
        return _make_certs_openssl(directory)
    return _make_certs_cryptography(directory)


def serve_tls(stub, cert):
    """Wrap a running StubServer's listening socket in TLS with ``cert`` (a (pem, key) pair); returns its URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    stub.httpd.socket = context.wrap_socket(stub.httpd.socket, server_side=True)
    stub.httpd.handle_error = lambda *args: None     # a refused handshake is the client's business here
    stub.url = stub.url.replace('http://', 'https://')
    return stub.url


@pytest.fixture
def https_stub(certs):
    s = stubs.StubServer(lambda method, path, query, headers, body: (200, {'status': 'UP', 'path': path}))
    serve_tls(s, certs['server'])
    yield s
    s.stop()


@pytest.fixture
def https_fnls(certs):
    s = stubs.FakeLicenseServer()
    s.url = serve_tls(s.stub, certs['server'])
    yield s
    s.stop()


@pytest.fixture
def https_bo(certs):
    s = stubs.FakeBackOffice()
    s.url = serve_tls(s.stub, certs['server'])
    yield s
    s.stop()


def assert_tls_refusal(error, url):
    text = str(error)
    assert isinstance(error, Unreachable), repr(error)
    assert text.startswith('Could not connect to %s' % url), text
    assert 'certificate verify failed' in text, text
    assert 'set ca_path to the CA that signed it' in text, text
    assert PASSWORD not in text
    assert '\n' not in text


# --------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------
def test_tls_unknown_ca_is_refused_by_default_with_what_to_do(https_stub):
    http = JsonHttp(https_stub.url, timeout=5)
    assert http.validate_certs is True
    with pytest.raises(Unreachable) as e:
        http.get('/x')
    assert_tls_refusal(e.value, https_stub.url)


def test_tls_ca_path_makes_the_certificate_trusted(https_stub, certs):
    assert JsonHttp(https_stub.url, ca_path=str(certs['ca']), timeout=5).get('/x') == {'status': 'UP', 'path': '/x'}


def test_tls_validate_certs_off_accepts_the_certificate(https_stub):
    assert JsonHttp(https_stub.url, validate_certs=False, timeout=5).get('/x')['status'] == 'UP'


def test_tls_name_mismatch_is_refused_even_with_the_right_ca(certs):
    s = stubs.StubServer(lambda *a: (200, {}))
    try:
        url = serve_tls(s, certs['other'])             # issued for fno.example.com, reached as 127.0.0.1
        with pytest.raises(Unreachable) as e:
            JsonHttp(url, ca_path=str(certs['ca']), timeout=5).get('/x')
        assert 'TLS' in str(e.value) and 'mismatch' in str(e.value), str(e.value)
    finally:
        s.stop()


def test_tls_wrong_ca_file_is_refused(https_stub, tmp_path, certs):
    other = tmp_path / 'other-ca.pem'
    other.write_bytes(certs['other'][0].read_bytes())   # a leaf, not the CA that signed the server's certificate
    with pytest.raises(Unreachable) as e:
        JsonHttp(https_stub.url, ca_path=str(other), timeout=5).get('/x')
    assert_tls_refusal(e.value, https_stub.url)


def test_tls_license_server_client_default_and_ca_path(https_fnls, certs):
    with pytest.raises(Unreachable) as e:
        LicenseServerClient(https_fnls.url, 'admin', PASSWORD, timeout=5).status()
    assert_tls_refusal(e.value, https_fnls.url)
    client = LicenseServerClient(https_fnls.url, 'admin', PASSWORD, ca_path=str(certs['ca']), timeout=5)
    assert client.status()['state'] == 'READY'


def test_tls_backoffice_client_default_and_ca_path(https_bo, certs):
    with pytest.raises(Unreachable) as e:
        BackOfficeClient(https_bo.url, 'admin', PASSWORD, timeout=5).devices()
    assert_tls_refusal(e.value, https_bo.url)
    assert BackOfficeClient(https_bo.url, 'admin', PASSWORD, ca_path=str(certs['ca']), timeout=5).devices() == []


def test_plain_http_answer_on_a_tls_port_is_not_mistaken_for_a_certificate_problem():
    s = stubs.StubServer(lambda *a: (200, {}))
    try:
        with pytest.raises(Unreachable) as e:
            JsonHttp(s.url.replace('http://', 'https://'), timeout=3).get('/x')
        assert 'set ca_path' not in str(e.value)
    finally:
        s.stop()


# --------------------------------------------------------------------------------------------
# answers that are not what was asked for
# --------------------------------------------------------------------------------------------
@pytest.fixture
def stub():
    routes = {}

    def handle(method, path, query, headers, body):
        fn = routes.get(path)
        return (404, {'error': 'not found'}) if fn is None else fn(method, body)

    s = stubs.StubServer(handle)
    s.httpd.handle_error = lambda *args: None    # a client that timed out leaves a broken pipe behind
    s.routes = routes
    yield s
    s.stop()


@pytest.mark.parametrize('raw', [b'{"state": ', b'<html><body>Bad gateway</body></html>', b'\xff\xfe\x00garbage',
                                 b'null?'])
def test_malformed_json_status_is_a_bad_response_naming_the_url(stub, raw):
    path = '/api/1.0/instances/~/status'
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (200, {'token': 'tok-1', 'expires': 'x'})
    stub.routes[path] = lambda m, b: (200, raw)
    with pytest.raises(BadResponse) as e:
        LicenseServerClient(stub.url, 'admin', PASSWORD, timeout=5).status()
    text = str(e.value)
    assert stub.url + path in text and 'not JSON' in text, text
    assert PASSWORD not in text and 'tok-1' not in text


def test_authorize_answer_without_token_is_a_bad_response(stub):
    stub.routes['/api/1.0/instances/~/authorize'] = lambda m, b: (200, {'expires': 'x'})
    with pytest.raises(BadResponse) as e:
        LicenseServerClient(stub.url, 'admin', PASSWORD, timeout=5).status()
    assert 'without a token' in str(e.value)


def test_backoffice_device_query_without_a_list_is_a_bad_response(stub):
    stub.routes['/flexnet/operations/devices'] = lambda m, b: (200, {'items': []})
    with pytest.raises(BadResponse) as e:
        BackOfficeClient(stub.url, 'admin', PASSWORD, timeout=5).devices()
    assert "without a list at 'devices' (profile key device_api.fields.list)" in str(e.value)


@pytest.mark.parametrize('status', [500, 502, 504])
def test_backoffice_server_errors_carry_status_and_text(stub, status):
    stub.routes['/flexnet/operations/devices'] = lambda m, b: (status, b'<html>upstream failed</html>')
    with pytest.raises(HttpError) as e:
        BackOfficeClient(stub.url, 'admin', PASSWORD, timeout=5).devices()
    assert e.value.status == status
    assert 'HTTP %d' % status in str(e.value) and 'upstream failed' in str(e.value)
    assert not isinstance(e.value, (NotReady, AuthFailed))


def test_503_not_ready_during_start_is_not_an_outage(stub):
    stub.routes['/api/1.0/instances/~/health'] = lambda m, b: (503, {'status': 'STARTING'})
    with pytest.raises(NotReady) as e:
        LicenseServerClient(stub.url, timeout=5).health()
    assert 'not ready yet' in str(e.value)


def test_slow_license_server_times_out_with_the_timeout_named(stub):
    def slow(method, body):
        time.sleep(1.0)
        return 200, {'status': 'UP'}
    stub.routes['/api/1.0/instances/~/health'] = slow
    started = time.monotonic()
    with pytest.raises(Timeout) as e:
        LicenseServerClient(stub.url, timeout=0.3).health()
    assert time.monotonic() - started < 0.95
    assert 'no answer within 0.3 s' in str(e.value)


def test_slow_backoffice_times_out_without_the_credentials_in_the_message(stub):
    def slow(method, body):
        time.sleep(1.0)
        return 200, {'devices': []}
    stub.routes['/flexnet/operations/devices'] = slow
    with pytest.raises(Timeout) as e:
        BackOfficeClient(stub.url, 'admin', PASSWORD, timeout=0.3).devices()
    assert 'no answer within 0.3 s' in str(e.value)
    assert PASSWORD not in str(e.value)


def test_credentials_in_the_url_never_reach_a_message():
    url = stubs.closed_url().replace('http://', 'http://admin:%s@' % PASSWORD)
    with pytest.raises(Unreachable) as e:
        JsonHttp(url, timeout=2).get('/x')
    assert PASSWORD not in str(e.value)


def test_backoffice_401_message_has_neither_password_nor_basic_token(stub):
    import base64
    stub.routes['/flexnet/operations/devices'] = lambda m, b: (
        401, {'error': 'refused %s' % base64.b64encode(('admin:%s' % PASSWORD).encode()).decode()})
    with pytest.raises(AuthFailed) as e:
        BackOfficeClient(stub.url, 'admin', PASSWORD, timeout=5).devices()
    text = str(e.value)
    assert PASSWORD not in text
    assert base64.b64encode(('admin:%s' % PASSWORD).encode()).decode() not in text
    assert 'backoffice_password' in text
