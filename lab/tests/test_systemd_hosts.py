"""Lab hosts with systemd as PID 1 (``fnlslab up --init systemd``) and the server installed the systemd way.

The first tests need nothing; the ones marked ``lab`` start a real one-pair lab whose hosts boot with
``systemd-nspawn --boot`` (root, ``systemd-nspawn`` from systemd-container, a cgroup hierarchy, and the
systemd rootfs, built with debootstrap when missing).
"""

import json
import os
import shutil
import socket
import time
from pathlib import Path

import pytest
import yaml

from fnlslab import cli
from fnlslab import hosts as H

ROOTFS_CACHE = os.environ.get("FNLS_LAB_CACHE", H.DEFAULT_CACHE)
UNIT = "flexnetls-demo.service"
DROPIN_DIR = "/etc/systemd/system/flexnetls-demo.service.d"


def _host(tmp_path):
    return H.Host(name="fnls-p01-main", pair="p01", role="main", addr="198.18.1.1", netns="fl-x-fnls-p01-main",
                  mac="02:00:00:00:00:01", machine_id="0" * 32, veth_peer="v01m", dir=str(tmp_path / "h"))


def test_systemd_start_script_enters_netns_and_boots_nspawn(tmp_path):
    h = _host(tmp_path)
    script = H._start_script_systemd(h, Path("/var/cache/fnls-lab/rootfs-bookworm-systemd"))
    lines = script.splitlines()
    # its own cgroups first, then the host's network namespace (so nspawn's sysfs shows the host's NIC)
    assert all("cgroup.procs" in line for line in lines[:-1])
    assert lines[-1].startswith("exec nsenter --net=/run/netns/fl-x-fnls-p01-main unshare --mount")
    assert "lowerdir=/var/cache/fnls-lab/rootfs-bookworm-systemd" in script
    assert "systemd-nspawn" in script and "--boot" in script and "--register=no" in script
    with pytest.raises(H.LabError):
        H._start_script_systemd(h, Path("/bad,path"))


def test_cli_takes_init():
    p = cli.build_parser()
    assert p.parse_args(["up", "--pairs", "1"]).init == "sysv"
    assert p.parse_args(["up", "--pairs", "1", "--init", "systemd"]).init == "systemd"
    assert p.parse_args(["rootfs", "--init", "systemd"]).init == "systemd"
    with pytest.raises(SystemExit):
        p.parse_args(["up", "--pairs", "1", "--init", "upstart"])
    with pytest.raises(H.LabError, match="init"):
        H.Lab.up(1, dir="/nonexistent/x", init="upstart")


