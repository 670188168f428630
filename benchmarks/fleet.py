#!/usr/bin/env python3
"""Fleet scale and speed of fnls.failover, measured against the lab.

    python benchmarks/fleet.py [--pairs 25] [--startup-delay 12] [--quick] [--tune] [--compare FILE]
    python benchmarks/fleet.py --compare benchmarks/results/before-restructure.json --no-run

Prints figures (it is not a timed test) for, side by side in one run:

* one pair: the wall time T1 of a first registration (``ansible-playbook fnls.failover.register_pair``
  on the pair's two hosts, fresh servers) against the floor F1 that the servers themselves impose,
  taken from the lab's event log: stop (when the servers ran), the main's start until its confirmed
  back-office contact (``bo_contact`` ok), the back-up's start until its ``ready`` event;
* a fleet of N pairs (2 N hosts) registered in one run: TN/T1 and TN/FN;
* a rerun on the registered fleet: changes, restarts (``start`` events), time against TN;
* detection latency per pair, from the main's confirmed contact to the back-up's start, and where
  that time goes (from the task timestamps of benchmarks/callback_plugins/fleet_timing.py; the tasks
  are found by the modules they run, never by their names: a figure no task matches is null);
* module runs per pair (mean, max) of the first run and the rerun: every host result that ran a module
  on the host (not skipped, not controller-only, not delegated to the controller), retries and
  async_status polls included; controller-side action runs counted apart;
* the way it is done by hand (benchmarks/manual_pause.yml: lineinfile, stop, start the main, a fixed
  pause, start the back-up), all pairs at once and one pair at a time (``serial: 1``);
* the controller's peak memory (largest process of the ansible-playbook tree, and the tree's summed
  PSS sampled from /proc) and CPU (the tree's, per host and per pair, and ansible-playbook's own);
* an estimate for 250 pairs on a 4-core controller (CPU, the wall time CPU imposes, forks and serial),
  and the targets of the restructured role, each met or missed (figures, not assertions);
* with --tune, the fleet run again under settings a user can change (pipelining, ControlPersist,
  forks, fact gathering, mitogen, the role's poll interval).

Every phase runs on a lab of its own, brought up fresh (named "bench", its back office on
127.0.0.1:38801; --quick: "benchq" on 38802) and taken down with --purge when the phase ends, also
on errors and on Ctrl-C, so T1 and TN are both measured on servers that were never started, on a lab
of exactly the hosts under test. Writes benchmarks/results/latest.json and benchmarks/results/fleet-timeline.png
(--quick: benchmarks/results/quick/). Exit status 0 when every run did its job, whatever the
figures; 1 when something broke (a failed playbook, a pair not registered, a rerun that changed or
restarted something); 2 on bad arguments or when the lab cannot run here. --compare FILE prints an
earlier results file's figures beside this run's (--no-run: beside <out>/latest.json, running nothing).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as _dt
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
BENCH = TOP / "benchmarks"
VENV_BIN = TOP / ".venv" / "bin"
if not (VENV_BIN / "ansible-playbook").exists():
    VENV_BIN = Path(sys.executable).parent
CALLBACKS = BENCH / "callback_plugins"
MANUAL_PLAYBOOK = BENCH / "manual_pause.yml"
FACTS_PLAYBOOK = BENCH / "with_facts.yml"
PLAYBOOK = "fnls.failover.register_pair"

# The targets of the restructured role (read, plan, prepare, converge), reported beside the figures as
# met or missed; they are not assertions. Module runs are the mean over the fleet's pairs; controller
# CPU is the fleet run's (the 25-pair fleet of the full benchmark; --quick runs a smaller one).
TARGETS = {
    "module_runs_per_pair": 6,          # fleet run, remote module runs per pair (mean)
    "rerun_module_runs_per_pair": 2,    # rerun on the registered fleet
    "ours_over_manual_parallel": 0.7,   # TN / the hand-written playbook, all pairs at once
    "t1_over_f1": 1.25,
    "tn_over_t1": 3.0,
    "rerun_over_tn": 0.35,              # and the rerun changes nothing and restarts nothing
    "controller_cpu_s": 60.0,           # the fleet run's ansible-playbook tree
    "detection_median_s": 1.0,          # fleet: the main's confirmed contact -> the back-up's start
}
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)", re.M)

# The breakdowns find the role's tasks by the module (action) they run, never by their names: the
# modules that start a server (today fnls.failover.server; after the restructure pair_converge, which
# starts the main, waits for its contact and starts the back-up in one task) and the ones that wait for
# the main's back-office contact. A run whose tasks use none of them gets null figures, not an error.
START_ACTIONS = ("fnls.failover.pair_converge", "fnls.failover.server", "ansible.builtin.service",
                 "ansible.builtin.systemd", "ansible.builtin.systemd_service")
WAIT_ACTIONS = ("fnls.failover.pair_converge", "fnls.failover.backoffice_wait", "ansible.builtin.pause")
STOP_ACTIONS = ("fnls.failover.pair_prepare", "fnls.failover.pair_converge") + START_ACTIONS

# Actions that run on the controller only (no module on the host). The collection's own action plugins
# that never execute a module (say, the restructure's plan action) are added by controller_actions().
CONTROLLER_ACTIONS = {"set_fact", "assert", "debug", "fail", "meta", "include_tasks", "import_tasks", "include_role",
                      "import_role", "include_vars", "include", "import_playbook", "add_host", "group_by", "pause",
                      "validate_argument_spec", "set_stats"}
REMOTE_COMMANDS = {"raw"}  # reach the host over ssh but run no module: counted apart
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
DIGEST_DIRS = ("roles", "plugins", "playbooks")


class Broken(RuntimeError):
    """Something did not do its job: the benchmark's figures would mean nothing."""


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---------------------------------------------------------------------------------------------
# the machine

def machine_info():
    info = {"cores": os.cpu_count(), "cpu_model": None, "memory_gib": None,
            "kernel": platform.release(), "python": platform.python_version(),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "load_at_start": [round(x, 2) for x in os.getloadavg()]}
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    with contextlib.suppress(OSError):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip().strip('"')
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "--version"], capture_output=True, text=True)
    first = (proc.stdout or "").splitlines()[:1]
    m = re.search(r"\[core ([^\]]+)\]", first[0]) if first else None
    info["ansible_core"] = m.group(1) if m else (first[0] if first else None)
    return info


