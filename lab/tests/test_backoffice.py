"""The emulated back office (MODEL.md section 5), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from fnlslab.backoffice import parse_hostid, start_in_thread, RegistrationError

USER, PASSWORD = "admin", "lab-secret"
X = "0A1B2C3D4E5F/ETHERNET"
Y = "0A1B2C3D4E60/ETHERNET"
Z = "0A1B2C3D4E61/ETHERNET"
W = "0A1B2C3D4E62/ETHERNET"


# -- small HTTP functions ----------------------------------------------------------------------

def call(base, method, path, body=None, *, auth=(USER, PASSWORD), raw=None, headers=None, timeout=10):
    """Return (status, headers, parsed JSON or text)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, hdrs, payload = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        status, hdrs, payload = exc.code, exc.headers, exc.read()
    text = payload.decode("utf-8")
    if (hdrs.get("Content-Type") or "").startswith("application/json"):
        return status, hdrs, json.loads(text)
    return status, hdrs, text


def cap(bo, hostid, backup=None, **extra):
    body = {"hostid": hostid, "backupHostid": backup, "rightsIds": [], "serverVersion": "2026.11-lab"}
    body.update(extra)
    status, _, answer = call(bo.url, "POST", "/flexnet/deviceservices", body, auth=None)
    return status, answer


def devices(bo, query=""):
    status, _, answer = call(bo.url, "GET", "/flexnet/operations/devices" + query)
    assert status == 200
    return answer["devices"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# -- hostids -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    ("0a1b2c3d4e5f/ethernet", "0A1B2C3D4E5F/ETHERNET"),
    ("0A1B2C3D4E5F/Ethernet", "0A1B2C3D4E5F/ETHERNET"),
    ("12345678-9abc-def0-1234-56789abcdef0/vm_uuid", "12345678-9ABC-DEF0-1234-56789ABCDEF0/VM_UUID"),
    ("a" * 64 + "/CONTAINER_ID", "A" * 64 + "/CONTAINER_ID"),
    ("0123456789ab/CONTAINER_ID", "0123456789AB/CONTAINER_ID"),
    ("9-0a1b2c3d/FLEXID9", "9-0A1B2C3D/FLEXID9"),
    ("10-0A1B2C3D/flexid10", "10-0A1B2C3D/FLEXID10"),
    ("192.0.2.10/INTERNET", "192.0.2.10/INTERNET"),
    ("2001:db8:0:0::1/INTERNET6", "2001:db8::1/INTERNET6"),
    ("lic-server.01/STRING", "lic-server.01/STRING"),
    ("alice/USER", "alice/USER"),
    ("ext_1/EXTENDED", "ext_1/EXTENDED"),
    ("P-42/PUBLISHER_DEFINED", "P-42/PUBLISHER_DEFINED"),
])
def test_valid_hostids_are_canonicalised(text, canonical):
    assert parse_hostid(text) == canonical


@pytest.mark.parametrize("text", [
    "", "0A1B2C3D4E5F", "/ETHERNET", "0A1B2C3D4E5F/", "0A1B2C3D4E5F/TOKEN", "0A1B2C3D4E/ETHERNET",
    "0A1B2C3D4E5G/ETHERNET", "0A:1B:2C:3D:4E:5F/ETHERNET", "1234/VM_UUID", "abc/CONTAINER_ID",
    "8-0A1B2C3D/FLEXID9", "9-0A1B2C3D/FLEXID10", "256.1.1.1/INTERNET", "::1::2/INTERNET6",
    "has space/STRING", "x" * 65 + "/STRING", 42, None, ["0A1B2C3D4E5F/ETHERNET"],
])
def test_invalid_hostids_are_refused(text):
    with pytest.raises(RegistrationError) as info:
        parse_hostid(text)
    assert info.value.code == "INVALID_HOSTID" and info.value.status == 400


# -- the registration table --------------------------------------------------------------------

@pytest.mark.parametrize("main, backup", [
    ("0A1B2C3D4E5F/FOO", None),
    ("not-a-hostid", None),
    ("0A1B2C3D4E5F/ETHERNET", "nonsense/ETHERNET"),
    ("0A1B2C3D4E5F/ETHERNET", "0A1B2C3D4E60/BOGUS"),
    (17, None),
])
def test_invalid_hostid(backoffice, main, backup):
    status, answer = cap(backoffice, main, backup)
    assert status == 400
    assert answer["status"] == "ERROR" and answer["code"] == "INVALID_HOSTID"
    assert devices(backoffice) == []


