# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SOAP device API style: the envelopes fnls_soap builds and reads, and BackOfficeClient in style ``soap``
against a stub (faults, statusInfo, paging, DTDs) and against the lab's own ManageDeviceService."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
from xml.etree import ElementTree as ET

import pytest

from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile as P
from ansible_collections.fnls.failover.plugins.module_utils import fnls_soap as S
from ansible_collections.fnls.failover.plugins.module_utils.fnls_http import (
    AuthFailed, BackOfficeClient, BadResponse, HttpError, NotSupported, ProfileMismatch)
# the stub servers of test_fnls_http.py, loaded once and shared with the module tests
from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import PASSWORD, stubs

StubServer = stubs.StubServer

NS = S.NS
ENV = S.SOAP_ENV
X = '0A1B2C3D4E5F/ETHERNET'
Y = '0A1B2C3D4E60/ETHERNET'
Z = '0A1B2C3D4E61/ETHERNET'
SOAP_PATH = '/flexnet/services/v3/ManageDeviceService'


def q(name):
    return '{%s}%s' % (NS, name)


def payload(raw):
    """The one element in the Body of the envelope ``raw``."""
    root = ET.fromstring(raw)
    assert root.tag == '{%s}Envelope' % ENV
    [el] = list(root.find('{%s}Body' % ENV))
    return el


def local(el):
    return [S.split_tag(c.tag)[1] for c in el]


def answer(op, inner=''):
    return ('<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="%s"><soapenv:Body>'
            '<fno:%s xmlns:fno="%s">%s</fno:%s></soapenv:Body></soapenv:Envelope>' % (ENV, op, NS, inner, op)).encode()


def fault(code, text):
    return ('<soapenv:Envelope xmlns:soapenv="%s"><soapenv:Body><soapenv:Fault><faultcode>soapenv:%s</faultcode>'
            '<faultstring>%s</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>' % (ENV, code, text)).encode()


def record(name, main, backup=None, last=None):
    value, htype = main.split('/')
    out = ('<fno:device><fno:deviceId><fno:id>%s</fno:id><fno:idType>%s</fno:idType>'
           '<fno:publisherName>demo</fno:publisherName><fno:deviceClass>SERVER</fno:deviceClass></fno:deviceId>'
           % (value, htype))
    if backup:
        out += '<fno:backupDeviceId>%s</fno:backupDeviceId>' % backup.split('/')[0]
    out += '<fno:name>%s</fno:name><fno:status>ACTIVE</fno:status>' % name
    if last:
        out += '<fno:lastRequestTime>%s</fno:lastRequestTime>' % last
    return out + '</fno:device>'


def soap_profile(**api):
    api.setdefault('style', 'soap')
    return P.merge({'device_api': api})


# -- building ------------------------------------------------------------------------------------------
def test_search_request_by_device_id_in_schema_order():
    el = payload(S.search_request(device_id='0A1B2C3D4E60', page=3, batch=10))
    assert el.tag == q('searchDevicesRequest')
    assert local(el) == ['queryParams', 'pageNumber', 'batchSize']
    params = el.find(q('queryParams'))
    assert local(params) == ['deviceId', 'deviceClasses']
    assert params.findtext(q('deviceId') + '/' + q('value')) == '0A1B2C3D4E60'
    assert params.findtext(q('deviceId') + '/' + q('searchType')) == 'EQUALS'
    assert [c.text for c in params.find(q('deviceClasses'))] == ['SERVER']
    assert el.findtext(q('pageNumber')) == '3' and el.findtext(q('batchSize')) == '10'


def test_search_request_by_name():
    params = payload(S.search_request(name='FNLS-000001')).find(q('queryParams'))
    assert local(params) == ['name', 'deviceClasses']
    assert params.findtext(q('name') + '/' + q('value')) == 'FNLS-000001'


