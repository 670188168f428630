"""The pair registered on systemd hosts: BACKUP_SERVER_HOSTID in the collection's own drop-in, read by
systemd (daemon-reload) and by the server; the vendor's drop-in untouched; the pair in the back office;
and the rerun (Molecule's idempotence step) restarted nothing."""

from conftest import BACKUP, MAIN, SERVICE, eventually, server_events

UNIT = SERVICE + ".service"
DROPIN_DIR = "/etc/systemd/system/%s.d" % UNIT
OWN_DROPIN = DROPIN_DIR + "/failover-pair.conf"
VENDOR_DROPIN = DROPIN_DIR + "/flexnetls.conf"


def show(host, *props):
    out = host.check_output("systemctl show %s -p %s", UNIT, ",".join(props))
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_host_runs_systemd_and_the_server_as_its_unit(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    props = show(host, "ActiveState", "SubState", "Description", "User", "MainPID", "NeedDaemonReload")
    assert (props["ActiveState"], props["SubState"]) == ("active", "running")
    assert props["Description"] == "FlexnetLS Local License Server for demo."
    assert props["User"] == "flexnetls" and props["NeedDaemonReload"] == "no"
    assert "flexnetls.py" in host.file("/proc/%s/cmdline" % props["MainPID"]).content_string
    # a systemd install: no SysV script and no /etc/default file appeared
    assert not host.file("/etc/init.d/%s" % SERVICE).exists
    assert not host.file("/etc/default/%s" % SERVICE).exists


def test_main_has_the_backup_hostid_in_the_collections_own_dropin(main, lab):
    f = main.file(OWN_DROPIN)
    assert f.exists and f.user == "root"
    lines = [line.strip() for line in f.content_string.splitlines()
             if line.strip() and not line.lstrip().startswith(("#", ";"))]
    assert lines == ["[Service]", 'Environment="BACKUP_SERVER_HOSTID=%s"' % lab.hostid(BACKUP)]
    # the vendor's drop-in is exactly as the administrator left it
    assert main.file(VENDOR_DROPIN).content == lab.pristine(MAIN)


def test_main_unit_and_server_see_the_backup_hostid(main, lab):
    """systemd read the drop-in (daemon-reload ran) and the running server got it in its environment."""
    props = show(main, "Environment", "MainPID", "DropInPaths")
    wanted = "BACKUP_SERVER_HOSTID=%s" % lab.hostid(BACKUP)
    assert wanted in props["Environment"].split()
    assert props["DropInPaths"].split() == [OWN_DROPIN, VENDOR_DROPIN]
    environ = main.file("/proc/%s/environ" % props["MainPID"]).content.split(b"\0")
    assert wanted.encode() in environ
    assert b"EXTRA_SYSPROPERTIES=-Dfnls.site=lab" in environ     # the vendor's drop-in still counts too


def test_backup_is_untouched_the_systemd_way(backup, lab):
    assert not backup.file(OWN_DROPIN).exists
    assert backup.file(VENDOR_DROPIN).content == lab.pristine(BACKUP)
    assert "BACKUP_SERVER_HOSTID" not in show(backup, "Environment")["Environment"]


def test_back_office_holds_the_pair_with_the_main_as_main(lab, status):
    main_id, backup_id = lab.hostid(MAIN), lab.hostid(BACKUP)
    devices = lab.devices()
    assert len(devices) == 1, devices
    device = devices[0]
    assert device["serverIds"] == [main_id, backup_id]
    assert {s["hostid"]: s["role"] for s in device["servers"]} == {main_id: "MAIN", backup_id: "BACKUP"}
    st = status(MAIN)
    assert st["backup_hostid"] == backup_id and st["backoffice"]["registered_role"] == "MAIN"
    assert st["backoffice"]["device_id"] == device["deviceId"]


def test_backup_syncs_with_the_main(lab, status):
    def in_sync():
        failover = status(BACKUP)["failover"]
        assert failover["role"] == "backup" and failover["sync_enabled"] is True, failover
        assert failover["peer"]["hostid"] == lab.hostid(MAIN) and failover["peer"]["state"] == "UP", failover
    eventually(in_sync)


def test_each_server_started_once_and_the_backup_after_the_mains_contact(lab):
    events = lab.events()
    main_starts, backup_starts = server_events(events, MAIN, "start"), server_events(events, BACKUP, "start")
    assert len(main_starts) == 1 and len(backup_starts) == 1        # the rerun restarted nothing
    assert server_events(events, MAIN, "stop") == server_events(events, BACKUP, "stop") == []
    contacts = [c for c in server_events(events, MAIN, "bo_contact", "ok")
                if c["boot_id"] == main_starts[0]["boot_id"] and c["ts"] < backup_starts[0]["ts"]]
    assert contacts, "the back-up started before the main's back-office contact"