def test_hostid_type_mismatch(backoffice):
    status, answer = cap(backoffice, X, "12345678-9ABC-DEF0-1234-56789ABCDEF0/VM_UUID")
    assert (status, answer["code"]) == (400, "HOSTID_TYPE_MISMATCH")
    assert devices(backoffice) == []


def test_same_hostid_even_in_other_case(backoffice):
    status, answer = cap(backoffice, X, X.lower())
    assert (status, answer["code"]) == (400, "SAME_HOSTID")


def test_new_pair_then_idempotent_repeat(backoffice):
    status, first = cap(backoffice, X, Y)
    assert status == 200
    assert first["status"] == "OK" and first["role"] == "MAIN" and first["changed"] is True
    assert first["serverIds"] == [X, Y] and first["deviceId"] == "FNLS-000001"
    status, again = cap(backoffice, X.lower(), Y.lower())
    assert status == 200
    assert again["changed"] is False and again["deviceId"] == first["deviceId"]
    [device] = devices(backoffice)
    assert device["servers"] == [{"hostid": X, "role": "MAIN"}, {"hostid": Y, "role": "BACKUP"}]
    assert device["registeredBy"] == "capability-request" and device["type"] == "SERVER"


def test_backup_started_first_blocks_the_pair(backoffice):
    """The seed's warning: the back-up registered first holds the main-server role."""
    status, early = cap(backoffice, Y)
    assert status == 200 and early["role"] == "MAIN" and early["changed"] is True
    d = early["deviceId"]
    status, answer = cap(backoffice, X, Y)
    assert status == 409
    assert answer["code"] == "ALREADY_REGISTERED_AS_MAIN"
    assert answer["message"] == (
        f"Server {Y} is already registered in the main-server role (device {d}); it cannot be registered "
        f"as the back-up of {X}. Delete device {d} first.")
    # no pair created, X not registered
    assert [dev["serverIds"] for dev in devices(backoffice)] == [[Y]]
    assert devices(backoffice, f"?hostid={X}") == []


def test_backup_that_is_main_of_a_pair_is_refused(backoffice):
    assert cap(backoffice, Y, Z)[0] == 200
    status, answer = cap(backoffice, X, Y)
    assert (status, answer["code"]) == (409, "ALREADY_REGISTERED_AS_MAIN")


def test_backup_already_in_another_pair(backoffice):
    assert cap(backoffice, X, Y)[0] == 200
    status, answer = cap(backoffice, W, Y)
    assert (status, answer["code"]) == (409, "ALREADY_IN_PAIR")
    assert len(devices(backoffice)) == 1


def test_main_paired_with_another_backup(backoffice):
    assert cap(backoffice, X, Y)[0] == 200
    status, answer = cap(backoffice, X, Z)
    assert (status, answer["code"]) == (409, "PAIR_CONFLICT")
    assert devices(backoffice)[0]["serverIds"] == [X, Y]


def test_standalone_main_upgraded_to_pair(backoffice):
    status, alone = cap(backoffice, X)
    assert status == 200 and alone["serverIds"] == [X]
    status, pair = cap(backoffice, X, Y)
    assert status == 200
    assert pair["changed"] is True and pair["deviceId"] == alone["deviceId"] and pair["serverIds"] == [X, Y]
    assert len(devices(backoffice)) == 1


def test_backup_asking_alone_is_recognised(backoffice):
    _, pair = cap(backoffice, X, Y)
    status, answer = cap(backoffice, Y)
    assert status == 200
    assert answer == {"status": "OK", "role": "BACKUP", "deviceId": pair["deviceId"], "serverIds": [X, Y],
                      "changed": False, "rights": [], "features": []}
    assert len(devices(backoffice)) == 1


def test_known_main_asking_alone(backoffice):
    _, pair = cap(backoffice, X, Y)
    status, answer = cap(backoffice, X)
    assert status == 200 and answer["role"] == "MAIN" and answer["changed"] is False
    assert answer["serverIds"] == [X, Y]
    _, alone = cap(backoffice, Z)
    status, again = cap(backoffice, Z, None)
    assert again["changed"] is False and again["deviceId"] == alone["deviceId"]


