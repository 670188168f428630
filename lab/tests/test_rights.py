"""Licenses reach the pair (MODEL.md section 6): entitlements and rights mapping in the back office,
capability requests carrying rights ids, capability polling, the server's activate / licenses API,
and the back-up serving the main's features during failover.

Back offices run in threads on 127.0.0.1; every emulated server is its own process bound to
127.0.0.x with all its files under the test's temporary directory. Each test stops what it starts.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from fnlslab import flexnetls
from fnlslab.backoffice import start_in_thread
from fnlslab.install import install_server

USER, PASSWORD = "admin", "lab-secret"
ADMIN_PASSWORD = "s3cret-admin"
EMULATOR = os.path.join(os.path.dirname(flexnetls.__file__), "flexnetls.py")
X = "0A1B2C3D4E5F/ETHERNET"
Y = "0A1B2C3D4E60/ETHERNET"
Z = "0A1B2C3D4E61/ETHERNET"
CAD = [{"name": "cad_pro", "version": "2.0", "count": 5, "expires": "permanent"},
       {"name": "viewer", "count": 10, "expires": "2099-12-31"}]
FAST_LAB = {"startup_delay": 0.3, "boot_fraction": 0.4, "retry_initial": 0.2, "retry_max": 0.8,
            "poll_interval": 30.0}


# -- HTTP ------------------------------------------------------------------------------------------

def http(url, method="GET", body=None, *, basic=None, token=None, raw=None, timeout=20):
    """(status, parsed JSON or text); never raises on an HTTP error status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if basic:
        req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % basic).encode()).decode())
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def api(bo, method, path, body=None, **kw):
    return http(bo.url + path, method, body, basic=(USER, PASSWORD), **kw)


def cap(bo, hostid, backup=None, rights=None):
    return http(bo.url + "/flexnet/deviceservices", "POST",
                {"hostid": hostid, "backupHostid": backup, "rightsIds": rights or [], "serverVersion": "t"})


def entitle(bo, rights_id="ACT-0001", quantity=4, features=None):
    status, body = api(bo, "POST", "/flexnet/operations/entitlements",
                       {"rightsId": rights_id, "quantity": quantity, "features": features or CAD})
    assert status in (200, 201), body
    return body


def events(bo, kind):
    return [e for e in api(bo, "GET", "/lab/events")[1] if e["event"] == kind]