def test_create_request_sends_bare_ids_with_their_type():
    el = payload(S.create_request([X, Y], alias='pair <a> & b'))
    assert el.tag == q('createDeviceRequest')
    [dev] = list(el)
    assert local(dev) == ['deviceIdentifier', 'alias']
    ident = dev.find(q('deviceIdentifier'))
    assert local(ident) == ['deviceType', 'serverIds', 'deviceIdType']
    assert ident.findtext(q('deviceType')) == 'SERVER'
    assert [c.text for c in ident.find(q('serverIds'))] == ['0A1B2C3D4E5F', '0A1B2C3D4E60']
    assert ident.findtext(q('deviceIdType')) == 'ETHERNET'
    assert dev.findtext(q('alias')) == 'pair <a> & b'        # escaped on the wire, intact when read


def test_create_request_with_mixed_types_sends_them_as_given():
    ident = payload(S.create_request([X, '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'])).find(
        q('device') + '/' + q('deviceIdentifier'))
    assert [c.text for c in ident.find(q('serverIds'))] == [X, '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID']
    assert ident.find(q('deviceIdType')) is None


def test_delete_request_names_the_device_by_unique_id():
    el = payload(S.delete_request('FNLS-000002'))
    assert el.tag == q('deleteDeviceRequest')
    ident = el.find(q('deviceIdentifier'))
    assert local(ident) == ['deviceType', 'uniqueId']
    assert ident.findtext(q('uniqueId')) == 'FNLS-000002'


def _schema():
    etree = pytest.importorskip('lxml.etree')
    soap_mod = pytest.importorskip('fnlslab.backoffice.soap')
    wsdl = etree.parse(str(soap_mod.WSDL_FILE))
    [schema] = wsdl.findall('.//{http://www.w3.org/2001/XMLSchema}schema')
    # a document of its own, with the WSDL's namespace declarations (types are named tns:...)
    alone = etree.Element(schema.tag, nsmap=schema.nsmap, attrib=dict(schema.attrib))
    alone.extend(copy.deepcopy(list(schema)))
    return etree, etree.XMLSchema(alone)


@pytest.mark.parametrize('build', [
    lambda: S.search_request(device_id='0A1B2C3D4E60', page=1, batch=2000),
    lambda: S.search_request(name='FNLS-000001', page=2, batch=5),
    S.search_request,
    lambda: S.create_request([X, Y], alias='pair-a'),
    lambda: S.create_request([Y]),
    lambda: S.delete_request('FNLS-000001'),
])
def test_requests_are_valid_against_the_v3_schema(build):
    """Each request validates against the lab's WSDL schema (the v3 names, types and order, a subset)."""
    etree, schema = _schema()
    root = etree.fromstring(build())
    [el] = root.find('{%s}Body' % ENV)
    assert schema.validate(el), schema.error_log


# -- reading -------------------------------------------------------------------------------------------
def test_parse_an_answer():
    raw = answer('searchDevicesResponse', '<fno:statusInfo><fno:status>SUCCESS</fno:status></fno:statusInfo>'
                 '<fno:devices>%s</fno:devices>' % record('FNLS-000001', X, Y, '2026-11-29T12:00:04.000Z'))
    name, obj = S.parse(raw, expected='searchDevicesResponse')
    assert name == 'searchDevicesResponse'
    assert S.status(obj) == ('SUCCESS', None, None)
    [dev] = obj['devices']['device']
    d = P.device(dev, soap_profile())
    assert d['deviceId'] == 'FNLS-000001' and d['serverIds'] == [X, Y]
    assert d['servers'] == [{'hostid': X, 'role': 'MAIN'}, {'hostid': Y, 'role': 'BACKUP'}]
    assert d['lastContact'] == '2026-11-29T12:00:04.000Z'


