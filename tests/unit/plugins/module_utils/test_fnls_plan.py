# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a run (fnls_plan): every cross-host decision the role takes, from made-up reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.fnls.failover.plugins.module_utils import fnls_plan as fp
from ansible_collections.fnls.failover.plugins.module_utils import fnls_profile

MAIN_MAC, BACKUP_MAC = '0A0000000001/ETHERNET', '0A0000000002/ETHERNET'
RUN = dict(id='r1', controller='ctl', pid=4242)


def inputs(role, name='p1', address=None, **over):
    v = dict(name=name, role=role, address=address or ('10.0.0.1' if role == 'main' else '10.0.0.2'), port=7070,
             scheme='http', local_url='http://127.0.0.1:7070', service='flexnetls-demo', service_manager='auto',
             settings_path='/etc/default/flexnetls-demo', log_path='/var/opt/flexnetls/demo/logs/flexnetls.log',
             admin_password_set=True, backoffice_url='http://bo:8080', backoffice_password_set=True,
             portal_url='http://bo:8080/portal/', registration='automatic', hostid_type='',
             evidence=['status', 'log', 'backoffice'], wait_timeout=300, poll_interval=0.5, ready_timeout=300,
             stop_timeout=120, sync_timeout=120, lock_path='/run/fnls.lock', lock_wait=0, lock_ttl=3600,
             settings_backup=True, repair_backup_registration=False, repair_hostid_change=False,
             sync_path='/fne/bin/sync', capability_path='/fne/bin/capability', backup_settings={},
             producer_settings=True, main_settings={}, rights=[], features=[], license_timeout=300,
             license_poll_now=False, profile={}, api_paths={})
    v.update(over)
    return v


def read(hostid, running=False, status=None, settings_value=None, config=None, by_type=None, selected=None,
         lock=None):
    by_type = by_type or {hostid.split('/')[1]: hostid}
    return dict(
        hostids=dict(selected=selected or hostid, selected_type=(selected or hostid).split('/')[1], by_type=by_type),
        server=dict(running=running, reachable=running, ready=running, status=status,
                    process_started_at='2026-12-02T07:00:00.000Z' if running else None),
        settings=dict(path='/etc/default/flexnetls-demo', exists=True, checksum='c0ffee',
                      values={'BACKUP_SERVER_HOSTID': settings_value, 'ACTIVE_HOSTID': None}),
        lock=lock or dict(path='/run/fnls.lock', held=False, holder=None),
        config=config, read_at='2026-12-02T07:10:00.000Z')


def converged_reads():
    main_status = dict(backup_hostid=BACKUP_MAC, features=[])
    backup_status = dict(features=[], failover=dict(sync_enabled=True, peer=dict(
        hostid=MAIN_MAC, state='UP', last_sync='2026-12-02T07:05:00.000Z', last_error=None)))
    return {
        'm': read(MAIN_MAC, running=True, status=main_status, settings_value=BACKUP_MAC, config={
            'licensing.main.uri': 'http://10.0.0.1:7070/fne/bin/capability',
            'licensing.backup.uri': 'http://10.0.0.2:7070/fne/bin/capability'}),
        'b': read(BACKUP_MAC, running=True, status=backup_status, config={
            'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': 'http://10.0.0.1:7070/fne/bin/sync'}),
    }


REGISTERED = dict(state='registered', pair=dict(deviceId='D-1'), backup_as_main=[], hostid_change=None,
                  explanation='', hint='')


DEFAULT = object()


def plan(reads, bo=DEFAULT, main=None, backup=None):
    bo = REGISTERED if bo is DEFAULT else bo
    ins = {'m': main or inputs('main'), 'b': backup or inputs('backup')}
    pairs, errors = fp.first_pass(ins, reads, {}, {})
    assert errors == {}, errors
    return fp.decide(pairs['p1'], ins, reads, bo, RUN)


PROFILE = fnls_profile.merge({})


# ---------------------------------------------------------------------------------------------------------
# pairs and inputs

def test_a_pair_is_one_main_and_one_backup_on_two_addresses():
    pairs, errors = fp.form_pairs({'m': inputs('main'), 'b': inputs('backup')}, {})
    assert errors == {} and pairs == {'p1': dict(main='m', backup='b', members=['b', 'm'])}


