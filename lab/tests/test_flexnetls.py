"""The emulated FlexNet Embedded license server (lab/fnlslab/flexnetls.py), MODEL.md sections 1-4.

Every server runs as its own process, bound to 127.0.0.x, with a short start-up delay and all its
files under the test's temporary directory; each test stops everything it starts.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fnlslab import flexnetls
from fnlslab.install import install_server

EMULATOR = os.path.join(os.path.dirname(flexnetls.__file__), "flexnetls.py")
ADMIN_PASSWORD = "s3cret-admin"
FAST_LAB = {"startup_delay": 0.3, "boot_fraction": 0.4, "retry_initial": 0.2, "retry_max": 0.8,
            "poll_interval": 1.0}
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LOG_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) \[[a-z]+\] .+$")


# --------------------------------------------------------------------------- HTTP client

def call(url, method="GET", body=None, token=None, raw=None, ctype="application/json", timeout=5):
    """(status, parsed JSON or text) of one request; never raises on an HTTP error."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None and ctype:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            code, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        code, text = exc.code, exc.read().decode()
    try:
        return code, json.loads(text)
    except ValueError:
        return code, text


def wait_for(predicate, timeout=10.0, step=0.05, what="condition"):
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


# --------------------------------------------------------------------------- back office

class StubBackOffice:
    """A small stand-in for fnlslab.backoffice, used only when that package cannot be imported."""

    def __init__(self, port=0):
        self.devices = []  # {"deviceId", "servers": [[hostid, role], ...]}
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                code, answer = outer.register(body.get("hostid"), body.get("backupHostid"))
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), H)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def find(self, hostid):
        for dev in self.devices:
            for hid, role in dev["servers"]:
                if hid == hostid:
                    return dev, role
        return None, None

    def register(self, x, y):
        with self.lock:
            dev_x, role_x = self.find(x)
            if y:
                dev_y, role_y = self.find(y)
                if dev_x is not None and dev_x is dev_y:
                    return 200, {"status": "OK", "role": "MAIN", "deviceId": dev_x["deviceId"], "changed": False}
                if role_y == "MAIN":
                    return 409, {"status": "ERROR", "code": "ALREADY_REGISTERED_AS_MAIN",
                                 "message": "Server %s is already registered in the main-server role (device %s);"
                                            " it cannot be registered as the back-up of %s. Delete device %s first."
                                            % (y, dev_y["deviceId"], x, dev_y["deviceId"])}
                if dev_x is not None:
                    dev_x["servers"].append([y, "BACKUP"])
                    return 200, {"status": "OK", "role": "MAIN", "deviceId": dev_x["deviceId"], "changed": True}
                dev = {"deviceId": "FNLS-%06d" % (len(self.devices) + 1), "servers": [[x, "MAIN"], [y, "BACKUP"]]}
                self.devices.append(dev)
                return 200, {"status": "OK", "role": "MAIN", "deviceId": dev["deviceId"], "changed": True}
            if dev_x is not None:
                return 200, {"status": "OK", "role": role_x, "deviceId": dev_x["deviceId"], "changed": False}
            dev = {"deviceId": "FNLS-%06d" % (len(self.devices) + 1), "servers": [[x, "MAIN"]]}
            self.devices.append(dev)
            return 200, {"status": "OK", "role": "MAIN", "deviceId": dev["deviceId"], "changed": True}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def start_backoffice(tmp_path, port=0):
    try:
        from fnlslab.backoffice import start_in_thread
    except ImportError:
        return StubBackOffice(port)
    return start_in_thread(str(tmp_path / ("bo-%d.db" % port)), host="127.0.0.1", port=port,
                           user="admin", password="lab-secret")


def capability_url(base):
    return base.rstrip("/") + "/flexnet/deviceservices"


# --------------------------------------------------------------------------- servers