def test_unknown_server_alone_becomes_standalone(backoffice):
    status, answer = cap(backoffice, X, "")
    assert status == 200
    assert answer["role"] == "MAIN" and answer["changed"] is True and answer["serverIds"] == [X]


def test_delete_then_register_again(backoffice):
    _, early = cap(backoffice, Y)
    assert cap(backoffice, X, Y)[0] == 409
    status, _, answer = call(backoffice.url, "DELETE", f"/flexnet/operations/devices/{early['deviceId']}")
    assert (status, answer) == (200, {"deleted": early["deviceId"]})
    status, pair = cap(backoffice, X, Y)
    assert status == 200 and pair["changed"] is True and pair["serverIds"] == [X, Y]
    assert pair["deviceId"] != early["deviceId"]  # ids are never reused


def test_concurrent_identical_requests_make_one_device(backoffice):
    results = []
    threads = [threading.Thread(target=lambda: results.append(cap(backoffice, X, Y))) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(status == 200 for status, _ in results)
    assert sum(answer["changed"] for _, answer in results) == 1
    assert len(devices(backoffice)) == 1


def test_events_record_requests(backoffice):
    t0 = time.time()
    cap(backoffice, Y)
    cap(backoffice, X, Y)
    status, _, events = call(backoffice.url, "GET", "/lab/events")
    assert status == 200
    assert [e["event"] for e in events] == ["capability_request", "capability_request"]
    ok, refused = events
    assert ok["source"] == "backoffice" and ok["result"] == "ok" and ok["hostid"] == Y
    assert ok["backup_hostid"] is None and ok["changed"] is True and ok["code"] is None
    assert ok["device_id"] == "FNLS-000001" and ok["ts"] >= t0 - 1
    assert refused["result"] == "error" and refused["code"] == "ALREADY_REGISTERED_AS_MAIN"
    assert refused["hostid"] == X and refused["backup_hostid"] == Y and refused["changed"] is False
    status, _, later = call(backoffice.url, "GET", f"/lab/events?since={refused['ts']}")
    assert later == []


# -- persistence -------------------------------------------------------------------------------

def test_state_survives_a_restart(tmp_path):
    db = str(tmp_path / "bo.db")
    first = start_in_thread(db, password=PASSWORD)
    try:
        _, pair = cap(first, X, Y)
    finally:
        first.stop()
    second = start_in_thread(db, password=PASSWORD)
    try:
        [device] = devices(second, f"?hostid={Y}")
        assert device["deviceId"] == pair["deviceId"] and device["serverIds"] == [X, Y]
        assert cap(second, X, Y)[1]["changed"] is False
        _, _, events = call(second.url, "GET", "/lab/events")
        assert len(events) == 2
        _, new = cap(second, Z)
        assert new["deviceId"] == "FNLS-000002"
    finally:
        second.stop()


# -- device API --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/flexnet/operations/devices", "/flexnet/operations/devices/FNLS-000001",
                                  "/lab/events", "/lab/faults"])
@pytest.mark.parametrize("auth, header", [
    (None, None), (("admin", "wrong"), None), (("other", PASSWORD), None), (("", ""), None),
    (None, "Basic !!notbase64!!"), (None, "Bearer abc"), (None, "Basic " + base64.b64encode(b"admin").decode()),
])
def test_auth_required(backoffice, path, auth, header):
    status, hdrs, answer = call(backoffice.url, "GET", path, auth=auth,
                                headers={"Authorization": header} if header else None)
    assert status == 401
    assert hdrs["WWW-Authenticate"].startswith("Basic realm=")
    assert answer["code"] == "UNAUTHORIZED"


