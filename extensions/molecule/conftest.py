"""Fixtures for the testinfra tests of the Molecule scenarios.

Every scenario runs against a lab of one pair in ``$FNLS_MOL_LAB_ROOT/$FNLS_MOL_LAB`` (Molecule passes
both from the scenario's ``ansible.env``). The tests reach the two hosts with testinfra's ssh backend
and the ssh_config that create.yml wrote into the lab directory, call each license server's REST API
on the host itself, the back office's device API on 127.0.0.1, and read the lab's event log with
``fnlslab events --json``.
"""

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import testinfra

MAIN, BACKUP = "fnls-p01-main", "fnls-p01-backup"
PRODUCER = "demo"
SERVICE = "flexnetls-%s" % PRODUCER
SETTINGS = "/etc/default/flexnetls-%s" % PRODUCER
SERVER_URL = "http://127.0.0.1:7070"
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)", re.M)
TASK = re.compile(r"^TASK \[(?P<name>.*)\] \**$")
FATAL = re.compile(r"^(?:fatal|failed): \[(?P<host>[^\]]+)\]: FAILED! => (?P<result>\{.*\})$")

# Runs on a lab host (python3 of a bare Debian): one call to the license server's REST API on
# loopback, authorised with the admin user when a password is given. Prints [status, body].
_API_CLIENT = r"""
import json, sys, urllib.error, urllib.request
base, method, path, body, user, password = json.loads(sys.argv[1])
def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:
        return [-1, {"error": str(exc)}]
    try:
        return [status, json.loads(raw or b"null")]
    except ValueError:
        return [status, raw.decode(errors="replace")]
token = None
if password:
    status, answer = call("POST", "/api/1.0/instances/~/authorize", {"user": user, "password": password})
    if status != 200:
        print(json.dumps([status, answer]))
        sys.exit(0)
    token = answer["token"]
print(json.dumps(call(method, path, body, token)))
"""


def lab_dir():
    name = os.environ.get("FNLS_MOL_LAB", "")
    if not re.match(r"^mol[a-z0-9]{0,7}$", name):
        raise pytest.UsageError("FNLS_MOL_LAB must name the scenario's lab (mol...); run the tests with molecule")
    return Path(os.environ.get("FNLS_MOL_LAB_ROOT") or "/run/fnls-lab") / name


def pytest_configure(config):
    """testinfra's own ``host`` fixture: both hosts, over ssh with the lab's ssh_config."""
    if not os.environ.get("FNLS_MOL_LAB"):
        return
    if config.option.hosts is None:
        config.option.hosts = "%s,%s" % (MAIN, BACKUP)
    if config.option.ssh_config is None:
        config.option.ssh_config = str(lab_dir() / "ssh_config")
    if config.option.connection in (None, "ansible"):
        config.option.connection = "ssh"


def eventually(check, timeout=30.0, interval=0.5):
    """Call check() until it stops raising AssertionError, up to timeout seconds; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(interval)


class Lab:
    """The scenario's lab as lab.json describes it, and the controller's view of it."""

    def __init__(self, path):
        self.dir = Path(path)
        self.data = json.loads((self.dir / "lab.json").read_text())
        self.hosts = {h["name"]: h for h in self.data["hosts"]}
        bo = self.data["backoffice"]
        self.bo_url = bo["url_local"]
        self.bo_auth = "Basic " + base64.b64encode(
            ("%s:%s" % (bo["user"], Path(bo["password_file"]).read_text().strip())).encode()).decode()
        self.admin_user = self.data["admin"]["user"]
        self.admin_password = Path(self.data["admin"]["password_file"]).read_text().strip()

    def hostid(self, name):
        """The host's ETHERNET hostid, from the MAC the lab gave its NIC."""
        return self.hosts[name]["mac"].replace(":", "").upper() + "/ETHERNET"

    def address(self, name):
        return self.hosts[name]["addr"]

    def pristine(self, name):
        """The host's settings file as prepare found it (after the administrator's lines)."""
        return (self.dir / "pristine" / ("%s.settings" % name)).read_bytes()

    def bo_get(self, path):
        req = urllib.request.Request(self.bo_url + path, headers={"Authorization": self.bo_auth})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read().decode())

    def devices(self, hostid=None):
        query = "?hostid=" + urllib.parse.quote(hostid) if hostid else ""
        return self.bo_get("/flexnet/operations/devices" + query)["devices"]

    def events(self):
        """The lab's timeline: every server's events.jsonl and the back office's events."""
        fnlslab = Path(sys.executable).with_name("fnlslab")
        out = subprocess.run([str(fnlslab), "events", "--json", "--dir", str(self.dir)], check=True,
                             capture_output=True, text=True, timeout=60).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def run_record(self, name):
        """What a playbook run made by a side effect printed (see resources/run_playbook.yml)."""
        return PlaybookRun(json.loads((self.dir / "runs" / ("%s.json" % name)).read_text()))


class PlaybookRun:
    """An ansible-playbook run recorded as JSON: exit status, recap, each host's failed task."""

    def __init__(self, record):
        self.rc = record["rc"]
        self.out = record["stdout"]
        self.recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
                      for m in RECAP.finditer(self.out)}
        self.failures = {}
        task = None
        for line in self.out.splitlines():
            m = TASK.match(line)
            if m:
                task = m["name"]
                continue
            m = FATAL.match(line)
            if m and m["host"] not in self.failures:
                self.failures[m["host"]] = (task, json.loads(m["result"]))

    def __repr__(self):
        return "<ansible-playbook rc=%s>\n%s" % (self.rc, self.out[-6000:])


@pytest.fixture(scope="session")
def lab():
    return Lab(lab_dir())


@pytest.fixture(scope="session")
def main(lab):
    return testinfra.get_host("ssh://" + MAIN, ssh_config=str(lab.dir / "ssh_config"))


@pytest.fixture(scope="session")
def backup(lab):
    return testinfra.get_host("ssh://" + BACKUP, ssh_config=str(lab.dir / "ssh_config"))


@pytest.fixture(scope="session")
def api(lab, main, backup):
    """api(host_name, method, path, body=None, auth=True) -> (status, body), called on that host."""
    hosts = {MAIN: main, BACKUP: backup}

    def call(name, method, path, body=None, auth=True):
        arg = json.dumps([SERVER_URL, method, path, body, lab.admin_user, lab.admin_password if auth else ""])
        out = hosts[name].check_output("python3 -c %s %s", _API_CLIENT, arg)
        status, answer = json.loads(out)
        return status, answer

    return call


@pytest.fixture
def status(api):
    """status(host_name) -> the server's status document (GET /api/1.0/instances/~/status)."""
    def read(name):
        code, answer = api(name, "GET", "/api/1.0/instances/~/status")
        assert code == 200, (name, code, answer)
        return answer
    return read


def capability(api, name, client="molecule-test-client"):
    """A client's license request to the server on name (POST /fne/bin/capability)."""
    return api(name, "POST", "/fne/bin/capability", {"hostid": client, "features": []}, auth=False)


def server_events(events, host, event=None, result=None):
    return [e for e in events if e.get("source") == "server" and e.get("host") == host
            and (event is None or e.get("event") == event) and (result is None or e.get("result") == result)]