def test_the_soap_fields_of_the_profile_are_read():
    raw = answer('searchDevicesResponse', '<fno:statusInfo><fno:status>SUCCESS</fno:status></fno:statusInfo>'
                 '<fno:devices>%s</fno:devices>' % record('FNLS-000001', X, last='2026-11-29T12:00:04.000Z'))
    [dev] = S.parse(raw)[1]['devices']['device']
    d = P.device(dev, P.merge({'device_api': {'style': 'soap', 'fields': {'soap_id': 'deviceId.id',
                                                                          'soap_last_contact': 'nowhere'}}}))
    assert d['deviceId'] == '0A1B2C3D4E5F' and d['lastContact'] is None and d['serverIds'] == [X]


def test_parse_a_fault_with_a_failure_code():
    with pytest.raises(S.SoapFault) as e:
        S.parse(fault('Client', 'INVALID_REQUEST: pageNumber must be an integer of at least 1.'))
    assert e.value.faultcode == 'Client' and e.value.code == 'INVALID_REQUEST'
    assert 'pageNumber must be' in e.value.faultstring


def test_parse_a_fault_without_a_code():
    with pytest.raises(S.SoapFault) as e:
        S.parse(fault('Server', 'Internal error in the back office.'))
    assert e.value.faultcode == 'Server' and e.value.code is None


BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<soapenv:Envelope xmlns:soapenv="' + ENV.encode() + b'"><soapenv:Body><x>&lol2;</x></soapenv:Body>'
        b'</soapenv:Envelope>')


@pytest.mark.parametrize('raw', [
    BOMB,
    BOMB.replace(b'<?xml version="1.0"?>', b'').decode().encode('utf-16'),   # not found by the byte look
    b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
])
def test_a_dtd_is_refused(raw):
    with pytest.raises(S.SoapError) as e:
        S.parse(raw)
    assert 'document type declaration' in str(e.value)


def test_the_expat_guard_alone_finds_a_dtd_in_utf16():
    raw = BOMB.replace(b'<?xml version="1.0"?>', b'').decode().encode('utf-16')
    assert b'<!DOCTYPE' not in raw.upper()
    with pytest.raises(S.SoapError):
        S.refuse_dtd(raw)


@pytest.mark.parametrize('raw, words', [
    (b'{"devices": []}', 'not well-formed'),
    (b'', 'empty'),
    (b'<Envelope/>', 'not a SOAP 1.1 envelope'),
    (answer('searchDevicesResponse').replace(NS.encode(), b'urn:other'), 'not in namespace'),
    (answer('getDeviceResponse'), 'not searchDevicesResponse'),
])
def test_what_is_not_a_soap_answer(raw, words):
    with pytest.raises(S.SoapError) as e:
        S.parse(raw, expected='searchDevicesResponse')
    assert words in str(e.value)


def test_status_of_a_partial_failure():
    raw = answer('createDeviceResponse',
                 '<fno:statusInfo><fno:status>PARTIAL_FAILURE</fno:status>'
                 '<fno:reason>1 of 2 devices failed; see failedData.</fno:reason></fno:statusInfo>'
                 '<fno:failedData><fno:failedDevice><fno:reason>SAME_HOSTID: X twice.</fno:reason></fno:failedDevice>'
                 '</fno:failedData>')
    state, reason, code = S.status(S.parse(raw)[1])
    assert state == 'PARTIAL_FAILURE' and code == 'SAME_HOSTID'
    assert reason == '1 of 2 devices failed; see failedData: SAME_HOSTID: X twice.'


def test_status_of_one_failure_names_it_once():
    raw = answer('deleteDeviceResponse',
                 '<fno:statusInfo><fno:status>FAILURE</fno:status><fno:reason>No such device.</fno:reason>'
                 '</fno:statusInfo><fno:failedData><fno:failedDevice><fno:reason>NOT_FOUND: No such device.'
                 '</fno:reason></fno:failedDevice></fno:failedData>')
    assert S.status(S.parse(raw)[1]) == ('FAILURE', 'NOT_FOUND: No such device.', 'NOT_FOUND')


