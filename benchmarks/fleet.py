#!/usr/bin/env python3
"""Fleet scale and speed of fnls.failover, measured against the lab.

    python benchmarks/fleet.py [--pairs 25] [--startup-delay 12] [--quick] [--tune]

Prints figures (it is not a timed test) for, side by side in one run:

* one pair: the wall time T1 of a first registration (``ansible-playbook fnls.failover.register_pair``
  on the pair's two hosts, fresh servers) against the floor F1 that the servers themselves impose,
  taken from the lab's event log: stop (when the servers ran), the main's start until its confirmed
  back-office contact (``bo_contact`` ok), the back-up's start until its ``ready`` event;
* a fleet of N pairs (2 N hosts) registered in one run: TN/T1 and TN/FN;
* a rerun on the registered fleet: changes, restarts (``start`` events), time against TN;
* detection latency per pair, from the main's confirmed contact to the back-up's start, and where
  that time goes (from the task timestamps of benchmarks/callback_plugins/fleet_timing.py);
* the way it is done by hand (benchmarks/manual_pause.yml: lineinfile, stop, start the main, a fixed
  pause, start the back-up), all pairs at once and one pair at a time (``serial: 1``);
* the controller's peak memory (largest process of the ansible-playbook tree, and the tree's summed
  PSS sampled from /proc);
* with --tune, the fleet run again under settings a user can change (pipelining, ControlPersist,
  forks, fact gathering, mitogen, the role's poll interval).

Every phase runs on a lab of its own, brought up fresh (named "bench", its back office on
127.0.0.1:38801; --quick: "benchq" on 38802) and taken down with --purge when the phase ends, also
on errors and on Ctrl-C, so T1 and TN are both measured on servers that were never started, on a lab
of exactly the hosts under test. Writes benchmarks/results/latest.json and benchmarks/results/fleet-timeline.png
(--quick: benchmarks/results/quick/). Exit status 0 when every run did its job, whatever the
figures; 1 when something broke (a failed playbook, a pair not registered, a rerun that changed or
restarted something); 2 on bad arguments or when the lab cannot run here.
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

TARGETS = {"tn_over_t1": 1.5, "rerun_over_tn": 0.3, "detection_median_s": 1.0}
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)", re.M)

# task names of the role that the detection-latency breakdown looks for
TASK_START_MAIN = "Start the main"
TASK_WAIT = "Wait until the main has talked to the back office"
TASK_START_BACKUP = "Start the back-up"
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

    def run(self):
        while not self._stop_event.is_set():
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


def _task_host_time(timing, task_part, host, kind):
    for r in timing:
        if r.get("kind") == kind and task_part in (r.get("task") or "") and r.get("host") == host:
            return r["ts"]
    return None


def _task_start(timing, task_part):
    for r in timing:
        if r.get("kind") == "task_start" and task_part in (r.get("task") or ""):
            return r["ts"]
    return None


def pair_milestones(run, lab, stop_task=None):
    """Per pair: the server milestones of the run (epoch seconds) and the floor they impose."""
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
        if stops and stop_task:
            begun = [r["ts"] for r in run.timing if r.get("kind") == "host_start"
                     and stop_task in (r.get("task") or "") and r.get("host") in (m, b)]
            if begun:
                stop_s = max(e["ts"] for e in stops) - min(begun)
        rec = {"pair": pair, "main": m, "backup": b,
               "stops": [round(e["ts"], 3) for e in stops],
               "main_start": ms["ts"] if ms else None, "main_contact": mc["ts"] if mc else None,
               "backup_start": bs["ts"] if bs else None, "backup_ready": br["ts"] if br else None}
        if ms and mc and bs and br:
            rec["stop_s"] = round(stop_s, 3)
            rec["main_to_contact_s"] = round(mc["ts"] - ms["ts"], 3)
            rec["backup_to_ready_s"] = round(br["ts"] - bs["ts"], 3)
            rec["floor_s"] = round(stop_s + rec["main_to_contact_s"] + rec["backup_to_ready_s"], 3)
            rec["detection_s"] = round(bs["ts"] - mc["ts"], 3)
            rec["complete"] = True
        else:
            rec["complete"] = False
        out[pair] = rec
    return out


def _short(task):
    return (task or "").split(" : ")[-1]


def detection_breakdown(run, pairs):
    """Where each pair's detection latency goes, from the task timestamps: the task running when the
    main's contact was confirmed, the task during which the back-up started, the task boundaries
    (linear strategy: every host waits for the slowest) crossed in between and the gaps between
    them. Pairs are grouped by that path; the most common path is described with median gaps."""
    starts = [r for r in run.timing if r.get("kind") == "task_start"]
    if not starts:
        return None

    def task_at(ts):
        cur = None
        for r in starts:
            if r["ts"] <= ts:
                cur = r
        return cur

    paths = {}
    for rec in pairs.values():
        if not rec.get("complete"):
            continue
        c, s = rec["main_contact"], rec["backup_start"]
        tc, tb = task_at(c), task_at(s)
        crossed = [r for r in starts if c < r["ts"] <= s]
        launch = None
        if tb is not None:
            launch = next((r["ts"] for r in run.timing if r.get("kind") == "host_start"
                           and r.get("uuid") == tb.get("uuid") and r.get("host") == rec["backup"]), None)
        marks = [c] + [r["ts"] for r in crossed] + [s]
        key = (_short(tc["task"]) if tc else None, _short(tb["task"]) if tb else None,
               tuple(_short(r["task"]) for r in crossed))
        paths.setdefault(key, []).append({"gaps": [b - a for a, b in zip(marks, marks[1:])],
                                          "launch": launch, "contact": c, "start": s})
    if not paths:
        return None
    key = max(paths, key=lambda k: len(paths[k]))
    group = paths[key]
    launched = [g for g in group if g["launch"] is not None]
    out = {"pairs_on_this_path": len(group), "other_paths": len(paths) - 1,
           "contact_confirmed_during": key[0], "backup_started_during": key[1],
           "task_boundaries_crossed": list(key[2]),
           "median_gaps_s": [round(statistics.median(g["gaps"][i] for g in group), 3)
                             for i in range(len(key[2]) + 1)]}
    if launched:
        out["backup_task_began_before_contact"] = sum(1 for g in launched if g["launch"] < g["contact"])
        out["backup_task_host_start_to_server_start_median_s"] = round(
            statistics.median(g["start"] - g["launch"] for g in launched), 3)
    return out


def task_profile(run, top=8):
    """Time per task (task start to the next task's start) and the share of tasks that run on the
    controller only (set_fact, assert, include_tasks, ...)."""
    starts = [r for r in run.timing if r.get("kind") == "task_start"]
    end = next((r["ts"] for r in run.timing if r.get("kind") == "playbook_end"), run.t1)
    local = {"ansible.builtin.set_fact", "set_fact", "ansible.builtin.assert", "assert",
             "ansible.builtin.include_tasks", "include_tasks", "ansible.builtin.include_role", "include_role",
             "ansible.builtin.debug", "debug", "ansible.builtin.fail", "fail", "ansible.builtin.validate_argument_spec",
             "validate_argument_spec", "ansible.builtin.group_by", "group_by", "ansible.builtin.pause", "pause",
             "ansible.builtin.meta", "meta"}
    rows = []
    for i, r in enumerate(starts):
        nxt = starts[i + 1]["ts"] if i + 1 < len(starts) else end
        rows.append({"task": r["task"].split(" : ")[-1][:70], "action": r.get("action"), "s": round(nxt - r["ts"], 3)})
    incl = [x for x in rows if x["action"] in ("ansible.builtin.include_tasks", "include_tasks")]
    loc = [x for x in rows if x["action"] in local]
    first_task = starts[0]["ts"] if starts else run.t1
    ends = [r for r in run.timing if r.get("kind") == "host_end"]
    local_uuids = {r.get("uuid") for r in starts if r.get("action") in local}
    local_ends = sum(1 for r in ends if r.get("uuid") in local_uuids)
    return {"tasks": len(rows), "host_results": len(ends),
            "controller_only_ms_per_host": round(1000 * sum(x["s"] for x in loc) / local_ends, 1) if local_ends else None,
            "startup_s": round(first_task - run.t0, 2),
            "controller_only_tasks": len(loc), "controller_only_s": round(sum(x["s"] for x in loc), 2),
            "include_tasks": len(incl), "include_tasks_s": round(sum(x["s"] for x in incl), 2),
            "remote_tasks_s": round(sum(x["s"] for x in rows if x["action"] not in local), 2),
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


def registration_figures(run, lab, label, stop_task="Stop both servers"):
    pairs = pair_milestones(run, lab, stop_task=stop_task)
    complete = [p for p in pairs.values() if p["complete"]]
    floor = max((p["floor_s"] for p in complete), default=None)
    fig = {"label": label, "pairs": len(pairs), "pairs_with_all_milestones": len(complete),
           **run.summary(),
           "floor_s": floor,
           "over_floor": round(run.wall / floor, 2) if floor else None,
           "overhead_s": round(run.wall - floor, 2) if floor else None,
           "detection_s": _stats([p["detection_s"] for p in complete]),
           "main_to_contact_s": _stats([p["main_to_contact_s"] for p in complete]),
           "backup_to_ready_s": _stats([p["backup_to_ready_s"] for p in complete]),
           "segments": phase_segments(run, pairs)}
    if complete:
        fig["until_last_backup_ready_s"] = round(max(p["backup_ready"] for p in complete) - run.t0, 2)
    return fig, pairs


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
    fig, pairs = registration_figures(run, lab, label)
    fig["registered"] = check_registered(lab, label, problems)
    if fig["pairs_with_all_milestones"] != pairs_n:
        problems.append("%s: only %d of %d pairs show start, contact, back-up start and ready in the event log"
                        % (label, fig["pairs_with_all_milestones"], pairs_n))
    fig["detection_breakdown"] = detection_breakdown(run, pairs)
    fig["tasks"] = task_profile(run)
    out = {"figures": fig, "pairs": pairs, "run": run}
    if rerun:
        r2 = run_playbook(lab, label + "-rerun", playbook, logs, args=extra, env=env, limit="fnls_servers")
        if r2.rc != 0:
            problems.append("%s: the rerun exited %s" % (label, r2.rc))
        if r2.changed or r2.starts():
            problems.append("%s: the rerun changed %d and started %d server(s); it must change and restart nothing"
                            % (label, r2.changed, r2.starts()))
        out["rerun"] = {**r2.summary(), "over_tn": round(r2.wall / run.wall, 3),
                        "restarts": r2.starts(), "tasks": task_profile(r2)}
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
    fig, pairs = registration_figures(run, lab, label, stop_task="Stop the")
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
# output

def task_marks(run):
    """Seconds since the run's start at which the role's key tasks began."""
    out = {}
    for name in (TASK_START_MAIN, TASK_WAIT, TASK_START_BACKUP):
        ts = _task_start(run.timing, name)
        if ts is not None:
            out[name] = round(ts - run.t0, 3)
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
    fig_h = 0.3 * len(recs) + 2.6
    fig, ax = plt.subplots(figsize=(12, fig_h))
    fig.subplots_adjust(left=0.06, right=0.98, bottom=1.55 / fig_h, top=1 - 0.45 / fig_h)
    for i, p in enumerate(recs):
        ms, mc, bs, br = (p[k] for k in ("main_start", "main_contact", "backup_start", "backup_ready"))
        ax.barh(i, mc - ms, left=ms, height=0.55, color="#4c72b0")
        ax.barh(i, bs - mc, left=mc, height=0.25, color="#dd8452")
        ax.barh(i, br - bs, left=bs, height=0.55, color="#55a868")
        for st in p.get("stops", []):
            ax.plot(st, i, marker="x", color="black", ms=6)
        ax.plot(mc, i, marker="|", color="black", ms=11, mew=2)
    for name, color in ((TASK_START_MAIN, "#4c72b0"), (TASK_WAIT, "#8172b3"), (TASK_START_BACKUP, "#55a868")):
        if marks.get(name) is not None:
            ax.axvline(marks[name], color=color, ls=":", lw=1)
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
               Line2D([], [], color="#4c72b0", ls=":", label="task: Start the main"),
               Line2D([], [], color="#8172b3", ls=":", label="task: Wait for the contact"),
               Line2D([], [], color="#55a868", ls=":", label="task: Start the back-up"),
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


def target_mark(value, limit):
    if value is None:
        return "n/a"
    return "met" if value <= limit else "MISSED"


def print_table(res):
    one, fleet, rerun = res["one_pair"], res["fleet"], res.get("rerun")
    n = fleet["pairs"]
    rows = [
        ("One pair: T1 (first registration, fresh servers)", fmt(one["wall_s"], " s"), ""),
        ("One pair: F1 floor (main start->contact, back-up start->ready)", fmt(one["floor_s"], " s"), ""),
        ("T1/F1", fmt(one["over_floor"], "", 2), ""),
        ("Overhead per pair T1-F1", fmt(one["overhead_s"], " s"), ""),
        ("Fleet: TN (%d pairs, %d hosts, one run)" % (n, 2 * n), fmt(fleet["wall_s"], " s"), ""),
        ("TN/T1", fmt(res["ratios"]["tn_over_t1"], "", 2),
         "target <= %g: %s" % (TARGETS["tn_over_t1"], target_mark(res["ratios"]["tn_over_t1"], TARGETS["tn_over_t1"]))),
        ("TN/FN (FN = slowest pair's floor %s)" % fmt(fleet["floor_s"], " s"), fmt(fleet["over_floor"], "", 2), ""),
        ("Fleet overhead (TN-FN), per pair", "%s, %s" % (fmt(fleet["overhead_s"], " s"),
                                                         fmt(fleet["overhead_s"] / n if fleet["overhead_s"] else None, " s", 2)), ""),
    ]
    if rerun:
        rows += [("Rerun: changes / server restarts", "%d / %d" % (rerun["changed"], rerun["restarts"]),
                  "must be 0 / 0"),
                 ("Rerun time, and /TN", "%s, %s" % (fmt(rerun["wall_s"], " s"), fmt(rerun["over_tn"], "", 2)),
                  "target <= %g: %s" % (TARGETS["rerun_over_tn"], target_mark(rerun["over_tn"], TARGETS["rerun_over_tn"])))]
    for key, name in (("one_pair", "one pair"), ("fleet", "fleet")):
        d = res[key]["detection_s"]
        if d:
            rows.append(("Detection latency, %s: median / max" % name, "%s / %s" % (fmt(d["median"], " s", 2),
                                                                                    fmt(d["max"], " s", 2)),
                         "target median <= %g s: %s" % (TARGETS["detection_median_s"],
                                                        target_mark(d["median"], TARGETS["detection_median_s"]))))
    for key, name in (("manual_parallel", "By hand, all pairs at once"), ("manual_serial", "By hand, serial: 1")):
        m = res.get(key)
        if not m:
            continue
        extra = ""
        if m.get("extrapolated_wall_s"):
            extra = " (measured %s on %d pair(s), scaled x%d/%d)" % (fmt(m["wall_s"], " s"), m["pairs"], n, m["pairs"])
        rows.append(("%s (pause %g s): time, ours/theirs" % (name, m["pause_s"]),
                     "%s, %s" % (fmt(m.get("extrapolated_wall_s") or m["wall_s"], " s"), fmt(m["ours_over_theirs"], "", 2)),
                     "%d/%d registered%s" % (m["registered"], m["pairs"], extra)))
    rows.append(("Controller peak: largest process / tree PSS (fleet)",
                 "%s / %s" % (fmt(fleet["controller_max_rss_mib"], " MiB"), fmt(fleet["controller_tree_peak_pss_mib"], " MiB")),
                 "%d processes at most" % fleet["controller_tree_peak_processes"]))
    rows.append(("Controller CPU (fleet run), machine busy", "%s, %d%%" % (fmt(fleet["controller_cpu_s"], " s"),
                                                                           round(100 * (fleet["machine_cpu_busy"] or 0))),
                 "%d cores" % res["machine"]["cores"]))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print()
    print("%-*s  %-*s  %s" % (w0, "measure", w1, "value", "note"))
    print("-" * (w0 + w1 + 30))
    for r in rows:
        print("%-*s  %-*s  %s" % (w0, r[0], w1, r[1], r[2]))
    seg = fleet.get("segments")
    if seg:
        print("\nWhere the fleet run's time goes (s): " + ", ".join("%s %s" % (k[:-2].replace("_", " "), v)
                                                              for k, v in seg.items()))
    for key, name in (("one_pair", "one pair"), ("fleet", "fleet")):
        br = res[key].get("detection_breakdown")
        if br:
            print("Detection path, %s (%d pairs): contact confirmed during '%s'; back-up started during '%s'; "
                  "task boundaries crossed: %s; median gaps %s s"
                  % (name, br["pairs_on_this_path"], br["contact_confirmed_during"], br["backup_started_during"],
                     " -> ".join(br["task_boundaries_crossed"]) or "none", br["median_gaps_s"]))
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
    ap.add_argument("--lab-dir", default=None, help="the lab's dir (default /run/fnls-lab/<lab name>)")
    ap.add_argument("--lab-name", default=None, help="the lab's name (default bench; --quick: benchq)")
    ap.add_argument("--bo-port", type=int, default=None, help="the back office's port (default 38801; --quick: 38802)")
    a = ap.parse_args(argv)
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
            res["fleet"]["task_marks"] = task_marks(fleet_run)
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
        res["targets_met"] = {
            "tn_over_t1": res["ratios"]["tn_over_t1"] <= TARGETS["tn_over_t1"],
            "rerun_over_tn": (res["ratios"]["rerun_over_tn"] or 99) <= TARGETS["rerun_over_tn"],
            "detection_median_s": ((fleet.get("detection_s") or {}).get("median") or 99) <= TARGETS["detection_median_s"]}
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
