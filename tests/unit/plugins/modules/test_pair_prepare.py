# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pair_prepare: the main's lock, settings and stop in order as real steps (pair_lock, local_settings, server)
against a settings file, a lock directory and a fake service; the lock released on every failure after it was
taken; the settings file changed since it was read; check mode and diff; the back-up's stop."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

import pytest

from unittest import mock

from ansible.module_utils import basic

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    PASSWORD, assert_plain_failure, check_documentation, run, stubs)
from ansible_collections.fnls.failover.tests.unit.plugins.modules.test_server import FakeService

from ansible_collections.fnls.failover.plugins.modules import pair_lock, pair_prepare

Y = '0A1B2C3D4E60/ETHERNET'
OWNER = 'run-0001'
BEFORE = 'PORT=7070\n'
RELEASED = "; the pair's lock was released."


@pytest.fixture
def svc():
    fake = FakeService(running=True)

    def run_command(self, argv, **kw):
        return fake(self, argv, **kw)

    with mock.patch.object(basic.AnsibleModule, 'run_command', run_command), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path',
                              lambda self, name, required=False, opt_dirs=None: '/usr/sbin/' + name):
        yield fake


@pytest.fixture
def files(tmp_path):
    settings = tmp_path / 'flexnetls-demo'
    settings.write_text(BEFORE)
    return dict(settings=str(settings), lock=str(tmp_path / 'fnls-failover-acme.lock'))


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def args(files, role='main', **kw):
    a = dict(name='flexnetls-demo', role=role, service_manager='service', server_url=stubs.closed_url(),
             admin_password=PASSWORD, stop_timeout=2)
    if role == 'main':
        a['lock'] = dict(path=files['lock'], owner=OWNER, controller='ctl')
        a['settings'] = dict(path=files['settings'], value=Y, backup=False)
    a.update(kw)
    return a


def holder(files):
    with open(os.path.join(files['lock'], 'holder.json')) as fh:
        return json.load(fh)


def test_documentation():
    returns = check_documentation(pair_prepare)
    assert {'lock', 'settings', 'stop', 'diff', 'acquired', 'holder', 'lock_released'} <= set(returns)


def test_main_takes_lock_writes_settings_and_stops(svc, files):
    res = run(pair_prepare, args(files, stop=True))
    assert not res.get('failed'), res
    assert res['changed'] is True
    assert res['lock']['acquired'] is True and res['acquired'] is True and res['lock_released'] is False
    assert holder(files)['owner'] == OWNER          # left held for pair_converge
    assert res['settings']['changed'] is True
    assert res['settings']['previous'] == {'BACKUP_SERVER_HOSTID': None}
    assert res['settings']['settings'] == {'BACKUP_SERVER_HOSTID': Y}
    assert res['checksum'] == sha1(BEFORE)
    with open(files['settings']) as fh:
        text = fh.read()
    assert text.startswith(BEFORE) and 'BACKUP_SERVER_HOSTID=%s' % Y in text
    assert res['stop']['changed'] is True and res['stop']['was_running'] is True and res['stop']['stopped_at']
    assert svc.actions() == ['stop']
    assert 'diff' not in res
    assert PASSWORD not in repr(res)


def test_main_settings_in_place_and_no_stop_changes_nothing(svc, files):
    with open(files['settings'], 'a') as fh:
        fh.write('BACKUP_SERVER_HOSTID=%s\n' % Y)
    res = run(pair_prepare, args(files))
    assert not res.get('failed'), res
    assert res['changed'] is False                  # taking the lock is no change
    assert res['lock']['acquired'] is True and os.path.isdir(files['lock'])
    assert res['settings']['changed'] is False and res['stop'] is None
    assert svc.actions() == []
    # a rerun of the same run holds the lock already: still nothing changed
    again = run(pair_prepare, args(files))
    assert again['changed'] is False and again['lock']['acquired'] is True


def test_key_and_form_from_the_profile(svc, tmp_path, files):
    path = tmp_path / 'local-configuration.yaml'
    path.write_text('server:\n  port: 7070\n')
    a = args(files, profile={'settings': {'backup_hostid_key': 'backup-server-hostid', 'form': 'yaml'}})
    a['settings'] = dict(path=str(path), value=Y, backup=False)
    res = run(pair_prepare, a)
    assert not res.get('failed'), res
    assert res['settings']['form'] == 'yaml' and res['settings']['settings'] == {'backup-server-hostid': Y}


def test_value_null_removes_the_key(svc, files):
    with open(files['settings'], 'a') as fh:
        fh.write('BACKUP_SERVER_HOSTID=%s\n' % Y)
    a = args(files)
    a['settings']['value'] = None
    res = run(pair_prepare, a)
    assert res['changed'] is True and res['settings']['settings'] == {'BACKUP_SERVER_HOSTID': None}
    with open(files['settings']) as fh:
        assert fh.read() == BEFORE


def test_check_mode_takes_no_lock_and_writes_nothing(svc, files):
    res = run(pair_prepare, args(files, stop=True), check=True, diff=True)
    assert not res.get('failed'), res
    assert res['changed'] is True
    assert res['lock']['acquired'] is False and not os.path.exists(files['lock'])
    assert res['settings']['changed'] is True
    assert res['diff']['before'] == BEFORE and 'BACKUP_SERVER_HOSTID=%s' % Y in res['diff']['after']
    assert res['stop']['changed'] is True and res['stop']['commands'][-1].endswith('stop')
    assert svc.actions() == []
    with open(files['settings']) as fh:
        assert fh.read() == BEFORE