# -- the client against a stub ---------------------------------------------------------------------------
class FakeSoap(object):
    """A ManageDeviceService stub: ``devices`` [(name, main, backup)]; searchDevices pages as FNO does; every
    other answer is whatever ``reply`` is set to."""

    def __init__(self):
        self.auth = 'Basic ' + base64.b64encode(('admin:%s' % PASSWORD).encode()).decode()
        self.devices = []
        self.reply = None
        self.seen = []
        self.stub = StubServer(self.handle)
        self.url = self.stub.url

    def stop(self):
        self.stub.stop()

    def handle(self, method, path, query, headers, body):
        if path != SOAP_PATH or method != 'POST':
            return 404, b'no such path'
        if headers.get('Authorization') != self.auth:
            return 401, fault('Client', 'Authentication required.')
        el = payload(body)
        self.seen.append((dict(headers), el))
        if self.reply is not None:
            return self.reply
        params = el.find(q('queryParams'))
        wanted = params.findtext(q('deviceId') + '/' + q('value'))
        name = params.findtext(q('name') + '/' + q('value'))
        found = [d for d in self.devices
                 if (wanted is None or wanted in (d[1].split('/')[0], (d[2] or '/').split('/')[0]))
                 and (name is None or name.lower() == d[0].lower())]
        page, batch = int(el.findtext(q('pageNumber')) or 1), int(el.findtext(q('batchSize')) or 100)
        found = found[(page - 1) * batch:page * batch]
        return 200, answer('searchDevicesResponse',
                           '<fno:statusInfo><fno:status>SUCCESS</fno:status></fno:statusInfo><fno:devices>%s'
                           '</fno:devices>' % ''.join(record(*d) for d in found))


@pytest.fixture
def fake():
    s = FakeSoap()
    yield s
    s.stop()


def client(url, password=PASSWORD, **api):
    return BackOfficeClient(url, 'admin', password, timeout=5, profile=soap_profile(**api))


def test_requests_are_soap_11_with_basic_auth(fake):
    c = client(fake.url + SOAP_PATH)
    assert c.base_url == fake.url                       # a URL given with the SOAP path is the base
    assert c.devices() == []
    headers, el = fake.seen[0]
    headers = dict((k.lower(), v) for k, v in headers.items())
    assert headers['content-type'].startswith('text/xml') and headers['soapaction'] == '""'
    assert headers['authorization'] == fake.auth
    assert el.tag == q('searchDevicesRequest')
    assert el.findtext(q('batchSize')) == '2000'


def test_search_pages_until_a_short_page(fake):
    fake.devices = [('FNLS-%06d' % i, '0A1B2C3D4E%02X/ETHERNET' % i, None) for i in range(5)]
    devs = client(fake.url, batch_size=2).devices()
    assert [d['deviceId'] for d in devs] == ['FNLS-%06d' % i for i in range(5)]
    assert [el.findtext(q('pageNumber')) for _h, el in fake.seen] == ['1', '2', '3']
    assert set(el.findtext(q('batchSize')) for _h, el in fake.seen) == {'2'}


def test_search_of_a_full_last_page_asks_once_more(fake):
    fake.devices = [('FNLS-%06d' % i, '0A1B2C3D4E%02X/ETHERNET' % i, None) for i in range(4)]
    assert len(client(fake.url, batch_size=2).devices()) == 4
    assert len(fake.seen) == 3


def test_devices_by_hostid_match_main_or_backup_of_the_same_type(fake):
    fake.devices = [('FNLS-000001', X, Y), ('FNLS-000002', Z, None),
                    ('FNLS-000003', '0A1B2C3D4E60/CONTAINER_ID', None)]
    c = client(fake.url)
    assert [d['deviceId'] for d in c.devices(hostid=Y)] == ['FNLS-000001']
    assert fake.seen[-1][1].findtext('%s/%s/%s' % (q('queryParams'), q('deviceId'), q('value'))) == '0A1B2C3D4E60'
    assert [d['deviceId'] for d in c.devices(hostid='0A1B2C3D4E60/CONTAINER_ID')] == ['FNLS-000003']
    assert [d['deviceId'] for d in c.devices(hostid=X)] == ['FNLS-000001']
    assert c.devices(hostid='0A1B2C3D4E62/ETHERNET') == []


