"""The collection on the lab's dialect b (docs/DIALECTS.md) by changing variables only.

Dialect b's servers differ from the profile's defaults in every modelled detail: their settings in
local-configuration.yaml, JSON log lines with other wording, another status path with other fields and
words, typed config values, the other hostids answer, the VM_UUID source, and the back office read through
its ManageDevice 2.0 REST twin. Everything the collection is told is playbooks/vars/dialect_b.yml: register,
rerun, drill and the manual path pass with it; a pair registered with no status endpoint and no device API
at all is said to be unchecked where it is; and the defaults, which do not fit, stop the wait within seconds
with the profile key to set.
"""

import json
import os
import time
import urllib.request
import base64
from pathlib import Path

import pytest

from conftest import TOP, TestLab, cannot_run, _lab_possible, pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]
VARS_B = '@' + str(TOP / 'playbooks' / 'vars' / 'dialect_b.yml')
YAML = 'opt/flexnetls/demo/local-configuration.yaml'


@pytest.fixture(scope='module')
def lab_b():
    why = _lab_possible()
    if why:
        cannot_run('the dialect b tests', why)
    from fnlslab.hosts import Lab, down_dir
    d = Path(os.environ.get('FNLS_TEST_LAB_B_DIR', '/run/fnls-lab/tests-b'))
    down_dir(d, purge=True)
    lab = Lab.up(pairs=4, dir=d, startup_delay=float(os.environ.get('FNLS_TEST_STARTUP_DELAY', '2')),
                 bo_port=int(os.environ.get('FNLS_TEST_BO_PORT_B', '18889')), replace=True, dialect='b')
    try:
        yield TestLab(lab)
    finally:
        lab.down(purge=True)


def rest_devices(lab, hostid):
    """The back office's devices holding ``hostid``, through the ManageDevice 2.0 REST twin."""
    body = {'batchSize': 100, 'pageNumber': 1,
            'queryParams': {'deviceId': {'value': hostid.split('/')[0], 'searchType': 'EQUALS'}}}
    req = urllib.request.Request(lab.bo['url_local'] + '/flexnet/operations/manageDevice/2.0/devices',
                                 data=json.dumps(body).encode(), method='POST')
    token = base64.b64encode(('%s:%s' % (lab.bo['user'], lab.bo_password)).encode()).decode()
    req.add_header('Authorization', 'Basic ' + token)
    req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())['responseData']['device']


def events(lab, host, name):
    return [e for e in lab.events() if e.get('host') == host and e.get('event') == name]


def first_start_after_contact(lab, main, backup):
    """(time of the main's first good back-office contact, time of the back-up's first start)."""
    contact = [e['ts'] for e in events(lab, main, 'bo_contact') if e.get('result') == 'ok']
    starts = [e['ts'] for e in events(lab, backup, 'start')]
    return (min(contact) if contact else None), (min(starts) if starts else None)


def test_register_rerun_and_drill_with_the_dialect_b_profile(lab_b):
    main, backup = pair_hosts(1)
    before = (lab_b.host_root(main) / YAML).read_text()
    check = playbook(lab_b, '--check', '--diff', '-e', VARS_B, limit=[main, backup])
    assert check.rc == 0, check
    assert check.changed(main) > 0 and '+backup-server-hostid: ' in check.out, check
    assert (lab_b.host_root(main) / YAML).read_text() == before
    assert events(lab_b, main, 'start') == [] and events(lab_b, backup, 'start') == []
    run = playbook(lab_b, '--diff', '-e', VARS_B, limit=[main, backup])
    assert run.rc == 0, run
    main_id, backup_id = lab_b.hostid(main), lab_b.hostid(backup)

    # the YAML kept every line, with the one key added
    after = (lab_b.host_root(main) / YAML).read_text()
    added = [l for l in after.splitlines() if l not in before.splitlines()]
    assert added == ['backup-server-hostid: ' + backup_id], added
    assert all(l in after.splitlines() for l in before.splitlines())

    # the back office holds exactly the pair, read back through the REST twin
    devices = rest_devices(lab_b, main_id)
    assert len(devices) == 1, devices
    dev = devices[0]
    assert '%s/%s' % (dev['deviceId']['id'], dev['deviceId']['idType']) == main_id
    assert '%s/%s' % (dev['backupDeviceId']['id'], dev['backupDeviceId']['idType']) == backup_id
    assert 'p01: registered' in run.flat and 'device ' + dev['name'] in run.flat, run

    # the order: the back-up started after the main's confirmed contact
    contact, start = first_start_after_contact(lab_b, main, backup)
    assert contact is not None and start is not None and start > contact, (contact, start)

    rerun = playbook(lab_b, '-e', VARS_B, limit=[main, backup])
    assert rerun.rc == 0, rerun
    assert rerun.changed(main) == 0 and rerun.changed(backup) == 0, rerun
    assert 'nothing restarted' in rerun.flat, rerun

    drill = playbook(lab_b, '-e', VARS_B, playbook='fnls.failover.drill', limit=[main, backup])
    assert drill.rc == 0, drill
    assert 'p01: drill passed' in drill.flat, drill