def wait_for(predicate, timeout=20.0, step=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(step)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def free_port(ip):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def times(features, n):
    out = []
    for f in features:
        g = dict(f)
        g["count"] = f["count"] * n
        out.append(g)
    return sorted(out, key=lambda f: (f["name"], f.get("version", ""), f["expires"]))


# -- back office: entitlements ---------------------------------------------------------------------

def test_entitlement_create_list_get(backoffice):
    status, ent = api(backoffice, "POST", "/flexnet/operations/entitlements",
                      {"rightsId": "ACT-0001", "quantity": 4, "features": CAD})
    assert status == 201
    assert ent["rightsId"] == "ACT-0001" and ent["quantity"] == 4
    assert ent["features"] == times(CAD, 1)
    assert (ent["mapped"], ent["available"], ent["devices"]) == (0, 4, [])
    assert ent["createdAt"].endswith("Z")
    # the same again: 200, unchanged; other content: 409
    status, again = api(backoffice, "POST", "/flexnet/operations/entitlements",
                        {"rightsId": "ACT-0001", "quantity": 4, "features": list(reversed(CAD))})
    assert status == 200 and again == ent
    status, err = api(backoffice, "POST", "/flexnet/operations/entitlements",
                      {"rightsId": "ACT-0001", "quantity": 5, "features": CAD})
    assert (status, err["code"]) == (409, "ENTITLEMENT_EXISTS")
    entitle(backoffice, "ACT-0002", 1, [{"name": "viewer", "count": 1}])
    status, listing = api(backoffice, "GET", "/flexnet/operations/entitlements")
    assert status == 200
    assert [e["rightsId"] for e in listing["entitlements"]] == ["ACT-0001", "ACT-0002"]
    assert listing["entitlements"][1]["features"] == [{"name": "viewer", "count": 1, "expires": "permanent"}]
    status, got = api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")
    assert status == 200 and got == ent
    status, err = api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-9999")
    assert (status, err["code"]) == (404, "UNKNOWN_RIGHTS_ID")
    assert http(backoffice.url + "/flexnet/operations/entitlements")[0] == 401
    assert [e["rights_id"] for e in events(backoffice, "entitlement_create")] == ["ACT-0001", "ACT-0001",
                                                                                    "ACT-0002"]


@pytest.mark.parametrize("body", [
    {}, {"rightsId": "ACT-1", "quantity": 1}, {"rightsId": "ACT-1", "quantity": 0, "features": CAD},
    {"rightsId": "bad id", "quantity": 1, "features": CAD}, {"rightsId": "ACT-1", "quantity": True, "features": CAD},
    {"rightsId": "ACT-1", "quantity": 1, "features": []},
    {"rightsId": "ACT-1", "quantity": 1, "features": [{"name": "f", "count": 0}]},
    {"rightsId": "ACT-1", "quantity": 1, "features": [{"name": "f", "count": 1, "expires": "soon"}]},
    {"rightsId": "ACT-1", "quantity": 1, "features": [{"name": "f", "count": 1, "colour": "red"}]},
    {"rightsId": "ACT-1", "quantity": 1, "features": [{"name": "f", "count": 1}, {"name": "f", "count": 2}]},
    {"rightsId": "ACT-1", "quantity": 1, "features": CAD, "owner": "x"}, ["ACT-1"],
])
def test_entitlement_bad_create(backoffice, body):
    status, err = api(backoffice, "POST", "/flexnet/operations/entitlements", body)
    assert (status, err["code"]) == (400, "INVALID_REQUEST")
    assert api(backoffice, "GET", "/flexnet/operations/entitlements")[1] == {"entitlements": []}


# -- back office: mapping with the device API ------------------------------------------------------

def test_map_with_the_device_api(backoffice):
    entitle(backoffice, quantity=4)
    _, pair = cap(backoffice, X, Y)
    d = pair["deviceId"]
    assert pair["rights"] == [] and pair["features"] == []
    status, view = api(backoffice, "POST", f"/flexnet/operations/devices/{d}/rights",
                       {"rightsId": "ACT-0001", "count": 2})
    assert status == 200
    assert view["deviceId"] == d and [(r["rightsId"], r["count"]) for r in view["rights"]] == [("ACT-0001", 2)]
    assert view["features"] == times(CAD, 2)
    # the device API adds copies
    status, view = api(backoffice, "POST", f"/flexnet/operations/devices/{d}/rights",
                       {"rightsId": "ACT-0001", "count": 1})
    assert status == 200 and view["rights"][0]["count"] == 3 and view["features"] == times(CAD, 3)
    status, got = api(backoffice, "GET", f"/flexnet/operations/devices/{d}/rights")
    assert status == 200 and got == view
    ent = api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]
    assert (ent["mapped"], ent["available"], ent["devices"]) == (3, 1, [{"deviceId": d, "count": 3}])
    # over the quantity: 409 with the available count; nothing mapped
    status, err = api(backoffice, "POST", f"/flexnet/operations/devices/{d}/rights",
                      {"rightsId": "ACT-0001", "count": 2})
    assert (status, err["code"], err["available"], err["rightsId"]) == (409, "COUNT_EXCEEDED", 1, "ACT-0001")
    assert "only 1 of 4 copies is available" in err["message"]
    assert api(backoffice, "GET", f"/flexnet/operations/devices/{d}/rights")[1]["rights"][0]["count"] == 3
    # unknown rights id, unknown device, bad body
    status, err = api(backoffice, "POST", f"/flexnet/operations/devices/{d}/rights", {"rightsId": "ACT-0404"})
    assert (status, err["code"]) == (404, "UNKNOWN_RIGHTS_ID")
    status, err = api(backoffice, "POST", "/flexnet/operations/devices/FNLS-999999/rights",
                      {"rightsId": "ACT-0001", "count": 1})
    assert (status, err["code"]) == (404, "NOT_FOUND")
    for bad in ({"rightsId": "ACT-0001", "count": 0}, {"count": 1}, {"rightsId": "ACT-0001", "extra": 1}):
        assert api(backoffice, "POST", f"/flexnet/operations/devices/{d}/rights", bad)[0] == 400
    # the other servers see the copies as taken
    _, other = cap(backoffice, Z)
    status, err = api(backoffice, "POST", f"/flexnet/operations/devices/{other['deviceId']}/rights",
                      {"rightsId": "ACT-0001", "count": 2})
    assert (status, err["code"], err["available"]) == (409, "COUNT_EXCEEDED", 1)
    # a capability request of the main or of the back-up now carries the pair's licenses
    for hostid in (X, Y):
        status, answer = cap(backoffice, hostid)
        assert status == 200 and answer["rights"] == [{"rightsId": "ACT-0001", "count": 3}]
        assert answer["features"] == times(CAD, 3)
    # unmap: the copies return to the pool
    status, view = api(backoffice, "DELETE", f"/flexnet/operations/devices/{d}/rights/ACT-0001")
    assert status == 200 and view["rights"] == [] and view["features"] == []
    assert view["unmapped"] == {"rightsId": "ACT-0001", "count": 3}
    assert api(backoffice, "DELETE", f"/flexnet/operations/devices/{d}/rights/ACT-0001")[0] == 404
    assert api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]["available"] == 4
    kinds = [(e["event"], e["result"], e.get("via")) for e in api(backoffice, "GET", "/lab/events")[1]]
    assert ("rights_map", "ok", "device-api") in kinds and ("rights_map", "error", "device-api") in kinds
    assert ("rights_unmap", "ok", "device-api") in kinds
    assert http(backoffice.url + f"/flexnet/operations/devices/{d}/rights")[0] == 401


