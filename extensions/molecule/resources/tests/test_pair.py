"""A registered failover pair in normal operation, on both real hosts (every scenario ends so).

Molecule runs these with each scenario's final `verify` (verifier.additional_files_or_dirs).
"""

from conftest import BACKUP, MAIN, SERVICE, SETTINGS, capability, eventually, server_events

# Codes the back office gives when it refuses a registration (MODEL.md section 5); a fault injected by
# the lab (DROPPED, INJECTED) is not a refusal.
REFUSALS = {"INVALID_HOSTID", "HOSTID_TYPE_MISMATCH", "SAME_HOSTID", "ALREADY_REGISTERED_AS_MAIN",
            "ALREADY_IN_PAIR", "PAIR_CONFLICT"}


def backup_hostid_of_mains_type(api):
    """The back-up's hostid of the type of the main's active hostid, as both servers report them."""
    code, main_ids = api(MAIN, "GET", "/api/1.0/hostids", auth=False)
    assert code == 200, main_ids
    code, backup_ids = api(BACKUP, "GET", "/api/1.0/hostids", auth=False)
    assert code == 200, backup_ids
    main_ids, backup_ids = main_ids["hostids"], backup_ids["hostids"]   # the confirmed form, an object
    main_type = next(h["type"] for h in main_ids if h["selected"])
    return next("%s/%s" % (h["value"], h["type"]) for h in backup_ids if h["type"] == main_type)


def test_both_servers_run(host):
    assert host.service(SERVICE).is_running
    servers = [p for p in host.process.filter(user="flexnetls") if "flexnetls.py" in p.args]
    assert len(servers) == 1, servers


def test_main_settings_hold_the_backup_hostid_and_every_other_line(lab, main, api):
    wanted = ("BACKUP_SERVER_HOSTID=%s\n" % backup_hostid_of_mains_type(api)).encode()
    assert wanted.decode().strip() == "BACKUP_SERVER_HOSTID=" + lab.hostid(BACKUP)
    lines = main.file(SETTINGS).content.splitlines(keepends=True)
    prefixes = (b"BACKUP_SERVER_HOSTID=", b"export BACKUP_SERVER_HOSTID=")
    keys = [line for line in lines if line.lstrip().startswith(prefixes)]
    assert keys == [wanted]
    assert b"".join(line for line in lines if line != wanted) == lab.pristine(MAIN)


def test_backup_settings_untouched(lab, backup):
    assert backup.file(SETTINGS).content == lab.pristine(BACKUP)


def test_backup_has_failover_enabled_pointing_at_the_main(lab, api, status):
    code, config = api(BACKUP, "GET", "/api/1.0/instances/~/config")
    assert code == 200, config
    assert config["fne.syncTo.enabled"] == "true"
    assert config["fne.syncTo.mainUri"] == "http://%s:7070/fne/bin/sync" % lab.address(MAIN)

    def in_sync():
        failover = status(BACKUP)["failover"]
        assert failover["role"] == "backup" and failover["sync_enabled"] is True, failover
        assert failover["peer"]["hostid"] == lab.hostid(MAIN), failover
        assert failover["peer"]["state"] == "UP" and failover["failover_active"] is False, failover
    eventually(in_sync)


def test_main_names_the_backup_and_is_registered_as_main(lab, status):
    st = status(MAIN)
    assert st["hostid"] == lab.hostid(MAIN)
    assert st["backup_hostid"] == lab.hostid(BACKUP)
    assert st["failover"]["role"] == "main"
    assert st["backoffice"]["registered_role"] == "MAIN" and st["backoffice"]["last_success"]


def test_main_serves_clients_and_the_backup_is_passive(api):
    code, answer = capability(api, MAIN)
    assert code == 200 and answer["served_by"] == "main", answer

    def passive():
        code, answer = capability(api, BACKUP)
        assert code == 503 and "main server is up" in answer["error"], (code, answer)
    eventually(passive)


def test_back_office_holds_the_pair_with_the_main_as_main(lab, status):
    main_id, backup_id = lab.hostid(MAIN), lab.hostid(BACKUP)
    devices = lab.devices()
    assert len(devices) == 1, devices          # one device, nothing half-registered left beside it
    device = devices[0]
    assert device["type"] == "SERVER"
    assert device["serverIds"] == [main_id, backup_id]
    assert {s["hostid"]: s["role"] for s in device["servers"]} == {main_id: "MAIN", backup_id: "BACKUP"}
    assert lab.devices(main_id) == lab.devices(backup_id) == [device]
    assert status(MAIN)["backoffice"]["device_id"] == device["deviceId"]


def test_backup_started_only_after_the_mains_confirmed_back_office_contact(lab):
    """Every start of the back-up made after the main's first start followed a confirmed back-office
    contact of the main's boot at that time (a start before the main ever ran is a scenario's own)."""
    events = lab.events()
    main_starts = server_events(events, MAIN, "start")
    contacts = server_events(events, MAIN, "bo_contact", "ok")
    assert main_starts and contacts
    backup_starts = [e for e in server_events(events, BACKUP, "start") if e["ts"] > main_starts[0]["ts"]]
    assert backup_starts
    for start in backup_starts:
        boot = [e for e in main_starts if e["ts"] < start["ts"]][-1]["boot_id"]
        confirmed = [c for c in contacts if c["boot_id"] == boot and c["ts"] < start["ts"]]
        assert confirmed, "back-up started at %s before the main's boot %s had back-office contact" % (
            start["ts"], boot)


def test_back_office_never_refused_the_pair(lab):
    ids = {lab.hostid(MAIN), lab.hostid(BACKUP)}
    refused = [e for e in lab.events() if e.get("source") == "backoffice" and e.get("result") == "error"
               and e.get("code") in REFUSALS and ids & {e.get("hostid"), e.get("backup_hostid")}]
    assert refused == []