class Server:
    """One emulated server process with its own root directory under tmp_path."""

    def __init__(self, tmp_path, name, ip, ethernet, backoffice_url="http://127.0.0.1:9/flexnet/deviceservices",
                 settings_lines=(), lab=None, maintenance_interval="7d"):
        self.name = name
        self.ip = ip
        self.ethernet = ethernet
        self.hostid = "%s/ETHERNET" % ethernet
        self.port = free_port(ip)
        self.root = str(tmp_path / name)
        machine_id = os.path.join(self.root, "machine-id")
        os.makedirs(self.root, exist_ok=True)
        with open(machine_id, "w") as fh:
            fh.write("%032x\n" % (int(ethernet, 16) * 7919))
        lab_data = dict(FAST_LAB, bind=ip, hostid_overrides={"ETHERNET": ethernet},
                        sys_class_net=os.path.join(self.root, "no-sys-class-net"), machine_id_path=machine_id)
        lab_data.update(lab or {})
        self.paths = install_server(self.root, backoffice_url=backoffice_url, admin_password=ADMIN_PASSWORD,
                                    lab=lab_data, port=self.port, settings_extra_lines=list(settings_lines),
                                    maintenance_interval=maintenance_interval)
        self.url = "http://%s:%d" % (ip, self.port)
        self.proc = None
        self._token = None

    @property
    def log_path(self):
        return os.path.join(self.paths["log_dir"], "flexnetls.log")

    @property
    def events_path(self):
        return os.path.join(self.paths["data_dir"], "events.jsonl")

    def start(self, wait=True):
        self._token = None
        self.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--producer", "demo", "--program-dir", self.paths["program_dir"],
             "--settings", self.paths["settings"], "--data-dir", self.paths["data_dir"]],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s: %s" % (self.name, self.proc.returncode, self.log()))
            try:
                return call(self.url + "/api/1.0/instances/~/health", timeout=1)[0] == 200
            except OSError:
                return False
        wait_for(ready, timeout, what="%s ready" % self.name)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()

    def token(self):
        if self._token is None:
            code, body = call(self.url + "/api/1.0/instances/~/authorize", "POST",
                              {"user": "admin", "password": ADMIN_PASSWORD})
            assert code == 200, body
            self._token = body["token"]
        return self._token

    def status(self):
        code, body = call(self.url + "/api/1.0/instances/~/status", token=self.token())
        assert code == 200, body
        return body

    def set_config(self, **changes):
        code, body = call(self.url + "/api/1.0/instances/~/config", "POST", changes, token=self.token())
        assert code == 200, body
        return body

    def capability(self, features=(("f1", 1),)):
        return call(self.url + "/fne/bin/capability", "POST",
                    {"hostid": "CLIENT-1/STRING", "features": [{"name": n, "count": c} for n, c in features]})

    def log(self):
        try:
            with open(self.log_path) as fh:
                return fh.read()
        except OSError:
            return ""

    def events(self):
        try:
            with open(self.events_path) as fh:
                return [json.loads(line) for line in fh if line.strip()]
        except OSError:
            return []


@pytest.fixture
def servers(tmp_path):
    made = []

    def make(name, ip, ethernet, **kwargs):
        srv = Server(tmp_path, name, ip, ethernet, **kwargs)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture
def backoffice(tmp_path):
    handles = []

    def make(port=0):
        h = start_backoffice(tmp_path, port)
        handles.append(h)
        return h

    yield make
    for h in handles:
        h.stop()


# --------------------------------------------------------------------------- unit tests

def test_flexnetls_parse_settings_text():
    text = """
# comment
PORT=7071
export ACTIVE_HOSTID="0A1B2C3D4E5F/ethernet"
EXTRA_SYSPROPERTIES='-Da=b -Dc=d'
BACKUP_SERVER_HOSTID=0A1B2C3D4E60/ETHERNET   # the back-up
#BACKUP_SERVER_HOSTID=ignored
not a setting
"""
    assert flexnetls.parse_settings_text(text) == {
        "PORT": "7071", "ACTIVE_HOSTID": "0A1B2C3D4E5F/ethernet", "EXTRA_SYSPROPERTIES": "-Da=b -Dc=d",
        "BACKUP_SERVER_HOSTID": "0A1B2C3D4E60/ETHERNET"}


def test_flexnetls_parse_duration_and_hostids():
    assert flexnetls.parse_duration("2s") == 2.0
    assert flexnetls.parse_duration("500ms") == 0.5
    assert flexnetls.parse_duration("1m") == 60.0
    assert flexnetls.parse_duration("7d") == 7 * 86400.0
    assert flexnetls.parse_duration("3") == 3.0
    with pytest.raises(ValueError):
        flexnetls.parse_duration("soon")
    assert flexnetls.normalise_hostid(" 0a1b2c3d4e5f/ethernet ") == "0A1B2C3D4E5F/ETHERNET"
    assert flexnetls.format_vm_uuid("3d1219c7c4c5404aaa1f6d2a48adfda4") == "3D1219C7-C4C5-404A-AA1F-6D2A48ADFDA4"
    assert flexnetls.iso(0) == "1970-01-01T00:00:00.000Z"


