# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""local_settings on a systemd drop-in and on local-configuration.yaml, run through the shared module harness:
the form chosen, check mode, diff, backup, idempotence, the daemon-reload (with systemctl mocked), refusals,
and what the module returns when it reads a key."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
from unittest import mock

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.fnls.failover.plugins.modules import local_settings
from ansible_collections.fnls.failover.plugins.module_utils import fnls_step_local_settings
from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    argument_spec_of, run)

HOSTID = '0A1B2C3D4E60/ETHERNET'
SYSTEMCTL = '/usr/bin/systemctl'

VENDOR = (
    b'# Installed by install-systemd.sh\n'
    b'[Service]\n'
    b'Environment="JVMOPTS=-server -Xms1750m -Xmx1750m"\n'
    b'Environment="PORT=7070" "BACKUP_SERVER_HOSTID=000C2909B6BD/ETHERNET" "EXTRA_SYSPROPERTIES=-Dfoo=bar"\n'
    b'Environment=ACTIVE_HOSTID=445566778899/ETHERNET\n'
)

LOCAL = (
    b'# Local configuration of the license server\n'
    b'active-hostid: 445566778899/ETHERNET   # pinned\n'
    b'loggingStyle: DAILY_ROLLOVER\n'
    b'\n'
    b'https-in:\n'
    b'  enabled: false\n'
    b'  keystore-path: /opt/flexnetls/demo/keystore.p12\n'
)


def backups(path):
    return sorted(glob.glob(str(path) + '.*~'))


class Systemd(object):
    """systemctl as the module sees it: where get_bin_path finds it, what run_command answers, what was run."""

    def __init__(self, tmp_path):
        self.run_dir = tmp_path / 'run-systemd-system'
        self.run_dir.mkdir()
        self.path = SYSTEMCTL
        self.rc, self.err = 0, ''
        self.calls = []

    def get_bin_path(self, name, *args, **kwargs):
        return self.path if name == 'systemctl' else None

    def run_command(self, args, *a, **kw):
        self.calls.append(list(args))
        return self.rc, '', self.err


@pytest.fixture
def systemd(tmp_path):
    fake = Systemd(tmp_path)
    with mock.patch.object(fnls_step_local_settings, 'SYSTEMD_RUN_DIR', str(fake.run_dir)), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path', fake.get_bin_path), \
            mock.patch.object(basic.AnsibleModule, 'run_command', fake.run_command):
        yield fake


@pytest.fixture
def unit_dir(tmp_path):
    directory = tmp_path / 'etc-systemd-system' / 'flexnetls-demo.service.d'
    directory.mkdir(parents=True)
    return directory


def plain_failure(result, *words):
    assert result.get('failed') is True, result
    assert 'Traceback' not in result['msg'] and '\n' not in result['msg'], result['msg']
    for word in words:
        assert word in result['msg'], result['msg']


# ---------------------------------------------------------------------------------------------- systemd

def test_owned_dropin_is_created_and_systemd_reloaded_once(systemd, unit_dir):
    path = unit_dir / 'failover-pair.conf'
    args = {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}}
    expected = b'[Service]\nEnvironment="BACKUP_SERVER_HOSTID=%s"\n' % HOSTID.encode()

    check = run(local_settings, args, check=True, diff=True)
    assert check['changed'] is True and check['form'] == 'systemd'
    assert check['diff']['before'] == '' and check['diff']['after'] == expected.decode()
    assert check['daemon_reloaded'] is False and check['daemon_reload_skipped'] == 'check_mode'
    assert not path.exists() and systemd.calls == []

    result = run(local_settings, args)
    assert result['changed'] is True
    assert path.read_bytes() == expected
    assert result['daemon_reloaded'] is True and 'daemon_reload_skipped' not in result
    assert systemd.calls == [[SYSTEMCTL, 'daemon-reload']]
    assert 'backup_file' not in result
    assert result['previous'] == {'BACKUP_SERVER_HOSTID': None}
    assert result['settings'] == {'BACKUP_SERVER_HOSTID': HOSTID}

    again = run(local_settings, args)
    assert again['changed'] is False and again['daemon_reloaded'] is False
    assert 'daemon_reload_skipped' not in again
    assert systemd.calls == [[SYSTEMCTL, 'daemon-reload']]       # no second reload
    assert path.read_bytes() == expected


