"""Property tests of the back office's request handling, without sockets."""

from __future__ import annotations

import io
import json
from email.message import Message

from hypothesis import HealthCheck, given, settings, strategies as st

from fnlslab.backoffice import BackOfficeApp, RegistrationError, Request, parse_hostid

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
hostish = st.one_of(
    st.text(max_size=40),
    st.builds(lambda v, t: f"{v}/{t}", st.text(alphabet="0123456789abcdefABCDEF:-.", max_size=70),
              st.sampled_from(["ETHERNET", "ethernet", "VM_UUID", "CONTAINER_ID", "FLEXID9", "FLEXID10",
                               "INTERNET", "INTERNET6", "STRING", "USER", "EXTENDED", "PUBLISHER_DEFINED",
                               "NOPE"])))


def post(app, path, body: bytes, content_type="application/json"):
    headers = Message()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    return app.handle(Request("POST", path, headers, io.BytesIO(body)))


@given(hostish)
def test_parse_hostid_is_idempotent(text):
    try:
        canonical = parse_hostid(text)
    except RegistrationError as exc:
        assert exc.code == "INVALID_HOSTID"
        return
    assert parse_hostid(canonical) == canonical
    assert canonical.rpartition("/")[2].isupper()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.fixed_dictionaries({"hostid": hostish, "backupHostid": hostish | st.none()})))
def test_capability_never_fails_with_5xx(tmp_path, body):
    app = BackOfficeApp(str(tmp_path / "prop.db"))
    try:
        resp = post(app, "/flexnet/deviceservices", json.dumps(body).encode())
        assert 200 <= resp.status < 500
        answer = json.loads(resp.body)
        assert answer["status"] in ("OK", "ERROR")
        if resp.status == 200:
            assert answer["role"] in ("MAIN", "BACKUP") and answer["deviceId"].startswith("FNLS-")
        else:
            assert answer["code"] and answer["message"]
    finally:
        app.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_a_client_error(tmp_path, raw):
    app = BackOfficeApp(str(tmp_path / "prop.db"))
    try:
        resp = post(app, "/flexnet/deviceservices", raw)
        assert 200 <= resp.status < 500
    finally:
        app.close()


# -- FNO's device API (rest style and SOAP) -------------------------------------------------------------

AUTH = "Basic " + __import__("base64").b64encode(b"admin:lab-secret").decode()
REST = "/flexnet/operations/manageDevice/2.0/devices"
SOAP = "/flexnet/services/v3/ManageDeviceService"
V3 = "urn:v3.fne.webservices.operations.flexnet.com"
POOL = [f"0A1B2C3D4E{n:02X}/ETHERNET" for n in range(5)]


def post_auth(app, path, body: bytes, content_type="application/json"):
    headers = Message()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Authorization"] = AUTH
    return app.handle(Request("POST", path, headers, io.BytesIO(body)))


def get_auth(app, path):
    headers = Message()
    headers["Authorization"] = AUTH
    return app.handle(Request("GET", path, headers, io.BytesIO(b"")))


fno_names = st.sampled_from(["queryParams", "deviceId", "name", "alias", "value", "searchType", "EQUALS",
                             "batchSize", "pageNumber", "device", "deviceIdentifier", "deviceType", "SERVER",
                             "serverIds", "serverId", "deviceIdType", "uniqueId", "hosted", "deviceClasses"])
fno_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3000) | st.sampled_from(POOL + ["SERVER", "EQUALS", "FNLS-000001"])
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(fno_names, inner, max_size=4),
    max_leaves=14)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([REST, REST + "/create", REST + "/delete"]),
       body=st.dictionaries(fno_names, fno_values, max_size=4) | fno_values)
def test_rest_device_api_never_fails_with_5xx(tmp_path, path, body):
    app = BackOfficeApp(str(tmp_path / "prop.db"))
    try:
        post(app, "/flexnet/deviceservices", json.dumps({"hostid": POOL[0], "backupHostid": POOL[1]}).encode())
        resp = post_auth(app, path, json.dumps(body).encode())
        assert resp.status in (200, 400), resp.body
        answer = json.loads(resp.body)
        assert answer["statusInfo"]["status"] in ("SUCCESS", "PARTIAL_FAILURE", "FAILURE")
        if resp.status == 400:
            assert answer["statusInfo"]["status"] == "FAILURE" and answer["statusInfo"]["reason"]
    finally:
        app.close()


