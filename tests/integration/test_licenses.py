"""Licenses reach the pair: a rights id activated on the main, rights mapped in the back office and
delivered by polling; the back-up holds them and serves them while the main is down."""

import json
import time

import pytest

from conftest import bo_call, devices_for, pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]
MAIN, BACKUP = pair_hosts(5)
CLIENT = '''
import json, sys, urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:7070/fne/bin/capability", method="POST",
    data=json.dumps({"hostid": "client-7/STRING", "features": [{"name": "cad_pro", "count": 1}]}).encode(),
    headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=5).read().decode())
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code}))
'''


def licensed(extra):
    v = {'failover_pair_rights': [{'id': 'ACT-0501', 'count': 2}], 'failover_pair_features': ['cad_pro']}
    v.update(extra)
    return v


@pytest.fixture(scope='module')
def entitlements(lab):
    bo_call(lab, 'POST', '/flexnet/operations/entitlements',
            {'rightsId': 'ACT-0501', 'quantity': 4, 'features': [{'name': 'cad_pro', 'count': 5}]})
    bo_call(lab, 'POST', '/flexnet/operations/entitlements',
            {'rightsId': 'ACT-0502', 'quantity': 1, 'features': [{'name': 'viewer', 'count': 10}]})


def backup_request(lab):
    return json.loads(lab.run(BACKUP, ['python3', '-c', CLIENT]).stdout or '{}')


def test_rights_activated_on_the_main_reach_both_servers(lab, entitlements):
    run = playbook(lab, limit=[MAIN, BACKUP], extra_vars=licensed({}))
    assert run.rc == 0, run
    device = devices_for(lab, lab.hostid(MAIN))[0]
    rights = bo_call(lab, 'GET', '/flexnet/operations/devices/%s/rights' % device['deviceId'])
    assert [(r['rightsId'], r['count']) for r in rights['rights']] == [('ACT-0501', 2)]


def test_rerun_does_not_activate_again(lab, entitlements):
    run = playbook(lab, limit=[MAIN, BACKUP], extra_vars=licensed({}))
    assert run.rc == 0, run
    assert run.changed(MAIN) == 0 and run.changed(BACKUP) == 0, run


def test_an_unknown_rights_id_is_reported_as_such(lab, entitlements):
    run = playbook(lab, limit=[MAIN, BACKUP], extra_vars=licensed({'failover_pair_rights': [{'id': 'ACT-9999'}]}))
    assert run.rc != 0, run
    assert 'does not know this rights id' in run.flat and 'UNKNOWN_RIGHTS_ID' in run.flat, run


def test_rights_mapped_in_the_back_office_arrive_by_polling(lab, entitlements):
    device = devices_for(lab, lab.hostid(MAIN))[0]['deviceId']
    bo_call(lab, 'POST', '/flexnet/operations/devices/%s/rights' % device, {'rightsId': 'ACT-0502', 'count': 1})
    run = playbook(lab, limit=[MAIN, BACKUP], extra_vars={
        'failover_pair_features': ['cad_pro', 'viewer'], 'failover_pair_license_poll_now': True})
    assert run.rc == 0, run


def test_the_backup_serves_a_licensed_feature_while_the_main_is_down(lab, entitlements):
    assert backup_request(lab).get('status') == 503          # passive while the main is up
    lab.run(MAIN, ['service', 'flexnetls-demo', 'stop'], check=True)
    try:
        deadline = time.time() + 60
        answer = {}
        while time.time() < deadline:
            answer = backup_request(lab)
            if answer.get('served_by') == 'backup':
                break
            time.sleep(0.5)
        assert answer.get('served_by') == 'backup', answer
        assert [f['name'] for f in answer['features']] == ['cad_pro']
    finally:
        lab.run(MAIN, ['service', 'flexnetls-demo', 'start'], check=True)
