# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pair_converge: the order of the main's and the back-up's steps and what each is given (steps replaced by a
recorder), the lock released whatever happens, the messages, check mode, the pair's summary; and real steps
against stub servers and a fake service: the main's whole run, and the back-up's guard refusing to start it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re

import pytest

from unittest import mock

from ansible.module_utils import basic

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)
from ansible_collections.fnls.failover.tests.unit.plugins.modules.test_server import FakeService, refusal

from ansible_collections.fnls.failover.plugins.modules import pair_converge, pair_lock
from ansible_collections.fnls.failover.plugins.module_utils import fnls_phase
from ansible_collections.fnls.failover.plugins.module_utils.fnls_step import StepFailed

X = '0A1B2C3D4E5F/ETHERNET'
Y = '0A1B2C3D4E60/ETHERNET'
BO_PASSWORD = 'bo-secret-4711'
OWNER = 'run-0001'
RELEASED = "; the pair's lock was released."
ISO = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')


# -- steps replaced by a recorder --------------------------------------------------------------------------
class Steps(object):
    """Stands in for run_step: records (step, params, check mode) and answers from ``answers`` (a dict, a
    StepFailed to raise, or a callable of the params)."""

    DEFAULTS = {
        'device': dict(changed=True, deleted=[], device=None),
        'server': dict(changed=True, started_at='2026-12-02T07:00:00.000Z', boot_id='b-1', ready=True),
        'backoffice_wait': dict(confirmed=True, source='status', waited=1.5),
        'config': dict(changed=True, changed_keys=['k']),
        'rights': dict(changed=False, activated=[]),
        'pair_info': dict(state='registered', pair={'deviceId': 'FNLS-000001'}, backup_as_main=[],
                          explanation='', hint=''),
        'pair_lock': dict(acquired=True, waited=0.0),
        'sync_wait': dict(synced=True, state='synced', detail='ok'),
        'server_info': dict(running=True, status={'features': [{'name': 'f1'}, {'name': 'f2'}]},
                            status_error=None),
    }

    def __init__(self, **answers):
        self.answers = answers
        self.calls = []

    @staticmethod
    def name(run_module):
        return run_module.__module__.rsplit('.', 1)[-1][len('fnls_step_'):]

    def __call__(self, parent, run_module, params, check_mode=None):
        name = self.name(run_module)
        self.calls.append((name, dict(params), parent.check_mode if check_mode is None else check_mode))
        answer = self.answers.get(name, self.DEFAULTS[name])
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer(params)
        out = dict(changed=False)
        out.update(answer)
        return out

    def names(self):
        return [c[0] for c in self.calls]

    def params(self, name):
        return [c[1] for c in self.calls if c[0] == name]


@pytest.fixture
def steps():
    rec = Steps()

    def install(**answers):
        rec.answers = answers
        return rec

    with mock.patch.object(pair_converge, 'run_step', rec), mock.patch.object(fnls_phase, 'run_step', rec), \
            mock.patch.object(pair_converge, 'sleep', lambda s: None):
        yield install


def main_args(**kw):
    a = dict(name='flexnetls-demo', role='main', pair='site-a', main='lls-a', backup='lls-b',
             admin_password=PASSWORD, restarted=True, sync_checked=True,
             backoffice=dict(url='http://fno.example.com:8888', password=BO_PASSWORD),
             repairs=[dict(device_id='FNLS-000002', server_ids=[Y])],
             manual_device=dict(server_ids=[X, Y], alias='site-a'),
             wait=dict(evidence=['status', 'backoffice'], main_hostid=X, backup_hostid=Y,
                       since='2026-12-02T06:59:00.000Z', wait_timeout=30),
             step5={'licensing.main.uri': 'http://lls-a:7070/fne/bin/capability'},
             rights=dict(rights=[dict(id='ACT-0001', count=2)]),
             verify=dict(main_hostid=X, backup_hostid=Y, backup_hostids=[Y], main_name='lls-a', backup_name='lls-b'),
             lock=dict(path='/run/fnls-failover-site-a.lock', owner=OWNER))
    a.update(kw)
    return a


def backup_args(**kw):
    a = dict(name='flexnetls-demo', role='backup', pair='site-a', admin_password=PASSWORD,
             guard=dict(guard_main_url='http://lls-a:7070', guard_backup_hostid=Y, guard_wait=60),
             step4={'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': 'http://lls-a:7070/fne/bin/sync'},
             sync=dict(main_hostid=X),
             features=dict(names=['f1', 'f2'], timeout=5))
    a.update(kw)
    return a