def test_device_by_name(fake):
    fake.devices = [('FNLS-000001', X, Y)]
    c = client(fake.url)
    assert c.device('FNLS-000001')['serverIds'] == [X, Y]
    assert c.device('FNLS-000009') is None


def test_alias_is_not_supported(fake):
    with pytest.raises(NotSupported) as e:
        client(fake.url).devices(alias='pair-a')
    assert 'alias' in str(e.value)
    assert fake.seen == []


def test_a_fault_is_an_http_error_with_its_reason_and_code(fake):
    fake.reply = (500, fault('Client', 'INVALID_REQUEST: batchSize must be an integer from 1 to 2000.'))
    with pytest.raises(HttpError) as e:
        client(fake.url).devices()
    assert e.value.status == 500 and e.value.code == 'INVALID_REQUEST'
    assert 'SOAP Client fault' in str(e.value) and 'batchSize must be an integer' in str(e.value)
    assert '<faultstring>' not in str(e.value)


def test_a_fault_in_a_200_answer_is_an_http_error_too(fake):
    fake.reply = (200, fault('Server', 'Internal error.'))
    with pytest.raises(HttpError) as e:
        client(fake.url).devices()
    assert e.value.status == 200 and 'SOAP Server fault' in str(e.value) and 'Internal error' in str(e.value)


def test_a_partial_failure_is_an_http_error(fake):
    fake.reply = (200, answer('createDeviceResponse',
                              '<fno:statusInfo><fno:status>PARTIAL_FAILURE</fno:status>'
                              '<fno:reason>1 of 2 devices failed; see failedData.</fno:reason></fno:statusInfo>'
                              '<fno:failedData><fno:failedDevice><fno:reason>ALREADY_IN_PAIR: Y is the back-up of X.'
                              '</fno:reason></fno:failedDevice></fno:failedData>'))
    with pytest.raises(HttpError) as e:
        client(fake.url).create_device([Z, Y])
    assert e.value.code == 'ALREADY_IN_PAIR'
    assert 'refused to create the device' in str(e.value) and 'PARTIAL_FAILURE' in str(e.value)
    assert 'Y is the back-up of X' in str(e.value)


def test_a_failed_create_names_the_code(fake):
    fake.reply = (200, answer('createDeviceResponse',
                              '<fno:statusInfo><fno:status>FAILURE</fno:status><fno:reason>Server Y is already '
                              'registered in the main-server role (device FNLS-000002).</fno:reason></fno:statusInfo>'
                              '<fno:failedData><fno:failedDevice><fno:reason>ALREADY_REGISTERED_AS_MAIN: Server Y is '
                              'already registered in the main-server role (device FNLS-000002).</fno:reason>'
                              '</fno:failedDevice></fno:failedData><fno:responseData/>'))
    with pytest.raises(HttpError) as e:
        client(fake.url).create_device([X, Y])
    assert e.value.code == 'ALREADY_REGISTERED_AS_MAIN'
    assert 'ALREADY_REGISTERED_AS_MAIN' in str(e.value) and 'FNLS-000002' in str(e.value)


def test_an_answer_without_status_info_is_refused(fake):
    fake.reply = (200, answer('deleteDeviceResponse'))
    with pytest.raises(HttpError) as e:
        client(fake.url).delete_device('FNLS-000001')
    assert 'no statusInfo' in str(e.value)


def test_a_dtd_in_an_answer_is_refused(fake):
    fake.reply = (200, BOMB)
    with pytest.raises(BadResponse) as e:
        client(fake.url).devices()
    assert isinstance(e.value, ProfileMismatch)
    assert 'document type declaration' in str(e.value) and 'lollol' not in str(e.value)


