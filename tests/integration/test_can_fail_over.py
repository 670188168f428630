"""Registered means can fail over (issue 12), end to end on pairs 16-18.

- p16: a main pinned to its VM_UUID with the back-up left on its default ETHERNET hostid is refused before
  anything is touched, naming what to set; once pinned, a back-up hostid that the back office holds as a main
  server is refused, then repaired on request; a back-up whose sync the main refuses fails the run with the
  main's answer; a --limit that keeps one host names --limit.
- p17 (automatic) and p18 (manual): a back-up with a new network card is named as such, and the pair is
  registered again on request, the licence consequence said before the old device is deleted.
"""

import subprocess

import pytest

from conftest import bo_call, cannot_run, devices_for, pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]
P16, P17, P18 = pair_hosts(16), pair_hosts(17), pair_hosts(18)
SETTINGS = 'etc/default/flexnetls-demo'


@pytest.fixture(autouse=True)
def eighteen_pairs(lab):
    if len(lab.pairs()) < 18:
        cannot_run('the can-fail-over tests', 'they need a lab of 18 pairs (FNLS_TEST_PAIRS=18)')


def settings_bytes(lab, host):
    return (lab.host_root(host) / SETTINGS).read_bytes()


def append_setting(lab, host, line):
    path = lab.host_root(host) / SETTINGS
    text = path.read_text()
    path.write_text(text + ('' if text.endswith('\n') else '\n') + line + '\n')


def server_running(lab, host):
    return lab.run(host, ['service', 'flexnetls-demo', 'status']).returncode == 0


def vm_uuid(lab, host):
    m = lab.host(host).machine_id.lower()
    return ('%s-%s-%s-%s-%s' % (m[0:8], m[8:12], m[12:16], m[16:20], m[20:32])).upper() + '/VM_UUID'


def events_of(lab, host, event=None):
    return [e for e in lab.events() if e.get('host') == host and (event is None or e['event'] == event)]


def new_nic(lab, host, pair, mac):
    """The host gets another MAC (a new network card) and its server restarts with it; the neighbours forget
    the old MAC at once."""
    h = lab.host(host)
    subprocess.run(['ip', '-n', h.netns, 'link', 'set', 'eth0', 'address', mac], check=True)
    from fnlslab.hosts import fno_ns
    for ns in [lab.host(x).netns for x in pair] + [fno_ns(lab.name)]:
        subprocess.run(['ip', '-n', ns, 'neigh', 'flush', 'all'], check=False)
    lab.run(host, ['service', 'flexnetls-demo', 'restart'], check=True)
    return mac.replace(':', '').upper() + '/ETHERNET'


def device_ids(lab, hostid):
    return [d['deviceId'] for d in devices_for(lab, hostid)]


# -- p16: the back-up's own active hostid ----------------------------------------------------------------
def test_a_back_up_that_uses_another_hostid_type_than_its_main_is_refused_before_anything_is_touched(lab):
    main, backup = P16
    append_setting(lab, main, 'ACTIVE_HOSTID=' + vm_uuid(lab, main))
    before = {h: settings_bytes(lab, h) for h in P16}
    run = playbook(lab, limit=P16)
    assert run.rc != 0, run
    assert ('Pair p16: the back-up %s identifies itself as %s (its active hostid), but the pair uses VM_UUID hostids'
            % (backup, lab.hostid(backup))) in run.flat, run
    assert 'on %s set ACTIVE_HOSTID=%s in /etc/default/flexnetls-demo; then run again.' % (
        backup, vm_uuid(lab, backup)) in run.flat, run
    assert 'Nothing was changed.' in run.flat
    for h in P16:
        assert settings_bytes(lab, h) == before[h]
        assert not server_running(lab, h)
    for hostid in (vm_uuid(lab, main), vm_uuid(lab, backup), lab.hostid(backup)):
        assert devices_for(lab, hostid) == []