# --------------------------------------------------------------------------- start-up and API

def test_flexnetls_startup_phases(servers):
    srv = servers("phases", "127.0.0.2", "0A0000000001", lab={"startup_delay": 1.5, "boot_fraction": 0.4})
    srv.start(wait=False)
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            code, body = call(srv.url + "/api/1.0/instances/~/health", timeout=1)
        except OSError:
            phase = "closed"
        else:
            if code == 503:
                assert body["status"] == "STARTING"
                if "starting" not in seen:  # early in the window: other calls answer 503 too
                    code2, body2 = call(srv.url + "/api/1.0/hostids", timeout=1)
                    assert (code2, body2) == (503, {"error": "not ready"})
                phase = "starting"
            else:
                assert code == 200 and body["status"] == "UP" and body["database"] == {"status": "OK"}
                phase = "ready"
        if not seen or seen[-1] != phase:
            seen.append(phase)
        if phase == "ready":
            break
        time.sleep(0.03)
    assert seen == ["closed", "starting", "ready"]
    log = srv.log()
    assert re.search(r"INFO  \[main\] FlexNet Embedded License Server starting \(boot [0-9a-f-]+\)", log)
    assert "INFO  [main] Server ready on port %d" % srv.port in log
    for line in log.splitlines():
        assert LOG_RE.match(line), line
    events = srv.events()
    assert [e["event"] for e in events[:2]] == ["start", "ready"]
    for e in events:
        assert set(e) == {"ts", "host", "hostid", "source", "event", "result", "detail", "boot_id"}
        assert e["host"] == socket.gethostname() and e["hostid"] == srv.hostid and e["source"] == "server"
    with open(os.path.join(srv.paths["data_dir"], "server.pid")) as fh:
        assert int(fh.read()) == srv.proc.pid


def test_flexnetls_authorize(servers):
    srv = servers("auth", "127.0.0.2", "0A0000000002").start()
    url = srv.url + "/api/1.0/instances/~/authorize"
    code, body = call(url, "POST", {"user": "admin", "password": ADMIN_PASSWORD})
    assert code == 200 and body["token"] and TS_RE.match(body["expires"])
    assert call(url, "POST", {"user": "admin", "password": "wrong"})[0] == 401
    assert call(url, "POST", {"user": "root", "password": ADMIN_PASSWORD})[0] == 401
    status_url = srv.url + "/api/1.0/instances/~/status"
    assert call(status_url)[0] == 401
    assert call(status_url, token="not-a-token")[0] == 401
    assert call(status_url, token=body["token"])[0] == 200
    assert call(srv.url + "/api/1.0/instances/~/config")[0] == 401


def test_flexnetls_hostids_from_host(servers, tmp_path):
    net = tmp_path / "sys-class-net"
    for iface, mac in (("lo", "00:00:00:00:00:00"), ("eth1", "02:42:ac:11:00:09"), ("eth0", "02:42:ac:11:00:02")):
        (net / iface).mkdir(parents=True)
        (net / iface / "address").write_text(mac + "\n")
    srv = servers("hostids", "127.0.0.2", "0A0000000003", lab={"hostid_overrides": {}, "sys_class_net": str(net)})
    srv.start()
    code, body = call(srv.url + "/api/1.0/hostids")
    assert code == 200
    with open(os.path.join(srv.root, "machine-id")) as fh:
        vm = flexnetls.format_vm_uuid(fh.read())
    assert body == [{"type": "ETHERNET", "value": "0242AC110002", "selected": True},
                    {"type": "VM_UUID", "value": vm, "selected": False}]
    assert srv.status()["hostid"] == "0242AC110002/ETHERNET"
    srv.stop()

    # ACTIVE_HOSTID pins the other hostid (type case-insensitive)
    with open(srv.paths["settings"], "a") as fh:
        fh.write("ACTIVE_HOSTID=%s/vm_uuid\n" % vm.lower())
    srv.start()
    code, body = call(srv.url + "/api/1.0/hostids")
    assert [h["type"] for h in body if h["selected"]] == ["VM_UUID"]
    assert srv.status()["hostid"] == "%s/VM_UUID" % vm
    ready = [e for e in srv.events() if e["event"] == "ready"]
    assert ready[-1]["hostid"] == "%s/VM_UUID" % vm


