"""The event log of the failovers so far: each began after the main stopped and ended after it was back."""

from conftest import BACKUP, MAIN, server_events


def test_each_failover_began_after_a_main_stop_and_ended_after_its_start(lab):
    events = lab.events()
    main_events = [e for e in server_events(events, MAIN) if e["event"] in ("start", "stop")]
    failovers = list(server_events(events, BACKUP, "failover"))
    began = [e for e in failovers if e["result"] == "ok" and e["detail"].startswith("started")]
    ended = [e for e in failovers if e["result"] == "ok" and e["detail"].startswith("ended")]
    assert began and len(began) == len(ended), failovers
    for b, e in zip(began, ended):
        assert b["ts"] < e["ts"]
        before = [m for m in main_events if m["ts"] < b["ts"]]
        assert before and before[-1]["event"] == "stop", "failover began while the main was running"
        between = [m for m in main_events if b["ts"] < m["ts"] < e["ts"]]
        assert [m["event"] for m in between] == ["start"], "failover ended without the main coming back"
    assert not [e for e in failovers if e["result"] == "error"], failovers