def test_missing_dropin_directory_is_made_when_the_unit_directory_exists(systemd, tmp_path):
    directory = tmp_path / 'flexnetls-demo.service.d'
    path = directory / 'failover-pair.conf'
    check = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}}, check=True)
    assert check['changed'] is True and not directory.exists()
    result = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    assert result['changed'] is True and result['daemon_reloaded'] is True
    assert os.stat(str(directory)).st_mode & 0o777 == 0o755
    assert path.read_bytes() == b'[Service]\nEnvironment="BACKUP_SERVER_HOSTID=%s"\n' % HOSTID.encode()


def test_dropin_directory_is_not_made_anywhere(systemd, tmp_path):
    path = tmp_path / 'absent' / 'flexnetls-demo.service.d' / 'failover-pair.conf'
    result = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    plain_failure(result, 'does not exist', 'create it or check the path')
    assert not (tmp_path / 'absent').exists() and systemd.calls == []


def test_dropin_create_false_fails_when_missing(systemd, unit_dir):
    path = unit_dir / 'failover-pair.conf'
    result = run(local_settings, {'path': str(path), 'create': False, 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    plain_failure(result, 'does not exist', 'create=true')
    assert not path.exists()


@pytest.mark.parametrize('where', ['unit', 'nowhere'])
def test_removing_from_a_missing_dropin_creates_nothing(systemd, unit_dir, tmp_path, where):
    directory = unit_dir if where == 'unit' else tmp_path / 'absent' / 'flexnetls-demo.service.d'
    path = directory / 'failover-pair.conf'
    result = run(local_settings, {'path': str(path), 'state': 'absent', 'settings': {'BACKUP_SERVER_HOSTID': None}})
    assert result['changed'] is False and result['previous'] == {'BACKUP_SERVER_HOSTID': None}
    assert result['daemon_reloaded'] is False and 'daemon_reload_skipped' not in result
    assert not path.exists() and systemd.calls == []
    assert not (tmp_path / 'absent').exists()


def test_vendor_dropin_one_word_changes_with_diff_backup_and_mode_kept(systemd, unit_dir):
    path = unit_dir / 'flexnetls.conf'
    path.write_bytes(VENDOR)
    os.chmod(str(path), 0o640)
    inode = os.stat(str(path)).st_ino
    args = {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}}
    expected = VENDOR.replace(b'"BACKUP_SERVER_HOSTID=000C2909B6BD/ETHERNET"', b'"BACKUP_SERVER_HOSTID=%s"' % HOSTID.encode())

    result = run(local_settings, args, diff=True)
    assert result['changed'] is True and result['form'] == 'systemd'
    assert path.read_bytes() == expected
    assert result['diff'] == {'before': VENDOR.decode(), 'after': expected.decode(),
                              'before_header': str(path), 'after_header': str(path)}
    assert result['previous'] == {'BACKUP_SERVER_HOSTID': '000C2909B6BD/ETHERNET'}
    assert backups(path) == [result['backup_file']]
    with open(result['backup_file'], 'rb') as handle:
        assert handle.read() == VENDOR
    after = os.stat(str(path))
    assert after.st_mode & 0o7777 == 0o640 and after.st_ino != inode
    assert systemd.calls == [[SYSTEMCTL, 'daemon-reload']]

    again = run(local_settings, args, diff=True)
    assert again['changed'] is False and again['diff']['before'] == again['diff']['after']
    assert len(backups(path)) == 1 and len(systemd.calls) == 1


def test_vendor_dropin_state_absent_removes_the_word_only(systemd, unit_dir):
    path = unit_dir / 'flexnetls.conf'
    path.write_bytes(VENDOR)
    args = {'path': str(path), 'state': 'absent', 'settings': {'BACKUP_SERVER_HOSTID': 'ignored'}}
    result = run(local_settings, args)
    assert result['changed'] is True
    assert path.read_bytes() == VENDOR.replace(b' "BACKUP_SERVER_HOSTID=000C2909B6BD/ETHERNET"', b'')
    assert result['settings'] == {'BACKUP_SERVER_HOSTID': None}
    assert run(local_settings, args)['changed'] is False
    assert len(systemd.calls) == 1


@pytest.mark.parametrize('setup, skipped', [
    (lambda fake: None, None),
    (lambda fake: setattr(fake, 'path', None), 'no_systemctl'),
    (lambda fake: fake.run_dir.rmdir(), 'systemd_not_running'),
])
def test_daemon_reload_is_skipped_with_a_reason_where_there_is_no_systemd(systemd, unit_dir, setup, skipped):
    setup(systemd)
    path = unit_dir / 'failover-pair.conf'
    result = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    assert result['changed'] is True and path.exists()
    assert result['daemon_reloaded'] is (skipped is None)
    assert result.get('daemon_reload_skipped') == skipped
    assert systemd.calls == ([] if skipped else [[SYSTEMCTL, 'daemon-reload']])


def test_daemon_reload_can_be_turned_off(systemd, unit_dir):
    path = unit_dir / 'failover-pair.conf'
    result = run(local_settings, {'path': str(path), 'daemon_reload': False, 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    assert result['changed'] is True and path.exists()
    assert result['daemon_reloaded'] is False and result['daemon_reload_skipped'] == 'disabled'
    assert systemd.calls == []


def test_failed_daemon_reload_fails_saying_the_dropin_was_written(systemd, unit_dir):
    systemd.rc, systemd.err = 1, 'Failed to reload daemon: Access denied'
    path = unit_dir / 'failover-pair.conf'
    result = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    plain_failure(result, 'was written', 'daemon-reload failed', 'Access denied', 'before restarting')
    assert result['changed'] is True and path.exists()


def test_no_reload_in_the_other_forms(systemd, tmp_path):
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(b'PORT=7070\n')
    result = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    assert result['changed'] is True and result['form'] == 'shell'
    assert 'daemon_reloaded' not in result and systemd.calls == []


def test_continued_line_is_refused_naming_the_line(systemd, unit_dir):
    path = unit_dir / 'flexnetls.conf'
    data = b'[Service]\nEnvironment=PORT=7070 \\\n  BACKUP_SERVER_HOSTID=x/ETHERNET\n'
    path.write_bytes(data)
    result = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    plain_failure(result, 'line 2', 'backslash', 'by hand', 'systemd form')
    assert path.read_bytes() == data and backups(path) == [] and systemd.calls == []


@pytest.mark.parametrize('settings, words', [
    ({'1BAD': 'x'}, ['not a valid setting name for the systemd form']),
    ({'backup-server-hostid': 'x'}, ['not a valid setting name for the systemd form']),
    ({'BACKUP_SERVER_HOSTID': 'a\nb'}, ['single line']),
    ({'BACKUP_SERVER_HOSTID': True}, ['quote it']),
])
def test_systemd_bad_input_is_refused_before_touching_the_file(systemd, unit_dir, settings, words):
    path = unit_dir / 'flexnetls.conf'
    path.write_bytes(VENDOR)
    plain_failure(run(local_settings, {'path': str(path), 'settings': settings}), *words)
    assert path.read_bytes() == VENDOR and systemd.calls == []


# ---------------------------------------------------------------------------------------------- yaml

@pytest.fixture
def yaml_path(tmp_path):
    path = tmp_path / 'local-configuration.yaml'
    path.write_bytes(LOCAL)
    return path


def test_yaml_check_mode_apply_backup_diff_and_idempotence(yaml_path):
    args = {'path': str(yaml_path), 'settings': {'backup-server-hostid': HOSTID}}
    expected = LOCAL + b'backup-server-hostid: %s\n' % HOSTID.encode()

    check = run(local_settings, args, check=True, diff=True)
    assert check['changed'] is True and check['form'] == 'yaml'
    assert check['diff']['after'] == expected.decode()
    assert yaml_path.read_bytes() == LOCAL and backups(yaml_path) == []
    assert 'daemon_reloaded' not in check

    result = run(local_settings, args, diff=True)
    assert result['changed'] is True
    assert yaml_path.read_bytes() == expected
    assert result['diff']['before'] == LOCAL.decode() and result['diff']['after'] == expected.decode()
    assert result['previous'] == {'backup-server-hostid': None}
    assert result['settings'] == {'backup-server-hostid': HOSTID}
    with open(result['backup_file'], 'rb') as handle:
        assert handle.read() == LOCAL
    assert yaml.safe_load(yaml_path.read_bytes()) == {
        'active-hostid': '445566778899/ETHERNET', 'loggingStyle': 'DAILY_ROLLOVER',
        'https-in': {'enabled': False, 'keystore-path': '/opt/flexnetls/demo/keystore.p12'},
        'backup-server-hostid': HOSTID}

    again = run(local_settings, args)
    assert again['changed'] is False and again['previous'] == {'backup-server-hostid': HOSTID}
    assert len(backups(yaml_path)) == 1


def test_yaml_typed_values_and_quoting(yaml_path):
    settings = {'port': 7071, 'enabled-flag': True, 'note': 'yes', 'code': '0012', 'url': 'http://h:7070/x'}
    result = run(local_settings, {'path': str(yaml_path), 'settings': settings, 'backup': False})
    assert result['changed'] is True
    assert result['settings'] == {'port': '7071', 'enabled-flag': 'true', 'note': 'yes', 'code': '0012',
                                  'url': 'http://h:7070/x'}
    loaded = yaml.safe_load(yaml_path.read_bytes())
    assert [loaded[k] for k in settings] == [7071, True, 'yes', '0012', 'http://h:7070/x']
    assert yaml_path.read_bytes().startswith(LOCAL)
    assert run(local_settings, {'path': str(yaml_path), 'settings': settings})['changed'] is False


def test_yaml_replace_and_remove_keep_every_other_byte(yaml_path):
    result = run(local_settings, {'path': str(yaml_path), 'settings': {'active-hostid': '0A1B2C3D4E5F/ETHERNET'}})
    assert result['previous'] == {'active-hostid': '445566778899/ETHERNET'}
    assert yaml_path.read_bytes() == LOCAL.replace(b'445566778899/ETHERNET', b'0A1B2C3D4E5F/ETHERNET')
    result = run(local_settings, {'path': str(yaml_path), 'settings': {'active-hostid': None, 'loggingStyle': None}})
    assert result['changed'] is True
    assert yaml_path.read_bytes() == LOCAL.replace(b'active-hostid: 445566778899/ETHERNET   # pinned\n', b'').replace(
        b'loggingStyle: DAILY_ROLLOVER\n', b'')


@pytest.mark.parametrize('data, where, what', [
    (b'a: 1\nbackup-server-hostid: |\n  0A1B2C3D4E60/ETHERNET\n', 'line 2', 'block scalar'),
    (b'backup-server-hostid:\n  value: x\n', 'line 1', 'nested mapping'),
    (b'backup-server-hostid: [a, b]\n', 'line 1', 'flow collection'),
    (b'backup-server-hostid: a\nx: 1\nbackup-server-hostid: b\n', 'lines 1, 3', '2 times'),
])
def test_yaml_refusals_name_the_line_and_change_nothing(tmp_path, data, where, what):
    path = tmp_path / 'local-configuration.yml'
    path.write_bytes(data)
    for state in ('present', 'absent'):
        result = run(local_settings, {'path': str(path), 'state': state, 'settings': {'backup-server-hostid': HOSTID}})
        plain_failure(result, str(path), 'yaml form', where, what, 'by hand')
    assert path.read_bytes() == data and backups(path) == []


@pytest.mark.parametrize('settings, words', [
    ({'bad key': 'x'}, ['not a valid setting name for the yaml form']),
    ({'backup-server-hostid': 'a\rb'}, ['single line']),
    ({'backup-server-hostid': 1.5}, ['quote it']),
    ({'backup-server-hostid': ['a']}, ['quote it']),
])
def test_yaml_bad_input_is_refused_before_touching_the_file(yaml_path, settings, words):
    plain_failure(run(local_settings, {'path': str(yaml_path), 'settings': settings}), *words)
    assert yaml_path.read_bytes() == LOCAL


def test_yaml_missing_file_is_not_created_unless_asked(tmp_path):
    path = tmp_path / 'local-configuration.yaml'
    plain_failure(run(local_settings, {'path': str(path), 'settings': {'active-hostid': HOSTID}}), 'does not exist')
    assert not path.exists()
    result = run(local_settings, {'path': str(path), 'create': True, 'settings': {'active-hostid': HOSTID}})
    assert result['changed'] is True and path.read_bytes() == b'active-hostid: %s\n' % HOSTID.encode()


# ---------------------------------------------------------------------------------------------- forms, reading

@pytest.mark.parametrize('name, data, form, key', [
    ('local-configuration.yaml', LOCAL, 'yaml', 'active-hostid'),
    ('flexnetls-demo.service.d/flexnetls.conf', VENDOR, 'systemd', 'ACTIVE_HOSTID'),
    ('env.conf', VENDOR, 'systemd', 'ACTIVE_HOSTID'),
    ('flexnetls-demo', b'ACTIVE_HOSTID=445566778899/ETHERNET\n', 'shell', 'ACTIVE_HOSTID'),
])
def test_reading_a_key_in_every_form(systemd, tmp_path, name, data, form, key):
    """What a playbook reads the settings with: check mode and state=absent change nothing and return the key's
    value in previous."""
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    result = run(local_settings, {'path': str(path), 'state': 'absent', 'settings': {key: None}}, check=True)
    assert result['form'] == form
    assert result['previous'] == {key: '445566778899/ETHERNET'}
    assert result['changed'] is True and result['settings'] == {key: None}
    assert path.read_bytes() == data and systemd.calls == []


@pytest.mark.parametrize('name, data, form, settings, expected', [
    ('settings.txt', b'[Service]\n', 'systemd', {'A': '1'}, b'[Service]\nEnvironment="A=1"\n'),
    ('flexnetls-demo.service.d/x.conf', b'A=0\n', 'shell', {'A': '1'}, b'A=1\n'),
    ('settings', b'a: 0\n', 'yaml', {'a': 1}, b'a: 1\n'),
])
def test_an_explicit_form_overrides_the_path(systemd, tmp_path, name, data, form, settings, expected):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    result = run(local_settings, {'path': str(path), 'form': form, 'settings': settings, 'backup': False})
    assert result['form'] == form and result['changed'] is True
    assert path.read_bytes() == expected


def test_a_link_in_a_dropin_directory_is_a_dropin_and_stays_a_link(systemd, unit_dir, tmp_path):
    target = tmp_path / 'site-env'
    target.write_bytes(b'[Service]\nEnvironment=PORT=7070\n')
    link = unit_dir / 'site.conf'
    link.symlink_to(target)
    result = run(local_settings, {'path': str(link), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}, 'backup': False})
    assert result['form'] == 'systemd' and result['dest'] == str(target)
    assert os.path.islink(str(link))
    assert target.read_bytes() == b'[Service]\nEnvironment=PORT=7070\nEnvironment="BACKUP_SERVER_HOSTID=%s"\n' % (
        HOSTID.encode())


def test_the_shell_form_is_unchanged(tmp_path):
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(b'PORT=7070\n')
    result = run(local_settings, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    assert result['form'] == 'shell'
    assert path.read_bytes() == b'PORT=7070\nBACKUP_SERVER_HOSTID=%s\n' % HOSTID.encode()
    plain_failure(run(local_settings, {'path': str(path), 'settings': {'backup-server-hostid': HOSTID}}),
                  'not a valid setting name for the shell form')


def test_documentation_matches_the_argument_spec():
    spec, kwargs = argument_spec_of(local_settings)
    doc = yaml.safe_load(local_settings.DOCUMENTATION)
    options = doc['options']
    assert kwargs.get('supports_check_mode') is True and kwargs.get('add_file_common_args') is True
    assert set(spec) == set(options), set(spec) ^ set(options)
    for name, arg in spec.items():
        opt = options[name]
        assert opt.get('type', 'str') == arg.get('type', 'str'), name
        assert opt.get('required', False) == arg.get('required', False), name
        assert opt.get('default') == arg.get('default'), name
        assert opt.get('choices') == arg.get('choices'), name
        assert opt.get('description'), name
    returns = yaml.safe_load(local_settings.RETURN)
    for key in ('form', 'daemon_reloaded', 'daemon_reload_skipped', 'previous', 'settings', 'backup_file'):
        assert returns[key]['description'] and returns[key]['returned'] and returns[key]['type'], key
    examples = yaml.safe_load(local_settings.EXAMPLES)
    assert all('fnls.failover.local_settings' in task for task in examples)