def test_flexnetls_wrong_active_hostid_fails_start(servers):
    srv = servers("badactive", "127.0.0.2", "0A0000000004",
                  settings_lines=["ACTIVE_HOSTID=FFFFFFFFFFFF/ETHERNET"])
    srv.start(wait=False)
    assert srv.proc.wait(5) == 1
    assert re.search(r"ERROR \[main\] Startup failed: ACTIVE_HOSTID=FFFFFFFFFFFF/ETHERNET is not a hostid",
                     srv.log())
    assert srv.events()[-1]["event"] == "start" and srv.events()[-1]["result"] == "error"


def test_flexnetls_config_get_set_persist(servers):
    srv = servers("config", "127.0.0.2", "0A0000000005", backoffice_url="http://127.0.0.1:9/x").start()
    url = srv.url + "/api/1.0/instances/~/config"
    code, cfg = call(url, token=srv.token())
    assert code == 200
    assert cfg == {"licensing.main.uri": "", "licensing.backup.uri": "", "fne.syncTo.enabled": "false",
                   "fne.syncTo.mainUri": "", "fne.syncTo.interval": "2s", "fne.syncTo.pageSize": "1000",
                   "fne.syncTo.retries": "3", "backoffice.url": "http://127.0.0.1:9/x"}
    code, cfg = call(url, "POST", {"licensing.main.uri": "http://m:7070/fne/bin/capability",
                                   "fne.syncTo.pageSize": 500}, token=srv.token())
    assert code == 200 and cfg["licensing.main.uri"] == "http://m:7070/fne/bin/capability"
    assert cfg["fne.syncTo.pageSize"] == "500"
    code, body = call(url, "POST", {"no.such.key": "1"}, token=srv.token())
    assert code == 400 and "no.such.key" in body["error"]
    assert call(url, "POST", {"fne.syncTo.enabled": "perhaps"}, token=srv.token())[0] == 400
    assert call(url, "POST", {"fne.syncTo.interval": "soon"}, token=srv.token())[0] == 400
    assert call(url, "POST", {"licensing.main.uri": "x"})[0] == 401
    # a bool is stored as the string "true"; the back-up role takes effect without a restart
    cfg = srv.set_config(**{"fne.syncTo.enabled": True})
    assert cfg["fne.syncTo.enabled"] == "true"
    st = srv.status()
    assert st["failover"]["role"] == "backup" and st["failover"]["sync_enabled"] is True
    assert st["backoffice"]["enabled"] is False
    srv.stop()
    srv.start()
    code, cfg = call(url, token=srv.token())
    assert cfg["fne.syncTo.enabled"] == "true" and cfg["fne.syncTo.pageSize"] == "500"
    assert cfg["licensing.main.uri"] == "http://m:7070/fne/bin/capability"
    with open(os.path.join(srv.paths["data_dir"], "state.json")) as fh:
        assert json.load(fh)["config"]["fne.syncTo.enabled"] == "true"


def test_flexnetls_status_shape(servers):
    srv = servers("status", "127.0.0.2", "0A0000000006", settings_lines=["BACKUP_SERVER_HOSTID=0a0000000060/ethernet"],
                  lab={"features": [{"name": "f1", "count": 5, "expires": "2027-01-01"}]}).start()
    st = srv.status()
    assert set(st) == {"state", "version", "boot_id", "started_at", "ready_at", "hostid", "backup_hostid",
                       "backoffice", "failover", "features", "rights"}
    assert st["state"] == "READY" and st["version"] == "2026.11-lab"
    assert TS_RE.match(st["started_at"]) and TS_RE.match(st["ready_at"])
    assert st["hostid"] == srv.hostid and st["backup_hostid"] == "0A0000000060/ETHERNET"
    assert set(st["backoffice"]) == {"url", "enabled", "attempts", "last_attempt", "last_success", "last_error",
                                     "last_error_at", "registered_role", "device_id"}
    assert st["backoffice"]["enabled"] is True
    assert set(st["failover"]) == {"role", "sync_enabled", "main_uri", "peer", "failover_active",
                                   "failover_since"}
    assert set(st["failover"]["peer"]) == {"hostid", "state", "last_sync", "last_error"}
    assert st["failover"]["role"] == "main" and st["failover"]["peer"]["hostid"] == "0A0000000060/ETHERNET"
    assert st["failover"]["failover_active"] is False and st["failover"]["failover_since"] is None
    assert st["features"] == [{"name": "f1", "count": 5, "expires": "2027-01-01"}]
    boot = st["boot_id"]
    srv.stop()
    srv.start()
    assert srv.status()["boot_id"] != boot


