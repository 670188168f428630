"""The main server is stopped: the back-up takes over and serves the clients (MODEL.md section 4)."""

from conftest import BACKUP, MAIN, SERVICE, capability, eventually, server_events


def test_main_is_stopped(main):
    assert not main.service(SERVICE).is_running


def test_backup_serves_clients(lab, api, status):
    def served():
        code, answer = capability(api, BACKUP)
        assert code == 200, (code, answer)
        return answer
    answer = eventually(served)
    assert answer["served_by"] == "backup"
    assert answer["server_hostid"] == lab.hostid(BACKUP)
    failover = status(BACKUP)["failover"]
    assert failover["failover_active"] is True and failover["peer"]["state"] == "DOWN", failover


def test_backup_took_over_after_the_main_stopped(lab):
    events = lab.events()
    stop = server_events(events, MAIN, "stop")[-1]
    started = [e for e in server_events(events, BACKUP, "failover", "ok") if e["detail"].startswith("started")]
    assert started and started[-1]["ts"] > stop["ts"]