def test_service_user_is_added_once(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (upper / "etc").mkdir(parents=True)
    (lower / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\nsystemd-network:x:998:998::/:/x\n")
    (lower / "etc/group").write_text("root:x:0:\nsystemd-network:x:998:\n")
    (lower / "etc/shadow").write_text("root:*:19000:0:99999:7:::\n")
    H._add_service_user(upper, lower)
    H._add_service_user(upper, lower)
    passwd = (upper / "etc/passwd").read_text().splitlines()
    assert passwd[:2] == (lower / "etc/passwd").read_text().splitlines()
    assert [line.split(":")[:4] for line in passwd[2:]] == [["flexnetls", "x", "999", "999"]]
    assert (upper / "etc/group").read_text().endswith("flexnetls:x:999:\n")
    assert (upper / "etc/shadow").read_text().endswith("flexnetls:!*:19000::::::\n")


# --------------------------------------------------------------------------------------------
# a one-pair lab of systemd hosts

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sd_lab(tmp_path_factory, cannot_run):
    if os.geteuid() != 0:
        cannot_run("needs root (network namespaces, mounts, cgroups)")
    for tool in ("ip", "unshare", "nsenter", "nc", "ssh", "ssh-keygen", "systemd-nspawn"):
        if not shutil.which(tool):
            cannot_run("%s is not installed (systemd-nspawn: apt-get install systemd-container)" % tool)
    if not H.cgroup_roots():
        cannot_run("no cgroup2 or name=systemd hierarchy is mounted")
    try:
        H.ensure_rootfs(ROOTFS_CACHE, init="systemd")
    except Exception as exc:  # no mirror reachable, ...
        cannot_run("cannot build the systemd rootfs: %s" % exc)
    d = tmp_path_factory.mktemp("sdlab")
    t0 = time.monotonic()
    rc = cli.main(["up", "--pairs", "1", "--init", "systemd", "--dir", str(d), "--name", "sdtest",
                   "--startup-delay", "1.0", "--bo-port", str(_free_port()), "--cache", ROOTFS_CACHE])
    assert rc == 0
    lab = H.Lab.load(d)
    lab.up_seconds = time.monotonic() - t0
    yield lab
    lab.down()


def _sh(lab, host, command, via="nsenter", check=True):
    r = lab.run(host, command, via=via, timeout=60)
    if check:
        assert r.returncode == 0, "%s on %s: %s%s" % (command, host, r.stdout, r.stderr)
    return r


def _show(lab, host, *props):
    r = _sh(lab, host, "systemctl show %s -p %s" % (UNIT, ",".join(props)))
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def _wait(predicate, timeout=20.0, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def _health(lab, h):
    probe = ("import urllib.request,sys\ntry:\n urllib.request.urlopen(sys.argv[1], timeout=2)\n print(200)\n"
             "except urllib.error.HTTPError as e:\n print(e.code)\nexcept OSError:\n print(0)\n")
    r = lab.netns_run(h, ["python3", "-c", probe, "http://%s:7070/api/1.0/instances/~/health" % h.addr])
    return int(r.stdout.strip() or 0)


@pytest.mark.lab
def test_systemd_host_boots_with_systemd_as_pid1(sd_lab):
    assert sd_lab.init == "systemd" and sd_lab.up_seconds < 60
    inv = yaml.safe_load(sd_lab.inventory.read_text())
    assert inv["all"]["children"]["fnls_servers"]["vars"]["fnlslab_init"] == "systemd"
    for h in sd_lab.hosts:
        # over ssh, as Ansible gets there
        r = _sh(sd_lab, h, "cat /proc/1/comm; systemctl is-system-running --wait; hostname; cat /etc/machine-id; "
                           "cat /sys/class/net/eth0/address; id -u flexnetls", via="ssh")
        comm, state, hostname, machine_id, mac, uid = r.stdout.split()
        assert (comm, state, hostname) == ("systemd", "running", h.name)
        assert machine_id == h.machine_id and mac == h.mac and int(uid) > 0
    st = sd_lab.status()
    assert all(x["running"] and x["ssh"] for x in st["hosts"]) and st["init"] == "systemd"


@pytest.mark.lab
def test_systemd_unit_installed_disabled_and_controlled_by_systemctl(sd_lab):
    main = sd_lab.host("fnls-p01-main")
    props = _show(sd_lab, main, "Description", "UnitFileState", "ActiveState", "DropInPaths", "User")
    assert props["Description"] == "FlexnetLS Local License Server for demo."
    assert (props["UnitFileState"], props["ActiveState"], props["User"]) == ("disabled", "inactive", "flexnetls")
    assert props["DropInPaths"] == DROPIN_DIR + "/flexnetls.conf"
    upper = sd_lab.host_root(main.name)
    assert not (upper / "etc/init.d/flexnetls-demo").exists() and not (upper / "etc/default/flexnetls-demo").exists()
    assert _health(sd_lab, main) == 0

    _sh(sd_lab, main, "systemctl start %s" % UNIT)
    assert _show(sd_lab, main, "ActiveState")["ActiveState"] == "active"
    pid = int(_show(sd_lab, main, "MainPID")["MainPID"])
    r = _sh(sd_lab, main, "ps -o user:20=,comm= -p %d" % pid)
    assert r.stdout.split() == ["flexnetls", "python3"]
    assert _wait(lambda: _health(sd_lab, main) == 200)
    journal = _sh(sd_lab, main, "journalctl -u %s --no-pager -o cat" % UNIT).stdout
    assert "Started %s - FlexnetLS Local License Server for demo." % UNIT in journal

    _sh(sd_lab, main, "systemctl stop %s" % UNIT)
    assert _show(sd_lab, main, "ActiveState")["ActiveState"] == "inactive"
    assert _sh(sd_lab, main, "kill -0 %d" % pid, check=False).returncode != 0
    assert _health(sd_lab, main) == 0
    log = (upper / "var/opt/flexnetls/demo/logs/flexnetls.log").read_text()
    assert "Server stopping" in log


@pytest.mark.lab
def test_systemd_dropin_environment_reaches_server_after_daemon_reload(sd_lab):
    main, backup = sd_lab.host("fnls-p01-main"), sd_lab.host("fnls-p01-backup")
    conf = DROPIN_DIR + "/failover-pair.conf"
    # a running unit stays loaded: systemd reads a new drop-in of it only after a daemon-reload
    _sh(sd_lab, main, "systemctl start %s" % UNIT)
    _sh(sd_lab, main, "printf '%%s\\n' '[Service]' 'Environment=\"BACKUP_SERVER_HOSTID=%s\"' > %s"
        % (backup.hostid, conf))
    assert "BACKUP_SERVER_HOSTID" not in _show(sd_lab, main, "Environment")["Environment"]
    assert _show(sd_lab, main, "NeedDaemonReload")["NeedDaemonReload"] == "yes"
    _sh(sd_lab, main, "systemctl daemon-reload")
    env = _show(sd_lab, main, "Environment")["Environment"]
    assert "BACKUP_SERVER_HOSTID=%s" % backup.hostid in env and "JVMOPTS=-server -Xms1750m" in env
    _sh(sd_lab, main, "systemctl restart %s" % UNIT)
    pid = int(_show(sd_lab, main, "MainPID")["MainPID"])
    environ = _sh(sd_lab, main, "cat /proc/%d/environ" % pid).stdout.split("\0")
    assert "BACKUP_SERVER_HOSTID=%s" % backup.hostid in environ
    # the server read it: its start-up capability request registered the pair in the back office
    log_path = sd_lab.host_root(main.name) / "var/opt/flexnetls/demo/logs/flexnetls.log"

    def registered():
        found = sd_lab._bo_request("GET", "/flexnet/operations/devices?hostid=" + main.hostid.replace("/", "%2F"))
        return [d for d in (found or {}).get("devices", []) if d.get("serverIds") == [main.hostid, backup.hostid]]

    assert _wait(registered), log_path.read_text()
    assert "back-up server hostid %s" % backup.hostid in log_path.read_text()
    _sh(sd_lab, main, "systemctl stop %s" % UNIT)


@pytest.mark.lab
def test_systemd_host_restart_brings_enabled_unit_back(sd_lab):
    backup = sd_lab.host("fnls-p01-backup")
    _sh(sd_lab, backup, "systemctl enable %s" % UNIT)
    old_init = backup.init_pid
    sd_lab.restart_host(backup.name)
    backup = sd_lab.host(backup.name)
    assert backup.init_pid and backup.init_pid != old_init and not H._pid_alive(old_init)
    assert _wait(lambda: _show(sd_lab, backup, "ActiveState")["ActiveState"] == "active", 30)
    assert _wait(lambda: _health(sd_lab, backup) == 200)


@pytest.mark.lab
def test_systemd_lab_down_leaves_nothing(sd_lab):
    pids = {h.pid for h in sd_lab.hosts} | {h.init_pid for h in sd_lab.hosts} | {sd_lab.bo["pid"]}
    for h in sd_lab.hosts:
        pids |= set(H.netns_pids(h.netns))
    pids.discard(0)
    cgroups = [cg for h in sd_lab.hosts for cg in H.host_cgroups(h)]
    assert cgroups and all(os.path.isdir(cg) for cg in cgroups)
    sd_lab.down()
    assert not [n for n in H.netns_list() if n.startswith(H.ns_prefix(sd_lab.name))]
    assert _wait(lambda: not [p for p in pids if H._pid_alive(p)], 5)
    assert not [cg for cg in cgroups if os.path.isdir(cg)]
    assert str(sd_lab.dir) not in Path("/proc/self/mounts").read_text()
    assert json.loads((sd_lab.dir / "lab.json").read_text())["state"] == "down"
