"""The manual registration path (device API, no BACKUP_SERVER_HOSTID) and switching paths both ways."""

import pytest

from conftest import devices_for, pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]
MAIN, BACKUP = pair_hosts(4)
SETTINGS = 'etc/default/flexnetls-demo'


def manual(extra=None):
    v = {'failover_pair_registration': 'manual'}
    v.update(extra or {})
    return v


def settings_text(lab):
    return (lab.host_root(MAIN) / SETTINGS).read_text()


def has_key(lab):
    return any(l.startswith('BACKUP_SERVER_HOSTID=') for l in settings_text(lab).splitlines())


def backoffice_errors(lab):
    return [e for e in lab.events() if e.get('source') == 'backoffice' and e.get('result') == 'error'
            and lab.hostid(MAIN) in (e.get('hostid'), e.get('backup_hostid'))]


def test_manual_registration(lab):
    run = playbook(lab, limit=[MAIN, BACKUP], extra_vars=manual())
    assert run.rc == 0, run
    assert not has_key(lab)
    devices = devices_for(lab, lab.hostid(MAIN))
    assert len(devices) == 1
    assert devices[0]['serverIds'] == [lab.hostid(MAIN), lab.hostid(BACKUP)]
    assert devices[0]['registeredBy'] == 'device-api'
    events = lab.events()
    contact = min(e['ts'] for e in events if e.get('host') == MAIN and e['event'] == 'bo_contact'
                  and e['result'] == 'ok')
    assert min(e['ts'] for e in events if e.get('host') == BACKUP and e['event'] == 'start') > contact
    assert not backoffice_errors(lab)


def test_manual_rerun_changes_nothing(lab):
    run = playbook(lab, limit=[MAIN, BACKUP], extra_vars=manual())
    assert run.rc == 0, run
    assert run.changed(MAIN) == 0 and run.changed(BACKUP) == 0, run


def test_switch_to_automatic_and_back_keeps_one_device(lab):
    device = devices_for(lab, lab.hostid(MAIN))[0]['deviceId']
    run = playbook(lab, limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    assert has_key(lab)
    assert [d['deviceId'] for d in devices_for(lab, lab.hostid(MAIN))] == [device]
    run = playbook(lab, limit=[MAIN, BACKUP], extra_vars=manual())
    assert run.rc == 0, run
    assert not has_key(lab)
    assert [d['deviceId'] for d in devices_for(lab, lab.hostid(MAIN))] == [device]
    assert devices_for(lab, lab.hostid(BACKUP))[0]['deviceId'] == device
    assert not backoffice_errors(lab)
