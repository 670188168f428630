# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the local_settings module as Ansible does: a separate Python with its arguments in a file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import subprocess
import sys

import pytest

MODULE = 'ansible_collections.fnls.failover.plugins.modules.local_settings'

ORIGINAL = (
    b'# Local settings of the license server\r\n'
    b'export PORT=7070\r\n'
    b'#BACKUP_SERVER_HOSTID=\r\n'
    b"EXTRA_SYSPROPERTIES='-Dfoo=bar'"
)


def run(tmp_path, args, check=False, diff=False):
    module_args = dict(args)
    module_args['_ansible_check_mode'] = check
    module_args['_ansible_diff'] = diff
    args_file = tmp_path / ('args-%d.json' % len(list(tmp_path.glob('args-*.json'))))
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args}))
    proc = subprocess.run([sys.executable, '-m', MODULE, str(args_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(), check=False)
    try:
        result = json.loads(proc.stdout.decode())
    except ValueError:
        raise AssertionError('module printed no JSON: %r %r' % (proc.stdout, proc.stderr))
    assert ('failed' in result) == (proc.returncode != 0), result
    return result


@pytest.fixture
def settings_path(tmp_path):
    directory = tmp_path / 'etc'
    directory.mkdir()
    path = directory / 'flexnetls-demo'
    path.write_bytes(ORIGINAL)
    return path


def backups(path):
    return sorted(glob.glob(str(path) + '.*~'))


WANTED = {'BACKUP_SERVER_HOSTID': '0A1B2C3D4E60/ETHERNET'}
EXPECTED = (
    b'# Local settings of the license server\r\n'
    b'export PORT=7070\r\n'
    b'#BACKUP_SERVER_HOSTID=\r\n'
    b'BACKUP_SERVER_HOSTID=0A1B2C3D4E60/ETHERNET\r\n'
    b"EXTRA_SYSPROPERTIES='-Dfoo=bar'"
)


def test_check_mode_reports_but_does_not_write(tmp_path, settings_path):
    before = os.stat(str(settings_path))
    result = run(tmp_path, {'path': str(settings_path), 'settings': WANTED}, check=True, diff=True)
    assert result['changed'] is True
    assert settings_path.read_bytes() == ORIGINAL
    assert os.stat(str(settings_path)).st_mtime_ns == before.st_mtime_ns
    assert backups(settings_path) == []
    assert 'backup_file' not in result
    assert result['previous'] == {'BACKUP_SERVER_HOSTID': None}
    assert result['settings'] == WANTED
    assert result['diff']['after'] == EXPECTED.decode()


def test_apply_diff_backup_and_idempotence(tmp_path, settings_path):
    result = run(tmp_path, {'path': str(settings_path), 'settings': WANTED}, diff=True)
    assert result['changed'] is True
    assert settings_path.read_bytes() == EXPECTED
    assert result['diff'] == {
        'before': ORIGINAL.decode(),
        'after': EXPECTED.decode(),
        'before_header': str(settings_path),
        'after_header': str(settings_path),
    }
    assert result['dest'] == str(settings_path)
    assert backups(settings_path) == [result['backup_file']]
    with open(result['backup_file'], 'rb') as handle:
        assert handle.read() == ORIGINAL

    again = run(tmp_path, {'path': str(settings_path), 'settings': WANTED}, diff=True)
    assert again['changed'] is False
    assert again['previous'] == WANTED
    assert 'backup_file' not in again
    assert again['diff']['before'] == again['diff']['after']
    assert settings_path.read_bytes() == EXPECTED
    assert len(backups(settings_path)) == 1

    check_again = run(tmp_path, {'path': str(settings_path), 'settings': WANTED}, check=True)
    assert check_again['changed'] is False


def test_no_diff_key_without_diff_mode(tmp_path, settings_path):
    result = run(tmp_path, {'path': str(settings_path), 'settings': {'PORT': '7071'}})
    assert result['changed'] is True
    assert 'diff' not in result


def test_backup_false(tmp_path, settings_path):
    result = run(tmp_path, {'path': str(settings_path), 'settings': {'PORT': 7071}, 'backup': False})
    assert result['changed'] is True
    assert backups(settings_path) == []
    assert b'export PORT=7071\r\n' in settings_path.read_bytes()
    assert result['settings'] == {'PORT': '7071'}


def test_remove_with_null(tmp_path, settings_path):
    result = run(tmp_path, {'path': str(settings_path), 'settings': {'PORT': None, 'ABSENT': None}})
    assert result['changed'] is True
    assert result['previous'] == {'PORT': '7070', 'ABSENT': None}
    assert result['settings'] == {'PORT': None, 'ABSENT': None}
    assert settings_path.read_bytes() == ORIGINAL.replace(b'export PORT=7070\r\n', b'')
    assert run(tmp_path, {'path': str(settings_path), 'settings': {'PORT': None}})['changed'] is False


def test_symlink_is_kept_and_its_target_written(tmp_path, settings_path):
    link = tmp_path / 'link'
    link.symlink_to(settings_path)
    result = run(tmp_path, {'path': str(link), 'settings': WANTED})
    assert result['changed'] is True
    assert os.path.islink(str(link))
    assert settings_path.read_bytes() == EXPECTED
    assert result['dest'] == str(settings_path)
    assert backups(settings_path) == [result['backup_file']]
    assert run(tmp_path, {'path': str(link), 'settings': WANTED})['changed'] is False


def test_mode_and_owner_are_kept(tmp_path, settings_path):
    os.chmod(str(settings_path), 0o640)
    is_root = os.geteuid() == 0
    if is_root:
        os.chown(str(settings_path), 65534, 65534)
    before = os.stat(str(settings_path))
    run(tmp_path, {'path': str(settings_path), 'settings': WANTED})
    after = os.stat(str(settings_path))
    assert after.st_mode & 0o7777 == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # replaced by a rename, not rewritten in place


def test_mode_option_is_applied_and_idempotent(tmp_path, settings_path):
    os.chmod(str(settings_path), 0o644)
    args = {'path': str(settings_path), 'settings': {'PORT': '7070'}, 'mode': '0600'}
    check = run(tmp_path, args, check=True)
    assert check['changed'] is True
    assert os.stat(str(settings_path)).st_mode & 0o7777 == 0o644
    assert run(tmp_path, args)['changed'] is True
    assert os.stat(str(settings_path)).st_mode & 0o7777 == 0o600
    assert settings_path.read_bytes() == ORIGINAL
    assert run(tmp_path, args)['changed'] is False


def test_missing_file_fails_with_a_clear_message(tmp_path):
    path = tmp_path / 'flexnetls-demo'
    result = run(tmp_path, {'path': str(path), 'settings': WANTED})
    assert result['failed'] is True
    assert str(path) in result['msg']
    assert 'not to be installed' in result['msg']
    assert 'fnls_settings_path' in result['msg']
    assert not path.exists()


def test_create(tmp_path):
    path = tmp_path / 'flexnetls-new'
    args = {'path': str(path), 'settings': {'PORT': '7071', 'ACTIVE_HOSTID': 'lab-a/STRING'}, 'create': True}
    check = run(tmp_path, args, check=True, diff=True)
    assert check['changed'] is True
    assert check['diff']['before'] == ''
    assert not path.exists()
    result = run(tmp_path, args)
    assert result['changed'] is True
    assert 'backup_file' not in result
    assert path.read_bytes() == b'PORT=7071\nACTIVE_HOSTID=lab-a/STRING\n'
    assert run(tmp_path, args)['changed'] is False


def test_create_in_missing_directory_fails(tmp_path):
    path = tmp_path / 'absent' / 'flexnetls-demo'
    result = run(tmp_path, {'path': str(path), 'settings': WANTED, 'create': True})
    assert result['failed'] is True
    assert 'does not exist' in result['msg']


def test_unreadable_file_fails_plainly(tmp_path, settings_path):
    directory = tmp_path / 'dir-as-file'
    directory.mkdir()
    result = run(tmp_path, {'path': str(directory), 'settings': WANTED})
    assert result['failed'] is True
    assert 'is a directory' in result['msg']
    assert 'Traceback' not in result['msg']


@pytest.mark.parametrize('settings, words', [
    ({'BACKUP_SERVER_HOSTID': 'a\nPORT=1'}, ['newline']),
    ({'BACKUP_SERVER_HOSTID': 'a\x00b'}, ['NUL']),
    ({'BACKUP_SERVER_HOSTID': 'it\'s "$x"'}, ['one pair of quotes']),
    ({'lower': 'x'}, ['not a valid setting name']),
    ({'1PORT': 'x'}, ['not a valid setting name']),
    ({'PORT': True}, ['quote it']),
    ({'PORT': ['a']}, ['quote it']),
])
def test_bad_input_is_refused_before_touching_the_file(tmp_path, settings_path, settings, words):
    settings = dict(settings, PORT_OK='1') if 'PORT' not in settings else settings
    result = run(tmp_path, {'path': str(settings_path), 'settings': settings})
    assert result['failed'] is True
    for word in words:
        assert word in result['msg']
    assert settings_path.read_bytes() == ORIGINAL
    assert backups(settings_path) == []


def test_file_ending_in_a_continuation_is_refused(tmp_path, settings_path):
    data = b'PORT=7070\nFOO=bar\\'
    settings_path.write_bytes(data)
    result = run(tmp_path, {'path': str(settings_path), 'settings': {'NEW': '1'}})
    assert result['failed'] is True
    assert 'backslash' in result['msg']
    assert settings_path.read_bytes() == data