def test_device_api_create_query_get_delete(backoffice):
    url = backoffice.url
    status, hdrs, device = call(url, "POST", "/flexnet/operations/devices",
                                {"serverIds": [X.lower(), Y], "alias": "plant-1"})
    assert status == 201
    assert hdrs["Location"] == f"/flexnet/operations/devices/{device['deviceId']}"
    assert device["serverIds"] == [X, Y] and device["alias"] == "plant-1"
    assert device["registeredBy"] == "device-api" and device["lastContact"] is None
    assert device["createdAt"].endswith("Z") and len(device["createdAt"]) == 24
    # repeat: the same device, 200
    status, _, again = call(url, "POST", "/flexnet/operations/devices", {"serverIds": [X, Y]})
    assert status == 200 and again["deviceId"] == device["deviceId"]
    # conflicts
    status, _, err = call(url, "POST", "/flexnet/operations/devices", {"serverIds": [Y, Z]})
    assert (status, err["code"]) == (409, "ALREADY_IN_PAIR")
    status, _, err = call(url, "POST", "/flexnet/operations/devices", {"serverIds": [X, Z]})
    assert (status, err["code"]) == (409, "PAIR_CONFLICT")
    status, _, err = call(url, "POST", "/flexnet/operations/devices", {"serverIds": [Y]})
    assert (status, err["code"]) == (409, "ALREADY_IN_PAIR")
    status, _, err = call(url, "POST", "/flexnet/operations/devices", {"serverIds": [W, X]})
    assert (status, err["code"]) == (409, "ALREADY_REGISTERED_AS_MAIN")
    status, _, alone = call(url, "POST", "/flexnet/operations/devices", {"serverIds": [W]})
    assert status == 201 and alone["serverIds"] == [W]
    # queries
    assert [d["deviceId"] for d in devices(backoffice, f"?hostid={Y}")] == [device["deviceId"]]
    assert [d["deviceId"] for d in devices(backoffice, "?alias=plant-1")] == [device["deviceId"]]
    assert devices(backoffice, f"?hostid={Z}") == []
    assert len(devices(backoffice)) == 2
    status, _, err = call(url, "GET", "/flexnet/operations/devices?hostid=bad/TYPE")
    assert (status, err["code"]) == (400, "INVALID_HOSTID")
    status, _, got = call(url, "GET", f"/flexnet/operations/devices/{device['deviceId']}")
    assert status == 200 and got == device
    # a capability request is the first contact
    cap(backoffice, X, Y)
    assert devices(backoffice, f"?hostid={X}")[0]["lastContact"] is not None
    # delete
    status, _, answer = call(url, "DELETE", f"/flexnet/operations/devices/{device['deviceId']}")
    assert (status, answer) == (200, {"deleted": device["deviceId"]})
    for method in ("GET", "DELETE"):
        status, _, err = call(url, method, f"/flexnet/operations/devices/{device['deviceId']}")
        assert (status, err["code"]) == (404, "NOT_FOUND")
    status, _, err = call(url, "GET", "/flexnet/operations/devices/nonsense")
    assert status == 404
    kinds = [(e["event"], e["result"]) for e in call(url, "GET", "/lab/events")[2]]
    assert ("device_create", "ok") in kinds and ("device_create", "error") in kinds
    assert ("device_delete", "ok") in kinds


@pytest.mark.parametrize("body", [
    {}, {"serverIds": []}, {"serverIds": [X, Y, Z]}, {"serverIds": X}, {"serverIds": [X], "alias": 5},
    {"serverIds": [X], "alias": "a" * 129}, [X],
])
def test_device_api_bad_create(backoffice, body):
    status, _, err = call(backoffice.url, "POST", "/flexnet/operations/devices", body)
    assert status == 400 and err["status"] == "ERROR"


# -- portal ------------------------------------------------------------------------------------

def test_portal_redirects_to_search(backoffice):
    opener = urllib.request.build_opener(NoRedirect)
    for path in ("/portal/", "/portal", "/"):
        with pytest.raises(urllib.error.HTTPError) as info:
            opener.open(backoffice.url + path, timeout=5)
        assert info.value.code == 302 and info.value.headers["Location"] == "/portal/servers"