@pytest.mark.parametrize('hosts, expect', [
    ({'m': inputs('main'), 'm2': inputs('main', address='10.0.0.3')}, 'back-up: none'),
    ({'m': inputs('main'), 'b': inputs('backup', address='10.0.0.1')}, 'addresses: 10.0.0.1)'),
    ({'m': inputs('main')}, 'found m (main: m, back-up: none'),
])
def test_an_incomplete_pair_stops_both_hosts_with_what_was_found(hosts, expect):
    pairs, errors = fp.form_pairs(hosts, {})
    assert pairs == {}
    assert set(errors) == set(hosts)
    assert all(expect in m and 'Fix the inventory and run again; nothing was changed.' in m for m in errors.values())


def test_a_host_the_run_leaves_out_is_named_with_the_limit_to_use():
    pairs, errors = fp.form_pairs({'m': inputs('main')}, {'b': 'p1', 'other': 'p2'})
    assert pairs == {}
    assert 'left out of the run by --limit' in errors['m'] and '--limit m,b' in errors['m']
    assert 'other' not in errors['m']


@pytest.mark.parametrize('over', [dict(name='bad name'), dict(role='primary'), dict(address='a b'),
                                  dict(port=0), dict(port='x'), dict(scheme='ftp')])
def test_bad_pair_variables_are_refused_with_what_was_found(over):
    v = dict(inputs('main'), **over)
    msg = fp.host_problem('m', v)
    assert msg.startswith('m: set failover_pair_name') and 'failover_pair_role=' in msg


@pytest.mark.parametrize('over', [dict(admin_password_set=False), dict(backoffice_url='ftp://x'),
                                  dict(backoffice_password_set=False), dict(service='a;b'),
                                  dict(settings_path='rel/path'), dict(log_path=''), dict(hostid_type='MAC'),
                                  dict(evidence=[]), dict(evidence=['smoke']), dict(wait_timeout=0),
                                  dict(poll_interval=-1), dict(registration='other')])
def test_unusable_variables_are_refused_before_anything_is_touched(over):
    msg = fp.variable_problem('m', inputs('main', **over), PROFILE)
    key = list(over)[0].replace('_set', '')
    name = dict(service='service_name').get(key, key)
    assert msg.startswith('m: failover_pair_%s has a value the role cannot use. Check: ' % name), msg
    assert msg.endswith('Nothing was changed.')


def test_manual_registration_needs_a_device_api():
    prof = fnls_profile.merge({'device_api': {'style': 'none'}})
    assert fp.variable_problem('m', inputs('main', registration='manual'), prof)
    assert fp.variable_problem('m', inputs('main'), prof) is None


def test_a_partner_that_failed_before_the_plan_stops_the_other_host():
    ins = {'m': inputs('main')}
    pairs, errors = fp.first_pass(ins, {'m': read(MAIN_MAC)}, {'b': inputs('backup')}, {})
    assert pairs == {}
    assert errors['m'].startswith('Pair p1 stopped: its back-up b failed or became unreachable')


def test_a_profile_that_cannot_be_used_stops_the_pair():
    ins = {'m': inputs('main', profile={'paths': {'status': 'no-slash'}}), 'b': inputs('backup')}
    pairs, errors = fp.first_pass(ins, {'m': read(MAIN_MAC), 'b': read(BACKUP_MAC)}, {}, {})
    assert pairs == {} and 'interface profile cannot be used' in errors['m'] and errors['b'] == errors['m']


# ---------------------------------------------------------------------------------------------------------
# hostids

def test_the_backups_hostid_has_the_type_of_the_mains_active_hostid():
    h = fp.choose_hostids('p1', 'm', 'b', read(MAIN_MAC)['hostids'], read(BACKUP_MAC)['hostids'], '', PROFILE,
                          inputs('backup'))
    assert (h['type'], h['main'], h['backup'], h['problems']) == ('ETHERNET', '0A0000000001/ETHERNET',
                                                                  '0A0000000002/ETHERNET', [])


def test_a_backup_without_a_hostid_of_the_pairs_type_is_refused():
    b = read('4C4C4544-0042-3510-8056-B4C04F4E3732/VM_UUID')
    h = fp.choose_hostids('p1', 'm', 'b', read(MAIN_MAC)['hostids'], b['hostids'], '', PROFILE, inputs('backup'))
    assert 'has no hostid of type ETHERNET (it has: 4C4C4544' in h['problems'][0]


@pytest.mark.parametrize('path, line', [('/etc/default/flexnetls-demo', 'ACTIVE_HOSTID=0A0000000002/ETHERNET'),
                                        ('/etc/systemd/system/x.d/y.conf',
                                         'Environment="ACTIVE_HOSTID=0A0000000002/ETHERNET"'),
                                        ('/opt/local-configuration.yaml', 'ACTIVE_HOSTID: 0A0000000002/ETHERNET')])
