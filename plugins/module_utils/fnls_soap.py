# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""SOAP 1.1 messages of FNO's ManageDeviceService v3 (document/literal), built and read with the standard
library's ``xml.etree.ElementTree`` only.

The operations the collection sends are ``searchDevices``, ``createDevice`` and ``deleteDevice``; their elements,
names and order are those of FNO's public v3 WSDL (namespace ``urn:v3.fne.webservices.operations.flexnet.com``,
elementFormDefault qualified). Nothing here does I/O: ``fnls_http.BackOfficeClient`` sends the bytes built here
and hands the answers back to ``parse``.

Answers are read defensively: a document type declaration (and with it every entity declaration) is refused
before the tree is built, whatever the document's encoding.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from xml.etree import ElementTree as ET
from xml.parsers import expat

NS = 'urn:v3.fne.webservices.operations.flexnet.com'
SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/'
XSI = 'http://www.w3.org/2001/XMLSchema-instance'
CONTENT_TYPE = 'text/xml; charset=utf-8'
# SOAP 1.1 over HTTP needs the header; the v3 WSDL's operations have an empty soapAction
SOAP_ACTION = '""'

# answer elements that may repeat (always read as lists)
LISTS = frozenset(['device', 'failedDevice', 'deviceIdentifier', 'serverId'])
# a failure reason of the form "CODE: text" (the lab's; FNO's own reasons are plain text)
_CODED = re.compile(r'^([A-Z][A-Z0-9_]{2,}):\s*(.*)$', re.S)


class SoapError(ValueError):
    """An answer that is not a usable SOAP 1.1 envelope (not XML, a DTD, no Body, an unexpected element)."""


class SoapFault(Exception):
    """The answer is a SOAP Fault: ``faultcode`` (without its prefix), ``faultstring`` and the failure code it
    names (``CODE: reason``), if any."""

    def __init__(self, faultcode, faultstring, code=None):
        super(SoapFault, self).__init__(faultstring)
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.code = code


# -- building requests ----------------------------------------------------------------------------------

def _q(name):
    return '{%s}%s' % (NS, name)


def _sub(parent, name, text=None):
    el = ET.SubElement(parent, _q(name))
    if text is not None:
        el.text = str(text)
    return el


def envelope(payload):
    """The bytes of a SOAP 1.1 envelope whose Body holds ``payload`` (an Element)."""
    env = ET.Element('{%s}Envelope' % SOAP_ENV)
    ET.SubElement(env, '{%s}Body' % SOAP_ENV).append(payload)
    return ET.tostring(env, encoding='utf-8')


def _simple_query(parent, name, value, search_type='EQUALS'):
    el = _sub(parent, name)
    _sub(el, 'value', value)
    _sub(el, 'searchType', search_type)


def search_request(name=None, device_id=None, page=1, batch=None):
    """``searchDevicesRequest``: server devices, optionally by ``name`` and/or ``deviceId`` (a bare id value,
    EQUALS); ``pageNumber``/``batchSize`` paging. Elements in the order of ``searchDevicesParametersType``."""
    req = ET.Element(_q('searchDevicesRequest'))
    params = _sub(req, 'queryParams')
    if name is not None:
        _simple_query(params, 'name', name)
    if device_id is not None:
        _simple_query(params, 'deviceId', device_id)
    _sub(_sub(params, 'deviceClasses'), 'deviceClass', 'SERVER')
    _sub(req, 'pageNumber', int(page))
    if batch is not None:
        _sub(req, 'batchSize', int(batch))
    return envelope(req)


def split_hostid(hostid):
    """``'0A1B2C3D4E5F/ETHERNET'`` -> ``('0A1B2C3D4E5F', 'ETHERNET')``; ``(text, None)`` without a type."""
    text = str(hostid)
    if '/' not in text:
        return text, None
    value, _sep, htype = text.rpartition('/')
    return value, htype.upper()


def create_request(server_ids, alias=None):
    """``createDeviceRequest`` for one server device, main first. When every id has the same type (as a pair's
    must), the ids go as bare values with that ``deviceIdType``; else as they were given, for the back office to
    refuse the mix."""
    req = ET.Element(_q('createDeviceRequest'))
    dev = _sub(req, 'device')
    ident = _sub(dev, 'deviceIdentifier')
    _sub(ident, 'deviceType', 'SERVER')
    parts = [split_hostid(h) for h in server_ids]
    types = set(t for _v, t in parts)
    one_type = len(types) == 1 and None not in types
    ids = _sub(ident, 'serverIds')
    for hostid, (value, _t) in zip(server_ids, parts):
        _sub(ids, 'serverId', value if one_type else hostid)
    if one_type:
        _sub(ident, 'deviceIdType', types.pop())
    if alias is not None:
        _sub(dev, 'alias', alias)
    return envelope(req)


def delete_request(unique_id):
    """``deleteDeviceRequest`` naming one server device by its ``uniqueId``."""
    req = ET.Element(_q('deleteDeviceRequest'))
    ident = _sub(req, 'deviceIdentifier')
    _sub(ident, 'deviceType', 'SERVER')
    _sub(ident, 'uniqueId', unique_id)
    return envelope(req)


# -- reading answers ------------------------------------------------------------------------------------