def test_documentation():
    returns = check_documentation(pair_converge)
    assert {'timeline', 'result', 'start', 'wait', 'verify', 'lock', 'sync', 'features'} <= set(returns)


def test_main_runs_its_steps_in_order(steps):
    rec = steps()
    res = run(pair_converge, main_args())
    assert not res.get('failed'), res
    assert rec.names() == ['device', 'device', 'server', 'backoffice_wait', 'config', 'rights', 'pair_info',
                           'pair_lock']
    repair, create = rec.params('device')
    assert repair['state'] == 'absent' and repair['device_id'] == 'FNLS-000002' and repair['server_ids'] == [Y]
    assert create['state'] == 'present' and create['server_ids'] == [X, Y] and create['alias'] == 'site-a'
    assert create['backoffice_url'] == 'http://fno.example.com:8888' and create['backoffice_user'] == 'admin'
    assert create['backoffice_password'] == BO_PASSWORD
    start = rec.params('server')[0]
    assert start['state'] == 'started' and start['name'] == 'flexnetls-demo' and start['ready_timeout'] == 120
    assert not any(k.startswith('guard_') for k in start)
    wait = rec.params('backoffice_wait')[0]
    # the contact must follow this run's start of the main
    assert wait['since'] == '2026-12-02T07:00:00.000Z' and wait['main_hostid'] == X and wait['wait_timeout'] == 30
    assert wait['backoffice_password'] == BO_PASSWORD and wait['evidence'] == ['status', 'backoffice']
    assert rec.params('config')[0]['settings'] == main_args()['step5']
    assert rec.params('rights')[0]['rights'] == [dict(id='ACT-0001', count=2)]
    assert rec.params('pair_info')[0]['backup_hostids'] == [Y]
    assert rec.params('pair_lock')[0] == dict(path='/run/fnls-failover-site-a.lock', owner=OWNER, state='absent')
    assert [t['step'] for t in res['timeline']] == [
        'repairs[0]', 'manual_device', 'start', 'wait', 'step5', 'rights', 'verify', 'lock']
    assert all(ISO.match(t['started']) and t['seconds'] >= 0 for t in res['timeline'])
    assert res['changed'] is True
    assert res['repairs'] == [dict(changed=True, deleted=[], device=None)]
    assert res['wait']['source'] == 'status' and res['lock'] == dict(acquired=True)
    assert res['result'] == dict(
        pair='site-a', main='lls-a', backup='lls-b', main_hostid=X, backup_hostid=Y, device_id='FNLS-000001',
        confirmed_by='status', restarted=True, backoffice_checked=True, sync_checked=True,
        portal_url='http://fno.example.com:8888/portal/servers/FNLS-000001')
    assert BO_PASSWORD not in repr(res) and PASSWORD not in repr(res)


def test_main_given_nothing_but_the_start(steps):
    rec = steps(server=dict(changed=False, started_at=None))
    res = run(pair_converge, dict(name='flexnetls-demo', role='main', pair='site-a', admin_password=PASSWORD,
                                  portal_url='http://fno/portal/'))
    assert rec.names() == ['server'] and res['changed'] is False
    assert res['result'] == dict(pair='site-a', main='', backup='', main_hostid='', backup_hostid='', device_id='',
                                 confirmed_by='', restarted=False, backoffice_checked=False, sync_checked=False,
                                 portal_url='http://fno/portal/')
    assert res['lock'] is None and res['repairs'] == [] and res['verify'] is None


def test_main_wait_since_given_when_the_main_ran(steps):
    rec = steps(server=dict(changed=False, started_at=None, was_running=True))
    run(pair_converge, main_args(repairs=[], manual_device=None))
    assert rec.params('backoffice_wait')[0]['since'] == '2026-12-02T06:59:00.000Z'


def test_main_portal_url_and_profile_path(steps):
    steps()
    res = run(pair_converge, main_args(portal_url='https://eup.example.com/portal//',
                                       profile={'portal': {'server_path': 'view/{device_id}/show'}}))
    assert res['result']['portal_url'] == 'https://eup.example.com/portal/view/FNLS-000001/show'


def test_main_backoffice_from_the_group_options(steps):
    rec = steps()
    a = main_args(backoffice=None, backoffice_url='http://bo:8888', backoffice_password=BO_PASSWORD)
    res = run(pair_converge, a)
    assert not res.get('failed'), res
    assert rec.params('pair_info')[0]['backoffice_url'] == 'http://bo:8888'
    assert res['result']['portal_url'] == 'http://bo:8888/portal/servers/FNLS-000001'


