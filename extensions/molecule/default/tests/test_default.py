"""The registration from scratch: each server was started once, by the registration, and the rerun
(Molecule's idempotence step) restarted nothing."""

from conftest import BACKUP, MAIN, server_events


def test_each_server_started_exactly_once(lab):
    events = lab.events()
    assert len(server_events(events, MAIN, "start")) == 1
    assert len(server_events(events, BACKUP, "start")) == 1
    assert server_events(events, MAIN, "stop") == server_events(events, BACKUP, "stop") == []
