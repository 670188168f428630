"""The emulated FlexNet Embedded license server (lab/fnlslab/flexnetls.py), MODEL.md sections 1-4.

Every server runs as its own process, bound to 127.0.0.x, with a short start-up delay and all its
files under the test's temporary directory; each test stops everything it starts. The server speaks
dialect a or b (docs/DIALECTS.md): the behaviour tests run in both, through ``Server.facts()``, which
reads either dialect's status answer and maps b's words back to a's (an unexpected word fails).
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
PLAIN_LINE_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (INFO |WARN |ERROR) \[([a-z]+)\] (.+)$")
DIALECTS = ("a", "b")
HEALTH = {"a": "/api/1.0/instances/~/health", "b": "/api/1.0/health"}
STATUS = {"a": "/api/1.0/instances/~/status", "b": "/api/1.0/instances/~/server-status"}
# docs/DIALECTS.md, written out here again so that the emulator is checked against the table
START_LINE = {"a": "FlexNet Embedded License Server starting (boot %s)",
              "b": "New license server instance %s has been constructed"}
BO_OK_LINE = {"a": "Back-office communication successful: registered as MAIN, device %s",
              "b": "Back office synchronization completed (device %s, role PRIMARY)"}
BO_FAIL_PREFIX = {"a": "Back-office communication failed: ", "b": "Back office synchronization failed: "}
STOP_LINE = {"a": "Server stopping", "b": "License server shutting down"}
LOG_TYPE = {"a": "ETHERNET", "b": "Ethernet"}  # the hostid type as each dialect logs it
B_REGISTERED = {None: None, "PRIMARY": "MAIN", "SECONDARY": "BACKUP"}
B_ROLE = {"PRIMARY": "main", "SECONDARY": "backup", "STANDALONE": "standalone"}
B_PEER = {"CONNECTED": "UP", "DISCONNECTED": "DOWN", "UNKNOWN": "UNKNOWN"}


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
    """One emulated server process of ``dialect`` with its own root directory under tmp_path.

    ``backup_hostid`` and ``active_hostid`` go into the dialect's settings file (a: the shell file,
    b: local-configuration.yaml); ``settings_lines`` are appended to that file as they are.
    """

    def __init__(self, tmp_path, name, ip, ethernet, backoffice_url="http://127.0.0.1:9/flexnet/deviceservices",
                 settings_lines=(), lab=None, maintenance_interval="7d", dialect="a", backup_hostid=None,
                 active_hostid=None):
        self.name = name
        self.ip = ip
        self.ethernet = ethernet
        self.dialect = dialect
        self.hostid = "%s/ETHERNET" % ethernet
        self.port = free_port(ip)
        self.root = str(tmp_path / name)
        machine_id = os.path.join(self.root, "machine-id")
        product_uuid = os.path.join(self.root, "product_uuid")
        os.makedirs(self.root, exist_ok=True)
        with open(machine_id, "w") as fh:
            fh.write("%032x\n" % (int(ethernet, 16) * 7919))
        with open(product_uuid, "w") as fh:  # as /sys/class/dmi/id/product_uuid: lower case, dashes
            raw = "%032x" % (int(ethernet, 16) * 104729)
            fh.write("%s-%s-%s-%s-%s\n" % (raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:]))
        lab_data = dict(FAST_LAB, bind=ip, hostid_overrides={"ETHERNET": ethernet},
                        sys_class_net=os.path.join(self.root, "no-sys-class-net"), machine_id_path=machine_id,
                        product_uuid_path=product_uuid)
        lab_data.update(lab or {})
        lines = list(settings_lines)
        form = "%s: %s" if dialect == "b" else "%s=%s"
        if backup_hostid:
            lines.append(form % ("backup-server-hostid" if dialect == "b" else "BACKUP_SERVER_HOSTID", backup_hostid))
        if active_hostid:
            lines.append(form % ("active-hostid" if dialect == "b" else "ACTIVE_HOSTID", active_hostid))
        self.paths = install_server(self.root, backoffice_url=backoffice_url, admin_password=ADMIN_PASSWORD,
                                    lab=lab_data, port=self.port, settings_extra_lines=lines,
                                    maintenance_interval=maintenance_interval, dialect=dialect)
        self.settings_path = self.paths["local_configuration" if dialect == "b" else "settings"]
        self.url = "http://%s:%d" % (ip, self.port)
        self.proc = None
        self._token = None

    @property
    def log_path(self):
        return os.path.join(self.paths["log_dir"], "flexnetls.log")

    @property
    def events_path(self):
        return os.path.join(self.paths["data_dir"], "events.jsonl")

    def start(self, wait=True, extra_args=()):
        self._token = None
        self.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--producer", "demo", "--program-dir", self.paths["program_dir"],
             "--settings", self.paths["settings"], "--local-configuration", self.paths["local_configuration"],
             "--data-dir", self.paths["data_dir"]] + list(extra_args),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s: %s" % (self.name, self.proc.returncode, self.log()))
            try:
                return call(self.url + HEALTH[self.dialect], timeout=1)[0] == 200
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
        """The dialect's own status answer."""
        code, body = call(self.url + STATUS[self.dialect], token=self.token())
        assert code == 200, body
        return body

    def facts(self):
        """The status in dialect a's words, from either dialect's answer."""
        st = self.status()
        if self.dialect == "a":
            bo, fo = st["backoffice"], st["failover"]
            return {"hostid": st["hostid"], "backup_hostid": st["backup_hostid"], "instance": st["boot_id"],
                    "bo_enabled": bo["enabled"], "bo_attempts": bo["attempts"], "bo_success": bo["last_success"],
                    "bo_error": bo["last_error"], "registered": bo["registered_role"], "device": bo["device_id"],
                    "role": fo["role"], "sync_enabled": fo["sync_enabled"], "peer_hostid": fo["peer"]["hostid"],
                    "peer_state": fo["peer"]["state"], "peer_error": fo["peer"]["last_error"],
                    "takeover": fo["failover_active"], "takeover_since": fo["failover_since"],
                    "features": st["features"]}
        server, bo, fo = st["server"], st["backOffice"], st["failover"]
        for ms in (server["startTime"], bo["lastSuccessTime"], fo["peer"]["lastSyncTime"]):
            assert ms is None or (isinstance(ms, int) and ms > 1_600_000_000_000), ms
        return {"hostid": server["hostId"], "backup_hostid": server["backupHostId"], "instance": server["instanceId"],
                "bo_enabled": bo["active"], "bo_attempts": bo["attempts"], "bo_success": bo["lastSuccessTime"],
                "bo_error": bo["lastErrorMessage"], "registered": B_REGISTERED[bo["registeredAs"]],
                "device": bo["deviceName"], "role": B_ROLE[fo["serverRole"]], "sync_enabled": fo["syncEnabled"],
                "peer_hostid": fo["peer"]["hostId"], "peer_state": B_PEER[fo["peer"]["status"]],
                "peer_error": fo["peer"]["lastError"], "takeover": fo["takenOver"],
                "takeover_since": fo["takenOverSince"], "features": st["features"]}

    def set_config(self, **changes):
        """POST config; the values are given as a's strings and sent typed in b."""
        if self.dialect == "b":
            changes = {k: (v == "true" if k == "fne.syncTo.enabled" else
                           int(v) if k in ("fne.syncTo.pageSize", "fne.syncTo.retries") else v)
                       for k, v in changes.items()}
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

    def records(self):
        """[(level, thread, message)] of the log: a's plain lines or b's JSON lines, each checked."""
        out = []
        for line in self.log().splitlines():
            if self.dialect == "b":
                rec = json.loads(line)
                assert set(rec) == {"timestamp", "level", "thread", "logger", "message"}, line
                assert TS_RE.match(rec["timestamp"]) and rec["level"] in ("INFO", "WARN", "ERROR"), line
                out.append((rec["level"], rec["thread"], rec["message"]))
            else:
                m = PLAIN_LINE_RE.match(line)
                assert m, line
                out.append((m.group(2).strip(), m.group(3), m.group(4)))
        return out

    def logged(self, level, thread, message):
        return (level, thread, message) in self.records()

    def messages(self):
        return [m for _, _, m in self.records()]

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