def test_main_failure_stops_there_and_releases_the_lock(steps):
    msg = ('The main server did not confirm contact with the back office within 30 s; its last error: '
           'connection refused (source status). Check that the main can reach it, then rerun.')
    rec = steps(backoffice_wait=StepFailed(msg, dict(confirmed=False, waited=30.0)))
    res = run(pair_converge, main_args())
    assert_plain_failure(res, PASSWORD, BO_PASSWORD)
    assert res['msg'] == 'Pair site-a: ' + msg.rstrip('.') + RELEASED
    assert rec.names() == ['device', 'device', 'server', 'backoffice_wait', 'pair_lock']
    assert res['failed_step'] == 'wait' and res['wait'] == dict(confirmed=False, waited=30.0)
    assert [t['step'] for t in res['timeline']] == ['repairs[0]', 'manual_device', 'start', 'wait', 'lock']
    assert res['step5'] is None and res['verify'] is None
    assert res['changed'] is True     # the repair, the device and the start did change the pair
    assert res['result']['confirmed_by'] == '' and res['result']['device_id'] == ''


def test_main_failure_of_the_first_step_releases_the_lock(steps):
    rec = steps(device=StepFailed('Deleting device FNLS-000002 failed: the back office refused it.', {}))
    res = run(pair_converge, main_args())
    assert res['msg'] == 'Pair site-a: Deleting device FNLS-000002 failed: the back office refused it' + RELEASED
    assert rec.names() == ['device', 'pair_lock'] and res['failed_step'] == 'repairs[0]'


def test_message_with_the_prefix_is_not_prefixed_again(steps):
    steps(server=StepFailed('Pair site-a: the main did not start.', {}))
    res = run(pair_converge, main_args(lock=None))
    assert res['msg'] == 'Pair site-a: the main did not start.'


def test_lock_release_problem_is_said(steps):
    steps(config=StepFailed('Setting the policy failed.', {}),
          pair_lock=dict(acquired=False, msg='The lock is held by another run (run x); left in place.'))
    res = run(pair_converge, main_args())
    assert res['msg'] == ('Pair site-a: Setting the policy failed; releasing the pair\'s lock failed too: The lock is '
                          'held by another run (run x); left in place.')
    assert res['lock'] == dict(acquired=False, msg='The lock is held by another run (run x); left in place.')


def test_unforeseen_error_releases_the_lock(steps):
    rec = steps(rights=lambda params: 1 / 0)
    res = run(pair_converge, main_args())
    assert res['failed'] and res['msg'].startswith('Pair site-a: converging the main failed: ')
    assert res['msg'].endswith(RELEASED) and rec.names()[-1] == 'pair_lock'


def test_verify_not_registered_fails(steps):
    rec = steps(pair_info=dict(state='backup_is_main', pair=None, backup_as_main=[],
                               explanation='The back-up was registered as a main server.',
                               hint='Delete device FNLS-000002 and rerun.'))
    res = run(pair_converge, main_args())
    assert res['msg'] == ('Pair site-a: the back office does not show the pair as expected: The back-up was '
                          'registered as a main server. Delete device FNLS-000002 and rerun' + RELEASED)
    assert res['failed_step'] == 'verify' and res['verify']['state'] == 'backup_is_main'
    assert rec.names()[-1] == 'pair_lock'


def test_verify_backup_held_as_main_fails(steps):
    steps(pair_info=dict(state='registered', pair={'deviceId': 'FNLS-000001'},
                         backup_as_main=[{'deviceId': 'FNLS-000009', 'hostid': '0A1B2C3D4E60/VM_UUID'}]))
    res = run(pair_converge, main_args())
    assert res['msg'].startswith("Pair site-a: the back office holds the back-up lls-b's hostid 0A1B2C3D4E60/VM_UUID "
                                 "as a main server (device FNLS-000009)")
    assert res['result']['device_id'] == 'FNLS-000001'


def test_main_check_mode_waits_for_nothing(steps):
    rec = steps()
    res = run(pair_converge, main_args(), check=True)
    assert not res.get('failed'), res
    assert rec.names() == ['device', 'device', 'server', 'config', 'rights', 'pair_lock']
    assert all(check for _n, _p, check in rec.calls)
    assert res['wait']['skipped'] is True and res['verify']['skipped'] is True
    assert res['result']['confirmed_by'] == '' and res['result']['device_id'] == ''