def test_diff_mode_returns_the_settings_diff(svc, files):
    res = run(pair_prepare, args(files), diff=True)
    assert res['diff'] == res['settings']['diff']
    assert res['diff']['before_header'] == files['settings']


def test_settings_changed_since_read_releases_the_lock_and_writes_nothing(svc, files):
    a = args(files, stop=True)
    a['settings']['expected_checksum'] = sha1('PORT=7071\n')
    res = run(pair_prepare, a)
    assert_plain_failure(res, PASSWORD)
    assert res['msg'] == ('the settings file %s changed since this run read it; run again (nothing was written)%s'
                          % (files['settings'], RELEASED))
    assert res['lock_released'] is True and not os.path.exists(files['lock'])
    assert res['settings'] is None and res['stop'] is None and res['changed'] is False
    assert svc.actions() == []
    with open(files['settings']) as fh:
        assert fh.read() == BEFORE


def test_settings_as_read_go_on(svc, files):
    a = args(files)
    a['settings']['expected_checksum'] = sha1(BEFORE).upper()
    res = run(pair_prepare, a)
    assert not res.get('failed'), res
    assert res['settings']['changed'] is True


def test_settings_changed_since_read_in_check_mode_names_no_lock(svc, files):
    a = args(files)
    a['settings']['expected_checksum'] = sha1('other')
    res = run(pair_prepare, a, check=True)
    assert res['failed'] and res['msg'].endswith('run again (nothing was written)')
    assert res['lock_released'] is False


def test_lock_held_by_another_run_touches_nothing(svc, files):
    ok, _r = pair_lock.acquire(dict(path=files['lock'], state='present', owner='other-run', controller='ctl-b',
                                    controller_pid=0, ttl=3600, wait=0, grace=5, force=False, force_owner=''))
    assert ok
    res = run(pair_prepare, args(files, stop=True))
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Another run is working on this failover pair: run other-run from ctl-b')
    assert RELEASED not in res['msg']
    assert res['acquired'] is False and res['holder']['owner'] == 'other-run'
    assert res['lock']['acquired'] is False and res['changed'] is False
    assert res['settings'] is None and res['stop'] is None
    assert holder(files)['owner'] == 'other-run'
    assert svc.actions() == []
    with open(files['settings']) as fh:
        assert fh.read() == BEFORE


def test_lock_held_by_another_run_in_check_mode_is_reported(svc, files):
    pair_lock.acquire(dict(path=files['lock'], state='present', owner='other-run', controller='ctl-b',
                           controller_pid=0, ttl=3600, wait=0, grace=5, force=False, force_owner=''))
    res = run(pair_prepare, args(files), check=True)
    assert not res.get('failed'), res
    assert res['lock']['acquired'] is False and res['holder']['owner'] == 'other-run'


def test_settings_failure_releases_the_lock(svc, files, tmp_path):
    a = args(files)
    a['settings']['path'] = str(tmp_path / 'missing')
    res = run(pair_prepare, a)
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('Reading the local settings file, %s does not exist' % (tmp_path / 'missing'))
    assert res['msg'].endswith(RELEASED)
    assert res['lock_released'] is True and not os.path.exists(files['lock'])
    assert svc.actions() == []


def test_stop_failure_releases_the_lock(svc, files):
    own = stubs.FakeLicenseServer()
    try:
        res = run(pair_prepare, args(files, stop=True, server_url=own.url, stop_timeout=0.3))
    finally:
        own.stop()
    assert_plain_failure(res, PASSWORD)
    assert res['msg'].startswith('The license server flexnetls-demo did not stop within 0.3 s')
    assert res['msg'].endswith(RELEASED)
    assert res['lock_released'] is True and not os.path.exists(files['lock'])
    assert res['settings']['changed'] is True and res['changed'] is True


def test_unforeseen_error_releases_the_lock(svc, files):
    with mock.patch.object(pair_prepare, 'file_checksum', side_effect=RuntimeError('boom')):
        res = run(pair_prepare, args(files))
    assert res['failed'] and res['msg'] == 'Preparing the main failed: boom' + RELEASED
    assert not os.path.exists(files['lock'])


def test_main_without_lock_or_settings_only_stops(svc, files):
    res = run(pair_prepare, args(files, stop=True, lock=None, settings=None))
    assert not res.get('failed'), res
    assert res['lock'] is None and res['settings'] is None and res['stop']['changed'] is True
    assert 'acquired' not in res


def test_backup_stops_only_when_asked(svc, files):
    res = run(pair_prepare, args(files, role='backup'))
    assert res == dict(changed=False, role='backup', lock=None, settings=None, stop=None, lock_released=False)
    assert svc.actions() == []
    res = run(pair_prepare, args(files, role='backup', stop=True))
    assert res['changed'] is True and res['stop']['stopped_at'] and svc.actions() == ['stop']


def test_backup_refuses_the_main_options(svc, files):
    res = run(pair_prepare, args(files, role='backup', lock=dict(path=files['lock'], owner=OWNER)))
    assert_plain_failure(res)
    assert res['msg'].startswith('lock and settings are for the main (role=main) only')
    assert not os.path.exists(files['lock']) and svc.actions() == []