def test_flexnetls_parse_local_configuration():
    text = """---
# local settings
port: 7071
active-hostid: "445566778899/ETHERNET"
backup-server-hostid: 000C2909B6BD/Ethernet   # the back-up
#backup-server-hostid: ignored
loggingStyle: 'JSON_ROLLOVER'
https-in:
  enabled: true
  keystore-path: /etc/ks.p12
quoted: 'it''s # not a comment'
escaped: "a \\"b\\" c"
url: http://fno.example.com:8080/x
empty:
nothing: ~
port:7072
- a list item
not a setting
"""
    assert flexnetls.parse_local_configuration(text) == {
        "port": "7071", "active-hostid": "445566778899/ETHERNET", "backup-server-hostid": "000C2909B6BD/Ethernet",
        "loggingStyle": "JSON_ROLLOVER", "https-in": "", "quoted": "it's # not a comment", "escaped": 'a "b" c',
        "url": "http://fno.example.com:8080/x", "empty": "", "nothing": ""}
    # what the installer writes for dialect b parses to the port and the log style only
    from fnlslab.install import local_configuration_text
    assert flexnetls.parse_local_configuration(local_configuration_text("demo", 7171)) == {
        "port": "7171", "loggingStyle": "JSON_ROLLOVER"}


def test_flexnetls_parse_duration_and_hostids():
    assert flexnetls.parse_duration("2s") == 2.0
    assert flexnetls.parse_duration("500ms") == 0.5
    assert flexnetls.parse_duration("1m") == 60.0
    assert flexnetls.parse_duration("7d") == 7 * 86400.0
    assert flexnetls.parse_duration("3") == 3.0
    with pytest.raises(ValueError):
        flexnetls.parse_duration("soon")
    assert flexnetls.normalise_hostid(" 0a1b2c3d4e5f/ethernet ") == "0A1B2C3D4E5F/ETHERNET"
    assert flexnetls.normalise_hostid("000C2909B6BD/Ethernet") == "000C2909B6BD/ETHERNET"
    assert flexnetls.format_vm_uuid("3d1219c7c4c5404aaa1f6d2a48adfda4") == "3D1219C7-C4C5-404A-AA1F-6D2A48ADFDA4"
    assert flexnetls.log_hostid("0A1B2C3D4E5F/ETHERNET") == "0A1B2C3D4E5F/Ethernet"
    assert flexnetls.iso(0) == "1970-01-01T00:00:00.000Z"
    assert flexnetls.epoch_ms(1700000000.1234) == 1700000000123 and flexnetls.epoch_ms(None) is None