def test_a_limit_that_keeps_one_host_of_the_pair_names_limit(lab):
    main, backup = P16
    before = settings_bytes(lab, main)
    run = playbook(lab, limit=[main])
    assert run.rc != 0, run
    assert 'left out of the run by --limit (or by fnls_hosts)' in run.flat, run
    assert "the inventory's %s of the same pair" % backup in run.flat, run
    assert '--limit %s,%s' % (main, backup) in run.flat, run
    assert 'Fix the inventory' not in run.flat
    assert settings_bytes(lab, main) == before and not server_running(lab, main)


def test_a_back_up_held_as_a_main_server_under_its_other_hostid_is_refused_then_repaired(lab):
    """The back-up is pinned as told; the back office still holds its ETHERNET hostid as a main server (it was
    started once before, as in the issue). That pair could not be trusted: refused, then repaired on request."""
    main, backup = P16
    append_setting(lab, backup, 'ACTIVE_HOSTID=' + vm_uuid(lab, backup))
    stray = bo_call(lab, 'POST', '/flexnet/operations/devices', {'serverIds': [lab.hostid(backup)]})
    stray_id = stray.get('deviceId') or stray['device']['deviceId']
    before = {h: settings_bytes(lab, h) for h in P16}
    run = playbook(lab, limit=P16)
    assert run.rc != 0, run
    assert ("Pair p16: the back office holds the back-up %s's hostid %s as a main server (device %s"
            % (backup, lab.hostid(backup), stray_id)) in run.flat, run
    assert 'deleting device %s drops the licences mapped to it' % stray_id in run.flat, run
    for h in P16:
        assert settings_bytes(lab, h) == before[h]
        assert not server_running(lab, h)

    run = playbook(lab, limit=P16, extra_vars={'failover_pair_repair_backup_registration': True})
    assert run.rc == 0, run
    assert 'p16: registered' in run.flat, run
    main_id, backup_id = vm_uuid(lab, main), vm_uuid(lab, backup)
    devices = devices_for(lab, main_id)
    assert len(devices) == 1 and devices[0]['serverIds'] == [main_id, backup_id]
    assert devices_for(lab, lab.hostid(backup)) == []           # no back-up held as a main server
    # the proof of sync: the main accepted the back-up's sync, under the pair's hostid
    assert [e for e in events_of(lab, main, 'sync') if e['result'] == 'ok' and backup_id in e['detail']]
    assert not [e for e in events_of(lab, main, 'sync') if e['result'] == 'error']


# -- p17: a back-up with a new network card, automatic registration -----------------------------------------
def test_p17_registers(lab):
    run = playbook(lab, limit=P17)
    assert run.rc == 0, run
    assert 'p17: registered' in run.flat, run


def test_a_refused_sync_fails_the_pair_with_the_mains_answer(lab):
    """p16's back-up synchronises with another main (p17's, which has its own back-up): the main refuses (403)
    while the back-up's peer is up. The old check passed on that; now the run fails and says why."""
    main, backup = P16
    other = 'http://%s:7070/fne/bin/sync' % lab.address(P17[0])
    run = playbook(lab, limit=P16, extra_vars={'failover_pair_backup_settings': {'fne.syncTo.mainUri': other}})
    assert run.rc != 0, run
    assert "Pair p16: The back-up is not in sync with the main: the main refused the back-up's sync: HTTP 403 " \
           "from %s" % other in run.flat, run
    assert 'is not the registered back-up server of %s' % lab.hostid(P17[0]) in run.flat, run
    assert 'p16: registered' not in run.flat, run
    # the main is not recorded as registered: it stops because its back-up failed
    assert 'Pair p16 stopped: its back-up %s failed' % backup in run.flat, run
    assert run.failed(main) == 1 and run.failed(backup) == 1, run

    run = playbook(lab, limit=P16)       # the setting back as Step 4 wants it: converges
    assert run.rc == 0, run
    assert 'p16: registered' in run.flat, run


