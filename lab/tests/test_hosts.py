"""The lab's hosts (fnlslab.hosts) and command line (fnlslab.cli).

The first tests need nothing; the ones using the ``lab`` fixtures start a real one-pair lab (network
namespaces, overlay roots, sshd) and need root plus the base rootfs (built when missing): one of
dialect a, and one of dialect b brought up with ``fnlslab up --dialect b`` (marked ``lab``).
"""

import json
import os
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from fnlslab import cli
from fnlslab import hosts as H

ROOTFS_CACHE = os.environ.get("FNLS_LAB_CACHE", H.DEFAULT_CACHE)


# --------------------------------------------------------------------------------------------
# without a lab

def test_host_identity_is_distinct_and_valid():
    seed = "0123456789abcdef"
    names = [H.host_name(i, r) for i in range(1, 26) for r in ("main", "backup")]
    macs = [H._mac(seed, n) for n in names]
    ids = [H._derive(seed, "machine-id", n) for n in names]
    assert len(set(macs)) == len(names) and len(set(ids)) == len(names)
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert first & 0x01 == 0, "unicast"
        assert first & 0x02 == 0x02, "locally administered"
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert H._mac("another seed", names[0]) != macs[0]
    uuids = [H._product_uuid(seed, n) for n in names]
    assert len(set(uuids)) == len(names)
    for u in uuids:
        assert [len(part) for part in u.split("-")] == [8, 4, 4, 4, 12] and u == u.lower()
        int(u.replace("-", ""), 16)
    assert H.host_name(3, "backup") == "fnls-p03-backup"


def test_parse_ts_accepts_epoch_and_iso():
    assert H._parse_ts(1700000000.5) == 1700000000.5
    assert H._parse_ts("1700000000.5") == 1700000000.5
    assert H._parse_ts("2023-11-14T22:13:20.500Z") == pytest.approx(1700000000.5)
    assert H._parse_ts(None) == 0.0


def test_debian_mirror_prefers_environment(monkeypatch):
    monkeypatch.setenv("FNLS_LAB_MIRROR", "http://mirror.invalid/debian")
    assert H.debian_mirror() == "http://mirror.invalid/debian"
    monkeypatch.delenv("FNLS_LAB_MIRROR")
    assert H.debian_mirror().startswith("http")


def test_start_script_mounts_and_execs_init(tmp_path):
    h = H.Host(name="fnls-p01-main", pair="p01", role="main", addr="198.18.1.1", netns="fnls-p01-main",
               mac="02:00:00:00:00:01", machine_id="0" * 32, veth_peer="v01m", dir=str(tmp_path / "h"))
    script = H._start_script(h, Path("/var/cache/fnls-lab/rootfs-bookworm"))
    assert "mount -t overlay" in script and "lowerdir=/var/cache/fnls-lab/rootfs-bookworm" in script
    assert "useradd --system" in script and "hostname fnls-p01-main" in script
    assert script.strip().splitlines()[-1].startswith("exec chroot")
    with pytest.raises(H.LabError):
        H._start_script(h, Path("/bad,path"))


def test_cli_parses_every_command():
    p = cli.build_parser()
    a = p.parse_args(["up", "--pairs", "3", "--dir", "/x", "--startup-delay", "1.5", "--bo-port", "9999"])
    assert (a.pairs, a.dir, a.startup_delay, a.bo_port, a.producer) == (3, "/x", 1.5, 9999, "demo")
    assert a.dialect == "a"
    assert p.parse_args(["up", "--pairs", "1", "--dialect", "b"]).dialect == "b"
    with pytest.raises(SystemExit):
        p.parse_args(["up", "--pairs", "1", "--dialect", "c"])
    assert p.parse_args(["down", "--purge"]).purge
    a = p.parse_args(["ssh", "fnls-p01-main", "--", "uname", "-a"])
    assert a.host == "fnls-p01-main" and [c for c in a.command if c != "--"] == ["uname", "-a"]
    a = p.parse_args(["fault", "slow", "--latency", "2"])
    assert (a.mode, a.latency) == ("slow", 2.0)
    assert p.parse_args(["events", "--json"]).json
    for cmd in (["status"], ["inventory"], ["rootfs"], ["backoffice", "--port", "9000"]):
        p.parse_args(cmd)