def code_digest():
    """sha256 over the role, the plugins and the playbooks: the figures belong to this code."""
    import hashlib
    h = hashlib.sha256()
    for d in DIGEST_DIRS:
        for path in sorted((TOP / d).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(TOP)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


def git_head():
    proc = subprocess.run(["git", "-C", str(TOP), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(TOP), "status", "--porcelain", "--", *DIGEST_DIRS],
                           capture_output=True, text=True)
    return proc.stdout.strip() + (" + uncommitted changes in %s" % ", ".join(DIGEST_DIRS)
                                  if dirty.stdout.strip() else "")


def cpu_busy():
    """(busy jiffies, total jiffies) of the whole machine, from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


# ---------------------------------------------------------------------------------------------
# the controller's memory

class TreeSampler(threading.Thread):
    """Samples the RSS and PSS of a process and all its descendants, keeping the peaks."""

    def __init__(self, pid, interval=0.5):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss_kib = self.peak_pss_kib = self.peak_procs = 0
        self.samples = 0
        self.main_cpu_s = None  # ansible-playbook's own CPU (not its workers'), at the last sample
        self._stop_event = threading.Event()

    @staticmethod
    def _children_map():
        out = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as fh:
                    stat = fh.read()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            out.setdefault(ppid, []).append(int(entry))
        return out

    def _tree(self):
        children, todo, seen = self._children_map(), [self.pid], []
        while todo:
            p = todo.pop()
            seen.append(p)
            todo.extend(children.get(p, []))
        return seen

    @staticmethod
    def _mem(pid):
        rss = pss = 0
        try:
            with open("/proc/%d/smaps_rollup" % pid) as fh:
                for line in fh:
                    if line.startswith("Rss:"):
                        rss = int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss = int(line.split()[1])
        except OSError:
            pass
        return rss, pss

    def _own_cpu(self):
        """utime + stime of the sampled process itself: the strategy loop, which no core count speeds up."""
        try:
            with open("/proc/%d/stat" % self.pid) as fh:
                stat = fh.read()
        except OSError:
            return
        fields = stat[stat.rfind(")") + 2:].split()
        if fields and fields[0] != "Z":
            self.main_cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self):
        while not self._stop_event.is_set():
            self._own_cpu()
            rss = pss = 0
            tree = self._tree()
            for p in tree:
                r, s = self._mem(p)
                rss += r
                pss += s
            self.samples += 1
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            self.peak_pss_kib = max(self.peak_pss_kib, pss)
            self.peak_procs = max(self.peak_procs, len(tree))
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join(5)


# ---------------------------------------------------------------------------------------------
# the lab

class BenchLab:
    """One fresh lab per phase; always taken down (purged) when the phase ends."""

    def __init__(self, args):
        self.args = args
        self.dir = Path(args.lab_dir)
        self.lab = None

    def __enter__(self):
        return self

    def up(self, pairs):
        from fnlslab.hosts import Lab, down_dir
        self.down()
        down_dir(self.dir, purge=True)
        t0 = time.monotonic()
        self.lab = Lab.up(pairs=pairs, dir=str(self.dir), startup_delay=self.args.startup_delay,
                          bo_port=self.args.bo_port, name=self.args.lab_name)
        log("lab up: %d pairs, %d hosts, %.1f s" % (pairs, len(self.lab.hosts), time.monotonic() - t0))
        return self.lab

    def down(self):
        if self.lab is not None:
            lab, self.lab = self.lab, None
            lab.down(purge=True)

    def __exit__(self, *exc):
        self.down()
        return False


def bo_get(lab, path):
    req = urllib.request.Request(lab.bo["url_local"] + path)
    token = base64.b64encode(("%s:%s" % (lab.bo["user"], lab.bo_password)).encode()).decode()
    req.add_header("Authorization", "Basic " + token)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def registered_pairs(lab):
    """{pair: True|False}: the back office holds one device [main, back-up], the main as MAIN."""
    out = {}
    for pair, hosts in sorted(lab.pairs().items()):
        main, backup = hosts["main"].hostid, hosts["backup"].hostid
        devices = bo_get(lab, "/flexnet/operations/devices?hostid=" + urllib.parse.quote(main))["devices"]
        ok = False
        for d in devices:
            roles = {s["hostid"]: s["role"] for s in d.get("servers", [])}
            if roles.get(main) == "MAIN" and roles.get(backup) == "BACKUP":
                ok = True
        out[pair] = ok
    return out


def wait_backups_ready(lab, since, timeout):
    """Wait until every back-up started since `since` has logged its ready event (manual runs end
    at the back-up's start; its readiness is still part of the job)."""
    deadline = time.time() + timeout
    while True:
        evs = [e for e in lab.events(backoffice=False) if e["ts"] >= since and e.get("source") == "server"]
        started = {e["host"] for e in evs if e["event"] == "start" and e["host"].endswith("-backup")}
        ready = {e["host"] for e in evs if e["event"] == "ready" and e["host"].endswith("-backup")}
        if started <= ready or time.time() >= deadline:
            return
        time.sleep(0.25)


# ---------------------------------------------------------------------------------------------
# running a playbook

class Run:
    def __init__(self, label):
        self.label = label
        self.rc = None
        self.t0 = self.t1 = 0.0
        self.out = ""
        self.recap = {}
        self.timing = []
        self.events = []
        self.maxrss_kib = 0
        self.cpu_s = 0.0
        self.main_cpu_s = None
        self.peak_rss_kib = self.peak_pss_kib = self.peak_procs = 0
        self.machine_busy = None
        self.load = None

    @property
    def wall(self):
        return self.t1 - self.t0

    @property
    def changed(self):
        return sum(h["changed"] for h in self.recap.values())

    @property
    def failed(self):
        return sum(h["failed"] + h["unreachable"] for h in self.recap.values())

    def starts(self):
        return sum(1 for e in self.events if e["event"] == "start" and e.get("source") == "server")

    def summary(self):
        return {"wall_s": round(self.wall, 2), "rc": self.rc, "changed": self.changed, "failed": self.failed,
                "server_starts": self.starts(), "controller_max_rss_mib": round(self.maxrss_kib / 1024, 1),
                "controller_tree_peak_pss_mib": round(self.peak_pss_kib / 1024, 1),
                "controller_tree_peak_rss_mib": round(self.peak_rss_kib / 1024, 1),
                "controller_tree_peak_processes": self.peak_procs,
                "controller_cpu_s": round(self.cpu_s, 1),
                "controller_main_process_cpu_s": round(self.main_cpu_s, 1) if self.main_cpu_s is not None else None,
                "machine_cpu_busy": self.machine_busy, "load_before": self.load}


_current_proc = None


def ansible_env(extra=None, timing_file=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(TOP / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(TOP / ".venv" / "collections"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
        "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "")),
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "fleet_timing",
    })
    if timing_file:
        env["FLEET_TIMING_FILE"] = str(timing_file)
    env.update(extra or {})
    return env


def run_playbook(lab, label, playbook, logs, args=(), env=None, limit=None, timeout=3600):
    """Run ansible-playbook; returns a Run with wall time, recap, task timestamps, the lab's server
    events of the run's window and the controller's memory and CPU."""
    global _current_proc
    run = Run(label)
    logs.mkdir(parents=True, exist_ok=True)
    timing_file = logs / ("%s.timing.jsonl" % label)
    with contextlib.suppress(FileNotFoundError):
        timing_file.unlink()
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(lab.inventory), str(playbook)]
    if limit:
        cmd += ["--limit", limit]
    cmd += list(args)
    run.load = [round(x, 2) for x in os.getloadavg()]
    busy0 = cpu_busy()
    with open(logs / ("%s.log" % label), "w") as out:
        out.write("$ %s\n" % " ".join(cmd))
        out.flush()
        run.t0 = time.time()
        proc = subprocess.Popen(cmd, cwd=str(TOP), env=ansible_env(env, timing_file), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        _current_proc = proc
        sampler = TreeSampler(proc.pid)
        sampler.start()
        deadline = time.monotonic() + timeout
        killed = None
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline and killed is None:
                    log("%s: ansible-playbook did not finish within %d s; ending it" % (label, timeout))
                    killed = time.monotonic()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGTERM)
                elif killed is not None and time.monotonic() > killed + 10:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                time.sleep(0.05)
        finally:
            run.t1 = time.time()
            sampler.stop()
            _current_proc = None
        proc.returncode = os.waitstatus_to_exitcode(status)
    busy1 = cpu_busy()
    run.machine_busy = round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]), 2)
    run.rc = proc.returncode
    run.maxrss_kib = usage.ru_maxrss
    run.cpu_s = usage.ru_utime + usage.ru_stime
    run.peak_rss_kib, run.peak_pss_kib, run.peak_procs = sampler.peak_rss_kib, sampler.peak_pss_kib, sampler.peak_procs
    run.main_cpu_s = sampler.main_cpu_s
    run.out = (logs / ("%s.log" % label)).read_text(errors="replace")
    run.recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
                 for m in RECAP.finditer(run.out)}
    if timing_file.exists():
        run.timing = [json.loads(line) for line in timing_file.read_text().splitlines() if line.strip()]
    run.events = [e for e in lab.events(backoffice=False) if run.t0 <= e["ts"] and e.get("source") == "server"]
    log("%s: %.1f s, rc %s, changed %d, server starts %d" % (label, run.wall, run.rc, run.changed, run.starts()))
    return run


# ---------------------------------------------------------------------------------------------
# analysis

def _first(events, host, name, after=None, boot=None):
    for e in events:
        if e["host"] == host and e["event"] == name and e.get("result", "ok") == "ok" \
                and (after is None or e["ts"] >= after) and (boot is None or e.get("boot_id") == boot):
            return e
    return None


def _short(task):
    return (task or "").split(" : ")[-1]


def host_spans(run):
    """Every host result of the run: host, task, action, uuid, from its start to its result (epoch s)."""
    begun = {}
    for r in run.timing:
        if r.get("kind") == "host_start":
            begun.setdefault((r.get("uuid"), r.get("host")), r["ts"])
    actions = {r.get("uuid"): r.get("action") for r in run.timing if r.get("kind") == "task_start"}
    return [{"host": r.get("host"), "task": r.get("task"), "uuid": r.get("uuid"),
             "action": r.get("action") or actions.get(r.get("uuid")),
             "start": begun.get((r.get("uuid"), r.get("host")), r["ts"]), "end": r["ts"],
             "skipped": bool(r.get("skipped")) or r.get("status") == "skipped"}
            for r in run.timing if r.get("kind") == "host_end"]


def _ref(span):
    """A task as the figures name it: the module it runs first, then its name (names change, modules less)."""
    return {"action": span["action"], "task": _short(span["task"])[:90]} if span else None


def _running(spans, hosts, ts, actions=None):
    """The host result of these hosts that was running at ts (one of `actions`, when given), or None."""
    found = [s for s in spans if s["host"] in hosts and not s["skipped"] and s["start"] <= ts <= s["end"] + 0.05
             and (actions is None or s["action"] in actions)]
    return max(found, key=lambda s: s["start"]) if found else None


def _launched(spans, hosts, ts, actions):
    """The last host result of one of `actions` on these hosts begun at or before ts (an async start goes
    on after its task has reported), or None."""
    found = [s for s in spans if s["host"] in hosts and not s["skipped"] and s["start"] <= ts
             and s["action"] in actions]
    return max(found, key=lambda s: s["start"]) if found else None


def pair_tasks(spans, rec):
    """The host results that started the main, ran while its contact was confirmed and started the
    back-up, found by the modules they run (START_ACTIONS, WAIT_ACTIONS): None where nothing matches.
    The pair's own host first, then either host (a by-hand playbook delegates to the back-up)."""
    m, b = rec["main"], rec["backup"]
    out = {"main_start": None, "contact": None, "backup_start": None}
    if rec.get("main_start") is not None:
        out["main_start"] = (_launched(spans, {m}, rec["main_start"], START_ACTIONS)
                             or _launched(spans, {m, b}, rec["main_start"], START_ACTIONS))
    if rec.get("main_contact") is not None:
        out["contact"] = (_running(spans, {m}, rec["main_contact"], WAIT_ACTIONS + START_ACTIONS)
                          or _running(spans, {m}, rec["main_contact"]))
    if rec.get("backup_start") is not None:
        out["backup_start"] = (_launched(spans, {b}, rec["backup_start"], START_ACTIONS)
                               or _launched(spans, {m, b}, rec["backup_start"], START_ACTIONS))
    return out