def test_deleting_a_device_returns_its_copies(backoffice):
    entitle(backoffice, quantity=2)
    _, dev = cap(backoffice, X, rights=[{"id": "ACT-0001", "count": 2}])
    assert api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]["available"] == 0
    assert api(backoffice, "DELETE", f"/flexnet/operations/devices/{dev['deviceId']}")[0] == 200
    assert api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]["available"] == 2


# -- back office: capability requests carrying rights ids ------------------------------------------

def test_map_with_a_capability_request(backoffice):
    entitle(backoffice, quantity=4)
    entitle(backoffice, "ACT-0002", 3, [{"name": "viewer", "count": 1, "expires": "2099-12-31"}])
    status, answer = cap(backoffice, X, Y, rights=[{"id": "ACT-0001", "count": 2}, "ACT-0002"])
    assert status == 200 and answer["role"] == "MAIN" and answer["changed"] is True
    assert answer["rights"] == [{"rightsId": "ACT-0001", "count": 2}, {"rightsId": "ACT-0002", "count": 1}]
    # the same feature from two rights ids adds up
    assert answer["features"] == [{"name": "cad_pro", "version": "2.0", "count": 10, "expires": "permanent"},
                                  {"name": "viewer", "count": 21, "expires": "2099-12-31"}]
    d = answer["deviceId"]
    # the pair's device holds them: the back-up asking alone gets them too
    status, backup = cap(backoffice, Y)
    assert status == 200 and backup["role"] == "BACKUP" and backup["deviceId"] == d
    assert backup["features"] == answer["features"] and backup["rights"] == answer["rights"]
    # idempotent: the count is the total wanted on the device, not an increment
    status, again = cap(backoffice, X, Y, rights=[{"id": "ACT-0001", "count": 2}])
    assert status == 200 and again["rights"] == answer["rights"] and again["changed"] is False
    status, fewer = cap(backoffice, X, Y, rights=["ACT-0001"])
    assert status == 200 and fewer["rights"][0] == {"rightsId": "ACT-0001", "count": 2}
    assert api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]["mapped"] == 2
    status, more = cap(backoffice, X, Y, rights=[{"id": "ACT-0001", "count": 3}])
    assert status == 200 and more["rights"][0] == {"rightsId": "ACT-0001", "count": 3}
    assert more["features"][0]["count"] == 15
    maps = [e for e in events(backoffice, "rights_map") if e["rights_id"] == "ACT-0001"]
    assert [(e["requested"], e["added"], e["count"], e["changed"]) for e in maps] == [
        (2, 2, 2, True), (2, 0, 2, False), (1, 0, 2, False), (3, 1, 3, True)]
    assert all(e["via"] == "capability-request" and e["device_id"] == d and e["hostid"] == X for e in maps)