def test_main_check_mode_failure_says_nothing_of_the_lock(steps):
    steps(config=StepFailed('Setting the policy failed.', {}))
    res = run(pair_converge, main_args(), check=True)
    assert res['msg'] == 'Pair site-a: Setting the policy failed.'


def test_main_refuses_backup_options_and_releases_the_lock(steps):
    rec = steps()
    res = run(pair_converge, main_args(sync=dict(main_hostid=X)))
    assert res['msg'] == ('Pair site-a: sync is for the back-up (role=backup) only; this host has role=main. Nothing '
                          'was changed' + RELEASED)
    assert rec.names() == ['pair_lock'] and res['failed_step'] == 'options'


def test_main_repairs_need_the_backoffice(steps):
    rec = steps()
    res = run(pair_converge, main_args(backoffice=None))
    assert res['msg'].startswith('Pair site-a: repairs, manual_device, verify need the back office')
    assert rec.names() == ['pair_lock']


def test_backup_runs_its_steps_in_order(steps):
    rec = steps(server_info=[dict(status=None, status_error='the server is still starting'),
                             dict(status={'features': [{'name': 'f1'}]}),
                             dict(status={'features': [{'name': 'f1'}, {'name': 'f2'}]})])
    res = run(pair_converge, backup_args())
    assert not res.get('failed'), res
    assert rec.names() == ['server', 'config', 'sync_wait', 'server_info', 'server_info', 'server_info']
    start = rec.params('server')[0]
    assert start['state'] == 'started' and start['guard_main_url'] == 'http://lls-a:7070'
    assert start['guard_backup_hostid'] == Y and start['guard_wait'] == 60
    assert 'guard_evidence' not in start         # not given: the server step's own default
    sync = rec.params('sync_wait')[0]
    assert sync['main_hostid'] == X and sync['since'] == '2026-12-02T07:00:00.000Z'
    assert 'timeout' not in sync                 # the request timeout is not sync_wait's whole wait
    assert [t['step'] for t in res['timeline']] == ['start', 'step4', 'sync', 'features']
    assert res['features'] == dict(names=['f1', 'f2'], held=['f1', 'f2'], waited=res['features']['waited'], polls=3)
    assert res['result'] is None and 'lock' not in res and 'wait' not in res


def test_backup_sync_failure_stops_there(steps):
    msg = ('The back-up is not in sync with the main: the main refused the sync (not the registered back-up). '
           'Nothing can fail over to it until the main accepts its sync.')
    rec = steps(sync_wait=StepFailed(msg, dict(synced=False, state='refused')))
    res = run(pair_converge, backup_args())
    assert res['msg'] == 'Pair site-a: ' + msg and res['failed_step'] == 'sync'
    assert rec.names() == ['server', 'config', 'sync_wait'] and res['sync']['state'] == 'refused'


def test_backup_features_not_held_in_time(steps):
    rec = steps(server_info=dict(status={'features': [{'name': 'f1'}]}))
    ticks = iter(range(100))
    with mock.patch.object(fnls_phase, 'clock', lambda: float(next(ticks))):
        res = run(pair_converge, backup_args())
    assert res['msg'].startswith('Pair site-a: the back-up does not hold the feature(s) f2 after 5 s (it holds f1)')
    assert res['failed_step'] == 'features' and res['features']['held'] == ['f1']
    assert rec.names()[:3] == ['server', 'config', 'sync_wait']


def test_backup_check_mode_waits_for_nothing(steps):
    rec = steps()
    res = run(pair_converge, backup_args(), check=True)
    assert rec.names() == ['server', 'config'] and all(c for _n, _p, c in rec.calls)
    assert res['sync']['skipped'] is True and res['features']['skipped'] is True


def test_backup_without_start(steps):
    rec = steps()
    res = run(pair_converge, backup_args(start=False, guard=None, features=None))
    assert rec.names() == ['config', 'sync_wait'] and res['start'] is None
    assert 'since' not in rec.params('sync_wait')[0]


def test_backup_refuses_main_options(steps):
    rec = steps()
    res = run(pair_converge, backup_args(lock=dict(path='/run/x.lock', owner=OWNER), wait=dict(main_hostid=X)))
    assert res['msg'] == ('Pair site-a: wait, lock are for the main (role=main) only; this host has role=backup. '
                          'Nothing was changed.')
    assert rec.names() == []


# -- real steps -----------------------------------------------------------------------------------------------
@pytest.fixture
def svc():
    fake = FakeService()

    def run_command(self, argv, **kw):
        return fake(self, argv, **kw)

    with mock.patch.object(basic.AnsibleModule, 'run_command', run_command), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path',
                              lambda self, name, required=False, opt_dirs=None: '/usr/sbin/' + name):
        yield fake


