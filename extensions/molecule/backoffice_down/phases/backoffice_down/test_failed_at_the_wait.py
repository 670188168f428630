"""register_pair while the main cannot reach the back office: the run failed at the wait step with the
server's last error; the back-up never started; the main's settings hold the one key and nothing else new."""

from conftest import BACKUP, MAIN, SERVICE, SETTINGS, server_events

CONVERGE_TASK = "fnls.failover.failover_pair : Converge"


def test_run_failed_at_the_wait_with_the_servers_last_error(lab, status):
    run = lab.run_record("while_down")
    assert run.rc != 0, run
    task, failed = run.failures[MAIN]
    assert task.startswith(CONVERGE_TASK) and failed["failed_step"] == "wait", run
    result = dict(failed["wait"], msg=failed["msg"])
    assert result["confirmed"] is False and result["waited"] >= 15, result
    backoffice = status(MAIN)["backoffice"]
    assert backoffice["last_success"] is None and backoffice["last_error"], backoffice
    assert "cannot reach %s" % backoffice["url"] in backoffice["last_error"]
    assert result["last_error"] and result["last_error"] in result["msg"], result
    assert "cannot reach %s" % backoffice["url"] in result["msg"], result
    assert "within 15 s" in result["msg"], result
    # the back-up's guard followed its main and gave up with it: never started
    assert BACKUP in run.failures and run.recap[BACKUP]["changed"] == 0, run
    stopped = run.failures[BACKUP][1]
    assert stopped["msg"].startswith("Pair p01 stopped: its main %s failed" % MAIN), run
    assert "Refusing to start the back-up server" in stopped["guard_said"], run


def test_backup_stayed_stopped(lab, backup):
    assert not backup.service(SERVICE).is_running
    assert server_events(lab.events(), BACKUP) == []
    assert backup.file(SETTINGS).content == lab.pristine(BACKUP)


def test_main_settings_keep_their_content_plus_the_one_key(lab, main):
    wanted = ("BACKUP_SERVER_HOSTID=%s\n" % lab.hostid(BACKUP)).encode()
    lines = main.file(SETTINGS).content.splitlines(keepends=True)
    assert [line for line in lines if b"BACKUP_SERVER_HOSTID=" in line and not line.startswith(b"#")] == [wanted]
    assert b"".join(line for line in lines if line != wanted) == lab.pristine(MAIN)


def test_back_office_holds_nothing_and_dropped_the_mains_requests(lab):
    assert lab.devices() == []
    requests = [e for e in lab.events() if e.get("event") == "capability_request"]
    assert requests and all(e["result"] == "error" and e["code"] == "DROPPED" for e in requests), requests
    assert {e["hostid"] for e in requests} == {lab.hostid(MAIN)}
