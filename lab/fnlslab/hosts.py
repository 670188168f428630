"""The lab's hosts: license-server hosts built from Linux namespaces, and the back office beside them.

Every host is a network namespace (own NIC ``eth0`` with its own MAC, plugged into a bridge in the
switch namespace), a private mount/UTS/PID namespace with an overlayfs root over one shared Debian
rootfs, and a small PID 1 (``hostinit.py``) that runs sshd. The controller reaches each host with
real SSH through ``ProxyCommand="ip netns exec <host> nc %h %p"``. Addresses of the lab network
(198.18.0.0/16) exist only inside these namespaces; the back office also listens on 127.0.0.1.

With ``init="systemd"`` a host's PID 1 is systemd instead: the host's root (an overlay over a Debian
rootfs with systemd) is booted with ``systemd-nspawn --boot`` inside the host's network namespace, in
a cgroup of its own, and sshd and the license server are systemd units.

Python API::

    lab = Lab.up(pairs=2, dir="/run/fnls-lab", dialect="a")   # or Lab.load("/run/fnls-lab"); init="systemd"
    lab.hosts                                      # [Host, ...]
    lab.run("fnls-p01-main", ["service", "flexnetls-demo", "start"])
    lab.host_root("fnls-p01-main")                 # upper dir: files the host wrote
    lab.events()                                   # hosts' events.jsonl + back office events
    lab.down()
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_DIR = "/run/fnls-lab"
DEFAULT_CACHE = "/var/cache/fnls-lab"
ROOTFS_NAME = "rootfs-bookworm"
ROOTFS_SYSTEMD_NAME = "rootfs-bookworm-systemd"
SUITE = "bookworm"
# Debian releases a lab's hosts can run: bookworm (Debian 12, python3 3.11, the default) or bullseye
# (Debian 11, python3 3.9: a managed host whose Python is older than the controller's)
SUITES = ("bookworm", "bullseye")
DEFAULT_MIRROR = "http://deb.debian.org/debian"

BRIDGE = "br0"
FNO_ADDR = "198.18.0.2"
NET_CIDR = "198.18.0.0/16"
NET_PREFIX = 16
NS_ROOT = "fl-"        # every lab namespace is fl-<lab name>-...; labs of other names are left alone
SERVER_PORT = 7070
MAX_PAIRS = 250
ADMIN_USER = "admin"
BO_USER = "admin"

DIALECTS = ("a", "b")      # docs/DIALECTS.md: what the lab's license servers speak
INITS = ("sysv", "systemd")   # a host's PID 1: the lab's small SysV-style init, or systemd (systemd-nspawn)
ROOTFS_PACKAGES = {
    "sysv": "python3,openssh-server",
    "systemd": "systemd,systemd-sysv,dbus,python3,openssh-server,iproute2",
}
# units of the systemd rootfs that a lab host does not need (timers, consoles): masked in each host
SYSTEMD_MASKED = ("apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
                  "fstrim.timer", "e2scrub_reap.service", "console-getty.service", "getty@tty1.service",
                  "systemd-pstore.service")
CGROUP_PREFIX = "fnlslab-"    # a systemd host's own cgroup: <cgroup2 and name=systemd mounts>/fnlslab-<netns>
PRODUCT_UUID_PATH = "/etc/fnlslab/product_uuid"   # in a host: its SMBIOS product UUID (dialect b's VM_UUID)

HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_PATH = "usr/sbin/fnlslab-init"   # /sbin is a symlink to usr/sbin in the base rootfs


class LabError(RuntimeError):
    """A lab operation could not be done; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------
# utilities

def _run(argv, check=True, input=None, timeout=60):
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError("command failed (%d): %s\n%s" % (proc.returncode, shlex.join(argv),
                                                        (proc.stderr or proc.stdout).strip()))
    return proc


def _now_iso():
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _password(n=24):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _write(path, text, mode=0o644):
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _secret_file(path, n=24):
    """Read a generated secret, creating it (mode 0600) the first time."""
    path = Path(path)
    if not path.exists():
        _write(path, _password(n) + "\n", 0o600)
    return path.read_text().strip()