def test_suite_picks_the_base_rootfs(tmp_path):
    """bookworm stays the default; bullseye (Debian 11, python3 3.9) has a rootfs of its own."""
    p = cli.build_parser()
    assert p.parse_args(["up", "--pairs", "1"]).suite == "bookworm" == H.SUITE
    assert p.parse_args(["up", "--pairs", "1", "--suite", "bullseye"]).suite == "bullseye"
    assert p.parse_args(["rootfs", "--suite", "bullseye"]).suite == "bullseye"
    with pytest.raises(SystemExit):
        p.parse_args(["up", "--pairs", "1", "--suite", "sid"])
    assert H.rootfs_name() == H.ROOTFS_NAME and H.rootfs_name("systemd") == H.ROOTFS_SYSTEMD_NAME
    assert H.rootfs_name(suite="bullseye") == "rootfs-bullseye"
    assert H.rootfs_name("systemd", "bullseye") == "rootfs-bullseye-systemd"
    with pytest.raises(H.LabError, match="suite"):
        H.ensure_rootfs(tmp_path, suite="sid")
    assert H.Lab(tmp_path, {"hosts": []}).suite == "bookworm"


def test_cli_reports_missing_lab(tmp_path, capsys):
    assert cli.main(["inventory", "--dir", str(tmp_path)]) == 2
    assert "no lab in" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# a real one-pair lab

def _lab_skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces, mounts)"
    for tool in ("ip", "unshare", "nsenter", "nc", "ssh", "ssh-keygen"):
        if not shutil.which(tool):
            return "%s is not installed" % tool
    for mod in ("fnlslab.install", "fnlslab.backoffice.__main__"):
        try:
            __import__(mod)
        except ImportError as exc:
            return "%s is not importable: %s" % (mod, exc)
    rootfs = Path(ROOTFS_CACHE) / H.ROOTFS_NAME
    if not H.rootfs_ready(rootfs) and not shutil.which("debootstrap"):
        return "no base rootfs at %s and debootstrap is not installed" % rootfs
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, cannot_run):
    reason = _lab_skip_reason()
    if reason:
        cannot_run(reason)
    try:
        H.ensure_rootfs(ROOTFS_CACHE)
    except Exception as exc:  # no mirror reachable, ...
        cannot_run("cannot build the base rootfs: %s" % exc)
    d = tmp_path_factory.mktemp("lab")
    t0 = time.monotonic()
    lab = H.Lab.up(1, dir=d, startup_delay=1.0, bo_port=_free_port(), cache=ROOTFS_CACHE)
    lab.up_seconds = time.monotonic() - t0
    yield lab
    lab.down()