def iso(offset):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000)


def test_real_backup_guard_refusal_fails_and_does_not_start(svc):
    main = stubs.FakeLicenseServer(status=stubs.make_status(last_success=None, last_error='connection refused',
                                                            boot_id='main-7'))
    own = stubs.FakeLicenseServer()
    try:
        res = run(pair_converge, backup_args(
            server_url=own.url, ready_timeout=5,
            guard=dict(guard_main_url=main.url, guard_backup_hostid=Y, guard_evidence=['status'])))
    finally:
        main.stop()
        own.stop()
    assert_plain_failure(res, PASSWORD)
    assert res['msg'] == 'Pair site-a: ' + refusal(main.url, 'last error: connection refused')
    assert svc.actions() == []                   # the back-up was not started
    assert own.posts == []                       # and Step 4 was not run
    assert res['failed_step'] == 'start' and res['start']['guard']['passed'] is False
    assert res['step4'] is None and res['sync'] is None
    assert [t['step'] for t in res['timeline']] == ['start']


def test_real_backup_guard_passes_and_starts(svc):
    main = stubs.FakeLicenseServer(status=stubs.make_status(last_success=stubs.ts(4), boot_id='main-7',
                                                            backup_hostid=Y))
    own = stubs.FakeLicenseServer()
    try:
        res = run(pair_converge, backup_args(
            server_url=own.url, ready_timeout=5, sync=None, features=None,
            guard=dict(guard_main_url=main.url, guard_backup_hostid=Y, guard_evidence=['status'])))
    finally:
        main.stop()
        own.stop()
    assert not res.get('failed'), res
    assert svc.actions() == ['start'] and res['start']['guard']['passed'] is True
    assert own.posts == [{'fne.syncTo.enabled': 'true', 'fne.syncTo.mainUri': 'http://lls-a:7070/fne/bin/sync'}]
    assert res['changed'] is True


def test_real_main_run_and_its_lock(svc, tmp_path):
    lock = str(tmp_path / 'fnls-failover-site-a.lock')
    ok, _r = pair_lock.acquire(dict(path=lock, state='present', owner=OWNER, controller='ctl', controller_pid=0,
                                    ttl=3600, wait=0, grace=5, force=False, force_owner=''))
    assert ok
    own = stubs.FakeLicenseServer(status=stubs.make_status(last_success=iso(60), started_at=iso(-1)))
    bo = stubs.FakeBackOffice(password=BO_PASSWORD, devices=[stubs.FakeBackOffice.make('FNLS-000001', [X, Y])])
    try:
        a = main_args(server_url=own.url, ready_timeout=5, repairs=[], manual_device=None, rights=None,
                      backoffice=dict(url=bo.url, password=BO_PASSWORD),
                      wait=dict(evidence=['status'], wait_timeout=5, poll_interval=0.05),
                      lock=dict(path=lock, owner=OWNER))
        res = run(pair_converge, a)
    finally:
        own.stop()
        bo.stop()
    assert not res.get('failed'), res
    assert svc.actions() == ['start']
    assert res['wait']['confirmed'] is True and res['wait']['source'] == 'status'
    assert res['step5']['changed_keys'] == ['licensing.main.uri']
    assert res['verify']['state'] == 'registered'
    assert not os.path.exists(lock) and res['lock']['acquired'] is True
    assert res['result']['device_id'] == 'FNLS-000001' and res['result']['confirmed_by'] == 'status'
    assert [t['step'] for t in res['timeline']] == ['start', 'wait', 'step5', 'verify', 'lock']
    assert PASSWORD not in repr(res) and BO_PASSWORD not in repr(res)


def test_real_main_failure_releases_the_lock(svc, tmp_path):
    lock = str(tmp_path / 'fnls-failover-site-a.lock')
    pair_lock.acquire(dict(path=lock, state='present', owner=OWNER, controller='ctl', controller_pid=0,
                           ttl=3600, wait=0, grace=5, force=False, force_owner=''))
    own = stubs.FakeLicenseServer(password='another-password')
    try:
        res = run(pair_converge, main_args(server_url=own.url, ready_timeout=5, repairs=[], manual_device=None,
                                           wait=None, rights=None, verify=None, lock=dict(path=lock, owner=OWNER)))
    finally:
        own.stop()
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Pair site-a: ') and res['msg'].endswith(RELEASED)
    assert res['failed_step'] == 'step5'
    assert not os.path.exists(lock)