def test_json_where_soap_was_expected_names_the_profile_keys(fake):
    fake.reply = (200, b'{"devices": []}')
    with pytest.raises(ProfileMismatch) as e:
        client(fake.url).devices()
    assert 'device_api.style' in str(e.value) and 'device_api.soap_path' in str(e.value)


def test_wrong_password_is_auth_failed_without_the_secret(fake):
    with pytest.raises(AuthFailed) as e:
        client(fake.url, password='wrong-' + PASSWORD).devices()
    assert 'backoffice_password' in str(e.value) and PASSWORD not in str(e.value)


def test_a_secret_echoed_in_a_fault_is_scrubbed(fake):
    fake.reply = (500, fault('Client', 'Bad password %s for admin.' % PASSWORD))
    with pytest.raises(HttpError) as e:
        client(fake.url).devices()
    assert PASSWORD not in str(e.value) and '********' in str(e.value)


def test_a_secret_echoed_in_a_status_reason_is_scrubbed(fake):
    fake.reply = (200, answer('deleteDeviceResponse', '<fno:statusInfo><fno:status>FAILURE</fno:status>'
                                                      '<fno:reason>no %s</fno:reason></fno:statusInfo>' % PASSWORD))
    with pytest.raises(HttpError) as e:
        client(fake.url).delete_device('FNLS-000001')
    assert PASSWORD not in str(e.value)


def test_the_soap_path_comes_from_the_profile(fake):
    with pytest.raises(HttpError) as e:
        client(fake.url, soap_path='/elsewhere/ManageDeviceService').devices()
    assert e.value.status == 404 and '/elsewhere/ManageDeviceService' in str(e.value)


# -- the client against the lab's ManageDeviceService ----------------------------------------------------
@pytest.fixture
def lab(tmp_path):
    backoffice = pytest.importorskip('fnlslab.backoffice')
    h = backoffice.start_in_thread(str(tmp_path / 'bo.sqlite'), host='127.0.0.1', port=0, user='admin',
                                   password=PASSWORD)
    yield h
    h.stop()


def test_lab_device_cycle(lab):
    c = client(lab.url)
    assert c.devices() == []
    dev = c.create_device([X, Y], alias='pair-a')
    assert dev['serverIds'] == [X, Y] and dev['deviceId'].startswith('FNLS-')
    assert [d['deviceId'] for d in c.devices(hostid=Y)] == [dev['deviceId']]
    assert c.devices(hostid='0A1B2C3D4E60/CONTAINER_ID') == []
    assert c.device(dev['deviceId'])['servers'][1] == {'hostid': Y, 'role': 'BACKUP'}
    with pytest.raises(HttpError) as e:
        c.create_device([Z, Y])
    assert e.value.code == 'ALREADY_IN_PAIR'
    c.delete_device(dev['deviceId'])
    assert c.device(dev['deviceId']) is None
    with pytest.raises(HttpError) as e:
        c.delete_device(dev['deviceId'])
    assert e.value.code == 'NOT_FOUND'


def test_lab_pages(lab):
    c = client(lab.url, batch_size=2)
    for i in range(5):
        c.create_device(['0A1B2C3D4E%02X/ETHERNET' % i])
    assert len(c.devices()) == 5


def test_lab_refuses_a_mixed_pair_with_its_code(lab):
    with pytest.raises(HttpError) as e:
        client(lab.url).create_device([X, '4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID'])
    assert e.value.code == 'HOSTID_TYPE_MISMATCH'


def test_lab_fault_reaches_the_caller(lab):
    # a batch size the lab refuses: a SOAP Client fault (HTTP 500) with its code
    with pytest.raises(HttpError) as e:
        client(lab.url, batch_size=5000).devices()
    assert e.value.status == 500 and e.value.code == 'INVALID_REQUEST' and 'batchSize' in str(e.value)