def test_capability_request_with_an_unknown_rights_id(backoffice):
    entitle(backoffice, quantity=4)
    status, err = cap(backoffice, X, Y, rights=[{"id": "ACT-0001", "count": 1}, "ACT-0404"])
    assert (status, err["status"], err["code"], err["rightsId"]) == (404, "ERROR", "UNKNOWN_RIGHTS_ID", "ACT-0404")
    assert "ACT-0404" in err["message"]
    # nothing happened: no device, nothing mapped
    assert api(backoffice, "GET", "/flexnet/operations/devices")[1] == {"devices": []}
    assert api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]["mapped"] == 0
    [ev] = events(backoffice, "rights_map")
    assert (ev["result"], ev["code"], ev["rights_id"]) == ("error", "UNKNOWN_RIGHTS_ID", "ACT-0404")
    # with a registered pair: the registration stays, the request is refused
    _, pair = cap(backoffice, X, Y)
    status, err = cap(backoffice, X, Y, rights=["ACT-0404"])
    assert (status, err["code"]) == (404, "UNKNOWN_RIGHTS_ID")
    assert [d["deviceId"] for d in api(backoffice, "GET", "/flexnet/operations/devices")[1]["devices"]] == [
        pair["deviceId"]]


def test_capability_request_over_the_quantity(backoffice):
    entitle(backoffice, quantity=3)
    _, first = cap(backoffice, Z, rights=[{"id": "ACT-0001", "count": 2}])
    assert first["rights"] == [{"rightsId": "ACT-0001", "count": 2}]
    status, err = cap(backoffice, X, Y, rights=[{"id": "ACT-0001", "count": 2}])
    assert (status, err["code"], err["available"]) == (409, "COUNT_EXCEEDED", 1)
    assert "only 1 of 3 copies is available" in err["message"]
    ent = api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]
    assert (ent["mapped"], ent["devices"]) == (2, [{"deviceId": first["deviceId"], "count": 2}])
    assert api(backoffice, "GET", f"/flexnet/operations/devices?hostid={X}")[1]["devices"] == []
    # raising its own total by what is left is fine
    status, answer = cap(backoffice, Z, rights=[{"id": "ACT-0001", "count": 3}])
    assert status == 200 and answer["rights"] == [{"rightsId": "ACT-0001", "count": 3}]
    assert [e["code"] for e in events(backoffice, "rights_map") if e["result"] == "error"] == ["COUNT_EXCEEDED"]


@pytest.mark.parametrize("rights", [
    "ACT-0001", [5], [{"id": "ACT-0001", "count": 0}], [{"id": "ACT-0001", "count": "2"}], ["bad id"],
    ["ACT-0001", {"id": "ACT-0001", "count": 2}], [{"rightsId": "ACT-0001"}], [None],
])
def test_capability_request_with_malformed_rights(backoffice, rights):
    entitle(backoffice)
    status, err = http(backoffice.url + "/flexnet/deviceservices", "POST", {"hostid": X, "rightsIds": rights})
    assert (status, err["code"]) == (400, "INVALID_REQUEST")
    assert api(backoffice, "GET", "/flexnet/operations/devices")[1] == {"devices": []}


def test_portal_view_shows_rights_and_features(backoffice):
    entitle(backoffice, quantity=4)
    _, pair = cap(backoffice, X, Y)
    status, page = http(backoffice.url + f"/portal/servers/{pair['deviceId']}")
    assert status == 200 and "No entitlements are mapped" in page
    cap(backoffice, X, Y, rights=[{"id": "ACT-0001", "count": 2}])
    status, page = http(backoffice.url + f"/portal/servers/{pair['deviceId']}")
    assert status == 200 and "No entitlements are mapped" not in page
    assert '<td class="rights-id mono">ACT-0001</td>' in page and '<td class="copies">2</td>' in page
    assert '<td class="feature mono">cad_pro</td>' in page and '<td class="count">10</td>' in page
    assert '<td class="feature mono">viewer</td>' in page and '<td class="count">20</td>' in page
    assert '<td class="expires">2099-12-31</td>' in page