def test_portal_search_and_view(backoffice):
    _, pair = cap(backoffice, X, Y)
    _, other = cap(backoffice, Z)
    call(backoffice.url, "POST", "/flexnet/operations/devices", {"serverIds": [W], "alias": "<b>east</b>"})
    status, hdrs, page = call(backoffice.url, "GET", "/portal/servers?q=4e5f", auth=None)
    assert status == 200 and hdrs["Content-Type"].startswith("text/html")
    assert "Search Servers" in page and X in page and Y in page
    assert pair["deviceId"] in page and other["deviceId"] not in page
    # the back-up's hostid finds the pair too; alias search; everything without a query
    assert pair["deviceId"] in call(backoffice.url, "GET", "/portal/servers?q=0a1b2c3d4e60", auth=None)[2]
    page = call(backoffice.url, "GET", "/portal/servers?q=EAST", auth=None)[2]
    assert "&lt;b&gt;east&lt;/b&gt;" in page and "<b>east</b>" not in page
    page = call(backoffice.url, "GET", "/portal/servers", auth=None)[2]
    assert all(d in page for d in (pair["deviceId"], other["deviceId"], "FNLS-000003"))
    page = call(backoffice.url, "GET", "/portal/servers?q=nothing-like-this", auth=None)[2]
    assert "No servers match" in page

    status, _, view = call(backoffice.url, "GET", f"/portal/servers/{pair['deviceId']}", auth=None)
    assert status == 200 and "View Server" in view
    assert f'<td class="hostid">{X}</td>' in view and f'<td class="hostid">{Y}</td>' in view
    assert '<td class="role">MAIN</td>' in view and '<td class="role">BACKUP</td>' in view
    assert view.index(X) < view.index('<td class="role">MAIN</td>') < view.index(Y) \
        < view.index('<td class="role">BACKUP</td>')
    assert "capability-request" in view and "Last contact" in view
    status, _, missing = call(backoffice.url, "GET", "/portal/servers/FNLS-999999", auth=None)
    assert status == 404 and "FNLS-999999" in missing


def test_portal_escapes_the_query(backoffice):
    page = call(backoffice.url, "GET", "/portal/servers?q=%3Cscript%3Ealert(1)%3C/script%3E", auth=None)[2]
    assert "<script>" not in page and "&lt;script&gt;" in page


# -- faults ------------------------------------------------------------------------------------

def test_fault_settings_over_http(backoffice):
    status, _, state = call(backoffice.url, "GET", "/lab/faults")
    assert status == 200 and state["mode"] == "none"
    status, _, state = call(backoffice.url, "POST", "/lab/faults", {"mode": "error", "status": 502})
    assert status == 200 and state["mode"] == "error" and state["status"] == 502
    assert call(backoffice.url, "GET", "/lab/faults")[2] == state
    for bad in ({"mode": "broken"}, {"mode": "slow", "latency": -1}, {"mode": "error", "status": 200},
                {"mode": "slow", "latency": "2"}, {"mode": "none", "extra": 1}):
        status, _, err = call(backoffice.url, "POST", "/lab/faults", bad)
        assert status == 400, bad
    assert call(backoffice.url, "POST", "/lab/faults", {"mode": "none"})[0] == 200
    assert cap(backoffice, X)[0] == 200


def test_fault_down_drops_the_connection(backoffice):
    call(backoffice.url, "POST", "/lab/faults", {"mode": "down"})
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.RemoteDisconnected)):
        cap(backoffice, X, Y)
    # the device API and lab control still answer; nothing was registered
    assert devices(backoffice) == []
    events = call(backoffice.url, "GET", "/lab/events")[2]
    assert events[-1]["result"] == "error" and events[-1]["code"] == "DROPPED"
    backoffice.app.set_fault("none")
    assert cap(backoffice, X, Y)[0] == 200


def test_fault_slow_adds_latency(backoffice):
    backoffice.app.set_fault("slow", latency=0.6)
    started = time.monotonic()
    status, answer = cap(backoffice, X)
    elapsed = time.monotonic() - started
    assert status == 200 and answer["role"] == "MAIN"
    assert elapsed >= 0.6
    with pytest.raises((TimeoutError, urllib.error.URLError, socket.timeout)):
        call(backoffice.url, "POST", "/flexnet/deviceservices", {"hostid": Y}, auth=None, timeout=0.2)


def test_fault_error_answers_with_the_status(backoffice):
    call(backoffice.url, "POST", "/lab/faults", {"mode": "error", "status": 503, "message": "maintenance"})
    status, answer = cap(backoffice, X, Y)
    assert status == 503
    assert answer == {"status": "ERROR", "code": "INJECTED", "message": "maintenance"}
    assert devices(backoffice) == []
    assert call(backoffice.url, "GET", "/lab/events")[2][-1]["code"] == "INJECTED"


