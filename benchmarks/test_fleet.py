"""Unit tests of benchmarks/fleet.py's counting and milestones, on made-up callback lines and events.

    .venv/bin/python -m pytest benchmarks/test_fleet.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet  # noqa: E402

PAIRS = {"fnls-p01-main": "p01", "fnls-p01-backup": "p01", "fnls-p02-main": "p02", "fnls-p02-backup": "p02"}


def end(host, action, uuid="u", **kw):
    return {"kind": "host_end", "status": kw.pop("status", "ok"), "host": host, "task": "t", "uuid": uuid,
            "action": action, "skipped": kw.get("status") == "skipped", "ts": kw.pop("ts", 1.0), **kw}


def run(lines):
    return SimpleNamespace(timing=lines)


def test_module_runs_counts_modules_attempts_and_async_status():
    lines = [end("fnls-p01-main", "fnls.failover.server"),
             end("fnls-p01-backup", "fnls.failover.server", async_val=960, async_job=True),
             end("fnls-p01-backup", "ansible.builtin.async_status", attempts=3),
             end("fnls-p01-main", "ansible.builtin.set_fact"),
             end("fnls-p01-main", "fnls.failover.pair_info", skipped=True, status="skipped"),
             end("fnls-p01-main", "fnls.failover.pair_info", delegate_to="localhost"),
             end("fnls-p01-main", "ansible.builtin.raw"),
             end("fnls-p02-main", "fnls.failover.server_info", attempts=2),
             end("fnls-p02-backup", "fnls.failover.config", loop_items=3, loop_items_skipped=1, loop_attempts=2)]
    c = fleet.module_runs(run(lines), PAIRS, local_actions=set())
    assert c["remote"]["total"] == 1 + 1 + 3 + 2 + 2
    assert c["remote"]["per_pair"] == {"mean": 4.5, "max": 5, "min": 4}
    assert c["remote"]["async_status_runs"] == 3
    assert c["remote"]["retries"] == 2 + 1
    assert c["controller_side"]["total"] == 2
    assert c["remote_commands_no_module"]["total"] == 1
    assert c["skipped_results"] == 1


def test_async_task_with_poll_counts_its_polls():
    lines = [{"kind": "async_poll", "host": "fnls-p01-main", "uuid": "a"},
             {"kind": "async_poll", "host": "fnls-p01-main", "uuid": "a"},
             end("fnls-p01-main", "fnls.failover.pair_converge", uuid="a", async_val=600, poll=1)]
    c = fleet.module_runs(run(lines), PAIRS, local_actions=set())
    assert c["remote"]["total"] == 1 + 3
    assert c["remote"]["async_status_runs"] == 3


def test_collection_action_without_module_is_controller_side():
    lines = [end("fnls-p01-main", "fnls.failover.pair_plan", run_once=True),
             end("fnls-p01-main", "fnls.failover.pair_read")]
    c = fleet.module_runs(run(lines), PAIRS, local_actions={"fnls.failover.pair_plan"})
    assert c["remote"]["by_action"] == {"fnls.failover.pair_read": 1}
    assert c["controller_side"]["by_action"] == {"fnls.failover.pair_plan": 1}


class Lab:
    def pairs(self):
        return {"p01": {"main": SimpleNamespace(name="fnls-p01-main"),
                        "backup": SimpleNamespace(name="fnls-p01-backup")}}


def ev(host, event, ts):
    return {"host": host, "event": event, "ts": ts, "source": "server", "result": "ok", "boot_id": host[-4:]}


def test_milestones_from_events_and_tasks_by_module():
    events = [ev("fnls-p01-main", "stop", 9.5), ev("fnls-p01-main", "start", 10.0),
              ev("fnls-p01-main", "bo_contact", 22.0), ev("fnls-p01-backup", "start", 22.5),
              ev("fnls-p01-backup", "ready", 34.5)]
    timing = [{"kind": "task_start", "uuid": "c", "action": "fnls.failover.pair_converge", "task": "r : Converge", "ts": 9.0},
              {"kind": "host_start", "uuid": "c", "host": "fnls-p01-main", "ts": 9.1},
              {"kind": "host_start", "uuid": "c", "host": "fnls-p01-backup", "ts": 9.1},
              end("fnls-p01-main", "fnls.failover.pair_converge", uuid="c", ts=22.2),
              end("fnls-p01-backup", "fnls.failover.pair_converge", uuid="c", ts=35.0)]
    r = SimpleNamespace(timing=timing, events=events, t0=0.0, t1=36.0)
    pairs = fleet.pair_milestones(r, Lab())
    p = pairs["p01"]
    assert p["complete"] and p["detection_s"] == 0.5 and p["stop_s"] == 0.4
    assert p["tasks"]["main_start"]["action"] == "fnls.failover.pair_converge"
    assert p["tasks"]["backup_start"]["action"] == "fnls.failover.pair_converge"
    br = fleet.detection_breakdown(r, pairs)
    assert br["backup_started_by"]["action"] == "fnls.failover.pair_converge"
    assert br["task_boundaries_crossed"] == []
    marks = fleet.task_marks(r, pairs, fleet.host_spans(r))
    assert marks["task that starts the mains (fnls.failover.pair_converge)"] == 9.0


def test_unknown_modules_give_null_not_an_error():
    events = [ev("fnls-p01-main", "start", 10.0), ev("fnls-p01-main", "bo_contact", 22.0),
              ev("fnls-p01-backup", "start", 22.5), ev("fnls-p01-backup", "ready", 34.5)]
    timing = [{"kind": "task_start", "uuid": "x", "action": "other.coll.thing", "task": "x", "ts": 9.0},
              {"kind": "host_start", "uuid": "x", "host": "fnls-p01-main", "ts": 9.1},
              end("fnls-p01-main", "other.coll.thing", uuid="x", ts=40.0)]
    r = SimpleNamespace(timing=timing, events=events, t0=0.0, t1=41.0)
    pairs = fleet.pair_milestones(r, Lab())
    assert pairs["p01"]["tasks"] == {"main_start": None, "contact": {"action": "other.coll.thing", "task": "t"},
                                     "backup_start": None}
    br = fleet.detection_breakdown(r, pairs)
    assert br["backup_started_by"] is None and br["backup_task_began_before_contact"] is None


def test_targets_and_projection():
    res = {"settings": {"startup_delay_s": 12.0},
           "one_pair": {"pairs": 1, "wall_s": 30.0, "over_floor": 1.2, "controller_cpu_s": 5.0},
           "fleet": {"pairs": 25, "wall_s": 80.0, "floor_s": 24.0, "controller_cpu_s": 53.0,
                     "controller_tree_peak_pss_mib": 810.0, "controller_max_rss_mib": 60.0, "module_runs_per_pair": {"mean": 6.0, "max": 6},
                     "detection_s": {"median": 0.5}},
           "rerun": {"over_tn": 0.3, "changed": 0, "restarts": 1, "controller_cpu_s": 20.0,
                     "module_runs_per_pair": {"mean": 2.0, "max": 2}},
           "manual_parallel": {"ours_over_theirs": 0.6}, "ratios": {"tn_over_t1": 2.67}}
    met = fleet.targets_report(res)
    assert all(met[k]["met"] for k in met if k != "rerun_over_tn")
    assert met["rerun_over_tn"]["met"] is False  # a restart
    p = fleet.projection(res)
    assert p["basis"]["controller_cpu_per_pair_s"] == 2.0 and p["controller_cpu_s"] == 3 + 500
    assert p["cpu_wall_bound_s"] == round(503 / 4)
    assert p["forks"] == 250 and p["serial"] == 250 and p["batches"] == 2  # 15 MiB a host, 4 GiB