def test_rights_survive_a_back_office_restart(tmp_path):
    db = str(tmp_path / "bo.db")
    first = start_in_thread(db, password=PASSWORD)
    try:
        entitle(first, quantity=4)
        _, pair = cap(first, X, Y, rights=[{"id": "ACT-0001", "count": 3}])
    finally:
        first.stop()
    second = start_in_thread(db, password=PASSWORD)
    try:
        ent = api(second, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]
        assert (ent["quantity"], ent["mapped"], ent["available"]) == (4, 3, 1)
        status, answer = cap(second, X, Y)
        assert status == 200 and answer["deviceId"] == pair["deviceId"]
        assert answer["rights"] == [{"rightsId": "ACT-0001", "count": 3}] and answer["features"] == times(CAD, 3)
        assert cap(second, Z, rights=[{"id": "ACT-0001", "count": 2}])[1]["code"] == "COUNT_EXCEEDED"
    finally:
        second.stop()


# -- emulated servers ------------------------------------------------------------------------------

class Server:
    """One emulated license server process, all its files under ``tmp_path/name``."""

    def __init__(self, tmp_path, name, ip, ethernet, backoffice_url, settings_lines=(), lab=None):
        self.name, self.ip = name, ip
        self.hostid = "%s/ETHERNET" % ethernet
        self.port = free_port(ip)
        self.root = str(tmp_path / name)
        os.makedirs(self.root, exist_ok=True)
        machine_id = os.path.join(self.root, "machine-id")
        with open(machine_id, "w") as fh:
            fh.write("%032x\n" % (int(ethernet, 16) * 7919))
        lab_data = dict(FAST_LAB, bind=ip, hostid_overrides={"ETHERNET": ethernet},
                        sys_class_net=os.path.join(self.root, "none"), machine_id_path=machine_id)
        lab_data.update(lab or {})
        self.paths = install_server(self.root, backoffice_url=backoffice_url, admin_password=ADMIN_PASSWORD,
                                    lab=lab_data, port=self.port, settings_extra_lines=list(settings_lines))
        self.url = "http://%s:%d" % (ip, self.port)
        self.proc = None
        self._token = None

    def start(self):
        self._token = None
        self.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--producer", "demo", "--program-dir", self.paths["program_dir"],
             "--settings", self.paths["settings"], "--data-dir", self.paths["data_dir"]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def ready():
            assert self.proc.poll() is None, "%s exited: %s" % (self.name, self.log())
            try:
                return http(self.url + "/api/1.0/instances/~/health", timeout=2)[0] == 200
            except OSError:
                return False
        wait_for(ready, what="%s ready" % self.name)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def token(self):
        if self._token is None:
            status, body = http(self.url + "/api/1.0/instances/~/authorize", "POST",
                                {"user": "admin", "password": ADMIN_PASSWORD})
            assert status == 200, body
            self._token = body["token"]
        return self._token

    def admin(self, method, path, body=None, raw=None):
        return http(self.url + "/api/1.0/instances/~" + path, method, body, token=self.token(), raw=raw)

    def status(self):
        status, body = self.admin("GET", "/status")
        assert status == 200, body
        return body

    def registered(self):
        return wait_for(lambda: (lambda s: s if s["backoffice"]["last_success"] else None)(self.status()),
                        what="%s registered" % self.name)

    def client(self, *features):
        return http(self.url + "/fne/bin/capability", "POST",
                    {"hostid": "CLIENT-7/STRING", "features": [{"name": n, "count": c} for n, c in features]})

    def state(self):
        with open(os.path.join(self.paths["data_dir"], "state.json")) as fh:
            return json.load(fh)

    def events(self):
        try:
            with open(os.path.join(self.paths["data_dir"], "events.jsonl")) as fh:
                return [json.loads(line) for line in fh if line.strip()]
        except OSError:
            return []

    def log(self):
        try:
            with open(os.path.join(self.paths["log_dir"], "flexnetls.log")) as fh:
                return fh.read()
        except OSError:
            return ""


@pytest.fixture
def servers(tmp_path):
    made = []

    def make(name, ip, ethernet, backoffice_url, **kwargs):
        srv = Server(tmp_path, name, ip, ethernet, backoffice_url, **kwargs)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