# --------------------------------------------------------------------------- start-up and API

@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_startup_phases(servers, dialect):
    srv = servers("phases", "127.0.0.2", "0A0000000001", lab={"startup_delay": 1.5, "boot_fraction": 0.4},
                  dialect=dialect)
    srv.start(wait=False)
    seen = []
    instance = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            code, body = call(srv.url + HEALTH[dialect], timeout=1)
        except OSError:
            phase = "closed"
        else:
            lls = body["LLS"]
            assert set(lls) == {"version", "buildDate", "serverInstanceID", "database", "status"}
            assert lls["database"] == {"connectionCheck": "success"} and lls["version"] == "2026.11-lab"
            instance = lls["serverInstanceID"]
            if code == 503:
                assert lls["status"] == "STARTING"
                assert "Server instance %s is not ready" % instance in json.dumps(body)
                if "starting" not in seen:  # early in the window: other calls answer 503 too
                    code2, body2 = call(srv.url + "/api/1.0/hostids", timeout=1)
                    assert (code2, body2) == (503, {"error": "not ready"})
                phase = "starting"
            else:
                assert code == 200 and lls["status"] == "UP" and set(body) == {"LLS"}
                phase = "ready"
        if not seen or seen[-1] != phase:
            seen.append(phase)
        if phase == "ready":
            break
        time.sleep(0.03)
    assert seen == ["closed", "starting", "ready"]
    assert srv.facts()["instance"] == instance
    records = srv.records()  # every line parses in the dialect's form
    assert records[0] == ("INFO", "main", START_LINE[dialect] % instance)
    assert ("INFO", "main", "Server ready on port %d" % srv.port) in records
    if dialect == "a":
        for line in srv.log().splitlines():
            assert LOG_RE.match(line), line
    events = srv.events()
    assert [e["event"] for e in events[:2]] == ["start", "ready"]
    for e in events:
        assert set(e) == {"ts", "host", "hostid", "source", "event", "result", "detail", "boot_id"}
        assert e["host"] == socket.gethostname() and e["hostid"] == srv.hostid and e["source"] == "server"
    with open(os.path.join(srv.paths["data_dir"], "server.pid")) as fh:
        assert int(fh.read()) == srv.proc.pid


def test_flexnetls_health_paths_and_status_paths_per_dialect(servers):
    a = servers("paths-a", "127.0.0.2", "0A0000000012").start()
    b = servers("paths-b", "127.0.0.3", "0A0000000013", dialect="b").start()
    assert call(a.url + "/api/1.0/instances/~/health")[0] == 200
    assert call(a.url + "/api/1.0/health")[0] == 404
    assert call(b.url + "/api/1.0/health")[0] == 200
    assert call(b.url + "/api/1.0/instances/~/health")[0] == 200  # b serves both health paths
    assert call(a.url + STATUS["a"], token=a.token())[0] == 200
    assert call(a.url + STATUS["b"], token=a.token())[0] == 404
    assert call(b.url + STATUS["b"], token=b.token())[0] == 200
    assert call(b.url + STATUS["a"], token=b.token())[0] == 404
    assert call(b.url + STATUS["b"])[0] == 401


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_authorize(servers, dialect):
    srv = servers("auth", "127.0.0.2", "0A0000000002", dialect=dialect).start()
    url = srv.url + "/api/1.0/instances/~/authorize"
    code, body = call(url, "POST", {"user": "admin", "password": ADMIN_PASSWORD})
    assert code == 200 and body["token"] and TS_RE.match(body["expires"])
    assert call(url, "POST", {"user": "admin", "password": "wrong"})[0] == 401
    assert call(url, "POST", {"user": "root", "password": ADMIN_PASSWORD})[0] == 401
    status_url = srv.url + STATUS[dialect]
    assert call(status_url)[0] == 401
    assert call(status_url, token="not-a-token")[0] == 401
    assert call(status_url, token=body["token"])[0] == 200
    assert call(srv.url + "/api/1.0/instances/~/config")[0] == 401


def _fake_sys_class_net(tmp_path):
    net = tmp_path / "sys-class-net"
    for iface, mac in (("lo", "00:00:00:00:00:00"), ("eth1", "02:42:ac:11:00:09"), ("eth0", "02:42:ac:11:00:02")):
        (net / iface).mkdir(parents=True)
        (net / iface / "address").write_text(mac + "\n")
    return net