def _xml(name, value):
    from xml.sax.saxutils import escape
    if isinstance(value, dict):
        inner = "".join(_xml(k, v) for k, v in value.items())
    elif isinstance(value, list):
        return "".join(_xml(name, v) for v in value)
    else:
        inner = escape("" if value is None else str(value).lower() if isinstance(value, bool) else str(value))
    return f"<v3:{name}>{inner}</v3:{name}>"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(["searchDevicesRequest", "countDevicesRequest", "getDeviceRequest",
                                  "createDeviceRequest", "deleteDeviceRequest"]),
       body=st.dictionaries(fno_names, fno_values, max_size=4))
def test_soap_device_api_answers_or_blames_the_client(tmp_path, operation, body):
    import xml.etree.ElementTree as ET

    app = BackOfficeApp(str(tmp_path / "prop.db"))
    try:
        post(app, "/flexnet/deviceservices", json.dumps({"hostid": POOL[0], "backupHostid": POOL[1]}).encode())
        xml = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v3="{V3}"><s:Body>'
               f'{_xml(operation, body)}</s:Body></s:Envelope>')
        resp = post_auth(app, SOAP, xml.encode(), "text/xml; charset=utf-8")
        root = ET.fromstring(resp.body)
        if resp.status == 200:
            status = root.find(f".//{{{V3}}}statusInfo/{{{V3}}}status")
            assert status is not None and status.text in ("SUCCESS", "PARTIAL_FAILURE", "FAILURE")
        else:
            assert resp.status == 500
            assert root.find(".//faultcode").text == "soapenv:Client"
    finally:
        app.close()


operations = st.lists(st.one_of(
    st.tuples(st.just("capability"), st.sampled_from(POOL), st.sampled_from(POOL + [None])),
    st.tuples(st.just("create"), st.sampled_from(POOL), st.sampled_from(POOL + [None])),
    st.tuples(st.just("delete"), st.sampled_from(POOL), st.none()),
), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_lab_and_rest_views_always_agree(tmp_path, steps):
    """Whatever mix of capability requests and REST writes, the REST read model is the lab view re-shaped."""
    app = BackOfficeApp(str(tmp_path / "prop.db"))
    try:
        for kind, main, backup in steps:
            if kind == "capability":
                post(app, "/flexnet/deviceservices", json.dumps({"hostid": main, "backupHostid": backup}).encode())
            elif kind == "create":
                ids = [main] + ([backup] if backup else [])
                post_auth(app, REST + "/create", json.dumps(
                    {"device": [{"deviceIdentifier": {"deviceType": "SERVER", "serverIds": {"serverId": ids}}}]}
                ).encode())
            else:
                post_auth(app, REST + "/delete", json.dumps(
                    {"deviceIdentifier": [{"deviceType": "SERVER", "serverIds": {"serverId": [main]}}]}).encode())
            lab = json.loads(get_auth(app, "/flexnet/operations/devices").body)["devices"]
            rest = json.loads(post_auth(app, REST, b'{"batchSize": 2000}').body)
            assert rest["totalCount"] == len(lab)
            for device, record in zip(lab, rest["responseData"]["device"]):
                ids = [f"{record['deviceId']['id']}/{record['deviceId']['idType']}"]
                if "backupDeviceId" in record:
                    ids.append(f"{record['backupDeviceId']['id']}/{record['backupDeviceId']['idType']}")
                assert (record["name"], ids, record["lastContactDate"]) == (
                    device["deviceId"], device["serverIds"], device["lastContact"])
            for device in lab:
                for hostid in device["serverIds"]:
                    query = {"queryParams": {"deviceId": {"value": hostid.partition("/")[0],
                                                          "searchType": "EQUALS"}}}
                    found = json.loads(post_auth(app, REST, json.dumps(query).encode()).body)
                    assert [r["name"] for r in found["responseData"]["device"]] == [device["deviceId"]]
    finally:
        app.close()