def test_the_probe_says_where_the_profile_fits(lab_b):
    """On pair 1, registered and running: with dialect b's profile every interface fits; with the defaults the
    probe names the interfaces that do not, and the profile keys to set. It changes nothing."""
    main, backup = pair_hosts(1)
    before = (lab_b.host_root(main) / YAML).read_text()
    fits = playbook(lab_b, '-e', VARS_B, playbook='fnls.failover.probe', limit=[main, backup])
    assert fits.rc == 0 and fits.changed(main) == 0, fits
    assert 'DOES NOT FIT' not in fits.flat, fits
    for line in ('hostids: fits', 'status: fits', 'config: fits', 'log: fits', 'settings: fits',
                 'device_api: fits (style rest)'):
        assert line in fits.flat, (line, fits)
    wrong = playbook(lab_b, playbook='fnls.failover.probe', limit=[main, backup])
    assert wrong.rc == 0, wrong
    for line in ('hostids: DOES NOT FIT', 'status: DOES NOT FIT', 'log: DOES NOT FIT'):
        assert line in wrong.flat, (line, wrong)
    assert 'paths.status' in wrong.flat and 'log.patterns.start' in wrong.flat and 'hostids.type' in wrong.flat
    assert (lab_b.host_root(main) / YAML).read_text() == before


def test_manual_registration_with_the_dialect_b_profile(lab_b):
    main, backup = pair_hosts(2)
    run = playbook(lab_b, '-e', VARS_B, limit=[main, backup],
                   extra_vars={'failover_pair_registration': 'manual'})
    assert run.rc == 0, run
    text = (lab_b.host_root(main) / YAML).read_text()
    assert not [l for l in text.splitlines() if l.startswith('backup-server-hostid')], text
    devices = rest_devices(lab_b, lab_b.hostid(main))
    assert len(devices) == 1 and devices[0]['backupDeviceId']['id'] == lab_b.hostid(backup).split('/')[0], devices
    rerun = playbook(lab_b, '-e', VARS_B, limit=[main, backup],
                     extra_vars={'failover_pair_registration': 'manual'})
    assert rerun.rc == 0 and rerun.changed(main) == 0 and rerun.changed(backup) == 0, rerun


def test_defaults_that_do_not_fit_stop_the_wait_within_seconds(lab_b):
    """Dialect a's defaults on dialect b's servers: the status path answers 404 and the log has no line the
    start pattern finds, so the wait stops long before its timeout, naming the profile keys; the back-up
    stays stopped."""
    main, backup = pair_hosts(3)
    run = playbook(lab_b, limit=[main, backup], extra_vars={
        'failover_pair_settings_path': '/' + YAML, 'failover_pair_evidence': ['status', 'log'],
        'failover_pair_profile': {'settings': {'backup_hostid_key': 'backup-server-hostid'}}})
    assert run.rc != 0, run
    assert 'No evidence source fits this server' in run.flat, run
    assert 'paths.status' in run.flat and 'log.patterns.start' in run.flat, run
    assert 'within 300 s' not in run.flat, run
    assert run.elapsed < 150, run.elapsed
    assert events(lab_b, backup, 'start') == [], 'the back-up started although no evidence it may use fitted'


def test_no_status_endpoint_and_no_device_api(lab_b):
    """A site whose servers have no status endpoint and whose back office gives no device API: the run
    registers the pair on the servers' evidence alone and says what it did not check."""
    import yaml
    main, backup = pair_hosts(4)
    prof = yaml.safe_load((TOP / 'playbooks' / 'vars' / 'dialect_b.yml').read_text())['failover_pair_profile']
    prof['paths']['status'] = None
    prof['device_api']['style'] = 'none'
    bare = {'failover_pair_settings_path': '/' + YAML, 'failover_pair_profile': prof}
    run = playbook(lab_b, limit=[main, backup], extra_vars=bare)
    assert run.rc == 0, run
    assert 'contact confirmed by log' in run.flat, run
    assert 'not read back from the back office' in run.flat and 'was not checked' in run.flat, run
    contact, start = first_start_after_contact(lab_b, main, backup)
    assert contact is not None and start is not None and start > contact, (contact, start)
    devices = rest_devices(lab_b, lab_b.hostid(main))
    assert len(devices) == 1 and devices[0]['backupDeviceId']['id'] == lab_b.hostid(backup).split('/')[0]
    # the back-up syncs with the main, although the run could not see it
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [e for e in events(lab_b, backup, 'sync') if e.get('result') == 'ok']:
        time.sleep(0.5)
    assert [e for e in events(lab_b, backup, 'sync') if e.get('result') == 'ok'], lab_b.events()
    rerun = playbook(lab_b, limit=[main, backup], extra_vars=bare)
    assert rerun.rc == 0 and rerun.changed(main) == 0 and rerun.changed(backup) == 0, rerun