def pair_milestones(run, lab, spans=None):
    """Per pair: the server milestones of the run (epoch seconds, from the lab's server events: start,
    stop, bo_contact, ready) and the floor they impose. A stop counts from the start of the host result
    that was running on the pair's hosts when the server logged it (whatever the task's name or module);
    stop_s is null when stops were logged but no task was running then."""
    spans = host_spans(run) if spans is None else spans
    out = {}
    events = sorted(run.events, key=lambda e: e["ts"])
    for pair, hosts in sorted(lab.pairs().items()):
        m, b = hosts["main"].name, hosts["backup"].name
        ms = _first(events, m, "start")
        bs = _first(events, b, "start")
        mc = _first(events, m, "bo_contact", after=ms["ts"], boot=ms.get("boot_id")) if ms else None
        br = _first(events, b, "ready", after=bs["ts"], boot=bs.get("boot_id")) if bs else None
        stops = [e for e in events if e["event"] == "stop" and e["host"] in (m, b)
                 and (ms is None or e["ts"] <= ms["ts"])]
        stop_s = 0.0
        if stops:
            begun = [s["start"] for s in (_running(spans, {m, b}, e["ts"], STOP_ACTIONS) or _running(spans, {m, b}, e["ts"])
                                          for e in stops) if s]
            stop_s = max(e["ts"] for e in stops) - min(begun) if begun else None
        rec = {"pair": pair, "main": m, "backup": b,
               "stops": [round(e["ts"], 3) for e in stops],
               "main_start": ms["ts"] if ms else None, "main_contact": mc["ts"] if mc else None,
               "backup_start": bs["ts"] if bs else None, "backup_ready": br["ts"] if br else None}
        if ms and mc and bs and br:
            rec["stop_s"] = round(stop_s, 3) if stop_s is not None else None
            rec["main_to_contact_s"] = round(mc["ts"] - ms["ts"], 3)
            rec["backup_to_ready_s"] = round(br["ts"] - bs["ts"], 3)
            rec["floor_s"] = round((stop_s or 0.0) + rec["main_to_contact_s"] + rec["backup_to_ready_s"], 3)
            rec["detection_s"] = round(bs["ts"] - mc["ts"], 3)
            rec["complete"] = True
        else:
            rec["complete"] = False
        rec["tasks"] = {k: _ref(v) for k, v in pair_tasks(spans, rec).items()}
        out[pair] = rec
    return out


def detection_breakdown(run, pairs, spans=None):
    """Where each pair's detection latency goes: the task (by its module) running on the main when its
    contact was confirmed, the task whose module started the back-up, the task boundaries (linear
    strategy: every host waits for the slowest) crossed in between and the gaps between them. Pairs are
    grouped by that path (of modules); the most common path is described with median gaps. Null when
    the run has no task timestamps; a task no module of START_ACTIONS / WAIT_ACTIONS matches is null."""
    spans = host_spans(run) if spans is None else spans
    starts = [r for r in run.timing if r.get("kind") == "task_start"]
    if not starts or not spans:
        return None
    paths = {}
    for rec in pairs.values():
        if not rec.get("complete"):
            continue
        c, s = rec["main_contact"], rec["backup_start"]
        t = pair_tasks(spans, rec)
        crossed = [r for r in starts if c < r["ts"] <= s]
        marks = [c] + [r["ts"] for r in crossed] + [s]
        key = ((t["contact"] or {}).get("action"), (t["backup_start"] or {}).get("action"),
               tuple(r.get("action") for r in crossed))
        paths.setdefault(key, []).append({"gaps": [y - x for x, y in zip(marks, marks[1:])], "tasks": t,
                                          "crossed": crossed, "launch": (t["backup_start"] or {}).get("start"),
                                          "contact": c, "start": s})
    if not paths:
        return None
    key = max(paths, key=lambda k: len(paths[k]))
    group = paths[key]
    first = group[0]
    launched = [g for g in group if g["launch"] is not None]
    out = {"pairs_on_this_path": len(group), "other_paths": len(paths) - 1,
           "contact_confirmed_during": _ref(first["tasks"]["contact"]),
           "backup_started_by": _ref(first["tasks"]["backup_start"]),
           "task_boundaries_crossed": [{"action": r.get("action"), "task": _short(r.get("task"))[:90]}
                                       for r in first["crossed"]],
           "median_gaps_s": [round(statistics.median(g["gaps"][i] for g in group), 3)
                             for i in range(len(key[2]) + 1)],
           "backup_task_began_before_contact": None, "backup_task_host_start_to_server_start_median_s": None}
    if launched:
        out["backup_task_began_before_contact"] = sum(1 for g in launched if g["launch"] < g["contact"])
        out["backup_task_host_start_to_server_start_median_s"] = round(
            statistics.median(g["start"] - g["launch"] for g in launched), 3)
    return out


def controller_actions():
    """The collection's actions that run on the controller only: its action plugins that never execute a
    module on the host (the restructured role's plan action, say)."""
    out = set()
    for path in sorted((TOP / "plugins" / "action").glob("*.py")):
        text = path.read_text(errors="replace")
        if "_execute_module" not in text and "_low_level_execute_command" not in text:
            out.add("fnls.failover." + path.stem)
    return out


def _bare(action):
    action = action or ""
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


def where_it_ran(r, local_actions=frozenset()):
    """'controller' (a controller-only action, or delegated to the controller), 'command' (ssh to the
    host, no module: raw) or 'remote' (a module run on the host) for one host result of the callback."""
    action = r.get("action") or ""
    if _bare(action) in CONTROLLER_ACTIONS or action in local_actions:
        return "controller"
    delegate = r.get("delegate_to")
    if delegate and (str(delegate) in LOCAL_NAMES or r.get("delegated_connection") == "local"):
        return "controller"
    if not delegate and r.get("connection") == "local":
        return "controller"
    return "command" if _bare(action) in REMOTE_COMMANDS else "remote"


def _per_pair(counts, pair_names):
    values = [counts.get(p, 0) for p in pair_names]
    if not values:
        return None
    return {"mean": round(sum(values) / len(values), 2), "max": max(values), "min": min(values)}


def module_runs(run, pair_of_host, local_actions=None):
    """Module runs on the hosts, from the callback's host results: every result that was not skipped, of
    an action that is not controller-only and not delegated to the controller, counted once per attempt
    (`attempts` of an `until` loop, a loop's items, the polls of an async task with poll > 0); every
    async_status attempt is a run. Controller-side action runs and ssh commands without a module (raw)
    are counted apart. Per pair: the runs of the pair's two hosts (run_once results count for the host
    that ran them); mean, max and min over the pairs."""
    local_actions = controller_actions() if local_actions is None else local_actions
    pair_names = sorted(set(pair_of_host.values()))
    polls = {}
    for r in run.timing:
        if r.get("kind") == "async_poll":
            key = (r.get("uuid"), r.get("host"))
            polls[key] = polls.get(key, 0) + 1
    per = {"remote": {}, "controller": {}, "command": {}}
    by_action = {"remote": {}, "controller": {}, "command": {}}
    n_results = skipped = unreachable = outside = async_status = retries = 0
    for r in run.timing:
        if r.get("kind") != "host_end":
            continue
        n_results += 1
        if r.get("skipped") or r.get("status") == "skipped":
            skipped += 1
            continue
        if r.get("status") == "unreachable":
            unreachable += 1
            continue
        if r.get("loop_items") is not None:
            runs = int(r.get("loop_attempts") or 0)
            extra = runs - (int(r["loop_items"]) - int(r.get("loop_items_skipped") or 0))
        else:
            runs = int(r.get("attempts") or 1)
            extra = runs - 1
        polled = 0
        if r.get("async_val") and r.get("poll"):
            polled = polls.get((r.get("uuid"), r.get("host")), 0) + 1  # the last poll reports no callback
        where = where_it_ran(r, local_actions)
        runs += polled
        if where == "remote":
            retries += max(0, extra)
            if _bare(r.get("action")) == "async_status":
                async_status += runs
            else:
                async_status += polled
        action = r.get("action") or "?"
        by_action[where][action] = by_action[where].get(action, 0) + runs
        pair = pair_of_host.get(r.get("host"))
        if pair is None:
            outside += runs
        else:
            per[where][pair] = per[where].get(pair, 0) + runs

    def block(where):
        return {"total": sum(by_action[where].values()), "per_pair": _per_pair(per[where], pair_names),
                "by_action": dict(sorted(by_action[where].items(), key=lambda kv: -kv[1]))}
    n = len(pair_names) or 1
    return {"remote": {**block("remote"), "async_status_runs": async_status,
                       "async_status_runs_per_pair": round(async_status / n, 2), "retries": retries},
            "controller_side": block("controller"), "remote_commands_no_module": block("command"),
            "host_results": n_results, "skipped_results": skipped, "unreachable_results": unreachable,
            "runs_outside_pairs": outside}


def pair_of_host(lab):
    return {h.name: pair for pair, hosts in lab.pairs().items() for h in hosts.values()}