class _Refused(Exception):
    pass


def _refuse(*_args):
    raise _Refused()


def refuse_dtd(raw):
    """Raises SoapError when ``raw`` (bytes) has a document type declaration or declares an entity. The bytes are
    looked at first; then expat reads the document with handlers that stop at any DTD, so a declaration hidden by
    another encoding is found too."""
    if b'<!DOCTYPE' in raw.upper() or b'<!ENTITY' in raw.upper():
        raise SoapError('the answer has a document type declaration, which is refused')
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    try:
        parser.Parse(raw, True)
    except _Refused:
        raise SoapError('the answer has a document type declaration, which is refused')
    except expat.ExpatError as e:
        raise SoapError('the answer is not well-formed XML (%s)' % e)


def split_tag(tag):
    if tag.startswith('{'):
        ns, _sep, local = tag[1:].partition('}')
        return ns, local
    return '', tag


def to_obj(el, lists=LISTS):
    """An answer element as plain values: text for a leaf (stripped), a dict of its children by local name
    otherwise (``lists`` names always as lists), None for ``xsi:nil``."""
    if el.get('{%s}nil' % XSI) in ('true', '1'):
        return None
    children = list(el)
    if not children:
        return (el.text or '').strip()
    out = {}
    for child in children:
        name = split_tag(child.tag)[1]
        value = to_obj(child, lists)
        if name in lists:
            out.setdefault(name, []).append(value)
        elif name in out:
            prev = out[name]
            out[name] = (prev if isinstance(prev, list) else [prev]) + [value]
        else:
            out[name] = value
    return out


def coded(reason):
    """``(code, text)`` of a reason ``CODE: text``; ``(None, reason)`` otherwise."""
    m = _CODED.match(reason or '')
    if m:
        return m.group(1), m.group(2)
    return None, reason


def parse(raw, expected=None):
    """The operation answer in the Body of ``raw`` (bytes) as ``(local name, plain values)``.

    Raises SoapFault for a Fault, SoapError for anything that is not a SOAP 1.1 answer in the v3 namespace (or not
    the ``expected`` element)."""
    if not raw or not raw.strip():
        raise SoapError('the answer is empty')
    refuse_dtd(raw)
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        raise SoapError('the answer is not well-formed XML (%s)' % e)
    if root.tag != '{%s}Envelope' % SOAP_ENV:
        raise SoapError('the answer is not a SOAP 1.1 envelope (its root element is %s)' % root.tag)
    body = root.find('{%s}Body' % SOAP_ENV)
    payload = list(body) if body is not None else []
    if len(payload) != 1:
        raise SoapError('the SOAP Body of the answer holds %d elements, not one' % len(payload))
    el = payload[0]
    if el.tag == '{%s}Fault' % SOAP_ENV:
        raise fault(el)
    ns, name = split_tag(el.tag)
    if ns != NS:
        raise SoapError('the answer element %s is not in namespace %s' % (el.tag, NS))
    if expected and name != expected:
        raise SoapError('the answer is %s, not %s' % (name, expected))
    obj = to_obj(el)
    return name, obj if isinstance(obj, dict) else {}


def fault(el):
    """A SoapFault from a Fault element (SOAP 1.1: unqualified faultcode and faultstring)."""
    code_text = (el.findtext('faultcode') or el.findtext('{%s}faultcode' % SOAP_ENV) or '').strip()
    text = (el.findtext('faultstring') or el.findtext('{%s}faultstring' % SOAP_ENV) or '').strip()
    faultcode = code_text.rpartition(':')[2] or 'Server'
    code, _rest = coded(text)
    return SoapFault(faultcode, text or 'no faultstring', code)


def fault_of(raw):
    """The SoapFault in ``raw`` (an HTTP error's body), or None when it holds none."""
    try:
        parse(raw)
    except SoapFault as e:
        return e
    except SoapError:
        return None
    return None


def as_list(value):
    if value is None or value == '':
        return []
    return value if isinstance(value, list) else [value]


def status(obj):
    """``(status, reason, code)`` of an answer's ``statusInfo``: the status upper-cased (None when missing), the
    reason from ``statusInfo/reason`` or from each ``failedData/failedDevice/reason`` (also ``failed/reason`` and
    ``failedDevice/reason``), and the first failure code those reasons name."""
    info = obj.get('statusInfo') if isinstance(obj.get('statusInfo'), dict) else {}
    state = info.get('status')
    state = str(state).strip().upper() if state not in (None, '') else None
    reasons = []
    failed = obj.get('failedData')
    entries = as_list(failed.get('failedDevice')) if isinstance(failed, dict) else []
    for key in ('failed', 'failedDevice'):
        entries.extend(as_list(obj.get(key)))
    for entry in entries:
        if isinstance(entry, dict) and entry.get('reason'):
            reasons.append(str(entry['reason']))
    top = info.get('reason')
    codes = [c for c, _t in (coded(r) for r in reasons + ([str(top)] if top else [])) if c]
    if reasons:
        reason = '; '.join(reasons)
        if top and not any(str(top) in r for r in reasons):
            reason = '%s: %s' % (str(top).rstrip('.'), reason)
    else:
        reason = str(top) if top else None
    return state, reason, codes[0] if codes else None