def capability_url(bo):
    return bo.url + "/flexnet/deviceservices"


def test_polling_picks_up_rights_mapped_later(backoffice, servers):
    entitle(backoffice, quantity=4)
    srv = servers("poll", "127.0.0.4", "0A0000000101", capability_url(backoffice),
                  lab={"poll_interval": 0.5}).start()
    st = srv.registered()
    assert st["features"] == [] and st["rights"] == []
    d = st["backoffice"]["device_id"]
    assert api(backoffice, "POST", f"/flexnet/operations/devices/{d}/rights",
               {"rightsId": "ACT-0001", "count": 2})[0] == 200
    st = wait_for(lambda: (lambda s: s if s["rights"] else None)(srv.status()), what="rights by polling")
    assert st["rights"] == [{"rightsId": "ACT-0001", "count": 2}]
    assert st["features"] == times(CAD, 2)
    assert srv.admin("GET", "/licenses") == (200, {"features": times(CAD, 2),
                                                   "rights": [{"rightsId": "ACT-0001", "count": 2}]})
    state = srv.state()
    assert state["features"] == times(CAD, 2) and state["rights"] == [{"rightsId": "ACT-0001", "count": 2}]
    code, body = srv.client(("cad_pro", 4), ("viewer", 25))
    assert code == 200 and body["served_by"] == "main"
    assert body["features"] == [{"name": "cad_pro", "version": "2.0", "count": 4, "expires": "permanent"},
                                {"name": "viewer", "count": 20, "expires": "2099-12-31"}]
    assert body["denied"] == [{"name": "viewer", "requested": 25, "available": 20, "reason": "COUNT_EXCEEDED"}]
    assert any(e["event"] == "licenses" for e in srv.events())
    assert "Licenses updated: licenses from the back office" in srv.log()
    # unmapped in the back office: gone at the next poll
    assert api(backoffice, "DELETE", f"/flexnet/operations/devices/{d}/rights/ACT-0001")[0] == 200
    st = wait_for(lambda: (lambda s: s if not s["rights"] else None)(srv.status()), what="rights gone")
    assert st["features"] == []
    code, body = srv.client(("cad_pro", 1))
    assert code == 200 and body["features"] == [] and body["denied"][0]["reason"] == "UNKNOWN_FEATURE"


def test_activate_on_a_main(backoffice, servers):
    entitle(backoffice, quantity=3)
    main = servers("act-main", "127.0.0.4", "0A0000000110", capability_url(backoffice),
                   settings_lines=["BACKUP_SERVER_HOSTID=0A0000000111/ETHERNET"]).start()
    st = main.registered()
    d = st["backoffice"]["device_id"]
    code, body = main.admin("POST", "/activate", {"rightsId": "ACT-0001", "count": 2})
    assert code == 200, body
    assert body == {"rightsId": "ACT-0001", "count": 2, "features": times(CAD, 2)}
    assert main.admin("GET", "/licenses") == (200, {"features": times(CAD, 2),
                                                    "rights": [{"rightsId": "ACT-0001", "count": 2}]})
    st = main.status()
    assert st["features"] == times(CAD, 2) and st["rights"] == [{"rightsId": "ACT-0001", "count": 2}]
    # mapped to the pair's device in the back office
    rights = api(backoffice, "GET", f"/flexnet/operations/devices/{d}/rights")[1]
    assert [(r["rightsId"], r["count"]) for r in rights["rights"]] == [("ACT-0001", 2)]
    # asking again for the same count maps nothing more
    code, body = main.admin("POST", "/activate", {"rightsId": "ACT-0001", "count": 2})
    assert code == 200 and body["count"] == 2
    assert api(backoffice, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]["mapped"] == 2
    # the back office's refusals
    code, body = main.admin("POST", "/activate", {"rightsId": "ACT-0404", "count": 1})
    assert (code, body["code"]) == (404, "UNKNOWN_RIGHTS_ID") and "ACT-0404" in body["error"]
    code, body = main.admin("POST", "/activate", {"rightsId": "ACT-0001", "count": 4})
    assert (code, body["code"], body["available"]) == (409, "COUNT_EXCEEDED", 1)
    assert "only 1 of 3 copies is available" in body["error"]
    assert main.admin("GET", "/licenses")[1]["rights"] == [{"rightsId": "ACT-0001", "count": 2}]
    # a refused activation is no back-office contact failure
    assert main.status()["backoffice"]["last_error"] is None
    assert "Activation of ACT-0404 x1 failed" in main.log()
    kinds = [(e["event"], e["result"]) for e in main.events()]
    assert ("activate", "ok") in kinds and ("activate", "error") in kinds
    # bad requests and auth
    for bad in ({"rightsId": "bad id"}, {"rightsId": "ACT-0001", "count": 0}, {"count": 1},
                {"rightsId": "ACT-0001", "colour": 1}, ["ACT-0001"]):
        code, body = main.admin("POST", "/activate", bad)
        assert (code, body["code"]) == (400, "INVALID_REQUEST")
    assert http(main.url + "/api/1.0/instances/~/activate", "POST", {"rightsId": "ACT-0001"})[0] == 401
    assert http(main.url + "/api/1.0/instances/~/licenses")[0] == 401
    # sync-backoffice: one poll now
    code, body = main.admin("POST", "/sync-backoffice")
    assert code == 200 and body["device_id"] == d and body["rights"] == [{"rightsId": "ACT-0001", "count": 2}]
    # the licenses outlive a restart of the server
    main.stop()
    assert main.state()["rights"] == [{"rightsId": "ACT-0001", "count": 2}]