def test_flexnetls_bad_requests_answered_and_server_survives(servers):
    srv = servers("bad", "127.0.0.2", "0A0000000007").start()
    auth = srv.url + "/api/1.0/instances/~/authorize"
    code, body = call(auth, "POST", raw=b"{not json")
    assert code == 400 and "error" in body
    assert call(auth, "POST", raw=b'{"user": "admin"}', ctype="text/plain")[0] == 415
    assert call(auth, "POST", raw=b"[1, 2]")[0] == 400
    assert call(auth, "POST", raw=b"")[0] == 400
    assert call(auth, "POST", raw=b"x" * (64 * 1024 + 1))[0] == 413
    assert call(srv.url + "/no/such/path")[0] == 404
    assert call(srv.url + "/api/1.0/hostids", "DELETE")[0] == 405
    assert call(srv.url + "/fne/bin/capability", "POST", {"features": "all"})[0] == 400
    assert call(srv.url + "/fne/bin/capability", "POST", {"features": [{"name": "f", "count": -1}]})[0] == 400
    assert call(srv.url + "/fne/bin/sync", "POST", {})[0] == 400
    code, body = call(srv.url + "/api/1.0/instances/~/config", "POST", raw=b'"text"', token=srv.token())
    assert code == 400
    # a raw garbage request on the socket
    with socket.create_connection((srv.ip, srv.port), timeout=2) as s:
        s.sendall(b"\x00\x01garbage\r\n\r\n")
        s.recv(1024)
    assert call(srv.url + "/api/1.0/instances/~/health")[0] == 200
    assert srv.proc.poll() is None


def test_flexnetls_sigterm_stops_fast(servers):
    srv = servers("term", "127.0.0.2", "0A0000000008").start()
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(5) == 0
    assert time.monotonic() - started < 1.0
    assert "INFO  [main] Server stopping" in srv.log()
    assert srv.events()[-1]["event"] == "stop"
    assert not os.path.exists(os.path.join(srv.paths["data_dir"], "server.pid"))
    # also while the port is still closed
    srv2 = servers("term2", "127.0.0.2", "0A0000000009", lab={"startup_delay": 10.0})
    srv2.start(wait=False)
    wait_for(lambda: "License Server starting" in srv2.log(), what="process up")
    started = time.monotonic()
    srv2.proc.send_signal(signal.SIGTERM)
    assert srv2.proc.wait(5) == 0
    assert time.monotonic() - started < 1.0


# --------------------------------------------------------------------------- back office

def test_flexnetls_backoffice_contact_ok(servers, backoffice):
    bo = backoffice()
    srv = servers("bo-ok", "127.0.0.2", "0A0000000010", backoffice_url=capability_url(bo.url)).start()
    st = wait_for(lambda: (lambda s: s if s["backoffice"]["last_success"] else None)(srv.status()),
                  what="back-office contact")
    assert st["backoffice"]["registered_role"] == "MAIN"
    assert st["backoffice"]["device_id"] and st["backoffice"]["attempts"] >= 1
    assert st["backoffice"]["last_error"] is None
    assert TS_RE.match(st["backoffice"]["last_attempt"])
    log = srv.log()
    assert "INFO  [backoffice] Sending capability request to %s (hostid %s, backup hostid none)" % (
        capability_url(bo.url), srv.hostid) in log
    assert ("INFO  [backoffice] Back-office communication successful: registered as MAIN, device %s"
            % st["backoffice"]["device_id"]) in log
    kinds = [(e["event"], e["result"]) for e in srv.events()]
    assert ("bo_request", "ok") in kinds and ("bo_contact", "ok") in kinds