def _inventory_ssh(lab, name, command):
    inv = yaml.safe_load(lab.inventory.read_text())
    group = inv["all"]["children"]["fnls_servers"]
    hv, gv = group["hosts"][name], group["vars"]
    argv = ["ssh", "-i", gv["ansible_ssh_private_key_file"], "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
    argv += shlex.split(hv["ansible_ssh_common_args"])
    argv += ["%s@%s" % (gv["ansible_user"], hv["ansible_host"]), command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_lab_up_is_quick_and_complete(lab):
    assert lab.up_seconds < 30
    assert [h.name for h in lab.hosts] == ["fnls-p01-main", "fnls-p01-backup"]
    present = set(H.netns_list())
    assert {h.netns for h in lab.hosts} | {lab.switch_ns, lab.bo["netns"]} <= present
    data = json.loads((lab.dir / "lab.json").read_text())
    assert data["state"] == "up" and data["backoffice"]["pid"] > 0
    for f in ("backoffice.password", "admin.password", "id_ed25519"):
        assert (lab.dir / f).stat().st_mode & 0o077 == 0, f


def test_inventory_has_the_lab_settings(lab):
    inv = yaml.safe_load(lab.inventory.read_text())
    group = inv["all"]["children"]["fnls_servers"]
    assert group["hosts"]["fnls-p01-main"]["ansible_host"] == "198.18.1.1"
    assert group["hosts"]["fnls-p01-backup"]["failover_pair_role"] == "backup"
    assert group["hosts"]["fnls-p01-backup"]["failover_pair_name"] == "p01"
    gv = group["vars"]
    assert gv["ansible_user"] == "root"
    assert gv["ansible_python_interpreter"] == "/usr/bin/python3"
    assert gv["failover_pair_backoffice_url"] == "http://198.18.0.2:%d" % lab.bo["port"]
    assert gv["failover_pair_backoffice_password"] == (lab.dir / "backoffice.password").read_text().strip()
    assert gv["failover_pair_admin_password"] == (lab.dir / "admin.password").read_text().strip()
    assert gv["failover_pair_portal_url"] == "http://127.0.0.1:%d/portal/" % lab.bo["port"]
    assert gv["fnlslab_dialect"] == "a" and lab.dialect == "a"


def test_ssh_into_both_hosts_with_the_inventory(lab):
    for h in lab.hosts:
        r = _inventory_ssh(lab, h.name, "hostname; id -un flexnetls")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == [h.name, "flexnetls"]


def test_hosts_have_their_own_mac_and_machine_id(lab):
    seen = {}
    for h in lab.hosts:
        r = _inventory_ssh(lab, h.name, "cat /sys/class/net/eth0/address /etc/machine-id")
        assert r.returncode == 0, r.stderr
        mac, machine_id = r.stdout.split()
        assert mac == h.mac and machine_id == h.machine_id
        seen[h.name] = (mac, machine_id)
    (m1, i1), (m2, i2) = seen.values()
    assert m1 != m2 and i1 != i2


def test_run_enters_the_host(lab):
    r = lab.run("fnls-p01-backup", ["sh", "-c", "hostname; echo $$"], check=True)
    name, pid = r.stdout.split()
    assert name == "fnls-p01-backup" and int(pid) < 1000      # its own pid namespace
    r = lab.run("p01-main", "cat /etc/hostname", via="ssh", check=True)
    assert r.stdout.strip() == "fnls-p01-main"
    assert (lab.host_root("fnls-p01-main") / "etc/hostname").read_text().strip() == "fnls-p01-main"


def test_server_hostid_is_the_eth0_mac(lab):
    main = lab.host("fnls-p01-main")
    r = _inventory_ssh(lab, main.name, "service flexnetls-demo start")
    assert r.returncode == 0, r.stdout + r.stderr
    probe = ("import json,sys,urllib.request\n"
             "print(urllib.request.urlopen('http://%s:7070/api/1.0/hostids', timeout=3).read().decode())"
             % main.addr)
    deadline = time.monotonic() + 30
    answer = None
    while time.monotonic() < deadline:
        r = lab.netns_run(main, ["python3", "-c", probe], timeout=10)
        if r.returncode == 0:
            answer = json.loads(r.stdout)
            break
        time.sleep(0.5)
    assert answer is not None, "the server's REST API did not answer: %s" % r.stderr
    ethernet = [x for x in answer["hostids"] if x["type"] == "ETHERNET"]
    assert ethernet and ethernet[0]["value"] == main.mac.replace(":", "").upper()
    # the timeline has the server's start
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = lab.events()
        if any(e.get("host") == main.name and e.get("event") == "start" for e in events):
            break
        time.sleep(0.5)
    assert any(e.get("host") == main.name and e.get("event") == "start" for e in events)
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)


def test_up_refuses_while_a_lab_runs(lab):
    with pytest.raises(H.LabError, match="already running"):
        H.Lab.up(1, dir=lab.dir, bo_port=_free_port(), cache=ROOTFS_CACHE)
    assert lab.running()


def test_down_leaves_nothing_running(lab):
    pids = {h.pid for h in lab.hosts} | {h.init_pid for h in lab.hosts} | {lab.bo["pid"]}
    for ns in [h.netns for h in lab.hosts] + [lab.bo["netns"], lab.switch_ns]:
        pids |= set(H.netns_pids(ns))
    pids.discard(0)
    assert len(pids) >= 5
    lab.down()
    assert not [n for n in H.netns_list() if n.startswith(H.ns_prefix(lab.name))]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(H._pid_alive(p) for p in pids):
        time.sleep(0.1)
    assert not [p for p in pids if H._pid_alive(p)]
    assert not (lab.dir / "hosts").exists()
    assert (lab.dir / "backoffice.sqlite").exists()
    assert json.loads((lab.dir / "lab.json").read_text())["state"] == "down"
    assert not lab.running()
    mounts = Path("/proc/self/mounts").read_text()
    assert str(lab.dir) not in mounts
    lab.down()                                               # twice is fine
    assert cli.main(["down", "--dir", str(lab.dir)]) == 0     # and from the command line


# --------------------------------------------------------------------------------------------
# a one-pair lab of dialect b, brought up with the command line

@pytest.fixture(scope="module")
def lab_b(tmp_path_factory):
    reason = _lab_skip_reason()
    if reason:
        pytest.skip(reason)
    try:
        H.ensure_rootfs(ROOTFS_CACHE)
    except Exception as exc:  # no mirror reachable, ...
        pytest.skip("cannot build the base rootfs: %s" % exc)
    d = tmp_path_factory.mktemp("labb")
    rc = cli.main(["up", "--pairs", "1", "--dialect", "b", "--dir", str(d), "--startup-delay", "1.0",
                   "--bo-port", str(_free_port()), "--cache", ROOTFS_CACHE])
    assert rc == 0
    lab = H.Lab.load(d)
    yield lab
    lab.down()


_B_PROBE = """
import json, sys, urllib.request
base, password = sys.argv[1], sys.argv[2]
def get(path, token=None, body=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=3) as resp:
        return json.loads(resp.read())
token = get("/api/1.0/instances/~/authorize", body={"user": "admin", "password": password})["token"]
print(json.dumps({"health": get("/api/1.0/health"), "hostids": get("/api/1.0/hostids"),
                  "status": get("/api/1.0/instances/~/server-status", token)}))
"""


@pytest.mark.lab
def test_lab_dialect_b_server_answers_b_status(lab_b):
    assert lab_b.dialect == "b"
    inv = yaml.safe_load(lab_b.inventory.read_text())
    assert inv["all"]["children"]["fnls_servers"]["vars"]["fnlslab_dialect"] == "b"
    main, backup = lab_b.host("fnls-p01-main"), lab_b.host("fnls-p01-backup")
    # the settings file of dialect b, no shell settings file; a product uuid of its own per host
    upper = lab_b.host_root(main.name)
    conf = (upper / "opt/flexnetls/demo/local-configuration.yaml").read_text()
    assert "\nport: 7070\n" in conf and "\nloggingStyle: JSON_ROLLOVER\n" in conf
    assert not (upper / "etc/default/flexnetls-demo").exists()
    uuids = {}
    for h in (main, backup):
        r = _inventory_ssh(lab_b, h.name, "cat %s" % H.PRODUCT_UUID_PATH)
        assert r.returncode == 0, r.stderr
        uuids[h.name] = r.stdout.strip()
        assert uuids[h.name] == h.product_uuid
    assert len(set(uuids.values())) == 2

    r = _inventory_ssh(lab_b, main.name, "service flexnetls-demo start")
    assert r.returncode == 0, r.stdout + r.stderr
    deadline = time.monotonic() + 30
    answer = None
    while time.monotonic() < deadline:
        r = lab_b.netns_run(main, ["python3", "-c", _B_PROBE, "http://%s:7070" % main.addr, lab_b.admin_password],
                            timeout=10)
        if r.returncode == 0:
            answer = json.loads(r.stdout)
            break
        time.sleep(0.5)
    assert answer is not None, "the server's REST API did not answer: %s" % r.stderr
    status = answer["status"]
    assert status["server"]["hostId"] == main.hostid and status["server"]["state"] == "READY"
    assert isinstance(status["server"]["startTime"], int)
    assert status["failover"]["serverRole"] == "STANDALONE" and status["backOffice"]["active"] is True
    assert answer["health"]["LLS"]["status"] == "UP"
    assert answer["health"]["LLS"]["serverInstanceID"] == status["server"]["instanceId"]
    assert answer["hostids"]["selected"] == {"hostidType": "ETHERNET",
                                             "hostidValue": main.mac.replace(":", "").upper()}
    assert {"hostidType": "VM_UUID", "hostidValue": main.product_uuid.upper()} in answer["hostids"]["hostids"]
    # the log: one JSON object a line, starting with b's start line
    log = (upper / "var/opt/flexnetls/demo/logs/flexnetls.log").read_text().splitlines()
    first = json.loads(log[0])
    assert first["message"] == "New license server instance %s has been constructed" % status["server"]["instanceId"]
    assert all(isinstance(json.loads(line), dict) for line in log)
    assert cli.main(["status", "--dir", str(lab_b.dir)]) == 0