def test_activate_when_the_back_office_is_unreachable(servers):
    port = free_port("127.0.0.1")
    srv = servers("act-down", "127.0.0.4", "0A0000000115",
                  "http://127.0.0.1:%d/flexnet/deviceservices" % port).start()
    code, body = srv.admin("POST", "/activate", {"rightsId": "ACT-0001", "count": 1})
    assert (code, body["code"]) == (502, "BACKOFFICE_UNREACHABLE") and "cannot connect" in body["error"]
    code, body = srv.admin("POST", "/sync-backoffice")
    assert (code, body["code"]) == (502, "BACKOFFICE_UNREACHABLE")


def test_a_backup_refuses_activate(backoffice, servers):
    srv = servers("act-backup", "127.0.0.5", "0A0000000121", capability_url(backoffice)).start()
    srv.registered()  # its start-up request is answered; the next poll would be 30 s later
    srv.admin("POST", "/config", {"fne.syncTo.enabled": "true",
                                  "fne.syncTo.mainUri": "http://127.0.0.4:9/fne/bin/sync"})
    assert srv.status()["backoffice"]["enabled"] is False
    asked = len(events(backoffice, "capability_request"))
    code, body = srv.admin("POST", "/activate", {"rightsId": "ACT-0001", "count": 1})
    assert code == 409
    assert body == {"error": "a back-up server never talks to the back office; activate on the main",
                    "code": "BACKUP_SERVER"}
    assert srv.admin("POST", "/sync-backoffice")[0] == 409
    assert len(events(backoffice, "capability_request")) == asked


