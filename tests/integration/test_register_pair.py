"""The main playbook end to end: check mode first, the registration, a rerun, and the order it keeps."""

import pytest

from conftest import devices_for, pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]
PAIR = 1
MAIN, BACKUP = pair_hosts(PAIR)
SETTINGS = 'etc/default/flexnetls-demo'


def settings_bytes(lab, host):
    return (lab.host_root(host) / SETTINGS).read_bytes()


def server_running(lab, host):
    return lab.run(host, ['service', 'flexnetls-demo', 'status']).returncode == 0


def test_check_mode_before_first_run_changes_nothing(lab):
    before = {h: settings_bytes(lab, h) for h in (MAIN, BACKUP)}
    run = playbook(lab, '--check', '--diff', limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    assert run.changed(MAIN) > 0, run      # it reports what a real run would do
    assert 'BACKUP_SERVER_HOSTID' in run.out, run   # the diff of the settings file
    for h in (MAIN, BACKUP):
        assert settings_bytes(lab, h) == before[h]
        assert not server_running(lab, h)
    assert devices_for(lab, lab.hostid(MAIN)) == []


def test_register_pair(lab):
    before_main = settings_bytes(lab, MAIN)
    before_backup = settings_bytes(lab, BACKUP)
    run = playbook(lab, '--diff', limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    main_hostid, backup_hostid = lab.hostid(MAIN), lab.hostid(BACKUP)
    assert main_hostid.endswith('/ETHERNET') and backup_hostid.endswith('/ETHERNET')

    # The main's settings: every line kept, plus the one key.
    after = settings_bytes(lab, MAIN)
    added = [l for l in after.splitlines() if l not in before_main.splitlines()]
    assert added == [('BACKUP_SERVER_HOSTID=' + backup_hostid).encode()]
    for line in before_main.splitlines():
        assert line in after.splitlines()
    assert settings_bytes(lab, BACKUP) == before_backup

    # The back office holds one device with both servers, the main as main.
    devices = devices_for(lab, main_hostid)
    assert len(devices) == 1
    assert devices[0]['serverIds'] == [main_hostid, backup_hostid]
    roles = {s['hostid']: s['role'] for s in devices[0]['servers']}
    assert roles == {main_hostid: 'MAIN', backup_hostid: 'BACKUP'}
    assert devices_for(lab, backup_hostid) == devices

    # The order: the back-up started only after the main's confirmed back-office contact.
    events = lab.events()
    contact = [e for e in events if e.get('host') == MAIN and e['event'] == 'bo_contact' and e['result'] == 'ok']
    backup_starts = [e for e in events if e.get('host') == BACKUP and e['event'] == 'start']
    assert contact and backup_starts
    assert min(e['ts'] for e in backup_starts) > min(e['ts'] for e in contact)
    assert not [e for e in events if e.get('source') == 'backoffice' and e.get('result') == 'error'
                and backup_hostid in (e.get('hostid'), e.get('backup_hostid'))]

    # The summary names the pair and where to see it.
    assert 'p01: registered' in run.flat and '/portal/servers/' in run.flat, run


def test_rerun_changes_nothing_and_restarts_nothing(lab):
    starts_before = len([e for e in lab.events() if e['event'] == 'start' and e.get('host') in (MAIN, BACKUP)])
    run = playbook(lab, limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    assert run.changed(MAIN) == 0 and run.changed(BACKUP) == 0, run
    starts_after = len([e for e in lab.events() if e['event'] == 'start' and e.get('host') in (MAIN, BACKUP)])
    assert starts_after == starts_before
    assert 'nothing restarted' in run.flat, run


def test_check_mode_on_registered_pair_reports_nothing(lab):
    run = playbook(lab, '--check', limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    assert run.changed(MAIN) == 0 and run.changed(BACKUP) == 0, run


def test_no_secret_in_verbose_output_or_diff(lab):
    """A verbose check-mode run with diff shows every argument Ansible logs; no password may appear."""
    run = playbook(lab, '--check', '--diff', '-vvv', limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    for secret in (lab.admin_password, lab.backoffice_password):
        assert len(secret) >= 12
        assert secret not in run.out


def test_fnlslab_show_prints_the_pair_and_its_portal_page(lab):
    import subprocess
    import sys
    from pathlib import Path
    out = subprocess.run([str(Path(sys.executable).parent / 'fnlslab'), 'show', '--dir', str(lab.dir)],
                         capture_output=True, text=True, timeout=60, check=False).stdout
    assert 'p01: device FNLS-' in out
    assert 'holds MAIN %s, BACKUP %s' % (lab.hostid(MAIN), lab.hostid(BACKUP)) in out
    assert '%s ETHERNET MAIN' % lab.hostid(MAIN) in out and '%s ETHERNET BACKUP' % lab.hostid(BACKUP) in out