def test_a_backup_whose_active_hostid_is_of_another_type_is_told_the_exact_pin_line(path, line):
    b = read(BACKUP_MAC, by_type={'ETHERNET': BACKUP_MAC, 'VM_UUID': 'AB/VM_UUID'}, selected='AB/VM_UUID')
    bv = dict(inputs('backup', settings_path=path), running=True)
    h = fp.choose_hostids('p1', 'm', 'b', read(MAIN_MAC)['hostids'], b['hostids'], '', PROFILE, bv)
    assert 'set %s in %s, then stop its server (flexnetls-demo)' % (line, path) in h['problems'][0]


def test_a_hostid_type_other_than_the_mains_active_one_is_refused():
    m = read(MAIN_MAC, by_type={'ETHERNET': MAIN_MAC, 'VM_UUID': 'AA/VM_UUID'})
    b = read(BACKUP_MAC, by_type={'ETHERNET': BACKUP_MAC, 'VM_UUID': 'BB/VM_UUID'})
    h = fp.choose_hostids('p1', 'm', 'b', m['hostids'], b['hostids'], 'vm_uuid', PROFILE, inputs('backup'))
    assert "uses 0A0000000001/ETHERNET as its active hostid, but failover_pair_hostid_type is VM_UUID" in h['problems'][0]


def test_two_servers_with_one_hostid_are_clones():
    h = fp.choose_hostids('p1', 'm', 'b', read(MAIN_MAC)['hostids'], read(MAIN_MAC)['hostids'], '', PROFILE,
                          inputs('backup'))
    assert any('they are the same machine or clones' in p for p in h['problems'])


# ---------------------------------------------------------------------------------------------------------
# the back office, restarts, convergence

def test_a_registered_pair_in_sync_with_steps_4_and_5_is_converged():
    out = plan(converged_reads())
    assert out['m']['action'] == out['b']['action'] == 'converged'
    assert out['m']['result']['device_id'] == 'D-1' and out['m']['result']['portal_url'].endswith('/portal/servers/D-1')
    assert out['b']['result'] is None


@pytest.mark.parametrize('change, reason', [
    (lambda r, bo: r['m']['settings']['values'].update(BACKUP_SERVER_HOSTID=None), "the main's settings change"),
    (lambda r, bo: bo.update(state='absent'), 'the back office does not hold the pair yet'),
    (lambda r, bo: r['m']['server']['status'].update(backup_hostid='0A0000000009/ETHERNET'),
     'the running main names another back-up'),
])
def test_what_needs_an_ordered_restart_is_named(change, reason):
    reads, bo = converged_reads(), copy.deepcopy(REGISTERED)
    change(reads, bo)
    out = plan(reads, bo)
    assert out['m']['action'] == 'converge' and reason in out['m']['reasons']
    assert out['m']['prepare']['stop'] is True and out['b']['prepare'] == dict(role='backup', stop=True)
    assert out['m']['converge']['start'] and out['m']['converge']['restarted']


def test_a_pair_that_only_lacks_step_4_converges_without_a_restart():
    reads = converged_reads()
    reads['b']['config'] = {}
    out = plan(reads)
    assert out['m']['action'] == 'converge' and out['m']['reasons'] == []
    assert out['m']['prepare']['stop'] is False and out['b']['prepare'] is None
    assert out['m']['converge']['start'] is False


def test_fresh_servers_get_the_whole_sequence():
    reads = {'m': read(MAIN_MAC), 'b': read(BACKUP_MAC)}
    out = plan(reads, dict(REGISTERED, state='absent', pair=None))
    m, b = out['m'], out['b']
    assert m['prepare']['settings'] == dict(path='/etc/default/flexnetls-demo', form='auto', key='BACKUP_SERVER_HOSTID',
                                            value=BACKUP_MAC, expected_checksum='c0ffee', backup=True)
    assert m['prepare']['lock']['owner'] == 'r1' and m['prepare']['stop'] is False
    assert b['converge']['guard']['guard_evidence'] == ['status', 'backoffice']
    assert b['converge']['guard']['guard_main_url'] == 'http://10.0.0.1:7070'
    assert b['converge']['step4'] == {'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': 'http://10.0.0.1:7070/fne/bin/sync'}
    assert m['converge']['step5'] == {'licensing.main.uri': 'http://10.0.0.1:7070/fne/bin/capability',
                                      'licensing.backup.uri': 'http://10.0.0.2:7070/fne/bin/capability'}
    assert m['converge']['manual_device'] is None and m['converge']['verify']['backup_name'] == 'b'
    assert not b.get('deferred')