def test_stop_does_not_wait_for_a_slow_request(tmp_path):
    bo = start_in_thread(str(tmp_path / "bo.db"), password=PASSWORD)
    bo.app.set_fault("slow", latency=30)
    # the slow request is held where the back office waits out its latency: wait until it is there
    held = threading.Event()
    wait = bo.app.stopping.wait

    def holding(timeout=None):
        held.set()
        return wait(timeout)

    bo.app.stopping.wait = holding
    outcome = []

    def request():
        try:
            outcome.append(cap(bo, X))
        except Exception as exc:  # noqa: BLE001 - the dropped connection is the expected outcome
            outcome.append(exc)

    t = threading.Thread(target=request, daemon=True)
    t.start()
    try:
        assert held.wait(30), "the slow request never reached the back office"
        started = time.monotonic()
        bo.stop()
        assert time.monotonic() - started < 5
        t.join(10)
        assert not t.is_alive(), "the slow request was still waiting after the stop"
    finally:
        bo.stop()
    assert len(outcome) == 1 and isinstance(outcome[0], Exception), outcome


# -- bad requests ------------------------------------------------------------------------------

def raw_post(url, path, body: bytes, content_type="application/json", extra_headers=None):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(extra_headers or {})
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


@pytest.mark.parametrize("body, content_type, status, code", [
    (b"{not json", "application/json", 400, "MALFORMED_JSON"),
    (b"\xff\xfe", "application/json", 400, "MALFORMED_JSON"),
    (b'{"hostid": "0A1B2C3D4E5F/ETHERNET"}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b'{"hostid": "0A1B2C3D4E5F/ETHERNET"}', None, 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b'{"hostid": "0A1B2C3D4E5F/ETHERNET"}', "application/json; charset=utf-8", 200, None),
    (b'{"hostid": "0A1B2C3D4E5F/FOO"}', "application/json", 400, "INVALID_HOSTID"),
    (b'{"backupHostid": null}', "application/json", 400, "INVALID_REQUEST"),
    (b'["0A1B2C3D4E5F/ETHERNET"]', "application/json", 400, "INVALID_REQUEST"),
    (b'{"hostid": "0A1B2C3D4E5F/ETHERNET", "rightsIds": "r1"}', "application/json", 400, "INVALID_REQUEST"),
    (b'{"hostid": "0A1B2C3D4E5F/ETHERNET", "serverVersion": 3}', "application/json", 400, "INVALID_REQUEST"),
    (b'{"hostid": "' + b"x" * 70000 + b'"}', "application/json", 413, "PAYLOAD_TOO_LARGE"),
])
def test_bad_capability_requests(backoffice, body, content_type, status, code):
    got_status, answer = raw_post(backoffice.url, "/flexnet/deviceservices", body, content_type)
    assert got_status == status
    if code:
        assert answer["status"] == "ERROR" and answer["code"] == code
    # still answering
    assert call(backoffice.url, "GET", "/lab/faults")[0] == 200


def test_oversized_body_on_protected_path(backoffice):
    status, answer = raw_post(backoffice.url, "/lab/faults", b"{" + b" " * 70000 + b"}",
                              extra_headers={"Authorization": "Basic " + base64.b64encode(
                                  f"{USER}:{PASSWORD}".encode()).decode()})
    assert (status, answer["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_unknown_path_and_wrong_method(backoffice):
    status, _, err = call(backoffice.url, "GET", "/flexnet/nothing")
    assert (status, err["code"]) == (404, "NOT_FOUND")
    status, hdrs, err = call(backoffice.url, "GET", "/flexnet/deviceservices")
    assert (status, err["code"]) == (405, "METHOD_NOT_ALLOWED") and hdrs["Allow"] == "POST"
    status, _, _ = call(backoffice.url, "PUT", "/flexnet/operations/devices", {"serverIds": [X]})
    assert status == 405
    status, _, page = call(backoffice.url, "DELETE", "/portal/servers", auth=None)
    assert status == 405
    status, _, page = call(backoffice.url, "GET", "/portal/nowhere", auth=None)
    assert status == 404 and "Not Found" in page


def test_garbage_on_the_socket(backoffice):
    for junk in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.0\r\n\r\n",
                 b"POST /flexnet/deviceservices HTTP/1.0\r\nContent-Type: application/json\r\n"
                 b"Content-Length: -5\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", backoffice.port), timeout=5) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.") and b" 4" in reply.split(b"\r\n")[0]
        assert b"Traceback" not in reply
    assert cap(backoffice, X)[0] == 200


def test_post_without_content_length(backoffice):
    with socket.create_connection(("127.0.0.1", backoffice.port), timeout=5) as s:
        s.sendall(b"POST /flexnet/deviceservices HTTP/1.0\r\nContent-Type: application/json\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        reply = s.makefile("rb").read()
    assert reply.split(b"\r\n")[0].split(b" ")[1] == b"411"


# -- the command line --------------------------------------------------------------------------

def _start_cli(tmp_path, *extra, env_password=PASSWORD):
    env = dict(os.environ)
    env.pop("FNLS_LAB_BO_PASSWORD", None)
    if env_password is not None:
        env["FNLS_LAB_BO_PASSWORD"] = env_password
    return subprocess.Popen(
        [sys.executable, "-m", "fnlslab.backoffice", "--db", str(tmp_path / "cli.db"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _listening_urls(proc, count):
    urls = []
    deadline = time.monotonic() + 15
    while len(urls) < count and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("backoffice listening on "):
            urls.append(line.split()[3])
    return urls


def test_cli_serves_several_sockets_and_stops_on_sigterm(tmp_path):
    pid_file = tmp_path / "bo.pid"
    pw_file = tmp_path / "pw"
    pw_file.write_text("file-secret\n")
    proc = _start_cli(tmp_path, "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0",
                      "--password-file", str(pw_file), "--pid-file", str(pid_file),
                      "--log-file", str(tmp_path / "bo.log"), env_password=None)
    try:
        urls = _listening_urls(proc, 2)
        assert len(urls) == 2 and urls[0] != urls[1]
        assert pid_file.read_text().strip() == str(proc.pid)
        status, _, answer = call(urls[0], "POST", "/flexnet/deviceservices", {"hostid": X, "backupHostid": Y},
                                 auth=None)
        assert status == 200
        status, _, found = call(urls[1], "GET", f"/flexnet/operations/devices?hostid={Y}",
                                auth=(USER, "file-secret"))
        assert status == 200 and found["devices"][0]["deviceId"] == answer["deviceId"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not pid_file.exists()
        log = (tmp_path / "bo.log").read_text()
        assert '"POST /flexnet/deviceservices" 200' in log and "backoffice stopped" in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_cli_without_password_refuses_to_start(tmp_path):
    proc = _start_cli(tmp_path, "--listen", "127.0.0.1:0", env_password=None)
    try:
        assert proc.wait(timeout=10) != 0
        assert "password" in proc.stderr.read()
    finally:
        proc.stdout.close()
        proc.stderr.close()


def test_cli_unknown_namespace_is_a_clear_error(tmp_path):
    proc = _start_cli(tmp_path, "--listen-netns", "fnls-no-such-namespace:127.0.0.1:0")
    try:
        assert proc.wait(timeout=10) == 1
        assert "fnls-no-such-namespace" in proc.stderr.read()
    finally:
        proc.stdout.close()
        proc.stderr.close()


def test_cli_listens_inside_a_network_namespace(tmp_path, cannot_run):
    if os.geteuid() != 0 or shutil.which("ip") is None:
        cannot_run("needs root and iproute2")
    ns = f"fnlsbo{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        cannot_run("cannot create network namespaces here")
    proc = None
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        proc = _start_cli(tmp_path, "--listen", "127.0.0.1:0", "--listen-netns", f"{ns}:127.0.0.1:18931")
        urls = _listening_urls(proc, 2)
        assert urls[1] == "http://127.0.0.1:18931"
        # the namespaced socket is reachable from inside the namespace only
        probe = ("import urllib.request, urllib.error\n"
                 "try:\n urllib.request.urlopen('http://127.0.0.1:18931/lab/faults', timeout=5)\n"
                 "except urllib.error.HTTPError as e:\n print(e.code)\n")
        out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", probe], capture_output=True,
                             text=True, timeout=20)
        assert out.stdout.strip() == "401"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