def test_flexnetls_backoffice_retries_until_up(servers, backoffice, tmp_path):
    port = free_port("127.0.0.1")
    srv = servers("bo-retry", "127.0.0.2", "0A0000000011",
                  backoffice_url=capability_url("http://127.0.0.1:%d" % port)).start()
    wait_for(lambda: srv.status()["backoffice"]["attempts"] >= 3, what="three attempts")
    st = srv.status()
    assert st["backoffice"]["last_success"] is None
    assert "cannot connect" in st["backoffice"]["last_error"]
    assert TS_RE.match(st["backoffice"]["last_error_at"])
    log = srv.log()
    assert re.search(r"ERROR \[backoffice\] Back-office communication failed: cannot connect to .*; "
                     r"retrying in 0\.2 s", log)
    assert "retrying in 0.4 s" in log
    assert ("bo_contact", "error") in [(e["event"], e["result"]) for e in srv.events()]
    backoffice(port)
    st = wait_for(lambda: (lambda s: s if s["backoffice"]["last_success"] else None)(srv.status()),
                  what="contact after the back office came up")
    assert st["backoffice"]["registered_role"] == "MAIN"
    assert "Back-office communication successful" in srv.log()


def test_flexnetls_backup_started_first_blocks_main(servers, backoffice):
    bo = backoffice()
    url = capability_url(bo.url)
    backup = servers("early-backup", "127.0.0.3", "0A0000000021", backoffice_url=url).start()
    st = wait_for(lambda: (lambda s: s if s["backoffice"]["last_success"] else None)(backup.status()),
                  what="back-up registered")
    assert st["backoffice"]["registered_role"] == "MAIN"  # the back-up took the main-server role
    main = servers("late-main", "127.0.0.2", "0A0000000020", backoffice_url=url,
                   settings_lines=["BACKUP_SERVER_HOSTID=%s" % backup.hostid]).start()
    st = wait_for(lambda: (lambda s: s if s["backoffice"]["last_error"] else None)(main.status()),
                  what="main refused")
    assert "ALREADY_REGISTERED_AS_MAIN" in st["backoffice"]["last_error"]
    assert backup.hostid in st["backoffice"]["last_error"]
    assert st["backoffice"]["last_success"] is None and st["backoffice"]["registered_role"] is None
    assert re.search(r"Back-office communication failed: ALREADY_REGISTERED_AS_MAIN: .*; retrying in 1 s",
                     main.log())
    errors = [e for e in main.events() if e["event"] == "bo_contact"]
    assert errors and errors[0]["result"] == "error" and "ALREADY_REGISTERED_AS_MAIN" in errors[0]["detail"]


# --------------------------------------------------------------------------- failover

def test_flexnetls_failover_and_return(servers, backoffice):
    bo = backoffice()
    url = capability_url(bo.url)
    feats = [{"name": "f1", "count": 10, "expires": "permanent"}, {"name": "f2", "count": 2, "expires": "2027-12-31"}]
    backup = servers("fo-backup", "127.0.0.3", "0A0000000031", backoffice_url=url)
    main = servers("fo-main", "127.0.0.2", "0A0000000030", backoffice_url=url, lab={"features": feats},
                   settings_lines=["BACKUP_SERVER_HOSTID=%s" % backup.hostid]).start()
    wait_for(lambda: main.status()["backoffice"]["last_success"], what="main registered")
    assert main.status()["backoffice"]["registered_role"] == "MAIN"
    backup.start()
    backup.set_config(**{"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": main.url + "/fne/bin/sync",
                         "fne.syncTo.interval": "200ms", "fne.syncTo.retries": "1"})
    st = wait_for(lambda: (lambda s: s if s["failover"]["peer"]["state"] == "UP" else None)(backup.status()),
                  what="back-up synced")
    assert st["failover"]["role"] == "backup" and st["failover"]["peer"]["hostid"] == main.hostid
    assert st["failover"]["failover_active"] is False and st["backoffice"]["enabled"] is False
    assert {f["name"] for f in st["features"]} == {"f1", "f2"}
    # the back-up is passive, the main serves
    code, body = backup.capability()
    assert code == 503 and body == {"error": "back-up server is not active: the main server is up"}
    code, body = main.capability([("f1", 3), ("nope", 1)])
    assert code == 200 and body["served_by"] == "main" and body["server_hostid"] == main.hostid
    assert body["features"] == [{"name": "f1", "count": 3, "expires": "permanent"}]
    mst = main.status()
    assert mst["failover"]["role"] == "main" and mst["failover"]["peer"]["state"] == "UP"
    assert mst["failover"]["peer"]["hostid"] == backup.hostid

    # the main goes away: the back-up takes over
    main.stop()
    st = wait_for(lambda: (lambda s: s if s["failover"]["failover_active"] else None)(backup.status()),
                  what="failover")
    assert st["failover"]["peer"]["state"] == "DOWN" and TS_RE.match(st["failover"]["failover_since"])
    code, body = backup.capability([("f2", 5)])
    assert code == 200 and body["served_by"] == "backup" and body["server_hostid"] == backup.hostid
    assert body["features"] == [{"name": "f2", "count": 2, "expires": "2027-12-31"}]
    assert any(e["event"] == "failover" and e["detail"].startswith("started") for e in backup.events())

    # the main returns: the back-up is passive again
    main.start()
    st = wait_for(lambda: (lambda s: s if not s["failover"]["failover_active"] else None)(backup.status()),
                  what="failover ended")
    assert st["failover"]["peer"]["state"] == "UP" and st["failover"]["failover_since"] is None
    assert backup.capability()[0] == 503
    assert any(e["event"] == "failover" and e["detail"].startswith("ended") for e in backup.events())
    # once its sync is enabled, a back-up no longer talks to the back office
    events = backup.events()
    first_sync = min(i for i, e in enumerate(events) if e["event"] == "sync" and e["result"] == "ok")
    assert not [e for e in events[first_sync:] if e["event"].startswith("bo_")]