def test_flexnetls_hostids_from_host(servers, tmp_path):
    net = _fake_sys_class_net(tmp_path)
    srv = servers("hostids", "127.0.0.2", "0A0000000003", lab={"hostid_overrides": {}, "sys_class_net": str(net)})
    srv.start()
    code, body = call(srv.url + "/api/1.0/hostids")
    assert code == 200
    with open(os.path.join(srv.root, "machine-id")) as fh:
        vm = flexnetls.format_vm_uuid(fh.read())
    assert body == {"hostids": [{"type": "ETHERNET", "value": "0242AC110002", "selected": True},
                                {"type": "VM_UUID", "value": vm, "selected": False}]}
    assert srv.status()["hostid"] == "0242AC110002/ETHERNET"
    srv.stop()

    # ACTIVE_HOSTID pins the other hostid (type case-insensitive)
    with open(srv.paths["settings"], "a") as fh:
        fh.write("ACTIVE_HOSTID=%s/vm_uuid\n" % vm.lower())
    srv.start()
    code, body = call(srv.url + "/api/1.0/hostids")
    assert [h["type"] for h in body["hostids"] if h["selected"]] == ["VM_UUID"]
    assert srv.status()["hostid"] == "%s/VM_UUID" % vm
    ready = [e for e in srv.events() if e["event"] == "ready"]
    assert ready[-1]["hostid"] == "%s/VM_UUID" % vm


def test_flexnetls_hostids_dialect_b(servers, tmp_path):
    net = _fake_sys_class_net(tmp_path)
    srv = servers("hostids-b", "127.0.0.2", "0A0000000014", dialect="b",
                  lab={"hostid_overrides": {}, "sys_class_net": str(net)})
    srv.start()
    with open(os.path.join(srv.root, "product_uuid")) as fh:
        product_uuid = fh.read().strip()
    vm = product_uuid.upper()  # the SMBIOS UUID, not the machine-id
    with open(os.path.join(srv.root, "machine-id")) as fh:
        assert flexnetls.format_vm_uuid(fh.read()) != vm
    code, body = call(srv.url + "/api/1.0/hostids")
    assert code == 200
    assert body == {"selected": {"hostidType": "ETHERNET", "hostidValue": "0242AC110002"},
                    "hostids": [{"hostidType": "ETHERNET", "hostidValue": "0242AC110002"},
                                {"hostidType": "VM_UUID", "hostidValue": vm}]}
    assert srv.status()["server"]["hostId"] == "0242AC110002/ETHERNET"
    # no pin: the server says which one it chose, type mixed case in the log
    assert srv.logged("WARN", "main", 'No active hostID specified, choosing "0242AC110002/Ethernet"')
    srv.stop()

    # active-hostid in local-configuration.yaml pins the other one
    with open(srv.settings_path, "a") as fh:
        fh.write("active-hostid: %s/VM_UUID\n" % product_uuid)
    srv.start()
    code, body = call(srv.url + "/api/1.0/hostids")
    assert body["selected"] == {"hostidType": "VM_UUID", "hostidValue": vm}
    assert srv.status()["server"]["hostId"] == "%s/VM_UUID" % vm
    assert len([r for r in srv.records() if r[2].startswith("No active hostID specified")]) == 1


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_wrong_active_hostid_fails_start(servers, dialect):
    srv = servers("badactive", "127.0.0.2", "0A0000000004", dialect=dialect, active_hostid="FFFFFFFFFFFF/ETHERNET")
    srv.start(wait=False)
    assert srv.proc.wait(5) == 1
    name = {"a": "ACTIVE_HOSTID=", "b": "active-hostid: "}[dialect]
    assert any(r[:2] == ("ERROR", "main") and r[2].startswith(
        "Startup failed: %sFFFFFFFFFFFF/ETHERNET is not a hostid of this host (hostids: 0A0000000004/ETHERNET, "
        % name) for r in srv.records()), srv.log()
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
    # dialect a takes the string too
    code, cfg = call(url, "POST", {"fne.syncTo.enabled": "true"}, token=srv.token())
    assert code == 200 and cfg["fne.syncTo.enabled"] == "true"
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


def test_flexnetls_config_typed_in_dialect_b(servers):
    srv = servers("config-b", "127.0.0.2", "0A0000000015", backoffice_url="http://127.0.0.1:9/x", dialect="b").start()
    url = srv.url + "/api/1.0/instances/~/config"
    code, cfg = call(url, token=srv.token())
    assert code == 200
    assert cfg == {"licensing.main.uri": "", "licensing.backup.uri": "", "fne.syncTo.enabled": False,
                   "fne.syncTo.mainUri": "", "fne.syncTo.interval": "2s", "fne.syncTo.pageSize": 1000,
                   "fne.syncTo.retries": 3, "backoffice.url": "http://127.0.0.1:9/x"}
    # a string for a boolean key is refused, with a message that says what is wanted
    code, body = call(url, "POST", {"fne.syncTo.enabled": "true"}, token=srv.token())
    assert code == 400
    assert body["error"] == ('the value of fne.syncTo.enabled must be a JSON boolean (true or false), '
                             'not the string "true"')
    for bad in ({"fne.syncTo.enabled": 1}, {"fne.syncTo.pageSize": "500"}, {"fne.syncTo.pageSize": True},
                {"fne.syncTo.retries": 2.5}, {"licensing.main.uri": True}, {"fne.syncTo.interval": False}):
        code, body = call(url, "POST", bad, token=srv.token())
        assert code == 400 and list(bad)[0] in body["error"], (bad, body)
    # nothing of a refused change was applied
    assert call(url, token=srv.token())[1]["fne.syncTo.enabled"] is False
    code, cfg = call(url, "POST", {"fne.syncTo.enabled": True, "fne.syncTo.pageSize": 500,
                                   "fne.syncTo.interval": "200ms", "licensing.main.uri": "http://m:7070/x"},
                     token=srv.token())
    assert code == 200 and cfg["fne.syncTo.enabled"] is True and cfg["fne.syncTo.pageSize"] == 500
    assert cfg["fne.syncTo.interval"] == "200ms" and cfg["licensing.main.uri"] == "http://m:7070/x"
    st = srv.status()
    assert st["failover"]["serverRole"] == "SECONDARY" and st["failover"]["syncEnabled"] is True
    assert st["backOffice"]["active"] is False
    srv.stop()
    srv.start()
    code, cfg = call(url, token=srv.token())
    assert cfg["fne.syncTo.enabled"] is True and cfg["fne.syncTo.pageSize"] == 500


