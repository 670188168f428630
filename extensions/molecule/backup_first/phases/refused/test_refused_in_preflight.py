"""register_pair on a pair whose back-up the back office holds as a main server (state backup_is_main):
the run stops in preflight with the explanation, before it starts or changes anything."""

import pytest

from conftest import BACKUP, MAIN, SERVICE, SETTINGS, server_events


@pytest.fixture(scope="module")
def wrong_device(lab):
    devices = lab.devices()
    assert len(devices) == 1, devices
    assert devices[0]["servers"] == [{"hostid": lab.hostid(BACKUP), "role": "MAIN"}], devices
    return devices[0]


def test_back_office_still_holds_the_backup_as_a_main_server_and_not_the_main(lab, wrong_device):
    assert lab.devices(lab.hostid(MAIN)) == []


def test_run_stopped_in_preflight_with_the_explanation(lab, wrong_device):
    run = lab.run_record("refused")
    assert run.rc != 0, run
    task, result = run.failures[MAIN]
    # the plan refused the pair; its hosts stop at the first task after it, before anything is touched
    assert task.startswith("fnls.failover.failover_pair : Prepare"), run
    assert "Pair p01: stops before anything is touched (see its error)." in run.out, run
    msg = result["msg"]
    assert "The back-up %s was registered as a main server (device %s)" % (
        lab.hostid(BACKUP), wrong_device["deviceId"]) in msg, msg
    assert "started before the main" in msg and "Delete device %s" % wrong_device["deviceId"] in msg, msg
    assert msg.endswith("Nothing was changed."), msg
    # the back-up stops with its main, touching nothing
    assert BACKUP in run.failures, run
    assert run.failures[BACKUP][1]["msg"] == msg, run
    assert run.recap[MAIN]["changed"] == 0 and run.recap[BACKUP]["changed"] == 0, run


def test_nothing_changed_on_either_host(lab, main, backup):
    assert main.file(SETTINGS).content == lab.pristine(MAIN)
    assert backup.file(SETTINGS).content == lab.pristine(BACKUP)
    assert not main.service(SERVICE).is_running
    assert backup.service(SERVICE).is_running          # left as the administrator left it
    events = lab.events()
    assert server_events(events, MAIN) == []
    assert [e["event"] for e in server_events(events, BACKUP) if e["event"] in ("start", "stop")] == ["start"]
    assert not [e for e in events if e.get("event") == "device_delete"]