def test_flexnetls_failover_ends_after_maintenance_interval(servers):
    main = servers("mi-main", "127.0.0.2", "0A0000000040",
                   settings_lines=["BACKUP_SERVER_HOSTID=0A0000000041/ETHERNET"], lab={"features": [{"name": "f1", "count": 1}]}).start()
    backup = servers("mi-backup", "127.0.0.3", "0A0000000041", maintenance_interval="2500ms").start()
    backup.set_config(**{"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": main.url + "/fne/bin/sync",
                         "fne.syncTo.interval": "100ms", "fne.syncTo.retries": "1"})
    wait_for(lambda: backup.status()["failover"]["peer"]["state"] == "UP", what="synced")
    main.stop()
    wait_for(lambda: backup.status()["failover"]["failover_active"], what="failover")
    assert backup.capability()[1]["served_by"] == "backup"
    wait_for(lambda: not backup.status()["failover"]["failover_active"], timeout=8, what="failover expired")
    code, body = backup.capability()
    assert code == 503 and "maintenance interval" in body["error"]


def test_flexnetls_sync_refused_from_unregistered_hostid(servers):
    main = servers("sr-main", "127.0.0.2", "0A0000000050",
                   settings_lines=["BACKUP_SERVER_HOSTID=0A0000000051/ETHERNET"]).start()
    sync = main.url + "/fne/bin/sync"
    code, body = call(sync, "POST", {"hostid": "0A0000000099/ETHERNET"})
    assert code == 403 and "not the registered back-up" in body["error"]
    code, body = call(sync, "POST", {"hostid": "0a0000000051/ethernet"})
    assert code == 200 and body["main_hostid"] == main.hostid and TS_RE.match(body["synced_at"])
    # a back-up naming a main that does not know it: refused, no failover
    intruder = servers("sr-intruder", "127.0.0.3", "0A0000000052").start()
    intruder.set_config(**{"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": sync,
                           "fne.syncTo.interval": "100ms"})
    st = wait_for(lambda: (lambda s: s if s["failover"]["peer"]["last_error"] else None)(intruder.status()),
                  what="refusal")
    assert "403" in st["failover"]["peer"]["last_error"] and st["failover"]["failover_active"] is False
    assert intruder.capability()[0] == 503
    assert any(e["event"] == "sync" and e["result"] == "error" for e in main.events())


def test_flexnetls_standalone_capability_and_not_ready(servers):
    srv = servers("cap", "127.0.0.2", "0A0000000060", lab={"startup_delay": 1.0}).start(wait=False)
    # before READY: closed or 503 not ready
    code, body = wait_for(lambda: _try(lambda: call(srv.url + "/fne/bin/capability", "POST", {"features": []},
                                                    timeout=1)), what="port open")
    assert (code, body) == (503, {"error": "not ready"})
    srv.wait_ready()
    code, body = srv.capability([("unknown", 1)])
    assert code == 200 and body == {"served_by": "main", "server_hostid": srv.hostid, "features": [],
                                    "denied": [{"name": "unknown", "requested": 1, "available": 0,
                                                "reason": "UNKNOWN_FEATURE"}]}
    assert "not available: unknown" in srv.log()
    assert srv.status()["failover"]["role"] == "standalone"


def _try(fn):
    try:
        return fn()
    except OSError:
        return None