def test_flexnetls_status_shape(servers):
    srv = servers("status", "127.0.0.2", "0A0000000006", backup_hostid="0a0000000060/ethernet",
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


def test_flexnetls_status_shape_dialect_b(servers):
    before = int(time.time() * 1000)
    srv = servers("status-b", "127.0.0.2", "0A0000000016", dialect="b", backup_hostid="0a0000000061/Ethernet",
                  lab={"features": [{"name": "f1", "count": 5, "expires": "2027-01-01"}]}).start()
    st = srv.status()
    assert set(st) == {"server", "backOffice", "failover", "features", "rights"}
    server = st["server"]
    assert set(server) == {"state", "version", "instanceId", "startTime", "readyTime", "hostId", "backupHostId"}
    assert server["state"] == "READY" and server["version"] == "2026.11-lab"
    assert isinstance(server["startTime"], int) and before - 1000 <= server["startTime"] <= server["readyTime"]
    assert server["readyTime"] <= int(time.time() * 1000)
    assert server["hostId"] == srv.hostid and server["backupHostId"] == "0A0000000061/ETHERNET"
    assert set(st["backOffice"]) == {"url", "active", "attempts", "lastAttemptTime", "lastSuccessTime",
                                     "lastErrorMessage", "lastErrorTime", "registeredAs", "deviceName"}
    assert st["backOffice"]["active"] is True and st["backOffice"]["registeredAs"] is None
    fo = st["failover"]
    assert set(fo) == {"serverRole", "syncEnabled", "mainUri", "peer", "takenOver", "takenOverSince"}
    assert set(fo["peer"]) == {"hostId", "status", "lastSyncTime", "lastError"}
    assert fo["serverRole"] == "PRIMARY" and fo["syncEnabled"] is False
    assert fo["peer"] == {"hostId": "0A0000000061/ETHERNET", "status": "UNKNOWN", "lastSyncTime": None,
                          "lastError": None}
    assert fo["takenOver"] is False and fo["takenOverSince"] is None
    assert st["features"] == [{"name": "f1", "count": 5, "expires": "2027-01-01"}]
    # the health's instance id is the status's, and a new one at every start
    assert call(srv.url + "/api/1.0/health")[1]["LLS"]["serverInstanceID"] == server["instanceId"]
    srv.stop()
    srv.start()
    again = srv.status()["server"]
    assert again["instanceId"] != server["instanceId"] and again["startTime"] > server["startTime"]


def test_flexnetls_settings_dialect_b(servers, tmp_path):
    srv = servers("settings-b", "127.0.0.2", "0A0000000017", dialect="b", backup_hostid="0A0000000071/ETHERNET")
    # the lab writes no shell settings file for b; one with its own keys would be ignored
    assert not os.path.exists(srv.paths["settings"])
    os.makedirs(os.path.dirname(srv.paths["settings"]), exist_ok=True)
    other_port = free_port("127.0.0.2")
    with open(srv.paths["settings"], "w") as fh:
        fh.write("PORT=%d\nBACKUP_SERVER_HOSTID=0A0000000099/ETHERNET\nACTIVE_HOSTID=FFFFFFFFFFFF/ETHERNET\n"
                 % other_port)
    srv.start()
    st = srv.status()["server"]
    assert st["backupHostId"] == "0A0000000071/ETHERNET" and st["hostId"] == srv.hostid
    with open(srv.settings_path) as fh:
        yaml_text = fh.read()
    assert "port: %d\n" % srv.port in yaml_text and "loggingStyle: JSON_ROLLOVER\n" in yaml_text
    assert srv.logged("INFO", "main", "Hostid %s/Ethernet, back-up server hostid 0A0000000071/Ethernet" % srv.ethernet)
    srv.stop()
    # without the key in local-configuration.yaml there is no back-up, whatever the shell file says
    with open(srv.settings_path, "w") as fh:
        fh.write(yaml_text.replace("backup-server-hostid:", "#backup-server-hostid:"))
    srv.start()
    assert srv.status()["server"]["backupHostId"] is None
    assert srv.status()["failover"]["serverRole"] == "STANDALONE"
    srv.stop()
    # a bad port in the YAML stops the start, naming the key as the file writes it
    with open(srv.settings_path, "w") as fh:
        fh.write("port: seventy\nloggingStyle: JSON_ROLLOVER\n")
    srv.start(wait=False)
    assert srv.proc.wait(5) == 1
    assert any(r[0] == "ERROR" and r[2].startswith("Startup failed: port: seventy in ") for r in srv.records())


def test_flexnetls_log_style_dialect_b(servers):
    srv = servers("logs-b", "127.0.0.2", "0A0000000018", dialect="b").start()
    lines = srv.log().splitlines()
    assert len(lines) >= 4
    for line in lines:  # JSON_ROLLOVER: one JSON object a line
        rec = json.loads(line)
        assert isinstance(rec, dict) and set(rec) == {"timestamp", "level", "thread", "logger", "message"}
        assert TS_RE.match(rec["timestamp"]) and rec["logger"]
    srv.stop()
    assert json.loads(srv.log().splitlines()[-1])["message"] == STOP_LINE["b"]
    # loggingStyle DAILY_ROLLOVER (the vendor's default, also when the key is absent): plain lines
    for style_line in ("loggingStyle: DAILY_ROLLOVER\n", ""):
        os.unlink(srv.log_path)
        with open(srv.settings_path) as fh:
            text = fh.read()
        with open(srv.settings_path, "w") as fh:
            fh.write(re.sub(r"(?m)^loggingStyle:.*\n", "", text) + style_line)
        srv.start()
        srv.stop()
        log = srv.log()
        assert log and not log.startswith("{")
        for line in log.splitlines():
            assert LOG_RE.match(line), line
        assert "INFO  [main] New license server instance " in log and "INFO  [main] License server shutting down" in log
    # an unknown style: plain lines and a warning
    with open(srv.settings_path, "a") as fh:
        fh.write("loggingStyle: FANCY\n")
    os.unlink(srv.log_path)
    srv.start()
    assert "WARN  [main] Unknown loggingStyle FANCY" in srv.log()


def test_flexnetls_dialect_flag_wins_over_lab_json(servers):
    srv = servers("flag", "127.0.0.2", "0A0000000019", dialect="a")
    with open(srv.paths["lab_json"]) as fh:
        assert json.load(fh)["dialect"] == "a"
    srv.dialect = "b"  # the command line says b: b's paths, and b reads local-configuration.yaml
    with open(srv.paths["local_configuration"], "w") as fh:
        fh.write("port: %d\nloggingStyle: JSON_ROLLOVER\n" % srv.port)
    srv.start(extra_args=["--dialect", "b"])
    assert call(srv.url + "/api/1.0/hostids")[1]["selected"]["hostidType"] == "ETHERNET"
    assert srv.facts()["hostid"] == srv.hostid
    srv.stop()
    with open(srv.paths["lab_json"]) as fh:
        lab = json.load(fh)
    with open(srv.paths["lab_json"], "w") as fh:
        json.dump(dict(lab, dialect="c"), fh)
    srv.start(wait=False, extra_args=[])
    assert srv.proc.wait(5) == 1
    assert "Startup failed: unknown dialect 'c'" in srv.log()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_bad_requests_answered_and_server_survives(servers, dialect):
    srv = servers("bad", "127.0.0.2", "0A0000000007", dialect=dialect).start()
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
    assert call(srv.url + HEALTH[dialect])[0] == 200
    assert srv.proc.poll() is None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_sigterm_stops_fast(servers, dialect):
    srv = servers("term", "127.0.0.2", "0A0000000008", dialect=dialect).start()
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(5) == 0
    assert time.monotonic() - started < 1.0
    assert srv.records()[-1] == ("INFO", "main", STOP_LINE[dialect])
    assert srv.events()[-1]["event"] == "stop"
    assert not os.path.exists(os.path.join(srv.paths["data_dir"], "server.pid"))
    # also while the port is still closed
    srv2 = servers("term2", "127.0.0.2", "0A0000000009", lab={"startup_delay": 10.0}, dialect=dialect)
    srv2.start(wait=False)
    wait_for(lambda: any(m.startswith(START_LINE[dialect][:12]) for m in srv2.messages()), what="process up")
    started = time.monotonic()
    srv2.proc.send_signal(signal.SIGTERM)
    assert srv2.proc.wait(5) == 0
    assert time.monotonic() - started < 1.0


# --------------------------------------------------------------------------- back office

@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_backoffice_contact_ok(servers, backoffice, dialect):
    bo = backoffice()
    srv = servers("bo-ok", "127.0.0.2", "0A0000000010", backoffice_url=capability_url(bo.url),
                  dialect=dialect).start()
    st = wait_for(lambda: (lambda s: s if s["bo_success"] else None)(srv.facts()), what="back-office contact")
    assert st["registered"] == "MAIN"
    assert st["device"] and st["bo_attempts"] >= 1
    assert st["bo_error"] is None
    assert srv.logged("INFO", "backoffice", "Sending capability request to %s (hostid %s/%s, backup hostid none)"
                      % (capability_url(bo.url), srv.ethernet, LOG_TYPE[dialect]))
    assert srv.logged("INFO", "backoffice", BO_OK_LINE[dialect] % st["device"])
    kinds = [(e["event"], e["result"]) for e in srv.events()]
    assert ("bo_request", "ok") in kinds and ("bo_contact", "ok") in kinds


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_backoffice_retries_until_up(servers, backoffice, tmp_path, dialect):
    port = free_port("127.0.0.1")
    srv = servers("bo-retry", "127.0.0.2", "0A0000000011",
                  backoffice_url=capability_url("http://127.0.0.1:%d" % port), dialect=dialect).start()
    wait_for(lambda: srv.facts()["bo_attempts"] >= 3, what="three attempts")
    st = srv.facts()
    assert st["bo_success"] is None
    assert "cannot connect" in st["bo_error"]
    failures = [r for r in srv.records() if r[2].startswith(BO_FAIL_PREFIX[dialect])]
    assert len(failures) >= 2 and all(r[:2] == ("ERROR", "backoffice") for r in failures)
    assert failures[0][2].startswith(BO_FAIL_PREFIX[dialect] + "cannot connect to ")
    if dialect == "a":
        assert failures[0][2].endswith("; retrying in 0.2 s") and failures[1][2].endswith("; retrying in 0.4 s")
    else:
        assert "retrying" not in failures[0][2]
        # the back-off is the same: the second attempt came about 0.2 s after the first
        requests = [e["ts"] for e in srv.events() if e["event"] == "bo_request"]
        assert 0.15 < requests[1] - requests[0] < 0.5 and 0.3 < requests[2] - requests[1] < 0.8
    assert ("bo_contact", "error") in [(e["event"], e["result"]) for e in srv.events()]
    backoffice(port)
    st = wait_for(lambda: (lambda s: s if s["bo_success"] else None)(srv.facts()),
                  what="contact after the back office came up")
    assert st["registered"] == "MAIN"
    assert srv.logged("INFO", "backoffice", BO_OK_LINE[dialect] % st["device"])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_backup_started_first_blocks_main(servers, backoffice, dialect):
    bo = backoffice()
    url = capability_url(bo.url)
    backup = servers("early-backup", "127.0.0.3", "0A0000000021", backoffice_url=url, dialect=dialect).start()
    st = wait_for(lambda: (lambda s: s if s["bo_success"] else None)(backup.facts()), what="back-up registered")
    assert st["registered"] == "MAIN"  # the back-up took the main-server role
    main = servers("late-main", "127.0.0.2", "0A0000000020", backoffice_url=url, dialect=dialect,
                   backup_hostid=backup.hostid).start()
    st = wait_for(lambda: (lambda s: s if s["bo_error"] else None)(main.facts()), what="main refused")
    assert "ALREADY_REGISTERED_AS_MAIN" in st["bo_error"]
    assert backup.hostid in st["bo_error"]
    assert st["bo_success"] is None and st["registered"] is None
    failures = [m for m in main.messages() if m.startswith(BO_FAIL_PREFIX[dialect] + "ALREADY_REGISTERED_AS_MAIN: ")]
    assert failures
    if dialect == "a":
        assert failures[0].endswith("; retrying in 1 s")
    errors = [e for e in main.events() if e["event"] == "bo_contact"]
    assert errors and errors[0]["result"] == "error" and "ALREADY_REGISTERED_AS_MAIN" in errors[0]["detail"]


# --------------------------------------------------------------------------- failover

@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_failover_and_return(servers, backoffice, dialect):
    bo = backoffice()
    url = capability_url(bo.url)
    feats = [{"name": "f1", "count": 10, "expires": "permanent"}, {"name": "f2", "count": 2, "expires": "2027-12-31"}]
    backup = servers("fo-backup", "127.0.0.3", "0A0000000031", backoffice_url=url, dialect=dialect)
    main = servers("fo-main", "127.0.0.2", "0A0000000030", backoffice_url=url, lab={"features": feats},
                   backup_hostid=backup.hostid, dialect=dialect).start()
    wait_for(lambda: main.facts()["bo_success"], what="main registered")
    assert main.facts()["registered"] == "MAIN"
    backup.start()
    backup.set_config(**{"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": main.url + "/fne/bin/sync",
                         "fne.syncTo.interval": "200ms", "fne.syncTo.retries": "1"})
    st = wait_for(lambda: (lambda s: s if s["peer_state"] == "UP" else None)(backup.facts()), what="back-up synced")
    assert st["role"] == "backup" and st["peer_hostid"] == main.hostid
    assert st["takeover"] is False and st["bo_enabled"] is False
    assert {f["name"] for f in st["features"]} == {"f1", "f2"}
    # the back-up is passive, the main serves
    code, body = backup.capability()
    assert code == 503 and body == {"error": "back-up server is not active: the main server is up"}
    code, body = main.capability([("f1", 3), ("nope", 1)])
    assert code == 200 and body["served_by"] == "main" and body["server_hostid"] == main.hostid
    assert body["features"] == [{"name": "f1", "count": 3, "expires": "permanent"}]
    mst = main.facts()
    assert mst["role"] == "main" and mst["peer_state"] == "UP"
    assert mst["peer_hostid"] == backup.hostid

    # the main goes away: the back-up takes over
    main.stop()
    st = wait_for(lambda: (lambda s: s if s["takeover"] else None)(backup.facts()), what="failover")
    assert st["peer_state"] == "DOWN" and st["takeover_since"]
    if dialect == "a":
        assert TS_RE.match(st["takeover_since"])
    else:
        assert isinstance(st["takeover_since"], int)
    code, body = backup.capability([("f2", 5)])
    assert code == 200 and body["served_by"] == "backup" and body["server_hostid"] == backup.hostid
    assert body["features"] == [{"name": "f2", "count": 2, "expires": "2027-12-31"}]
    assert any(e["event"] == "failover" and e["detail"].startswith("started") for e in backup.events())

    # the main returns: the back-up is passive again
    main.start()
    st = wait_for(lambda: (lambda s: s if not s["takeover"] else None)(backup.facts()), what="failover ended")
    assert st["peer_state"] == "UP" and st["takeover_since"] is None
    assert backup.capability()[0] == 503
    assert any(e["event"] == "failover" and e["detail"].startswith("ended") for e in backup.events())
    # once its sync is enabled, a back-up no longer talks to the back office
    events = backup.events()
    first_sync = min(i for i, e in enumerate(events) if e["event"] == "sync" and e["result"] == "ok")
    assert not [e for e in events[first_sync:] if e["event"].startswith("bo_")]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_failover_ends_after_maintenance_interval(servers, dialect):
    main = servers("mi-main", "127.0.0.2", "0A0000000040", backup_hostid="0A0000000041/ETHERNET",
                   lab={"features": [{"name": "f1", "count": 1}]}, dialect=dialect).start()
    backup = servers("mi-backup", "127.0.0.3", "0A0000000041", maintenance_interval="2500ms", dialect=dialect).start()
    backup.set_config(**{"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": main.url + "/fne/bin/sync",
                         "fne.syncTo.interval": "100ms", "fne.syncTo.retries": "1"})
    wait_for(lambda: backup.facts()["peer_state"] == "UP", what="synced")
    main.stop()
    wait_for(lambda: backup.facts()["takeover"], what="failover")
    assert backup.capability()[1]["served_by"] == "backup"
    wait_for(lambda: not backup.facts()["takeover"], timeout=8, what="failover expired")
    code, body = backup.capability()
    assert code == 503 and "maintenance interval" in body["error"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_sync_refused_from_unregistered_hostid(servers, dialect):
    main = servers("sr-main", "127.0.0.2", "0A0000000050", backup_hostid="0A0000000051/ETHERNET",
                   dialect=dialect).start()
    sync = main.url + "/fne/bin/sync"
    code, body = call(sync, "POST", {"hostid": "0A0000000099/ETHERNET"})
    assert code == 403 and "not the registered back-up" in body["error"]
    code, body = call(sync, "POST", {"hostid": "0a0000000051/ethernet"})
    assert code == 200 and body["main_hostid"] == main.hostid and TS_RE.match(body["synced_at"])
    # a back-up naming a main that does not know it: refused, no failover
    intruder = servers("sr-intruder", "127.0.0.3", "0A0000000052", dialect=dialect).start()
    intruder.set_config(**{"fne.syncTo.enabled": "true", "fne.syncTo.mainUri": sync,
                           "fne.syncTo.interval": "100ms"})
    st = wait_for(lambda: (lambda s: s if s["peer_error"] else None)(intruder.facts()), what="refusal")
    assert "403" in st["peer_error"] and st["takeover"] is False
    assert intruder.capability()[0] == 503
    assert any(e["event"] == "sync" and e["result"] == "error" for e in main.events())
    assert main.logged("WARN", "sync", "Sync request refused: 0A0000000052/%s is not the registered back-up server "
                       "of 0A0000000050/%s (the registered back-up is 0A0000000051/%s)"
                       % ((LOG_TYPE[dialect],) * 3))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_flexnetls_standalone_capability_and_not_ready(servers, dialect):
    srv = servers("cap", "127.0.0.2", "0A0000000060", lab={"startup_delay": 1.0}, dialect=dialect).start(wait=False)
    # before READY: closed or 503 not ready
    code, body = wait_for(lambda: _try(lambda: call(srv.url + "/fne/bin/capability", "POST", {"features": []},
                                                    timeout=1)), what="port open")
    assert (code, body) == (503, {"error": "not ready"})
    srv.wait_ready()
    code, body = srv.capability([("unknown", 1)])
    assert code == 200 and body == {"served_by": "main", "server_hostid": srv.hostid, "features": [],
                                    "denied": [{"name": "unknown", "requested": 1, "available": 0,
                                                "reason": "UNKNOWN_FEATURE"}]}
    assert any("not available: unknown" in m for m in srv.messages())
    assert srv.facts()["role"] == "standalone"


def _try(fn):
    try:
        return fn()
    except OSError:
        return None