def test_a_back_up_with_a_new_nic_is_named_and_registered_again_on_request(lab):
    main, backup = P17
    old = lab.hostid(backup)
    device = device_ids(lab, lab.hostid(main))
    assert len(device) == 1
    device = device[0]
    new = new_nic(lab, backup, P17, '02:fe:17:00:00:01')
    before = settings_bytes(lab, main)
    run = playbook(lab, limit=P17)
    assert run.rc != 0, run
    assert ('Pair p17: %s now identifies as %s; the back office pairs the main %s with its old hostid %s (device %s).'
            % (backup, new, lab.hostid(main), old, device)) in run.flat, run
    assert 'failover_pair_repair_hostid_change=true' in run.flat
    assert 'deleting device %s drops the licences mapped to it' % device in run.flat, run
    assert settings_bytes(lab, main) == before
    assert device_ids(lab, lab.hostid(main)) == [device]

    run = playbook(lab, limit=P17, extra_vars={'failover_pair_repair_hostid_change': True})
    assert run.rc == 0, run
    said = run.flat.find('deleting device %s (%s, %s) drops the licences mapped to it' % (device, lab.hostid(main), old))
    deleted = run.flat.find('Converge - the main starts')
    assert 0 <= said < deleted, run
    assert 'p17: registered' in run.flat, run
    devices = devices_for(lab, lab.hostid(main))
    assert len(devices) == 1 and devices[0]['deviceId'] != device
    assert devices[0]['serverIds'] == [lab.hostid(main), new]
    assert devices_for(lab, old) == []
    assert ('BACKUP_SERVER_HOSTID=' + new).encode() in settings_bytes(lab, main).splitlines()


# -- p18: the same on the manual path ----------------------------------------------------------------------
def test_manual_path_a_back_up_with_a_new_nic_is_named_and_registered_again_on_request(lab):
    main, backup = P18
    manual = {'failover_pair_registration': 'manual'}
    run = playbook(lab, limit=P18, extra_vars=manual)
    assert run.rc == 0, run                    # a hand-registered pair's back-up syncs too
    assert 'p18: registered' in run.flat, run
    old = lab.hostid(backup)
    device = device_ids(lab, lab.hostid(main))[0]

    new = new_nic(lab, backup, P18, '02:fe:18:00:00:01')
    run = playbook(lab, limit=P18, extra_vars=manual)
    assert run.rc != 0, run
    assert ('Pair p18: %s now identifies as %s; the back office pairs the main %s with its old hostid %s (device %s).'
            % (backup, new, lab.hostid(main), old, device)) in run.flat, run
    assert device_ids(lab, lab.hostid(main)) == [device]

    run = playbook(lab, limit=P18, extra_vars=dict(manual, failover_pair_repair_hostid_change=True))
    assert run.rc == 0, run
    said = run.flat.find('deleting device %s (%s, %s) drops the licences mapped to it' % (device, lab.hostid(main), old))
    deleted = run.flat.find('Converge - the main starts')
    assert 0 <= said < deleted, run
    assert 'p18: registered' in run.flat, run
    devices = devices_for(lab, lab.hostid(main))
    assert len(devices) == 1 and devices[0]['deviceId'] != device
    assert devices[0]['serverIds'] == [lab.hostid(main), new]
    assert devices_for(lab, old) == []


def test_a_registered_back_up_pinned_to_another_type_since_stops_the_rerun(lab):
    """The issue's rerun: the back-up of a registered pair now identifies itself by its VM_UUID (pinned and
    restarted by hand); the rerun said "registered ... nothing restarted". Now it stops and says what to set."""
    main, backup = P17
    append_setting(lab, backup, 'ACTIVE_HOSTID=' + vm_uuid(lab, backup))
    lab.run(backup, ['service', 'flexnetls-demo', 'restart'], check=True)
    before = settings_bytes(lab, main)
    run = playbook(lab, limit=P17)
    assert run.rc != 0, run
    assert 'p17: registered' not in run.flat, run
    assert ('Pair p17: the back-up %s identifies itself as %s (its active hostid), but the pair uses ETHERNET hostids'
            % (backup, vm_uuid(lab, backup))) in run.flat, run
    assert 'then stop its server (flexnetls-demo) without starting it again' in run.flat, run
    assert settings_bytes(lab, main) == before