def test_backup_gets_the_mains_licenses_and_serves_them_in_failover(backoffice, servers):
    entitle(backoffice, quantity=4)
    url = capability_url(backoffice)
    backup = servers("fo-backup", "127.0.0.5", "0A0000000131", url)
    main = servers("fo-main", "127.0.0.4", "0A0000000130", url,
                   settings_lines=["BACKUP_SERVER_HOSTID=%s" % backup.hostid]).start()
    main.registered()
    assert main.admin("POST", "/activate", {"rightsId": "ACT-0001", "count": 2})[0] == 200
    backup.start()
    backup.admin("POST", "/config", {"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": main.url + "/fne/bin/sync",
                                     "fne.syncTo.interval": "200ms", "fne.syncTo.retries": "1"})
    st = wait_for(lambda: (lambda s: s if s["failover"]["peer"]["state"] == "UP" and s["rights"] else None)(
        backup.status()), what="back-up synced")
    assert st["features"] == main.status()["features"] == times(CAD, 2)
    assert st["rights"] == main.status()["rights"] == [{"rightsId": "ACT-0001", "count": 2}]
    assert backup.admin("GET", "/licenses")[1] == main.admin("GET", "/licenses")[1]
    assert backup.state()["sync_features"] == times(CAD, 2)
    assert backup.client(("cad_pro", 1))[0] == 503
    # rights added on the main later reach the back-up with the next sync
    entitle(backoffice, "ACT-0002", 1, [{"name": "solver", "count": 2}])
    assert main.admin("POST", "/activate", {"rightsId": "ACT-0002", "count": 1})[0] == 200
    wait_for(lambda: len(backup.status()["rights"]) == 2, what="second rights id synced")

    main.stop()
    wait_for(lambda: backup.status()["failover"]["failover_active"], what="failover")
    code, body = backup.client(("cad_pro", 3), ("solver", 1))
    assert code == 200 and body["served_by"] == "backup" and body["server_hostid"] == backup.hostid
    assert body["features"] == [{"name": "cad_pro", "version": "2.0", "count": 3, "expires": "permanent"},
                                {"name": "solver", "count": 1, "expires": "permanent"}]
    assert body["denied"] == []
    code, body = backup.client(("cad_pro", 12), ("nope", 1))
    assert code == 200
    assert body["features"] == [{"name": "cad_pro", "version": "2.0", "count": 10, "expires": "permanent"}]
    assert body["denied"] == [{"name": "cad_pro", "requested": 12, "available": 10, "reason": "COUNT_EXCEEDED"},
                              {"name": "nope", "requested": 1, "available": 0, "reason": "UNKNOWN_FEATURE"}]


def test_end_to_end_rights_survive_a_back_office_restart(tmp_path, servers):
    port = free_port("127.0.0.1")
    db = str(tmp_path / "bo-restart.db")
    bo = start_in_thread(db, port=port, password=PASSWORD)
    try:
        entitle(bo, quantity=4)
        srv = servers("bo-restart", "127.0.0.4", "0A0000000140", capability_url(bo)).start()
        srv.registered()
        assert srv.admin("POST", "/activate", {"rightsId": "ACT-0001", "count": 3})[0] == 200
    finally:
        bo.stop()
    bo = start_in_thread(db, port=port, password=PASSWORD)
    try:
        code, body = srv.admin("POST", "/sync-backoffice")
        assert code == 200 and body["rights"] == [{"rightsId": "ACT-0001", "count": 3}]
        assert body["features"] == times(CAD, 3)
        assert api(bo, "GET", "/flexnet/operations/entitlements/ACT-0001")[1]["available"] == 1
    finally:
        bo.stop()


def test_a_hand_registered_main_accepts_the_back_up_the_back_office_pairs_it_with(backoffice, servers):
    """A pair registered through the device API (the main's settings name no back-up): the main learns its
    back-up from its capability answer and accepts that back-up's sync, and still refuses any other."""
    url = capability_url(backoffice)
    main = servers("hand-main", "127.0.0.6", "0A0000000141", url)
    backup = servers("hand-backup", "127.0.0.7", "0A0000000142", url)
    intruder = servers("hand-intruder", "127.0.0.8", "0A0000000143", url)
    status, _dev = api(backoffice, "POST", "/flexnet/operations/devices",
                       {"serverIds": ["0A0000000141/ETHERNET", "0A0000000142/ETHERNET"]})
    assert status in (200, 201)
    main.start()
    main.registered()
    assert main.status()["backup_hostid"] is None          # the settings still name no back-up
    for srv in (backup, intruder):
        srv.start()
        srv.admin("POST", "/config", {"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": main.url + "/fne/bin/sync",
                                      "fne.syncTo.interval": "100ms"})
    st = wait_for(lambda: (lambda s: s if s["failover"]["peer"]["last_sync"] else None)(backup.status()),
                  what="the back-up's sync accepted")
    assert st["failover"]["peer"]["hostid"] == "0A0000000141/ETHERNET" and st["failover"]["peer"]["last_error"] is None
    st = wait_for(lambda: (lambda s: s if s["failover"]["peer"]["last_error"] else None)(intruder.status()),
                  what="the intruder's sync refused")
    assert "403" in st["failover"]["peer"]["last_error"] and "0A0000000142/ETHERNET" in st["failover"]["peer"]["last_error"]