def test_manual_registration_removes_the_key_and_creates_the_device():
    reads = {'m': read(MAIN_MAC), 'b': read(BACKUP_MAC)}
    out = plan(reads, dict(REGISTERED, state='absent', pair=None), main=inputs('main', registration='manual'))
    assert out['m']['prepare']['settings']['value'] is None
    assert out['m']['converge']['manual_device'] == dict(server_ids=[MAIN_MAC, BACKUP_MAC], alias='p1')
    assert out['b']['converge']['guard']['guard_main_names_backup'] is False


def test_without_status_or_device_api_the_backup_waits_for_the_mains_own_confirmation():
    prof = {'paths': {'status': None}, 'device_api': {'style': 'none'}}
    reads = {'m': read(MAIN_MAC), 'b': read(BACKUP_MAC)}
    out = plan(reads, None, main=inputs('main', profile=prof), backup=inputs('backup', profile=prof))
    assert out['b']['deferred'] is True and out['b']['converge']['guard']['guard_evidence'] == ['confirmation']
    assert out['b']['converge']['sync'] is None and out['m']['converge']['verify'] is None


def test_a_pair_the_back_office_holds_the_wrong_way_is_refused_unless_repaired():
    bo = dict(REGISTERED, state='backup_is_main', explanation='The back-up is registered as a main server.',
              hint='Delete it.')
    out = plan(converged_reads(), bo)
    assert out['m']['action'] == 'error' and out['m']['msg'] == \
        'Pair p1: The back-up is registered as a main server. Delete it. Nothing was changed.'
    held = [dict(deviceId='D-9', hostid=BACKUP_MAC, servers=[BACKUP_MAC])]
    out = plan(converged_reads(), dict(bo, backup_as_main=held), main=inputs('main', repair_backup_registration=True))
    assert out['m']['action'] == 'converge'
    assert out['m']['converge']['repairs'] == [dict(device_id='D-9', server_ids=[BACKUP_MAC])]


def test_a_backup_held_as_a_main_under_another_hostid_is_refused():
    held = [dict(deviceId='D-9', hostid='AB/VM_UUID', servers=['AB/VM_UUID'])]
    out = plan(converged_reads(), dict(REGISTERED, backup_as_main=held))
    assert out['m']['action'] == 'error' and "holds the back-up b's hostid AB/VM_UUID as a main server (device D-9" \
        in out['m']['msg']


def test_a_back_office_that_could_not_be_read_stops_the_pair():
    out = plan(converged_reads(), dict(error='Querying the back office failed: timed out'))
    assert out['b']['action'] == 'error' and 'timed out' in out['b']['msg']


def test_a_lock_held_by_another_run_keeps_the_pair_from_counting_as_converged():
    reads = converged_reads()
    reads['m']['lock'] = dict(path='/run/fnls.lock', held=True, holder=dict(owner='other'))
    assert plan(reads)['m']['action'] == 'converge'
    reads['m']['lock']['holder']['owner'] = RUN['id']
    assert plan(reads)['m']['action'] == 'converged'


def test_missing_features_or_a_sync_not_proven_keep_the_pair_converging():
    reads = converged_reads()
    assert plan(reads, main=inputs('main', features=['f1']))['m']['action'] == 'converge'
    reads['b']['server']['status']['failover']['peer']['last_error'] = 'refused'
    assert plan(reads)['m']['action'] == 'converge'


# ---------------------------------------------------------------------------------------------------------
# the converge task's workers

def test_no_deadlock_when_mains_come_first_or_forks_suffice():
    order = ['m1', 'b1', 'm2', 'b2', 'm3', 'b3']
    mains = {'b1': 'm1', 'b2': 'm2', 'b3': 'm3'}
    assert fp.dispatch_deadlock(order, mains, 1) is None
    assert fp.dispatch_deadlock(list(reversed(order)), mains, 6) is None


def test_backups_ahead_of_their_mains_with_too_few_forks_are_found():
    order = ['b1', 'b2', 'm1', 'm2']
    assert fp.dispatch_deadlock(order, {'b1': 'm1', 'b2': 'm2'}, 2) == 'b1'
    assert fp.dispatch_deadlock(order, {'b1': 'm1', 'b2': 'm2'}, 3) is None


def test_each_pair_is_described_in_one_line():
    out = plan(converged_reads())
    assert fp.describe('p1', out) == 'Pair p1: registered, both servers running, in sync: nothing to do.'
    reads = converged_reads()
    reads['m']['settings']['values']['BACKUP_SERVER_HOSTID'] = None
    assert fp.describe('p1', plan(reads)) == "Pair p1: ordered restart because the main's settings change."
