"""SOAP 1.1 (document/literal) ManageDeviceService v3 at ``/flexnet/services/v3/ManageDeviceService``:
``searchDevices``, ``getDevice``, ``countDevices``, ``createDevice``, ``deleteDevice``.

Requests are read and answers built with the standard library's ``xml.etree``; the data and the rules
are those of ``devapi.py`` (shared with the JSON REST twin). Elements are written in the order of the
v3 schema, so a client built from the vendor's WSDL accepts them. ``wsdl/ManageDeviceService.wsdl``
(self-made, the subset served) is answered to ``GET …?wsdl``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable
from xml.etree import ElementTree as ET
from xml.sax.saxutils import quoteattr

from . import app as _app
from .devapi import DevApiError, ItemFailure, parse_write_list

NS = "urn:v3.fne.webservices.operations.flexnet.com"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSDL_FILE = Path(__file__).with_name("wsdl") / "ManageDeviceService.wsdl"
WSDL_ADDRESS = '"http://localhost/flexnet/services/v3/ManageDeviceService"'
CONTENT_TYPE = "text/xml; charset=utf-8"

ET.register_namespace("soapenv", SOAP_ENV)
ET.register_namespace("fno", NS)

# request elements that may repeat (always read as lists), by request
QUERY_LISTS = frozenset({"deviceClass", "sortBy"})
WRITE_LISTS = frozenset({"device", "serverId"})


def wsdl(address: str) -> bytes:
    """The self-made WSDL with its service address set to ``address``."""
    text = WSDL_FILE.read_text(encoding="utf-8")
    return text.replace(WSDL_ADDRESS, quoteattr(address), 1).encode("utf-8")


# -- envelopes -----------------------------------------------------------------------------------

def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _sub(parent: ET.Element, name: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, _q(name))
    if text is not None:
        el.text = ("true" if text else "false") if isinstance(text, bool) else str(text)
    return el


def envelope(payload: ET.Element) -> bytes:
    env = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    ET.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return ET.tostring(env, encoding="utf-8", xml_declaration=True)


def fault_response(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    """A SOAP 1.1 Fault (``code`` Client or Server); HTTP 500 unless the error has a status of its own."""
    env = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    fault = ET.SubElement(ET.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    ET.SubElement(fault, "faultcode").text = f"soapenv:{code}"
    ET.SubElement(fault, "faultstring").text = message
    body = ET.tostring(env, encoding="utf-8", xml_declaration=True)
    return _app.Response(status if status in (401, 411, 413, 415) else 500, body, CONTENT_TYPE,
                         dict(headers or {}))


class SoapFault(Exception):
    def __init__(self, message: str, code: str = "Client"):
        super().__init__(message)
        self.message = message
        self.code = code


# -- reading requests ----------------------------------------------------------------------------

def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def to_obj(el: ET.Element, lists: frozenset[str] = frozenset()) -> Any:
    """An element as neutral values: text for a leaf, a dict for children (``lists`` names as lists),
    None for ``xsi:nil``. Children must be in the service's namespace (elementFormDefault qualified)."""
    if el.get(f"{{{XSI}}}nil") in ("true", "1"):
        return None
    children = list(el)
    if not children:
        return (el.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        ns, name = _split(child.tag)
        if ns != NS:
            raise SoapFault(f"Element {child.tag} is not in namespace {NS}.")
        value = to_obj(child, lists)
        if name in lists:
            out.setdefault(name, []).append(value)
        elif name in out:
            raise SoapFault(f"Element {name} appears twice.")
        else:
            out[name] = value
    return out


def _object(value: Any, what: str) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise SoapFault(f"{what} must have child elements.")
    return value


def _integer(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SoapFault(f"{what} must be an integer.") from None


def _boolean(value: Any, what: str) -> bool | None:
    if value in (None, ""):
        return None
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise SoapFault(f"{what} must be true or false.")


def _query_params(value: Any) -> dict[str, Any]:
    """``searchDevicesParametersType`` as the neutral queryParams of devapi."""
    params = dict(_object(value, "queryParams"))
    if "deviceClasses" in params:
        classes = _object(params["deviceClasses"], "deviceClasses")
        params["deviceClasses"] = classes.get("deviceClass") or []
    if "hosted" in params:
        params["hosted"] = _boolean(params["hosted"], "hosted")
    return params


# -- operations ----------------------------------------------------------------------------------

def _status(parent: ET.Element, status: str, reason: str | None = None) -> None:
    info = _sub(parent, "statusInfo")
    _sub(info, "status", status)
    if reason:
        _sub(info, "reason", reason)


def _device(parent: ET.Element, name: str, record: dict[str, Any]) -> None:
    """searchDeviceResponseData / getDeviceResponseData, in schema order."""
    el = _sub(parent, name)
    dev_id = _sub(el, "deviceId")
    for key in ("id", "idType", "publisherName", "deviceClass"):
        _sub(dev_id, key, record["deviceId"][key])
    if record.get("backupDeviceId"):
        _sub(el, "backupDeviceId", record["backupDeviceId"]["id"])
    _sub(el, "name", record["name"])
    _sub(el, "status", record["status"])
    _sub(el, "hosted", record["hosted"])
    sold = _sub(el, "soldTo")
    _sub(sold, "id", record["soldTo"]["id"])
    _sub(sold, "name", record["soldTo"]["name"])
    if record.get("lastContactDate"):
        _sub(el, "lastRequestTime", record["lastContactDate"])


def _identifier(parent: ET.Element, ident: dict[str, Any]) -> None:
    el = _sub(parent, "deviceIdentifier")
    _sub(el, "deviceType", ident["deviceType"])
    _sub(el, "uniqueId", ident["uniqueId"])
    _sub(el, "deviceId", ident["deviceId"])
    ids = _sub(el, "serverIds")
    for server_id in ident["serverIds"]["serverId"]:
        _sub(ids, "serverId", server_id)
    _sub(el, "deviceIdType", ident["deviceIdType"])
    _sub(el, "publisherName", ident["publisherName"])


def search_devices(app, el: ET.Element) -> ET.Element:
    obj = _object(to_obj(el, QUERY_LISTS), "searchDevicesRequest")
    body = dict(obj)
    body["queryParams"] = _query_params(obj.get("queryParams"))
    body["pageNumber"] = _integer(obj.get("pageNumber"), "pageNumber")
    body["batchSize"] = _integer(obj.get("batchSize"), "batchSize")
    found = app.fno_search(body)
    out = ET.Element(_q("searchDevicesResponse"))
    _status(out, "SUCCESS")
    devices = _sub(out, "devices")
    for record in found["devices"]:
        _device(devices, "device", record)
    return out


def count_devices(app, el: ET.Element) -> ET.Element:
    obj = _object(to_obj(el, QUERY_LISTS), "countDevicesRequest")
    unknown = sorted(set(obj) - {"queryParams"})
    if unknown:
        raise SoapFault(f"{unknown[0]} is not part of countDevicesRequest.")
    total = app.fno_count(_query_params(obj.get("queryParams")))
    out = ET.Element(_q("countDevicesResponse"))
    _status(out, "SUCCESS")
    _sub(_sub(out, "responseData"), "count", total)
    return out


def get_device(app, el: ET.Element) -> ET.Element:
    obj = _object(to_obj(el), "getDeviceRequest")
    unknown = sorted(set(obj) - {"deviceId", "responseConfig"})
    if unknown:
        raise SoapFault(f"{unknown[0]} is not part of getDeviceRequest.")
    out = ET.Element(_q("getDeviceResponse"))
    try:
        record = app.fno_get(_object(obj.get("deviceId"), "deviceId") or None)
    except ItemFailure as exc:
        _status(out, "FAILURE", exc.reason)
        _sub(_sub(out, "failedDevice"), "reason", f"{exc.code}: {exc.reason}")
        return out
    _status(out, "SUCCESS")
    _device(out, "device", record)
    return out


def create_device(app, el: ET.Element) -> ET.Element:
    elements = [c for c in el if c.tag == _q("device")]
    obj = _object(to_obj(el, WRITE_LISTS), "createDeviceRequest")
    items = parse_write_list(obj, "device", "create")
    created, failed = app.fno_create(items, "soap")
    out = ET.Element(_q("createDeviceResponse"))
    info = _app._status_info(len(items), failed)
    _status(out, info["status"], info.get("reason"))
    if failed:
        data = _sub(out, "failedData")
        for index, failure in failed:
            entry = _sub(data, "failedDevice")
            entry.append(copy.deepcopy(elements[index]))
            _sub(entry, "reason", f"{failure.code}: {failure.reason}")
    data = _sub(out, "responseData")
    for ident in created:
        _identifier(data, ident)
    return out


def delete_device(app, el: ET.Element) -> ET.Element:
    elements = [c for c in el if c.tag == _q("deviceIdentifier")]
    if len(elements) != len(list(el)):
        raise SoapFault("deleteDeviceRequest holds deviceIdentifier elements only.")
    items = parse_write_list({"deviceIdentifier": [to_obj(c, WRITE_LISTS) for c in elements]},
                             "deviceIdentifier", "delete")
    _, failed = app.fno_delete(items, "soap")
    out = ET.Element(_q("deleteDeviceResponse"))
    info = _app._status_info(len(items), failed)
    _status(out, info["status"], info.get("reason"))
    if failed:
        data = _sub(out, "failedData")
        for index, failure in failed:
            entry = _sub(data, "failedDevice")
            entry.append(copy.deepcopy(elements[index]))
            _sub(entry, "reason", f"{failure.code}: {failure.reason}")
    return out


OPERATIONS: dict[str, Callable[[Any, ET.Element], ET.Element]] = {
    "searchDevicesRequest": search_devices,
    "countDevicesRequest": count_devices,
    "getDeviceRequest": get_device,
    "createDeviceRequest": create_device,
    "deleteDeviceRequest": delete_device,
}


def handle(app, request) -> Any:
    """Answer one SOAP POST (authentication already checked)."""
    ctype = (request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if ctype != "text/xml":
        raise _app.HttpError(415, "UNSUPPORTED_MEDIA_TYPE",
                             "SOAP 1.1 requests are text/xml (this service has no SOAP 1.2 binding).")
    body = request.read_body()
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return fault_response(500, "Client", "Document type declarations are not accepted.")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        return fault_response(500, "Client", f"The request is not well-formed XML: {exc}.")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        code = "VersionMismatch" if _split(root.tag)[1] == "Envelope" else "Client"
        return fault_response(500, code, f"Expected a SOAP 1.1 Envelope ({SOAP_ENV}).")
    soap_body = root.find(f"{{{SOAP_ENV}}}Body")
    payload = list(soap_body) if soap_body is not None else []
    if len(payload) != 1:
        return fault_response(500, "Client", "The SOAP Body must hold exactly one request element.")
    ns, name = _split(payload[0].tag)
    operation = OPERATIONS.get(name) if ns == NS else None
    if operation is None:
        return fault_response(500, "Client", f"Unknown operation element {payload[0].tag}; this service "
                                             f"answers {', '.join(sorted(OPERATIONS))} in namespace {NS}.")
    try:
        answer = operation(app, payload[0])
    except SoapFault as exc:
        return fault_response(500, exc.code, exc.message)
    except DevApiError as exc:
        return fault_response(500, "Client", f"{exc.code}: {exc.reason}")
    return _app.Response(200, envelope(answer), CONTENT_TYPE)