def task_profile(run, top=8):
    """Time per task (task start to the next task's start) and the share of tasks that run on the
    controller only (set_fact, assert, include_tasks, ...)."""
    starts = [r for r in run.timing if r.get("kind") == "task_start"]
    end = next((r["ts"] for r in run.timing if r.get("kind") == "playbook_end"), run.t1)
    local_actions = controller_actions()
    rows = []
    for i, r in enumerate(starts):
        nxt = starts[i + 1]["ts"] if i + 1 < len(starts) else end
        rows.append({"task": r["task"].split(" : ")[-1][:70], "action": r.get("action"), "s": round(nxt - r["ts"], 3),
                     "local": _bare(r.get("action")) in CONTROLLER_ACTIONS or r.get("action") in local_actions})
    incl = [x for x in rows if _bare(x["action"]) in ("include_tasks", "include_role")]
    loc = [x for x in rows if x["local"]]
    first_task = starts[0]["ts"] if starts else run.t1
    ends = [r for r in run.timing if r.get("kind") == "host_end"]
    local_uuids = {r.get("uuid") for r in starts
                   if _bare(r.get("action")) in CONTROLLER_ACTIONS or r.get("action") in local_actions}
    local_ends = sum(1 for r in ends if r.get("uuid") in local_uuids)
    for x in rows:
        del x["local"]
    return {"tasks": len(rows), "host_results": len(ends),
            "controller_only_ms_per_host": round(1000 * sum(x["s"] for x in loc) / local_ends, 1) if local_ends else None,
            "startup_s": round(first_task - run.t0, 2),
            "controller_only_tasks": len(loc), "controller_only_s": round(sum(x["s"] for x in loc), 2),
            "include_tasks": len(incl), "include_tasks_s": round(sum(x["s"] for x in incl), 2),
            "remote_tasks_s": round(sum(x["s"] for x in rows) - sum(x["s"] for x in loc), 2),
            "slowest": sorted(rows, key=lambda x: -x["s"])[:top]}


def phase_segments(run, pairs):
    """The run's wall time cut at the fleet-wide milestones (first main start, last confirmed
    contact, last back-up start, last back-up ready)."""
    recs = [p for p in pairs.values() if p.get("complete")]
    if not recs:
        return None
    first_ms = min(p["main_start"] for p in recs)
    last_mc = max(p["main_contact"] for p in recs)
    last_bs = max(p["backup_start"] for p in recs)
    last_br = max(p["backup_ready"] for p in recs)
    return {"before_first_main_start_s": round(first_ms - run.t0, 2),
            "main_starts_to_last_contact_s": round(last_mc - first_ms, 2),
            "last_contact_to_last_backup_start_s": round(last_bs - last_mc, 2),
            "last_backup_start_to_last_ready_s": round(last_br - last_bs, 2),
            "last_ready_to_end_s": round(run.t1 - last_br, 2)}


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 3), "max": round(max(values), 3),
            "min": round(min(values), 3), "n": len(values)}


def cpu_figures(run, pairs_n):
    """The controller's CPU (the ansible-playbook tree) per host and per pair."""
    hosts = 2 * pairs_n
    out = {"controller_cpu_per_host_s": round(run.cpu_s / hosts, 2) if hosts else None,
           "controller_cpu_per_pair_s": round(run.cpu_s / pairs_n, 2) if pairs_n else None}
    return out


def run_counts(run, lab):
    """module_runs_per_pair, controller_action_runs_per_pair and the breakdown of a run."""
    counts = module_runs(run, pair_of_host(lab))
    return {"module_runs_per_pair": counts["remote"]["per_pair"],
            "controller_action_runs_per_pair": counts["controller_side"]["per_pair"],
            "module_runs": counts}


def registration_figures(run, lab, label):
    spans = host_spans(run)
    pairs = pair_milestones(run, lab, spans)
    complete = [p for p in pairs.values() if p["complete"]]
    floor = max((p["floor_s"] for p in complete), default=None)
    fig = {"label": label, "pairs": len(pairs), "pairs_with_all_milestones": len(complete),
           **run.summary(), **cpu_figures(run, len(pairs)),
           "floor_s": floor,
           "over_floor": round(run.wall / floor, 2) if floor else None,
           "overhead_s": round(run.wall - floor, 2) if floor else None,
           "detection_s": _stats([p["detection_s"] for p in complete]),
           "main_to_contact_s": _stats([p["main_to_contact_s"] for p in complete]),
           "backup_to_ready_s": _stats([p["backup_to_ready_s"] for p in complete]),
           "segments": phase_segments(run, pairs), **run_counts(run, lab)}
    if complete:
        fig["until_last_backup_ready_s"] = round(max(p["backup_ready"] for p in complete) - run.t0, 2)
    return fig, pairs, spans


# ---------------------------------------------------------------------------------------------
# the phases

def check_registered(lab, label, problems):
    reg = registered_pairs(lab)
    bad = sorted(p for p, ok in reg.items() if not ok)
    if bad:
        problems.append("%s: the back office does not hold %d pair(s) as main/back-up: %s"
                        % (label, len(bad), ", ".join(bad[:10])))
    return sum(1 for ok in reg.values() if ok)


def phase_register(bl, args, logs, label, pairs_n, problems, env=None, extra=(), playbook=PLAYBOOK, rerun=False,
                   timeout=3600):
    lab = bl.up(pairs_n)
    run = run_playbook(lab, label, playbook, logs, args=extra, env=env, limit="fnls_servers", timeout=timeout)
    if run.rc != 0:
        problems.append("%s: ansible-playbook exited %s (log: %s)" % (label, run.rc, logs / (label + ".log")))
    fig, pairs, spans = registration_figures(run, lab, label)
    fig["registered"] = check_registered(lab, label, problems)
    if fig["pairs_with_all_milestones"] != pairs_n:
        problems.append("%s: only %d of %d pairs show start, contact, back-up start and ready in the event log"
                        % (label, fig["pairs_with_all_milestones"], pairs_n))
    fig["detection_breakdown"] = detection_breakdown(run, pairs, spans)
    fig["tasks"] = task_profile(run)
    fig["task_marks"] = task_marks(run, pairs, spans)
    out = {"figures": fig, "pairs": pairs, "run": run}
    if rerun:
        r2 = run_playbook(lab, label + "-rerun", playbook, logs, args=extra, env=env, limit="fnls_servers")
        if r2.rc != 0:
            problems.append("%s: the rerun exited %s" % (label, r2.rc))
        if r2.changed or r2.starts():
            problems.append("%s: the rerun changed %d and started %d server(s); it must change and restart nothing"
                            % (label, r2.changed, r2.starts()))
        out["rerun"] = {**r2.summary(), **cpu_figures(r2, pairs_n), "over_tn": round(r2.wall / run.wall, 3),
                        "restarts": r2.starts(), **run_counts(r2, lab), "tasks": task_profile(r2)}
    bl.down()
    return out


def phase_manual(bl, args, logs, label, pairs_n, problems, serial):
    lab = bl.up(pairs_n)
    extra = ["-e", "manual_pause_seconds=%g" % args.pause]
    if serial:
        extra += ["-e", "manual_serial=1"]
    run = run_playbook(lab, label, MANUAL_PLAYBOOK, logs, args=extra)
    if run.rc != 0:
        problems.append("%s: ansible-playbook exited %s (log: %s)" % (label, run.rc, logs / (label + ".log")))
    wait_backups_ready(lab, run.t0, args.startup_delay + 30)
    run.events = [e for e in lab.events(backoffice=False) if run.t0 <= e["ts"] and e.get("source") == "server"]
    fig, pairs, spans = registration_figures(run, lab, label)
    fig["registered"] = sum(1 for ok in registered_pairs(lab).values() if ok)
    fig["pause_s"] = args.pause
    fig["tasks"] = task_profile(run)
    bl.down()
    return {"figures": fig, "pairs": pairs, "run": run}