def _pid_alive(pid):
    """True when pid runs (a zombie counts as gone)."""
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X")


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _reap(pid):
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    pids = [p for p in pids if p]
    while True:
        for p in pids:
            _reap(p)
        left = [p for p in pids if _pid_alive(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def netns_list():
    proc = _run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def netns_pids(ns):
    proc = _run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in proc.stdout.split() if x.isdigit()]


def _port_free(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _parse_ts(value):
    """Event time as epoch seconds: accepts epoch numbers and ISO 8601 strings."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return float(value)
        except ValueError:
            pass
        try:
            ts = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=_dt.timezone.utc)
            return ts.timestamp()
        except ValueError:
            pass
    return 0.0


# ---------------------------------------------------------------------------------------------
# base rootfs

def debian_mirror():
    """FNLS_LAB_MIRROR, else the first mirror apt uses on this machine, else deb.debian.org."""
    env = os.environ.get("FNLS_LAB_MIRROR")
    if env:
        return env
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.strip().lower().startswith("uris:"):
                uris = line.split(":", 1)[1].split()
                if uris:
                    return uris[0]
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if parts[:1] == ["deb"]:
                rest = parts[1:]
                if rest and rest[0].startswith("["):
                    while rest and not rest[0].endswith("]"):
                        rest = rest[1:]
                    rest = rest[1:]
                if rest:
                    return rest[0]
    return DEFAULT_MIRROR


def rootfs_ready(path, init="sysv"):
    path = Path(path)
    ok = (path / "usr/sbin/sshd").exists() and (path / "usr/bin/python3").exists()
    if init == "systemd":
        ok = ok and (path / "usr/lib/systemd/systemd").exists() and (path / "usr/bin/systemctl").exists()
    return ok


def rootfs_name(init="sysv", suite=SUITE):
    """The cached base rootfs of a suite and init: rootfs-<suite>, rootfs-<suite>-systemd."""
    return "rootfs-%s%s" % (suite, "-systemd" if init == "systemd" else "")


def ensure_rootfs(cache=DEFAULT_CACHE, mirror=None, log=None, init="sysv", suite=SUITE):
    """Build ``<cache>/rootfs-bookworm`` (with init="systemd": ``rootfs-bookworm-systemd``, with
    systemd, dbus and iproute2 added; with suite="bullseye": ``rootfs-bullseye[-systemd]``, Debian 11)
    with debootstrap unless it is there; return its path."""
    if init not in INITS:
        raise LabError("init must be one of %s, not %r" % (", ".join(INITS), init))
    if suite not in SUITES:
        raise LabError("suite must be one of %s, not %r" % (", ".join(SUITES), suite))
    cache = Path(cache)
    target = cache / rootfs_name(init, suite)
    if rootfs_ready(target, init):
        return target
    if os.geteuid() != 0:
        raise LabError("building the base rootfs needs root (debootstrap)")
    if not shutil.which("debootstrap"):
        raise LabError("debootstrap is not installed (apt-get install debootstrap)")
    cache.mkdir(parents=True, exist_ok=True)
    mirror = mirror or debian_mirror()
    tmp = cache / ("%s.tmp-%d" % (target.name, os.getpid()))
    shutil.rmtree(tmp, ignore_errors=True)
    if log:
        log("debootstrap %s from %s into %s (one to three minutes)" % (suite, mirror, target))
    try:
        _run(["debootstrap", "--variant=minbase", "--include=" + ROOTFS_PACKAGES[init],
              suite, str(tmp), mirror], timeout=1800)
        for key in (tmp / "etc/ssh").glob("ssh_host_*"):
            key.unlink()
        for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*"):
            for p in tmp.glob(pattern):
                if p.is_file() or p.is_symlink():
                    p.unlink()
        if target.exists():
            shutil.rmtree(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# ---------------------------------------------------------------------------------------------
# hosts

@dataclass
class Host:
    name: str
    pair: str
    role: str                 # main | backup
    addr: str
    netns: str
    mac: str                  # aa:bb:cc:dd:ee:ff
    machine_id: str
    veth_peer: str            # the other end of eth0, in the switch namespace
    dir: str                  # <lab dir>/hosts/<name>
    pid: int = 0              # the unshare process (root pid namespace)
    init_pid: int = 0         # the host's PID 1, seen from the root pid namespace
    server_url: str = ""
    product_uuid: str = ""    # its SMBIOS product UUID, lower case 8-4-4-4-12, in PRODUCT_UUID_PATH

    @property
    def upper(self) -> Path:
        return Path(self.dir) / "upper"

    @property
    def work(self) -> Path:
        return Path(self.dir) / "work"

    @property
    def root(self) -> Path:
        return Path(self.dir) / "root"

    @property
    def console(self) -> Path:
        return Path(self.dir) / "console.log"

    @property
    def hostid(self) -> str:
        return self.mac.replace(":", "").upper() + "/ETHERNET"


def lab_name_for(dir):
    """The default lab name: the lab dir's base name, letters and digits only (namespaces carry it)."""
    name = re.sub(r"[^a-z0-9]", "", Path(dir).name.lower())[:10]
    return name or "lab"


def ns_prefix(name):
    return "%s%s-" % (NS_ROOT, name)


def switch_ns(name):
    return ns_prefix(name) + "sw"


def fno_ns(name):
    return ns_prefix(name) + "fno"


def host_name(pair_index, role):
    return "fnls-p%02d-%s" % (pair_index, role)


def _derive(seed, *parts, n=32):
    return hashlib.sha256(("%s|%s" % (seed, "|".join(parts))).encode()).hexdigest()[:n]


def _product_uuid(seed, name):
    """A host's SMBIOS product UUID as /sys/class/dmi/id/product_uuid shows it: lower case 8-4-4-4-12."""
    raw = _derive(seed, "product-uuid", name)
    return "%s-%s-%s-%s-%s" % (raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:32])


def _mac(seed, name):
    raw = bytearray(bytes.fromhex(_derive(seed, "mac", name, n=12)))
    raw[0] = (raw[0] & 0xFC) | 0x02          # unicast, locally administered
    return ":".join("%02x" % b for b in raw)


def _mkdirs_like(upper, lower, rel, mode=0o755):
    """Create upper/rel, each component with the mode/owner of the same dir in the lower layer.

    overlayfs shows a directory that exists in the upper layer with the upper's attributes, so a
    directory created here with another mode would change the host's /etc, /root, ... .
    """
    cur_u, cur_l = Path(upper), Path(lower)
    for part in Path(rel).parts:
        cur_u, cur_l = cur_u / part, cur_l / part
        if cur_l.is_symlink():
            raise LabError("%s is a symlink in the base rootfs; write to its target" % cur_l)
        if not cur_u.exists():
            cur_u.mkdir()
            if cur_l.is_dir():
                st = cur_l.stat()
                os.chmod(cur_u, st.st_mode & 0o7777)
                os.chown(cur_u, st.st_uid, st.st_gid)
            else:
                os.chmod(cur_u, mode)
    return cur_u


def _start_script(host: Host, lower: Path):
    r = shlex.quote(str(host.root))
    for p in (lower, host.upper, host.work):
        if any(c in str(p) for c in ",:\\ "):
            raise LabError("overlay paths may not contain , : \\ or blanks: %s" % p)
    opts = "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, host.upper, host.work)
    return "\n".join([
        "R=%s" % r,
        "mount -t overlay overlay -o %s \"$R\"" % shlex.quote(opts),
        'mount -t proc proc "$R/proc"',
        'mount -t sysfs sysfs "$R/sys"',
        'mount --rbind /dev "$R/dev"',
        'mount -t tmpfs -o mode=0755 tmpfs "$R/run"',
        'mkdir -p "$R/run/sshd" "$R/run/lock"',
        "hostname %s" % shlex.quote(host.name),
        'chroot "$R" id -u flexnetls >/dev/null 2>&1 || chroot "$R" useradd --system --user-group '
        '--no-create-home --home-dir /var/opt/flexnetls --shell /usr/sbin/nologin flexnetls',
        '[ -e "$R/etc/ssh/ssh_host_ed25519_key" ] || chroot "$R" ssh-keygen -A',
        'exec chroot "$R" /usr/bin/python3 /%s' % INIT_PATH,
    ])


def cgroup_roots():
    """Where a systemd host gets a cgroup of its own: every cgroup2 mount and the name=systemd
    hierarchy of a hybrid machine (systemd-nspawn needs both when both are there)."""
    out = []
    try:
        with open("/proc/self/mounts") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 4:
                    continue
                if parts[2] == "cgroup2" or (parts[2] == "cgroup" and "name=systemd" in parts[3].split(",")):
                    out.append(parts[1])
    except OSError:
        pass
    return out


def host_cgroups(h):
    return [os.path.join(root, CGROUP_PREFIX + h.netns) for root in cgroup_roots()]


def remove_cgroups(paths, timeout=5.0):
    """Remove the cgroup dirs (children first) once their processes are gone; True when all went."""
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for top in paths:
            if not os.path.isdir(top):
                continue
            for cur, dirs, _files in sorted(os.walk(top), key=lambda t: -len(t[0])):
                with contextlib.suppress(OSError):
                    os.rmdir(cur)
            if os.path.isdir(top):
                left.append(top)
        if not left or time.monotonic() >= deadline:
            return not left
        time.sleep(0.1)


def _start_script_systemd(host: Host, lower: Path):
    """The shell that boots a systemd host: into its own cgroups, into its network namespace (so
    that the sysfs nspawn mounts shows the host's NIC, not this machine's), a private mount
    namespace with the overlay root, then systemd-nspawn --boot (not registered: this machine's
    PID 1 need not be systemd)."""
    for p in (lower, host.upper, host.work):
        if any(c in str(p) for c in ",:\\ "):
            raise LabError("overlay paths may not contain , : \\ or blanks: %s" % p)
    opts = "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, host.upper, host.work)
    inner = " && ".join([
        "mount -t overlay overlay -o %s %s" % (shlex.quote(opts), shlex.quote(str(host.root))),
        "exec systemd-nspawn -q -D %s --boot --register=no --keep-unit -M %s "
        "--network-namespace-path=/run/netns/%s --resolv-conf=off --timezone=off --link-journal=no "
        "--console=read-only" % (shlex.quote(str(host.root)), shlex.quote(host.name), host.netns),
    ])
    lines = []
    for cg in host_cgroups(host):
        lines.append("mkdir -p %s && echo $$ > %s/cgroup.procs" % (shlex.quote(cg), shlex.quote(cg)))
    lines.append("exec nsenter --net=/run/netns/%s unshare --mount --propagation private sh -ec %s"
                 % (host.netns, shlex.quote(inner)))
    return "\n".join(lines)


def _add_service_user(upper: Path, lower: Path, name="flexnetls", home="/var/opt/flexnetls"):
    """Add the system user and group ``name`` to a host's /etc/passwd, group and shadow (written into
    its upper dir, from the base rootfs's files), as useradd --system does; no-op when present."""
    files = {}
    for f in ("passwd", "group", "shadow", "gshadow"):
        src = upper / "etc" / f
        if not src.exists():
            src = lower / "etc" / f
        files[f] = src.read_text() if src.exists() else ""
    if any(line.split(":")[0] == name for line in files["passwd"].splitlines()):
        return
    used = {int(line.split(":")[2]) for key in ("passwd", "group") for line in files[key].splitlines()
            if line.count(":") >= 3 and line.split(":")[2].isdigit()}
    uid = next(i for i in range(999, 99, -1) if i not in used)
    add = {"passwd": "%s:x:%d:%d::%s:/usr/sbin/nologin\n" % (name, uid, uid, home),
           "group": "%s:x:%d:\n" % (name, uid),
           "shadow": "%s:!*:19000::::::\n" % name,
           "gshadow": "%s:!::\n" % name}
    for f, line in add.items():
        text = files[f]
        if f in ("shadow", "gshadow") and not (lower / "etc" / f).exists():
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        st = (lower / "etc" / f).stat() if (lower / "etc" / f).exists() else None
        _write(upper / "etc" / f, text + line, (st.st_mode & 0o7777) if st else 0o644)
        if st:
            os.chown(upper / "etc" / f, st.st_uid, st.st_gid)


# ---------------------------------------------------------------------------------------------
# the lab

class Lab:
    """A running (or stopped) lab described by ``<dir>/lab.json``."""

    def __init__(self, dir, data):
        self.dir = Path(dir)
        self.data = data
        self.hosts = [Host(**h) for h in data.get("hosts", [])]
        self._procs = {}

    # -- paths and descriptors ------------------------------------------------------------------
    @property
    def json_path(self):
        return self.dir / "lab.json"

    @property
    def name(self):
        return self.data.get("name") or lab_name_for(self.dir)

    @property
    def switch_ns(self):
        return self.data.get("network", {}).get("switch_netns") or switch_ns(self.name)

    @property
    def inventory(self):
        return self.dir / "inventory.yml"

    @property
    def key(self):
        return self.dir / "id_ed25519"

    @property
    def producer(self):
        return self.data.get("producer", "demo")

    @property
    def dialect(self):
        """What the lab's license servers speak: "a" or "b" (docs/DIALECTS.md)."""
        return self.data.get("dialect", "a")

    @property
    def init(self):
        """A host's PID 1: "sysv" (the lab's small init, services by init scripts) or "systemd"."""
        return self.data.get("init", "sysv")

    @property
    def suite(self):
        """The Debian release of the hosts' base rootfs: "bookworm" or "bullseye"."""
        return self.data.get("suite", SUITE)

    @property
    def bo(self):
        return self.data.get("backoffice", {})

    @property
    def bo_password(self):
        return Path(self.bo["password_file"]).read_text().strip()

    @property
    def admin_password(self):
        return Path(self.data["admin"]["password_file"]).read_text().strip()

    def host(self, name) -> Host:
        for h in self.hosts:
            if name in (h.name, h.name[len("fnls-"):], h.addr):
                return h
        raise LabError("no host %r in the lab at %s (hosts: %s)"
                       % (name, self.dir, ", ".join(h.name for h in self.hosts)))

    def host_root(self, name) -> Path:
        """The host's overlay upper dir: every file the host created or changed, as a path here."""
        return self.host(name).upper

    def pairs(self):
        out = {}
        for h in self.hosts:
            out.setdefault(h.pair, {})[h.role] = h
        return out

    def save(self):
        self.data["hosts"] = [asdict(h) for h in self.hosts]
        _write(self.json_path, json.dumps(self.data, indent=2) + "\n", 0o644)

    @classmethod
    def load(cls, dir=DEFAULT_DIR):
        dir = Path(dir)
        path = dir / "lab.json"
        if not path.exists():
            raise LabError("no lab in %s (no lab.json); start one with `fnlslab up`" % dir)
        return cls(dir, json.loads(path.read_text()))

    # -- state ----------------------------------------------------------------------------------
    def running(self):
        """True when any part of this lab is alive."""
        if self.data.get("state") != "up":
            return False
        if any(_pid_alive(h.pid) for h in self.hosts) or _pid_alive(self.bo.get("pid", 0)):
            return True
        names = set(netns_list())
        return any(h.netns in names for h in self.hosts)

    def status(self):
        names = set(netns_list())
        hosts = []
        for h in self.hosts:
            hosts.append({"name": h.name, "addr": h.addr, "mac": h.mac, "pair": h.pair,
                          "role": h.role, "running": _pid_alive(h.pid) and h.netns in names,
                          "ssh": self._ssh_open(h) if h.netns in names else False})
        bo_pid = self.bo.get("pid", 0)
        return {"dir": str(self.dir), "state": self.data.get("state"), "dialect": self.dialect, "init": self.init,
                "hosts": hosts,
                "backoffice": {"pid": bo_pid, "running": _pid_alive(bo_pid),
                               "answers": self._bo_answers(), "url": self.bo.get("url_local")}}

    # -- bring up -------------------------------------------------------------------------------
    @classmethod
    def up(cls, pairs, dir=DEFAULT_DIR, producer="demo", startup_delay=3.0, bo_port=8888,
           cache=DEFAULT_CACHE, rootfs=None, replace=False, timeout=90.0, log=None, name=None, dialect="a",
           init="sysv", suite=SUITE):
        """Create the lab: namespaces, hosts (sshd running, server installed not started), back office.

        ``dialect`` (a or b, docs/DIALECTS.md) is what every license server of the lab speaks.
        ``init`` is every host's PID 1: "sysv" (default: the lab's init, the server's SysV init
        script) or "systemd" (booted with systemd-nspawn; the server is the unit
        flexnetls-<producer>.service with its drop-in, installed and not enabled). ``suite`` is
        the Debian release of every host: "bookworm" (default) or "bullseye" (Debian 11, python3 3.9)."""
        t0 = time.monotonic()
        log = log or (lambda msg: None)
        if dialect not in DIALECTS:
            raise LabError("--dialect must be a or b, not %r" % (dialect,))
        if init not in INITS:
            raise LabError("--init must be one of %s, not %r" % (", ".join(INITS), init))
        if suite not in SUITES:
            raise LabError("--suite must be one of %s, not %r" % (", ".join(SUITES), suite))
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces, mounts)")
        if init == "systemd":
            if not shutil.which("systemd-nspawn"):
                raise LabError("systemd-nspawn is not installed (apt-get install systemd-container)")
            if not cgroup_roots():
                raise LabError("no cgroup2 or name=systemd cgroup hierarchy is mounted; systemd hosts need one")
        if not 1 <= int(pairs) <= MAX_PAIRS:
            raise LabError("--pairs must be 1..%d" % MAX_PAIRS)
        pairs = int(pairs)
        for tool in ("ip", "unshare", "nsenter", "nc", "ssh", "ssh-keygen", "chroot"):
            if not shutil.which(tool):
                raise LabError("%s is not installed (iproute2, util-linux, netcat-openbsd, "
                               "openssh-client, coreutils are needed)" % tool)
        dir = Path(dir).absolute()
        name = name or lab_name_for(dir)
        if not re.match(r"^[a-z0-9]{1,10}$", name):
            raise LabError("a lab name is 1 to 10 lower-case letters or digits, not %r" % name)
        sw_ns, bo_ns, prefix = switch_ns(name), fno_ns(name), ns_prefix(name)
        existing = None
        if (dir / "lab.json").exists():
            existing = cls.load(dir)
        if existing and existing.running():
            if not replace:
                raise LabError("a lab is already running in %s (%d hosts); run `fnlslab down --dir %s` "
                               "first or pass --replace" % (dir, len(existing.hosts), dir))
            log("replacing the running lab in %s" % dir)
            existing.down()
        stray = [n for n in netns_list() if n.startswith(prefix)]
        others = [d for d in running_lab_dirs() if d != dir and Lab.load(d).name == name]
        if stray or others:
            if not replace:
                where = ("the lab in %s" % ", ".join(map(str, others))) if others else \
                    "namespaces %s%s" % (", ".join(stray[:4]), ", ..." if len(stray) > 4 else "")
                raise LabError("another lab named %s runs on this machine (%s); give this one another "
                               "--dir or --name, run `fnlslab down --dir %s`, or pass --replace"
                               % (name, where, others[0] if others else "<its dir>"))
            for other in others:
                log("taking down the lab in %s" % other)
                down_dir(other, log=log)
            cleanup_strays(prefix=prefix, log=log)
        if not _port_free("127.0.0.1", bo_port):
            raise LabError("127.0.0.1:%d is in use; choose another --bo-port" % bo_port)
        lower = Path(rootfs) if rootfs else ensure_rootfs(cache, log=log, init=init, suite=suite)
        if not rootfs_ready(lower, init):
            raise LabError("%s is not a usable base rootfs (needs usr/sbin/sshd and usr/bin/python3%s); "
                           "run `fnlslab rootfs%s%s`" % (lower, ", systemd" if init == "systemd" else "",
                                                        " --init systemd" if init == "systemd" else "",
                                                        " --suite " + suite if suite != SUITE else ""))
        try:
            from fnlslab.install import install_server
        except ImportError as exc:
            raise LabError("fnlslab.install is not available: %s" % exc) from exc

        dir.mkdir(parents=True, exist_ok=True)
        os.chmod(dir, 0o755)
        shutil.rmtree(dir / "hosts", ignore_errors=True)
        seed = _secret_file(dir / "lab.seed", 32)
        bo_pw_file, admin_pw_file = dir / "backoffice.password", dir / "admin.password"
        _secret_file(bo_pw_file)
        admin_pw = _secret_file(admin_pw_file)
        key = dir / "id_ed25519"
        if not key.exists():
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fnls-lab", "-f", str(key)])
        pubkey = (dir / "id_ed25519.pub").read_text()

        bo_local = "http://127.0.0.1:%d" % bo_port
        bo_hosts = "http://%s:%d" % (FNO_ADDR, bo_port)
        data = {
            "version": 1,
            "state": "starting",
            "dir": str(dir),
            "name": name,
            "created_at": _now_iso(),
            "producer": producer,
            "dialect": dialect,
            "init": init,
            "suite": suite,
            "server_port": SERVER_PORT,
            "startup_delay": float(startup_delay),
            "rootfs": str(lower),
            "network": {"cidr": NET_CIDR, "switch_netns": sw_ns, "bridge": BRIDGE},
            "backoffice": {
                "netns": bo_ns, "addr": FNO_ADDR, "port": bo_port, "pid": 0,
                "url_local": bo_local, "url_hosts": bo_hosts,
                "deviceservices_url": bo_hosts + "/flexnet/deviceservices",
                "portal_url": bo_local + "/portal/",
                "user": BO_USER, "password_file": str(bo_pw_file),
                "db": str(dir / "backoffice.sqlite"), "log": str(dir / "backoffice.log"),
                "pid_file": str(dir / "backoffice.pid"),
            },
            "admin": {"user": ADMIN_USER, "password_file": str(admin_pw_file)},
            "ssh": {"user": "root", "key": str(key), "control_path": str(dir / "cp-%C")},
            "inventory": str(dir / "inventory.yml"),
            "hosts": [],
        }
        hosts = []
        for i in range(1, pairs + 1):
            for j, role in ((1, "main"), (2, "backup")):
                hname = host_name(i, role)
                hosts.append(Host(
                    name=hname, pair="p%02d" % i, role=role, addr="198.18.%d.%d" % (i, j),
                    netns=prefix + hname, mac=_mac(seed, hname), machine_id=_derive(seed, "machine-id", hname),
                    veth_peer="v%02d%s" % (i, role[0]) if i < 100 else "v%d%s" % (i, role[0]),
                    dir=str(dir / "hosts" / hname), server_url="http://198.18.%d.%d:%d"
                    % (i, j, SERVER_PORT), product_uuid=_product_uuid(seed, hname)))
        lab = cls(dir, data)
        lab.hosts = hosts
        lab.save()
        try:
            phases = {}
            mark = time.monotonic()

            def phase(name):
                nonlocal mark
                now = time.monotonic()
                phases[name] = round(now - mark, 2)
                mark = now

            log("network: %s (bridge), %s (back office), %d host namespaces" % (sw_ns, bo_ns, len(hosts)))
            _run(["ip", "netns", "add", sw_ns])
            _run(["ip", "-n", sw_ns, "link", "add", BRIDGE, "type", "bridge"])
            _run(["ip", "-n", sw_ns, "link", "set", BRIDGE, "up"])
            lab._plug(bo_ns, "vfno", FNO_ADDR, None)
            workers = min(16, max(4, len(hosts)))
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda h: lab._plug(h.netns, h.veth_peer, h.addr, h.mac), hosts))
                phase("network")
                etc_hosts = lab._etc_hosts()
                init_src = Path(__file__).with_name("hostinit.py").read_text()
                list(pool.map(lambda h: lab._prepare(h, lower, etc_hosts, pubkey, init_src,
                                                     install_server, admin_pw, bo_port), hosts))
                phase("files")
            log("starting %d hosts" % len(hosts))
            for h in hosts:
                lab._start(h, lower)
            lab._start_backoffice()
            lab.data["state"] = "up"
            lab.save()
            phase("start")
            lab._wait_ready(timeout)
            phase("ready")
            lab._write_inventory()
            lab.data["up_seconds"] = round(time.monotonic() - t0, 2)
            lab.data["up_phases"] = phases
            lab.save()
        except BaseException:
            log("start-up failed; taking the lab down again")
            lab.data["state"] = "up"
            with contextlib.suppress(Exception):
                lab.down()
            raise
        log("lab up in %.1f s (%s): %d hosts, inventory %s"
            % (time.monotonic() - t0, ", ".join("%s %.1f s" % kv for kv in lab.data["up_phases"].items()),
               len(hosts), lab.inventory))
        return lab

    def _plug(self, ns, peer, addr, mac):
        _run(["ip", "netns", "add", ns])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", peer,
              "netns", self.switch_ns])
        _run(["ip", "-n", self.switch_ns, "link", "set", peer, "master", BRIDGE, "up"])
        if mac:
            _run(["ip", "-n", ns, "link", "set", "eth0", "address", mac])
        _run(["ip", "-n", ns, "addr", "add", "%s/%d" % (addr, NET_PREFIX), "dev", "eth0"])
        _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        # on-link default route: Ansible's default_ipv4 fact is filled; there is no gateway
        _run(["ip", "-n", ns, "route", "add", "default", "dev", "eth0"])

    def _etc_hosts(self):
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                 "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters", "",
                 "# fnls lab", "%s\tfno" % FNO_ADDR]
        lines += ["%s\t%s" % (h.addr, h.name) for h in self.hosts]
        return "\n".join(lines) + "\n"

    def _prepare(self, h: Host, lower, etc_hosts, pubkey, init_src, install_server, admin_pw, bo_port):
        for d in (h.upper, h.work, h.root):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(h.upper, 0o755)
        up = h.upper
        for rel in ("etc/ssh/sshd_config.d", "etc/init.d", "etc/default", "root", "opt",
                    "var/opt", "usr/sbin", os.path.dirname(PRODUCT_UUID_PATH).lstrip("/")):
            _mkdirs_like(up, lower, rel)
        _write(up / "etc/hostname", h.name + "\n")
        _write(up / "etc/hosts", etc_hosts)
        _write(up / "etc/machine-id", h.machine_id + "\n", 0o444)
        _write(up / PRODUCT_UUID_PATH.lstrip("/"), h.product_uuid + "\n", 0o444)
        ssh_dir = _mkdirs_like(up, lower, "root/.ssh", 0o700)
        os.chmod(ssh_dir, 0o700)
        _write(ssh_dir / "authorized_keys", pubkey, 0o600)
        if self.init == "systemd":
            units = _mkdirs_like(up, lower, "etc/systemd/system")
            for unit in SYSTEMD_MASKED:
                link = units / unit
                if not link.is_symlink():
                    link.symlink_to("/dev/null")
            _add_service_user(up, Path(lower))
        else:
            _write(up / INIT_PATH, init_src, 0o755)
        # ed25519 and ecdsa host keys only: RSA key generation is slow when 50 hosts start at once
        for kind in ("ed25519", "ecdsa"):
            keyfile = up / ("etc/ssh/ssh_host_%s_key" % kind)
            if not keyfile.exists():
                _run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@" + h.name, "-f", str(keyfile)])
        _write(up / "etc/ssh/sshd_config.d/fnls-lab.conf",
               "# fnls lab host\nPermitRootLogin prohibit-password\nUseDNS no\n"
               "HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\n")
        install_server(str(up), producer=self.producer,
                       backoffice_url="http://%s:%d/flexnet/deviceservices" % (FNO_ADDR, bo_port),
                       admin_password=admin_pw, admin_user=ADMIN_USER,
                       lab={"startup_delay": float(self.data["startup_delay"]),
                            "product_uuid_path": PRODUCT_UUID_PATH},
                       port=SERVER_PORT, dialect=self.dialect, init=self.init)

    def _start(self, h: Host, lower):
        if self.init == "systemd":
            argv = ["sh", "-ec", _start_script_systemd(h, lower)]
        else:
            argv = ["ip", "netns", "exec", h.netns, "unshare", "--mount", "--uts", "--pid", "--fork",
                    "--kill-child", "--propagation", "private", "sh", "-ec", _start_script(h, lower)]
        with open(h.console, "ab") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, env={"PATH": HOST_PATH, "LANG": "C.UTF-8"})
        self._procs[proc.pid] = proc
        h.pid = proc.pid

    def _start_backoffice(self):
        bo = self.bo
        argv = [sys.executable, "-m", "fnlslab.backoffice", "--db", bo["db"],
                "--listen", "127.0.0.1:%d" % bo["port"],
                "--listen-netns", "%s:%s:%d" % (bo["netns"], FNO_ADDR, bo["port"]),
                "--user", bo["user"], "--password-file", bo["password_file"],
                "--pid-file", bo["pid_file"], "--log-file", bo["log"]]
        with open(self.dir / "backoffice.out", "ab") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, cwd="/")
        self._procs[proc.pid] = proc
        bo["pid"] = proc.pid

    def _init_pid(self, h: Host):
        try:
            children = Path("/proc/%d/task/%d/children" % (h.pid, h.pid)).read_text().split()
        except OSError:
            return 0
        if self.init != "systemd":
            return int(children[0]) if children else 0
        # systemd-nspawn's child becomes the container's systemd once it has booted so far
        for c in children:
            try:
                if Path("/proc/%s/comm" % c).read_text().strip() == "systemd":
                    return int(c)
            except OSError:
                pass
        return 0

    def _is_host_process(self, h: Host):
        """h.pid still is this host's starter (unshare, or the shell and systemd-nspawn of a systemd host)."""
        if not h.pid or not _pid_alive(h.pid):
            return False
        cmd = _cmdline(h.pid)
        return "unshare" in cmd or (self.init == "systemd" and h.netns in cmd)

    def _power_off(self, hosts, timeout=10.0):
        """End the given hosts: systemd hosts are shut down (SIGTERM to systemd-nspawn, which powers
        the container off), then whatever is left gets SIGKILL; returns the pids still alive."""
        hosts = [h for h in hosts if self._is_host_process(h)]
        if self.init == "systemd":
            for h in hosts:
                _kill(h.pid, signal.SIGTERM)
            _wait_gone([h.pid for h in hosts], timeout)
        for h in hosts:
            if _pid_alive(h.pid):
                _kill(h.pid, signal.SIGKILL)
            if self.init == "systemd" and h.init_pid and _pid_alive(h.init_pid):
                _kill(h.init_pid, signal.SIGKILL)
        return _wait_gone([p for h in hosts for p in (h.pid, h.init_pid)], 5)

    def _ssh_open(self, h: Host):
        return _run(["ip", "netns", "exec", h.netns, "nc", "-z", "-w", "1", h.addr, "22"],
                    check=False, timeout=10).returncode == 0

    def _bo_answers(self):
        try:
            self._bo_request("GET", "/lab/faults", timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except (OSError, ValueError, KeyError):
            return False

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        bo_pid = self.bo["pid"]

        def one(h):
            while time.monotonic() < deadline:
                if not _pid_alive(h.pid):
                    raise LabError("host %s exited during start-up; see %s:\n%s"
                                   % (h.name, h.console, _tail(h.console)))
                if not h.init_pid:
                    h.init_pid = self._init_pid(h)
                if self._ssh_open(h):
                    h.init_pid = h.init_pid or self._init_pid(h)
                    return
                time.sleep(0.2)
            raise LabError("sshd of %s did not answer within %.0f s; see %s" % (h.name, timeout, h.console))

        with concurrent.futures.ThreadPoolExecutor(min(16, len(self.hosts))) as pool:
            futs = [pool.submit(one, h) for h in self.hosts]
            while time.monotonic() < deadline and not self._bo_answers():
                if not _pid_alive(bo_pid):
                    raise LabError("the back office exited during start-up; see %s and %s:\n%s"
                                   % (self.bo["log"], self.dir / "backoffice.out",
                                      _tail(self.dir / "backoffice.out")))
                time.sleep(0.2)
            if not self._bo_answers():
                raise LabError("the back office did not answer on %s within %.0f s"
                               % (self.bo["url_local"], timeout))
            for f in futs:
                f.result()

    def _write_inventory(self):
        import yaml
        hosts = {}
        for h in self.hosts:
            hosts[h.name] = {
                "ansible_host": h.addr,
                "failover_pair_name": h.pair,
                "failover_pair_role": h.role,
                "ansible_ssh_common_args": self.ssh_common_args(h),
            }
        doc = {"all": {"children": {"fnls_servers": {
            "hosts": hosts,
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": str(self.key),
                "ansible_python_interpreter": "/usr/bin/python3",
                "failover_pair_producer": self.producer,
                "failover_pair_backoffice_url": self.bo["url_hosts"],
                "failover_pair_backoffice_user": self.bo["user"],
                "failover_pair_backoffice_password": self.bo_password,
                "failover_pair_admin_password": self.admin_password,
                "failover_pair_portal_url": self.bo["portal_url"],
                "fnlslab_dialect": self.dialect,
                "fnlslab_init": self.init,
                "fnlslab_suite": self.suite,
            }}}}}
        header = ("# Inventory of the fnls lab in %s, written by `fnlslab up` at %s.\n"
                  "# A lab: the hosts are namespaces on this machine, reached with ssh through\n"
                  "# `ip netns exec`; the passwords below were generated for this lab only.\n"
                  % (self.dir, _now_iso()))
        _write(self.inventory, header + yaml.safe_dump(doc, sort_keys=False, width=1000), 0o600)

    # -- one host down and up again --------------------------------------------------------------
    def stop_host(self, name, unplug=True):
        """Power a host off: every process of it ends; with unplug its cable is pulled too, so
        the others see timeouts rather than refused connections. Its files stay."""
        h = self.host(name)
        self._power_off([h])
        for _ in range(50):
            pids = netns_pids(h.netns)
            if not pids:
                break
            for p in pids:
                _kill(p, signal.SIGKILL)
            _wait_gone(pids, 0.5)
        if unplug:
            _run(["ip", "-n", self.switch_ns, "link", "set", h.veth_peer, "down"], check=False)
        if self.init == "systemd":
            remove_cgroups(host_cgroups(h))
        h.pid = h.init_pid = 0
        self.save()

    def start_host(self, name, timeout=60.0):
        """Boot a stopped host again (same files; init runs the services linked in /etc/rc2.d)."""
        h = self.host(name)
        if h.pid and _pid_alive(h.pid):
            raise LabError("host %s is running" % h.name)
        _run(["ip", "-n", self.switch_ns, "link", "set", h.veth_peer, "up"])
        self._start(h, Path(self.data["rootfs"]))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(h.pid):
                raise LabError("host %s exited during start-up; see %s:\n%s" % (h.name, h.console, _tail(h.console)))
            h.init_pid = h.init_pid or self._init_pid(h)
            if h.init_pid and self._ssh_open(h):
                self.save()
                return h
            time.sleep(0.2)
        raise LabError("sshd of %s did not answer within %.0f s" % (h.name, timeout))

    def restart_host(self, name, timeout=60.0):
        self.stop_host(name, unplug=False)
        return self.start_host(name, timeout=timeout)

    # -- talking to hosts -----------------------------------------------------------------------
    def ssh_common_args(self, h: Host):
        return ('-o ProxyCommand="ip netns exec %s nc %%h %%p" -o StrictHostKeyChecking=no '
                '-o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=60s '
                '-o ControlPath=%s/cp-%%C' % (h.netns, self.dir))

    def ssh_argv(self, host, *, tty=False):
        """argv of an ssh client logged in as root on the host (no connection sharing)."""
        h = self.host(host) if isinstance(host, str) else host
        argv = ["ssh", "-i", str(self.key), "-o", "ProxyCommand=ip netns exec %s nc %%h %%p" % h.netns,
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10"]
        argv += ["-t"] if tty else ["-o", "BatchMode=yes"]
        return argv + ["root@" + h.addr]

    def run(self, host, argv, *, via="nsenter", input=None, timeout=60, check=False):
        """Run argv inside the host; returns CompletedProcess (text, captured stdout/stderr).

        via="nsenter" enters the host's namespaces and root directly (no sshd involved);
        via="ssh" logs in over the lab network as Ansible does.
        """
        h = self.host(host) if isinstance(host, str) else host
        if isinstance(argv, str):
            argv = ["sh", "-c", argv]
        if via == "ssh":
            full = self.ssh_argv(h) + [shlex.join(argv)]
        elif via == "nsenter":
            pid = h.init_pid or self._init_pid(h)
            if not pid or not _pid_alive(pid):
                raise LabError("host %s is not running" % h.name)
            spaces = ["-a"] if self.init == "systemd" else ["-m", "-u", "-n", "-p"]
            full = ["nsenter", "-t", str(pid)] + spaces + ["-r", "-w", "--",
                    "/usr/bin/env", "-i", "PATH=" + HOST_PATH, "HOME=/root", "LANG=C.UTF-8",
                    "TERM=dumb"] + list(argv)
        else:
            raise ValueError("via must be 'nsenter' or 'ssh'")
        proc = subprocess.run(full, input=input, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise LabError("%s on %s failed (%d): %s" % (shlex.join(argv), h.name, proc.returncode,
                                                        (proc.stderr or proc.stdout).strip()))
        return proc

    def netns_run(self, host, argv, *, input=None, timeout=60):
        """Run a command of this machine inside the host's network namespace only."""
        h = self.host(host) if isinstance(host, str) else host
        return subprocess.run(["ip", "netns", "exec", h.netns] + list(argv), input=input,
                              capture_output=True, text=True, timeout=timeout)

    # -- the back office ------------------------------------------------------------------------
    def _bo_request(self, method, path, body=None, timeout=10):
        url = self.bo["url_local"] + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        auth = base64.b64encode(("%s:%s" % (self.bo["user"], self.bo_password)).encode()).decode()
        req.add_header("Authorization", "Basic " + auth)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def fault(self, mode, latency=None, status=None, message=None):
        """Set the back office's fault mode (none|down|slow|error); returns its answer."""
        body = {"mode": mode}
        if latency is not None:
            body["latency"] = float(latency)
        if status is not None:
            body["status"] = int(status)
        if message is not None:
            body["message"] = message
        return self._bo_request("POST", "/lab/faults", body)

    def events(self, backoffice=True):
        """Every host's events.jsonl and the back office's events, sorted by time.

        Each event is a dict with at least ts (epoch seconds), host and source.
        """
        out = []
        for h in self.hosts:
            path = h.upper / "var/opt/flexnetls" / self.producer / "events.jsonl"
            if not path.exists():
                continue
            with open(path, errors="replace") as fh:
                for line in fh:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        continue
                    ev.setdefault("host", h.name)
                    ev.setdefault("source", "server")
                    ev["ts"] = _parse_ts(ev.get("ts"))
                    out.append(ev)
        if backoffice and _pid_alive(self.bo.get("pid", 0)):
            try:
                answer = self._bo_request("GET", "/lab/events")
            except (OSError, ValueError) as exc:
                out.append({"ts": time.time(), "host": "fno", "source": "lab", "event": "error",
                            "result": "error", "detail": "back office events unavailable: %s" % exc})
                answer = []
            if isinstance(answer, dict):
                answer = answer.get("events", [])
            for ev in answer or []:
                if not isinstance(ev, dict):
                    continue
                ev = dict(ev)
                ev.setdefault("host", "fno")
                ev.setdefault("source", "backoffice")
                ev["ts"] = _parse_ts(ev.get("ts"))
                out.append(ev)
        out.sort(key=lambda e: e["ts"])
        return out

    # -- take down ------------------------------------------------------------------------------
    def down(self, purge=False, log=None):
        """Stop everything of this lab; safe to call twice. Keeps backoffice.sqlite unless purge."""
        log = log or (lambda msg: None)
        bo_pid = self.bo.get("pid", 0)
        if bo_pid and _pid_alive(bo_pid) and "fnlslab.backoffice" in _cmdline(bo_pid):
            _kill(bo_pid, signal.SIGTERM)
        left = self._power_off(self.hosts)
        if left:
            log("host processes still alive after SIGKILL: %s" % left)
        if bo_pid and _wait_gone([bo_pid], 5):
            _kill(bo_pid, signal.SIGKILL)
            _wait_gone([bo_pid], 2)
        for p in _lab_processes(self.dir):
            _kill(p, signal.SIGKILL)
        cleanup_strays(names=[h.netns for h in self.hosts] + [self.bo.get("netns"), self.switch_ns],
                       prefix=ns_prefix(self.name), log=log)
        for p in self._procs.values():
            with contextlib.suppress(Exception):
                p.poll()
        if self.init == "systemd":
            cgroups = [cg for h in self.hosts for cg in host_cgroups(h)]
            if not remove_cgroups(cgroups):
                log("cgroups still in use: %s" % ", ".join(cg for cg in cgroups if os.path.isdir(cg)))
        _umount_under(self.dir)
        shutil.rmtree(self.dir / "hosts", ignore_errors=True)
        for p in list(self.dir.glob("cp-*")) + [self.dir / "backoffice.pid", self.inventory]:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        for h in self.hosts:
            h.pid = h.init_pid = 0
        self.bo["pid"] = 0
        if purge:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        if self.json_path.exists() or self.data.get("hosts"):
            self.data["state"] = "down"
            self.data["down_at"] = _now_iso()
            with contextlib.suppress(FileNotFoundError):
                self.save()


def _tail(path, n=20):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def _lab_processes(dir):
    """Processes of the root namespace that belong to the lab in dir: ssh connection masters
    (ControlPath <dir>/cp-*) and its back office."""
    dir = str(Path(dir).absolute())
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        cmd = _cmdline(int(entry))
        if (cmd.startswith("ssh") and dir + "/cp-" in cmd) or \
                ("fnlslab.backoffice" in cmd and dir + "/backoffice" in cmd):
            out.append(int(entry))
    return out


def _umount_under(dir):
    prefix = str(Path(dir).absolute()) + "/"
    try:
        mounts = [line.split()[1] for line in open("/proc/self/mounts")]
    except OSError:
        return
    for mnt in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        _run(["umount", "-l", mnt], check=False)


def running_lab_dirs():
    """Directories of the labs whose back office runs (it is the process that outlives `up`)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        argv = _cmdline(int(entry)).split(" ")
        if "fnlslab.backoffice" not in argv or "--listen-netns" not in argv or "--db" not in argv:
            continue
        i = argv.index("--db") + 1
        if i < len(argv):
            d = Path(argv[i]).parent
            if (d / "lab.json").exists() and d not in out:
                out.append(d)
    return out


def cleanup_strays(names=(), prefix=None, log=None):
    """Kill every process in the named namespaces and in those starting with prefix, then delete them."""
    log = log or (lambda msg: None)
    present = netns_list()
    names = {n for n in names if n}
    todo = [n for n in present if n in names or (prefix and n.startswith(prefix))]
    switches = [n for n in todo if n.endswith("-sw")]

    def empty(ns):
        for _ in range(100):
            pids = netns_pids(ns)
            if not pids:
                return
            for p in pids:
                _kill(p, signal.SIGKILL)
            _wait_gone(pids, 0.5)
        log("processes still in namespace %s: %s" % (ns, netns_pids(ns)))

    def delete(ns):
        proc = _run(["ip", "netns", "delete", ns], check=False)
        if proc.returncode != 0 and os.path.exists("/run/netns/" + ns):
            log("could not delete namespace %s: %s" % (ns, proc.stderr.strip()))

    if todo:
        with concurrent.futures.ThreadPoolExecutor(min(16, len(todo))) as pool:
            list(pool.map(empty, todo))
            # hosts before the switch: the veth peers in the switch go with the host ends
            list(pool.map(delete, [n for n in todo if n not in switches]))
        for n in switches:
            delete(n)
    return todo


def down_dir(dir=DEFAULT_DIR, purge=False, log=None):
    """Take down the lab in dir, or clean up what is left of any lab when dir has none."""
    dir = Path(dir).absolute()
    if (dir / "lab.json").exists():
        Lab.load(dir).down(purge=purge, log=log)
    else:
        lab = Lab(dir, {"hosts": [], "backoffice": {}})
        for p in _lab_processes(dir):
            _kill(p, signal.SIGKILL)
        cleanup_strays(prefix=ns_prefix(lab_name_for(dir)), log=log)
        # cgroups of systemd hosts whose lab.json is gone (fnlslab-fl-<lab name>-...)
        stale = CGROUP_PREFIX + ns_prefix(lab_name_for(dir))
        remove_cgroups([os.path.join(root, d) for root in cgroup_roots() for d in os.listdir(root)
                        if d.startswith(stale)], timeout=1)
        if purge:
            shutil.rmtree(dir, ignore_errors=True)
        else:
            _umount_under(lab.dir)
            shutil.rmtree(dir / "hosts", ignore_errors=True)