def find_mitogen():
    """The strategy plugin dir of an importable ansible_mitogen, or (None, why not)."""
    code = "import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))"
    env = dict(os.environ)
    if os.environ.get("FLEET_MITOGEN_PATH"):
        env["PYTHONPATH"] = os.environ["FLEET_MITOGEN_PATH"]
    proc = subprocess.run([str(VENV_BIN / "python"), "-c", code], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return None, "ansible_mitogen is not importable (pip install mitogen, or set FLEET_MITOGEN_PATH)"
    return Path(proc.stdout.strip()) / "plugins" / "strategy", None


def tune_variants(args):
    """(name, what it changes, env, extra args, playbook) of each setting tried with --tune."""
    out = [
        ("as shipped", "ansible.cfg of the repository: forks 60, pipelining on, ssh ControlPersist 60s "
                       "(ansible's default), facts off (the playbook), linear strategy", {}, [], PLAYBOOK),
        ("pipelining off", "ANSIBLE_PIPELINING=False: every module is copied to the host, then run",
         {"ANSIBLE_PIPELINING": "False"}, [], PLAYBOOK),
        ("no ControlPersist", "ssh_args without connection reuse: a new ssh connection per task and host",
         {"ANSIBLE_SSH_ARGS": "-C -o ControlMaster=no -o ControlPersist=no"}, [], PLAYBOOK),
        ("forks 10", "ANSIBLE_FORKS=10 (fewer than the hosts: every task runs in batches)",
         {"ANSIBLE_FORKS": "10"}, [], PLAYBOOK),
        ("facts gathered", "a play with gather_facts: true before the role (benchmarks/with_facts.yml)",
         {}, [], FACTS_PLAYBOOK),
        ("poll 0.1 s", "-e failover_pair_poll_interval=0.1 (the role's wait polls 5 times as often)",
         {}, ["-e", "failover_pair_poll_interval=0.1"], PLAYBOOK),
    ]
    plugins, why = find_mitogen()
    if plugins:
        env = {"ANSIBLE_STRATEGY_PLUGINS": str(plugins), "ANSIBLE_STRATEGY": "mitogen_linear"}
        if os.environ.get("FLEET_MITOGEN_PATH"):
            env["PYTHONPATH"] = os.environ["FLEET_MITOGEN_PATH"]
        out.append(("mitogen_linear", "strategy mitogen_linear (mitogen %s): one persistent interpreter per host"
                    % mitogen_version(env), env, [], PLAYBOOK))
    else:
        out.append(("mitogen_linear", why, None, [], PLAYBOOK))
    return out


def mitogen_version(env):
    e = dict(os.environ)
    e.update({k: v for k, v in env.items() if k == "PYTHONPATH"})
    proc = subprocess.run([str(VENV_BIN / "python"), "-c", "import mitogen; print(mitogen.__version__)"],
                          capture_output=True, text=True, env=e)
    v = proc.stdout.strip()
    return ".".join(str(x) for x in eval(v)) if v.startswith("(") else v  # noqa: S307 - a version tuple


# ---------------------------------------------------------------------------------------------
# targets, the projection to a large fleet, the comparison with an earlier run

def _get(d, *path):
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def target_values(res):
    """The figure each target of TARGETS is judged on (None where the run did not measure it)."""
    rerun = res.get("rerun") or {}
    return {"module_runs_per_pair": _get(res, "fleet", "module_runs_per_pair", "mean"),
            "rerun_module_runs_per_pair": _get(rerun, "module_runs_per_pair", "mean"),
            "ours_over_manual_parallel": _get(res, "manual_parallel", "ours_over_theirs"),
            "t1_over_f1": _get(res, "one_pair", "over_floor"),
            "tn_over_t1": _get(res, "ratios", "tn_over_t1"),
            "rerun_over_tn": rerun.get("over_tn"),
            "controller_cpu_s": _get(res, "fleet", "controller_cpu_s"),
            "detection_median_s": _get(res, "fleet", "detection_s", "median")}


def targets_report(res):
    """{target: {value, limit, met}}: met is null when the figure is missing; the rerun's time counts
    as met only when the rerun changed nothing and restarted nothing."""
    out = {}
    values = target_values(res)
    for key, limit in TARGETS.items():
        value = values.get(key)
        met = None if value is None else value <= limit
        if key == "rerun_over_tn" and met is not None:
            rerun = res.get("rerun") or {}
            met = met and rerun.get("changed") == 0 and rerun.get("restarts") == 0
        out[key] = {"value": value, "limit": limit, "met": met}
    return out


def _fit(cost_1, cost_n, n):
    """(fixed, per pair) of a cost measured on one pair and on n pairs; per pair only when one point."""
    if cost_n is None:
        return None, None
    if n > 1 and cost_1 is not None and cost_n > cost_1:
        per_pair = (cost_n - cost_1) / (n - 1)
        return max(0.0, cost_1 - per_pair), per_pair
    return 0.0, cost_n / n


def projection(res, pairs=250, cores=4, memory_gib=8.0):
    """What `pairs` pairs would cost a controller of `cores` cores, from this run's figures: controller
    CPU (a straight line through the one-pair and the fleet run), the wall time that CPU alone imposes
    (the tree's CPU spread over the cores, and at least ansible-playbook's own CPU, which runs on one
    core), and the forks / serial batch to choose: forks = the batch's hosts (every task of a batch in
    one wave, so the servers' start-up is waited for once per batch), the batch as large as half of
    `memory_gib` holds at the measured memory per process, as few batches as that allows (each batch
    waits the servers' floor FN again). None when the run has no fleet figures."""
    one, fleet, rerun = res.get("one_pair") or {}, res.get("fleet") or {}, res.get("rerun") or {}
    n = fleet.get("pairs")
    if not n or fleet.get("controller_cpu_s") is None:
        return None
    fixed, per_pair = _fit(one.get("controller_cpu_s"), fleet["controller_cpu_s"], n)
    cpu = fixed + per_pair * pairs
    m_fixed, m_per_pair = _fit(one.get("controller_main_process_cpu_s"), fleet.get("controller_main_process_cpu_s"), n)
    main_cpu = (m_fixed + m_per_pair * pairs) if m_per_pair is not None else None
    cpu_bound = max(cpu / cores, main_cpu or 0.0)
    floor = fleet.get("floor_s") or 0.0
    # the tree's peak PSS per host of the fleet run, ansible-playbook's own process (its largest) aside
    # (the forks as shipped, 60, hold every host of 25 pairs)
    main_mib = fleet.get("controller_max_rss_mib") or 0.0
    per_host = max(0.0, (fleet.get("controller_tree_peak_pss_mib") or 0.0) - main_mib) / (2 * n) or 15.0
    budget = memory_gib * 1024 / 2
    options = []
    for batch_pairs in sorted({pairs, 250, 200, 125, 100, 50, 25, 10}, reverse=True):
        if batch_pairs > pairs:
            continue
        batches = -(-pairs // batch_pairs)
        hosts = 2 * batch_pairs
        options.append({"serial_hosts": hosts if batches > 1 else None, "forks": hosts, "batches": batches,
                        "memory_mib": round(main_mib + hosts * per_host),
                        "estimated_wall_s": round(cpu_bound + batches * floor),
                        "fits_memory": main_mib + hosts * per_host <= budget})
    fitting = [o for o in options if o["fits_memory"]] or [options[-1]]
    best = min(fitting, key=lambda o: (o["estimated_wall_s"], o["batches"]))
    return {"pairs": pairs, "hosts": 2 * pairs, "cores": cores, "memory_gib_assumed": memory_gib,
            "basis": {"fleet_pairs": n, "startup_delay_s": _get(res, "settings", "startup_delay_s"),
                      "controller_cpu_fixed_s": round(fixed, 1), "controller_cpu_per_pair_s": round(per_pair, 2),
                      "main_process_cpu_per_pair_s": round(m_per_pair, 3) if m_per_pair is not None else None,
                      "floor_per_batch_s": round(floor, 1), "memory_per_host_mib": round(per_host, 1)},
            "controller_cpu_s": round(cpu), "rerun_controller_cpu_s":
                round(rerun["controller_cpu_s"] / n * pairs) if rerun.get("controller_cpu_s") is not None else None,
            "main_process_cpu_s": round(main_cpu) if main_cpu is not None else None,
            "cpu_wall_bound_s": round(cpu_bound), "forks": best["forks"], "serial": best["serial_hosts"],
            "batches": best["batches"], "estimated_wall_s": best["estimated_wall_s"],
            "estimated_memory_mib": best["memory_mib"], "options": options}


def projection_lines(p):
    if not p:
        return []
    b = p["basis"]
    serial = ("serial: %d (hosts, each pair's two hosts next to each other in the inventory), %d batches"
              % (p["serial"], p["batches"]) if p["serial"] else "no serial (one batch)")
    return ["Projection, %d pairs (%d hosts) on %d cores: controller CPU about %d s (%.1f s fixed + %.2f s per pair, "
            "from the one-pair and the %d-pair runs), rerun about %s s; CPU alone keeps the run above %d s "
            "(ansible-playbook's own process: %s s on one core)"
            % (p["pairs"], p["hosts"], p["cores"], p["controller_cpu_s"], b["controller_cpu_fixed_s"],
               b["controller_cpu_per_pair_s"], b["fleet_pairs"], fmt(p["rerun_controller_cpu_s"]),
               p["cpu_wall_bound_s"], fmt(p["main_process_cpu_s"])),
            "  choose forks %d, %s: about %d MiB on the controller (%.0f MiB per host in a batch; half of %g GiB "
            "allowed), estimated %d s (the CPU bound + %d x the floor %.1f s)"
            % (p["forks"], serial, p["estimated_memory_mib"], b["memory_per_host_mib"], p["memory_gib_assumed"],
               p["estimated_wall_s"], p["batches"], b["floor_per_batch_s"])]


# (label, figure) of the side-by-side comparison; the figure is taken from a results file, or worked
# out from its base figures where an older file lacks it
COMPARE_ROWS = [
    ("date", lambda r: (_get(r, "machine", "date") or "")[:16]),
    ("code", lambda r: _get(r, "code", "git")),
    ("pairs in the fleet, server start-up s", lambda r: "%s, %s" % (_get(r, "settings", "pairs"),
                                                                    _get(r, "settings", "startup_delay_s"))),
    ("cores", lambda r: _get(r, "machine", "cores")),
    ("T1 s", lambda r: _get(r, "one_pair", "wall_s")),
    ("F1 s", lambda r: _get(r, "one_pair", "floor_s")),
    ("T1/F1", lambda r: _get(r, "one_pair", "over_floor")),
    ("TN s", lambda r: _get(r, "fleet", "wall_s")),
    ("TN/T1", lambda r: _get(r, "ratios", "tn_over_t1")),
    ("TN/FN", lambda r: _get(r, "fleet", "over_floor")),
    ("module runs per pair, fleet (mean / max)", lambda r: _pp(_get(r, "fleet", "module_runs_per_pair"))),
    ("module runs per pair, rerun (mean / max)", lambda r: _pp(_get(r, "rerun", "module_runs_per_pair"))),
    ("controller-side action runs per pair, fleet", lambda r: _pp(_get(r, "fleet", "controller_action_runs_per_pair"))),
    ("rerun s, /TN", lambda r: "%s, %s" % (_get(r, "rerun", "wall_s"), _get(r, "rerun", "over_tn"))),
    ("rerun changes / restarts", lambda r: "%s / %s" % (_get(r, "rerun", "changed"), _get(r, "rerun", "restarts"))),
    ("detection median s, fleet", lambda r: _get(r, "fleet", "detection_s", "median")),
    ("ours / by hand, all pairs at once", lambda r: _get(r, "manual_parallel", "ours_over_theirs")),
    ("ours / by hand, serial: 1", lambda r: _get(r, "manual_serial", "ours_over_theirs")),
    ("controller CPU s, fleet", lambda r: _get(r, "fleet", "controller_cpu_s")),
    ("controller CPU per host / per pair s, fleet",
     lambda r: "%s / %s" % (_per(r, "fleet", 2), _per(r, "fleet", 1))),
    ("controller CPU s, rerun", lambda r: _get(r, "rerun", "controller_cpu_s")),
    ("controller tree peak PSS MiB, fleet", lambda r: _get(r, "fleet", "controller_tree_peak_pss_mib")),
    ("250 pairs, 4 cores: CPU s, CPU-bound wall s",
     lambda r: "%s, %s" % (_get(r, "projection_250_pairs_4_cores", "controller_cpu_s"),
                           _get(r, "projection_250_pairs_4_cores", "cpu_wall_bound_s"))),
]


def _plain(v):
    if isinstance(v, float):
        v = ("%.2f" % v).rstrip("0").rstrip(".")
    return "n/a" if v is None else str(v).replace("None", "n/a")


def _pp(d):
    return None if not d else "%s / %s" % (d.get("mean"), d.get("max"))


def _per(r, key, hosts_per_pair):
    cpu, pairs = _get(r, key, "controller_cpu_s"), _get(r, key, "pairs")
    return round(cpu / (pairs * hosts_per_pair), 2) if cpu is not None and pairs else None


def print_compare(old, new, old_name, new_name):
    rows = []
    for label, figure in COMPARE_ROWS:
        a, b = (_plain(figure(x)) for x in (old, new))
        rows.append((label, a, b))
    cells = []
    for r in (old, new):  # a file without the projection: work it out from its figures
        p = r.get("projection_250_pairs_4_cores") or projection(r)
        cells.append("%s, %s" % (p["controller_cpu_s"], p["cpu_wall_bound_s"]) if p else "n/a")
    rows[-1] = (rows[-1][0], cells[0], cells[1])
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [("", old_name, "")])
    print()
    print("%-*s  %-*s  %s" % (w0, "measure", w1, old_name, new_name))
    print("-" * (w0 + w1 + 30))
    for r in rows:
        print("%-*s  %-*s  %s" % (w0, r[0], w1, r[1], r[2]))
    print()


# ---------------------------------------------------------------------------------------------
# output

def task_marks(run, pairs, spans):
    """Seconds since the run's start of the fleet-wide milestones, from the lab's server events (first
    main start, last confirmed contact, last back-up start), and of the start of the tasks that started
    most mains, ran during most contacts and started most back-ups, found by their modules: a mark
    whose task no module matches is left out."""
    recs = [p for p in pairs.values() if p.get("complete")]
    out = {}
    if recs:
        out["first main start (event)"] = round(min(p["main_start"] for p in recs) - run.t0, 3)
        out["last confirmed contact (event)"] = round(max(p["main_contact"] for p in recs) - run.t0, 3)
        out["last back-up start (event)"] = round(max(p["backup_start"] for p in recs) - run.t0, 3)
    task_starts = {r.get("uuid"): r["ts"] for r in run.timing if r.get("kind") == "task_start"}
    found = [pair_tasks(spans, p) for p in recs]
    marked = set()
    for key, what in (("main_start", "starts the mains"), ("contact", "runs at the contact"),
                      ("backup_start", "starts the back-ups")):
        uuids = [t[key]["uuid"] for t in found if t[key]]
        if not uuids:
            continue
        uuid = max(set(uuids), key=uuids.count)
        span = next(t[key] for t in found if t[key] and t[key]["uuid"] == uuid)
        if uuid in task_starts and uuid not in marked:
            marked.add(uuid)
            out["task that %s (%s)" % (what, span["action"])] = round(task_starts[uuid] - run.t0, 3)
    return out


def timeline_png(path, per_pair, marks, wall, title):
    """Draw the fleet run from its per-pair milestones (seconds since ansible-playbook started)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
    except ImportError:
        return "matplotlib is not installed (pip install -r requirements-bench.txt); no picture"
    recs = [p for p in per_pair.values() if p.get("complete")]
    if not recs:
        return "no complete pair to draw"
    recs.sort(key=lambda p: p["pair"], reverse=True)
    fig_h = 0.3 * len(recs) + 2.9
    fig, ax = plt.subplots(figsize=(12, fig_h))
    fig.subplots_adjust(left=0.06, right=0.98, bottom=1.85 / fig_h, top=1 - 0.45 / fig_h)
    for i, p in enumerate(recs):
        ms, mc, bs, br = (p[k] for k in ("main_start", "main_contact", "backup_start", "backup_ready"))
        ax.barh(i, mc - ms, left=ms, height=0.55, color="#4c72b0")
        ax.barh(i, bs - mc, left=mc, height=0.25, color="#dd8452")
        ax.barh(i, br - bs, left=bs, height=0.55, color="#55a868")
        for st in p.get("stops", []):
            ax.plot(st, i, marker="x", color="black", ms=6)
        ax.plot(mc, i, marker="|", color="black", ms=11, mew=2)
    colors = ["#4c72b0", "#8172b3", "#55a868", "#c44e52", "#937860", "#da8bc3"]
    mark_handles = []
    for i, (name, at) in enumerate(sorted((marks or {}).items(), key=lambda kv: kv[1])):
        if at is None:
            continue
        ls = "-." if "(event)" in name else ":"
        ax.axvline(at, color=colors[i % len(colors)], ls=ls, lw=1)
        mark_handles.append(Line2D([], [], color=colors[i % len(colors)], ls=ls,
                                   label=name if "(event)" in name or name.startswith("task") else "task: " + name))
    ax.axvline(wall, color="black", ls="--", lw=1)
    ax.set_yticks(range(len(recs)))
    ax.set_yticklabels([p["pair"] for p in recs], fontsize=7 if len(recs) > 20 else 9)
    ax.set_xlabel("seconds since ansible-playbook started")
    ax.set_xlim(0, wall * 1.02)
    ax.set_title(title, fontsize=10)
    handles = [Patch(color="#4c72b0", label="main: start \u2192 confirmed back-office contact"),
               Line2D([], [], marker="|", color="black", ls="", ms=11, mew=2, label="bo_contact ok"),
               Patch(color="#dd8452", label="detection: contact \u2192 back-up start"),
               Patch(color="#55a868", label="back-up: start \u2192 ready"),
               Line2D([], [], marker="x", color="black", ls="", label="stop"),
               *mark_handles,
               Line2D([], [], color="black", ls="--", label="ansible-playbook ends")]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8, frameon=False)
    ax.set_ylim(-0.7, len(recs) - 0.3)
    ax.grid(axis="x", alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def timeline_title(n, delay, wall, floor):
    return ("fnls.failover.register_pair, %d pairs (%d hosts), server start-up %g s: TN %.1f s, floor FN %s"
            % (n, 2 * n, delay, wall, fmt(floor, " s")))


def replot(out_dir):
    """Draw fleet-timeline.png again from the figures of latest.json."""
    res = json.loads((out_dir / "latest.json").read_text())
    f = res["fleet"]
    why = timeline_png(out_dir / "fleet-timeline.png", f["per_pair"], f.get("task_marks", {}), f["wall_s"],
                       timeline_title(f["pairs"], res["settings"]["startup_delay_s"], f["wall_s"], f.get("floor_s")))
    print(why or "wrote %s" % (out_dir / "fleet-timeline.png"))
    return 1 if why else 0


def fmt(v, unit="", nd=1):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return ("%." + str(nd) + "f%s") % (v, unit)
    return "%s%s" % (v, unit)


def print_table(res):
    one, fleet, rerun = res["one_pair"], res["fleet"], res.get("rerun")
    n = fleet["pairs"]
    met = res.get("targets_met") or targets_report(res)

    def tgt(key, unit=""):
        t = met.get(key) or {}
        mark = "n/a" if t.get("met") is None else ("met" if t["met"] else "MISSED")
        return "target <= %g%s: %s" % (TARGETS[key], unit, mark)

    def runs(d):
        d = d or {}
        return "%s / %s" % (fmt(d.get("mean")), fmt(d.get("max")))

    rows = [
        ("One pair: T1 (first registration, fresh servers)", fmt(one["wall_s"], " s"), ""),
        ("One pair: F1 floor (main start->contact, back-up start->ready)", fmt(one["floor_s"], " s"), ""),
        ("T1/F1", fmt(one["over_floor"], "", 2), tgt("t1_over_f1")),
        ("Overhead per pair T1-F1", fmt(one["overhead_s"], " s"), ""),
        ("Fleet: TN (%d pairs, %d hosts, one run)" % (n, 2 * n), fmt(fleet["wall_s"], " s"), ""),
        ("TN/T1", fmt(res["ratios"]["tn_over_t1"], "", 2), tgt("tn_over_t1")),
        ("TN/FN (FN = slowest pair's floor %s)" % fmt(fleet["floor_s"], " s"), fmt(fleet["over_floor"], "", 2), ""),
        ("Fleet overhead (TN-FN), per pair", "%s, %s" % (fmt(fleet["overhead_s"], " s"),
                                                         fmt(fleet["overhead_s"] / n if fleet["overhead_s"] else None, " s", 2)), ""),
        ("Module runs per pair, fleet: mean / max", runs(fleet.get("module_runs_per_pair")),
         "%s; async_status %s per pair, raw %s per pair" % (
             tgt("module_runs_per_pair"), fmt(_get(fleet, "module_runs", "remote", "async_status_runs_per_pair")),
             fmt(_get(fleet, "module_runs", "remote_commands_no_module", "per_pair", "mean")))),
        ("Controller-side action runs per pair, fleet: mean / max", runs(fleet.get("controller_action_runs_per_pair")),
         "set_fact, assert, debug, include_* ... and delegated to the controller"),
    ]
    if rerun:
        rows += [("Rerun: changes / server restarts", "%d / %d" % (rerun["changed"], rerun["restarts"]),
                  "must be 0 / 0"),
                 ("Rerun time, and /TN", "%s, %s" % (fmt(rerun["wall_s"], " s"), fmt(rerun["over_tn"], "", 2)),
                  tgt("rerun_over_tn") + " (with 0 / 0)"),
                 ("Module runs per pair, rerun: mean / max", runs(rerun.get("module_runs_per_pair")),
                  tgt("rerun_module_runs_per_pair")),
                 ("Controller-side action runs per pair, rerun: mean / max",
                  runs(rerun.get("controller_action_runs_per_pair")), "")]
    for key, name in (("one_pair", "one pair"), ("fleet", "fleet")):
        d = res[key]["detection_s"]
        if d:
            rows.append(("Detection latency, %s: median / max" % name, "%s / %s" % (fmt(d["median"], " s", 2),
                                                                                    fmt(d["max"], " s", 2)),
                         tgt("detection_median_s", " s") if key == "fleet" else ""))
    for key, name in (("manual_parallel", "By hand, all pairs at once"), ("manual_serial", "By hand, serial: 1")):
        m = res.get(key)
        if not m:
            continue
        extra = ""
        if m.get("extrapolated_wall_s"):
            extra = " (measured %s on %d pair(s), scaled x%d/%d)" % (fmt(m["wall_s"], " s"), m["pairs"], n, m["pairs"])
        rows.append(("%s (pause %g s): time, ours/theirs" % (name, m["pause_s"]),
                     "%s, %s" % (fmt(m.get("extrapolated_wall_s") or m["wall_s"], " s"), fmt(m["ours_over_theirs"], "", 2)),
                     "%s%d/%d registered%s, %s module runs per pair" % (
                         tgt("ours_over_manual_parallel") + "; " if key == "manual_parallel" else "",
                         m["registered"], m["pairs"], extra, fmt(_get(m, "module_runs_per_pair", "mean")))))
    rows.append(("Controller peak: largest process / tree PSS (fleet)",
                 "%s / %s" % (fmt(fleet["controller_max_rss_mib"], " MiB"), fmt(fleet["controller_tree_peak_pss_mib"], " MiB")),
                 "%d processes at most" % fleet["controller_tree_peak_processes"]))
    rows.append(("Controller CPU (fleet run), machine busy", "%s, %d%%" % (fmt(fleet["controller_cpu_s"], " s"),
                                                                           round(100 * (fleet["machine_cpu_busy"] or 0))),
                 "%s; %d cores; ansible-playbook itself %s" % (
                     tgt("controller_cpu_s", " s"), res["machine"]["cores"],
                     fmt(fleet.get("controller_main_process_cpu_s"), " s"))))
    rows.append(("Controller CPU per host / per pair (fleet run)",
                 "%s / %s" % (fmt(fleet.get("controller_cpu_per_host_s"), " s", 2),
                              fmt(fleet.get("controller_cpu_per_pair_s"), " s", 2)), ""))
    if rerun:
        rows.append(("Controller CPU (rerun), per host / per pair",
                     "%s, %s / %s" % (fmt(rerun["controller_cpu_s"], " s"), fmt(rerun.get("controller_cpu_per_host_s"), " s", 2),
                                      fmt(rerun.get("controller_cpu_per_pair_s"), " s", 2)), ""))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print("%-*s  %-*s  %s" % (w0, "measure", w1, "value", "note"))
    print("-" * (w0 + w1 + 30))
    for r in rows:
        print("%-*s  %-*s  %s" % (w0, r[0], w1, r[1], r[2]))
    print("\nTargets of the restructure: " + ", ".join(
        "%s %s (%s <= %g)" % (k, "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED"), fmt(t["value"], "", 2),
                             t["limit"]) for k, t in met.items()))
    for line in projection_lines(res.get("projection_250_pairs_4_cores")):
        print(line)
    seg = fleet.get("segments")
    if seg:
        print("\nWhere the fleet run's time goes (s): " + ", ".join("%s %s" % (k[:-2].replace("_", " "), v)
                                                              for k, v in seg.items()))
    by_action = _get(fleet, "module_runs", "remote", "by_action")
    if by_action:
        print("Module runs (fleet run, all pairs): " + ", ".join("%s %d" % (k, v) for k, v in by_action.items()))

    def ref(t):
        return "%s ('%s')" % (t["action"], t["task"][:50]) if t else "n/a (no task of a known module)"
    for key, name in (("one_pair", "one pair"), ("fleet", "fleet")):
        br = res[key].get("detection_breakdown")
        if br:
            print("Detection path, %s (%d pairs): contact confirmed during %s; back-up started by %s; "
                  "task boundaries crossed: %s; median gaps %s s"
                  % (name, br["pairs_on_this_path"], ref(br["contact_confirmed_during"]), ref(br["backup_started_by"]),
                     " -> ".join(x["action"] or "?" for x in br["task_boundaries_crossed"]) or "none",
                     br["median_gaps_s"]))
    t = fleet.get("tasks")
    if t:
        print("Tasks (fleet run): %d (%d host results), of which %d on the controller only (%s s, %s ms per host "
              "and task; include_tasks %d, %s s); start-up %s s" % (
                  t["tasks"], t["host_results"], t["controller_only_tasks"], t["controller_only_s"],
                  t["controller_only_ms_per_host"], t["include_tasks"], t["include_tasks_s"], t["startup_s"]))
        print("Slowest tasks (fleet run): " + "; ".join("%s %s s" % (x["task"], x["s"]) for x in t["slowest"][:6]))
    if res.get("tuning"):
        print("\nTuning (fleet of %d pairs, fresh lab each):" % res["tuning"]["pairs"])
        for v in res["tuning"]["variants"]:
            if v.get("skipped"):
                print("  %-18s skipped: %s" % (v["name"], v["skipped"]))
            else:
                print("  %-18s %7s  x%-5s detection median %-7s peak tree PSS %-9s rc %s"
                      % (v["name"], fmt(v["wall_s"], " s"), fmt(v["over_default"], "", 2),
                         fmt((v.get("detection_s") or {}).get("median"), " s", 2),
                         fmt(v["controller_tree_peak_pss_mib"], " MiB", 0), v["rc"]))
    print()


def strip_run(d):
    return {k: v for k, v in d.items() if k != "run"}


def rel_pairs(pairs, t0):
    out = {}
    for k, p in pairs.items():
        q = dict(p)
        for key in ("main_start", "main_contact", "backup_start", "backup_ready"):
            if q.get(key) is not None:
                q[key] = round(q[key] - t0, 3)
        q["stops"] = [round(s - t0, 3) for s in q.get("stops", [])]
        out[k] = q
    return out


# ---------------------------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=None, help="pairs of the fleet (default 25; --quick: 2)")
    ap.add_argument("--startup-delay", type=float, default=None,
                    help="seconds a server needs to start, like a JVM's (default 12; --quick: 3)")
    ap.add_argument("--pause", type=float, default=None,
                    help="the fixed pause of the by-hand playbook (default startup delay + 30; --quick: + 10)")
    ap.add_argument("--serial-pairs", type=int, default=None,
                    help="pairs of the serial: 1 baseline, its time scaled to --pairs (default 5; --quick: 1; 0 skips)")
    ap.add_argument("--quick", action="store_true", help="2 pairs, short delays, a one-pair serial baseline (CI)")
    ap.add_argument("--tune", action="store_true", help="also run the fleet under other Ansible settings")
    ap.add_argument("--tune-pairs", type=int, default=None, help="pairs of the --tune runs (default --pairs)")
    ap.add_argument("--no-manual", action="store_true", help="skip the by-hand baselines")
    ap.add_argument("--out", type=Path, default=None,
                    help="results dir (default benchmarks/results; --quick: benchmarks/results/quick)")
    ap.add_argument("--replot", action="store_true", help="only draw the timeline again from <out>/latest.json")
    ap.add_argument("--compare", type=Path, default=None, metavar="FILE",
                    help="print the figures of an earlier results file (say benchmarks/results/before-restructure.json) "
                         "beside this run's")
    ap.add_argument("--no-run", action="store_true",
                    help="with --compare: compare with <out>/latest.json, run nothing")
    ap.add_argument("--lab-dir", default=None, help="the lab's dir (default /run/fnls-lab/<lab name>)")
    ap.add_argument("--lab-name", default=None, help="the lab's name (default bench; --quick: benchq)")
    ap.add_argument("--bo-port", type=int, default=None, help="the back office's port (default 38801; --quick: 38802)")
    a = ap.parse_args(argv)
    if a.no_run and not a.compare:
        ap.error("--no-run goes with --compare FILE")
    if a.compare and not a.compare.is_file():
        ap.error("--compare: no file %s" % a.compare)
    quick = a.quick
    a.pairs = a.pairs if a.pairs is not None else (2 if quick else 25)
    a.startup_delay = a.startup_delay if a.startup_delay is not None else (3.0 if quick else 12.0)
    a.pause = a.pause if a.pause is not None else a.startup_delay + (10 if quick else 30)
    a.serial_pairs = a.serial_pairs if a.serial_pairs is not None else (1 if quick else 5)
    a.serial_pairs = min(a.serial_pairs, a.pairs)
    a.tune_pairs = a.tune_pairs or a.pairs
    a.lab_name = a.lab_name or ("benchq" if quick else "bench")
    a.lab_dir = a.lab_dir or "/run/fnls-lab/" + a.lab_name
    a.bo_port = a.bo_port or (38802 if quick else 38801)
    a.out = a.out or (BENCH / "results" / ("quick" if quick else ""))
    if not 1 <= a.pairs <= 120:
        ap.error("--pairs must be 1..120")
    if not re.match(r"^bench[a-z0-9]{0,5}$", a.lab_name):
        ap.error("--lab-name must start with 'bench' (1-10 lower-case letters or digits)")
    return a


def _on_signal(signum, frame):
    if _current_proc is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(_current_proc.pid, signal.SIGTERM)
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv=None):
    args = parse_args(argv)
    if args.replot:
        return replot(Path(args.out))
    if args.no_run:
        latest = Path(args.out) / "latest.json"
        if not latest.is_file():
            print("fleet.py: no %s to compare with" % latest, file=sys.stderr)
            return 2
        print_compare(json.loads(args.compare.read_text()), json.loads(latest.read_text()),
                      args.compare.name, str(latest.relative_to(TOP) if latest.is_relative_to(TOP) else latest))
        return 0
    if os.geteuid() != 0:
        print("fleet.py: the lab's hosts are network namespaces; run as root", file=sys.stderr)
        return 2
    try:
        import fnlslab.hosts  # noqa: F401
    except ImportError:
        print("fleet.py: the lab package is not installed (pip install -e lab)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_signal)
    out_dir = Path(args.out)
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    problems = []
    res = {"benchmark": "fleet", "quick": args.quick, "machine": machine_info(),
           "settings": {"pairs": args.pairs, "startup_delay_s": args.startup_delay, "pause_s": args.pause,
                        "serial_pairs": args.serial_pairs, "poll_interval_s": 0.5,
                        "ansible_cfg": "forks 60, pipelining on, ControlPersist 60s, gather_facts off, linear",
                        "lab": "fresh lab per phase (%s on 127.0.0.1:%d), every server on a host of its own, "
                               "reached over ssh" % (args.lab_name, args.bo_port)},
           "targets": TARGETS,
           "code": {"git": git_head(), "digest_at_start": code_digest()}}
    started = time.monotonic()
    log("fleet benchmark: %d pairs, startup delay %g s, pause %g s, serial baseline %d pair(s)%s; results in %s"
        % (args.pairs, args.startup_delay, args.pause, args.serial_pairs, ", tuning" if args.tune else "", out_dir))
    fleet_run = None
    try:
        with BenchLab(args) as bl:
            log("phase 1/4: one pair (T1, F1)")
            one = phase_register(bl, args, logs, "one-pair", 1, problems)
            res["one_pair"] = strip_run(one["figures"])
            res["one_pair"]["pair"] = rel_pairs(one["pairs"], one["run"].t0)
            log("phase 2/4: fleet of %d pairs (TN, FN) and the rerun" % args.pairs)
            fleet = phase_register(bl, args, logs, "fleet", args.pairs, problems, rerun=True)
            fleet_run = fleet["run"]
            res["fleet"] = strip_run(fleet["figures"])
            res["fleet"]["per_pair"] = rel_pairs(fleet["pairs"], fleet_run.t0)
            res["rerun"] = fleet.get("rerun")
            if not args.no_manual:
                log("phase 3/4: by hand, every pair at once (pause %g s)" % args.pause)
                man = phase_manual(bl, args, logs, "manual-parallel", args.pairs, problems, serial=False)
                res["manual_parallel"] = strip_run(man["figures"])
                if args.serial_pairs:
                    log("phase 4/4: by hand, serial: 1 (%d pair(s))" % args.serial_pairs)
                    ser = phase_manual(bl, args, logs, "manual-serial", args.serial_pairs, problems, serial=True)
                    res["manual_serial"] = strip_run(ser["figures"])
                    if args.serial_pairs != args.pairs:
                        res["manual_serial"]["extrapolated_wall_s"] = round(
                            ser["figures"]["wall_s"] / args.serial_pairs * args.pairs, 1)
            if args.tune:
                variants = []
                base = None
                for name, what, env, extra, playbook in tune_variants(args):
                    if env is None:
                        variants.append({"name": name, "skipped": what})
                        continue
                    log("tuning: %s" % name)
                    label = "tune-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                    # a variant that hangs (say, an async job that never reports back) ends at 3x the
                    # time of the settings as shipped
                    r = phase_register(bl, args, logs, label, args.tune_pairs, problems, env=env, extra=extra,
                                       playbook=playbook, timeout=max(300, 3 * base) if base else 3600)
                    f = r["figures"]
                    base = base or f["wall_s"]
                    variants.append({"name": name, "what": what, "wall_s": f["wall_s"], "rc": f["rc"],
                                     "over_default": round(f["wall_s"] / base, 2),
                                     "detection_s": f["detection_s"], "over_floor": f["over_floor"],
                                     "controller_max_rss_mib": f["controller_max_rss_mib"],
                                     "controller_tree_peak_pss_mib": f["controller_tree_peak_pss_mib"],
                                     "controller_cpu_s": f["controller_cpu_s"],
                                     "controller_cpu_per_host_s": f["controller_cpu_per_host_s"],
                                     "module_runs_per_pair": f["module_runs_per_pair"],
                                     "machine_cpu_busy": f["machine_cpu_busy"], "registered": f["registered"]})
                res["tuning"] = {"pairs": args.tune_pairs, "variants": variants}
    except KeyboardInterrupt:
        print("fleet.py: interrupted; the lab was taken down", file=sys.stderr)
        return 130
    except Broken as exc:
        problems.append(str(exc))
    except Exception as exc:  # the lab failed: report it, the lab is already down
        problems.append("%s: %s" % (type(exc).__name__, exc))

    if "one_pair" in res and "fleet" in res:
        one, fleet = res["one_pair"], res["fleet"]
        res["ratios"] = {"tn_over_t1": round(fleet["wall_s"] / one["wall_s"], 2),
                         "tn_over_fn": fleet["over_floor"], "t1_over_f1": one["over_floor"],
                         "rerun_over_tn": (res.get("rerun") or {}).get("over_tn")}
        for key in ("manual_parallel", "manual_serial"):
            m = res.get(key)
            if m:
                theirs = m.get("extrapolated_wall_s") or m["wall_s"]
                m["ours_over_theirs"] = round(fleet["wall_s"] / theirs, 2)
                if m.get("until_last_backup_ready_s") and fleet.get("until_last_backup_ready_s"):
                    ready = m["until_last_backup_ready_s"]
                    if m.get("extrapolated_wall_s"):
                        ready = ready / m["pairs"] * args.pairs
                    m["ours_over_theirs_until_ready"] = round(fleet["until_last_backup_ready_s"] / ready, 2)
        res["projection_250_pairs_4_cores"] = projection(res, pairs=250, cores=4)
        res["targets_met"] = targets_report(res)
    res["code"]["digest_at_end"] = code_digest()
    if res["code"]["digest_at_end"] != res["code"]["digest_at_start"]:
        res["code"]["note"] = "the role, plugins or playbooks changed while the benchmark ran"
        log("note: %s; the phases may have run different code" % res["code"]["note"])
    res["problems"] = problems
    res["benchmark_seconds"] = round(time.monotonic() - started, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    if fleet_run is not None:
        n = args.pairs
        why = timeline_png(out_dir / "fleet-timeline.png", res["fleet"]["per_pair"], res["fleet"]["task_marks"],
                           fleet_run.wall, timeline_title(n, args.startup_delay, fleet_run.wall, res["fleet"].get("floor_s")))
        res["timeline_png"] = None if why else os.path.relpath(out_dir / "fleet-timeline.png", TOP)
        if why:
            res["timeline_png_missing"] = why
    (out_dir / "latest.json").write_text(json.dumps(res, indent=2) + "\n")
    if "ratios" in res:
        print_table(res)
    if args.compare:
        print_compare(json.loads(args.compare.read_text()), res, args.compare.name, "this run")
    log("figures: %s%s" % (out_dir / "latest.json", "" if not res.get("timeline_png") else
                           ", timeline: %s" % (out_dir / "fleet-timeline.png")))
    if res.get("timeline_png_missing"):
        log("no timeline picture: %s" % res["timeline_png_missing"])
    if problems:
        for p in problems:
            print("BROKEN: %s" % p, file=sys.stderr)
        return 1
    log("done in %.0f s" % res["benchmark_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
