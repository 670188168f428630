# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""local_settings on settings files as they are found in the wild, and on files it cannot read or write.

Run as Ansible runs it: a separate Python with its arguments in a file. A file or directory the task
cannot read or write is made for root too, by running the module without the capabilities that let
root ignore file permissions (``setpriv``). What test_local_settings.py and test_fnls_settings.py already
prove is not repeated here; docs/FAULTS.md lists both in the fault matrix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

MODULE = 'ansible_collections.fnls.failover.plugins.modules.local_settings'
HOSTID = '0A1B2C3D4E60/ETHERNET'


def run(tmp_path, args, check=False, diff=False, unprivileged=False):
    module_args = dict(args)
    module_args['_ansible_check_mode'] = check
    module_args['_ansible_diff'] = diff
    args_file = tmp_path / ('args-%d.json' % len(list(tmp_path.glob('args-*.json'))))
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args}))
    cmd = [sys.executable, '-m', MODULE, str(args_file)]
    if unprivileged and os.geteuid() == 0:
        # root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: file permissions apply to it too
        cmd = ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'] + cmd
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(), check=False)
    try:
        result = json.loads(proc.stdout.decode())
    except ValueError:
        raise AssertionError('module printed no JSON: %r %r' % (proc.stdout, proc.stderr))
    assert ('failed' in result) == (proc.returncode != 0), result
    return result


def needs_permissions():
    if os.geteuid() == 0 and shutil.which('setpriv') is None:
        pytest.skip('as root, file permissions can only be made to apply with setpriv (util-linux)')


def backups(path):
    return sorted(glob.glob(str(path) + '.*~'))


def plain_failure(result, *words):
    assert result.get('failed') is True, result
    assert 'Traceback' not in result['msg'] and '\n' not in result['msg'], result['msg']
    for word in words:
        assert word in result['msg'], result['msg']


def test_unreadable_file_fails_plainly_and_changes_nothing(tmp_path):
    needs_permissions()
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(b'PORT=7070\n')
    if os.geteuid() == 0:
        os.chown(str(path), 65534, 65534)
    os.chmod(str(path), 0o000)
    result = run(tmp_path, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}}, unprivileged=True)
    plain_failure(result, 'Reading the local settings file %s failed' % path, 'Permission denied', 'become')
    os.chmod(str(path), 0o600)
    assert path.read_bytes() == b'PORT=7070\n'
    assert backups(path) == []


def test_directory_not_writable_fails_and_leaves_the_file_as_it_was(tmp_path):
    needs_permissions()
    directory = tmp_path / 'etc-default'
    directory.mkdir()
    path = directory / 'flexnetls-demo'
    path.write_bytes(b'PORT=7070\n')
    os.chmod(str(path), 0o644)
    if os.geteuid() == 0:
        os.chown(str(directory), 65534, 65534)
    os.chmod(str(directory), 0o555)
    try:
        result = run(tmp_path, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}, 'backup': False},
                     unprivileged=True)
        plain_failure(result, 'Writing the local settings file %s' % path, 'writable')
    finally:
        os.chmod(str(directory), 0o755)
    assert path.read_bytes() == b'PORT=7070\n'
    assert [p.name for p in directory.iterdir()] == ['flexnetls-demo']   # no temporary file left behind


def test_dangling_symlink_is_a_missing_file(tmp_path):
    link = tmp_path / 'flexnetls-demo'
    link.symlink_to(tmp_path / 'nowhere' / 'flexnetls-demo')
    result = run(tmp_path, {'path': str(link), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    plain_failure(result, 'does not exist', 'not to be installed')
    assert os.path.islink(str(link)) and not os.path.exists(str(link))


WILD = (
    b'\xef\xbb\xbf# Local settings, edited by hand over the years\r\n'
    b'\r\n'
    b'   # PORT=7070 was the default; changed for the firewall\r\n'
    b'PORT=7071\r\n'
    b"export EXTRA_SYSPROPERTIES='-Dhttp.proxyHost=proxy -Dx=\"y\"'  # proxy\r\n"
    b'VENDOR_TUNING="a=b c"\r\n'
    b'#BACKUP_SERVER_HOSTID=0A1B2C3D4E99/ETHERNET\r\n'
    b'export BACKUP_SERVER_HOSTID="0A1B2C3D4E99/ETHERNET"\r\n'
    b'if [ -f /etc/flexnetls.local ]; then . /etc/flexnetls.local; fi\r\n'
    b'BACKUP_SERVER_HOSTID=0A1B2C3D4E98/ETHERNET # the one in force'
)


def test_a_file_in_the_wild_changes_in_one_line_only(tmp_path):
    """BOM, CRLF, no final newline, comments and blanks, `export`, quotes, unknown keys, a shell `if`, the key
    commented out and assigned twice: the last assignment (the one the shell uses) is replaced, keeping its
    own form and trailing comment; every other byte stays; a backup holds the original."""
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(WILD)
    result = run(tmp_path, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}}, diff=True)
    assert result['changed'] is True and result['previous'] == {'BACKUP_SERVER_HOSTID': '0A1B2C3D4E98/ETHERNET'}
    expected = WILD.replace(b'BACKUP_SERVER_HOSTID=0A1B2C3D4E98/ETHERNET # the one in force',
                            b'BACKUP_SERVER_HOSTID=' + HOSTID.encode() + b' # the one in force')
    assert path.read_bytes() == expected
    with open(result['backup_file'], 'rb') as handle:
        assert handle.read() == WILD
    again = run(tmp_path, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    assert again['changed'] is False and len(backups(path)) == 1


def test_export_and_quotes_of_the_replaced_line_are_kept(tmp_path):
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(b'PORT=7070\nexport BACKUP_SERVER_HOSTID="0A1B2C3D4E99/ETHERNET"\n')
    run(tmp_path, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': HOSTID}})
    assert path.read_bytes() == b'PORT=7070\nexport BACKUP_SERVER_HOSTID="%s"\n' % HOSTID.encode()


@pytest.mark.parametrize('value', [
    '$(touch {marker})', '`touch {marker}`', 'x; touch {marker}', 'x && touch {marker}', 'x | touch {marker}',
    "x' ; touch {marker} ; '", 'x=y', '"quoted"', '${{HOME}}', 'a # not a comment',
])
def test_values_are_written_so_that_sourcing_the_file_runs_nothing(tmp_path, value):
    """The init script sources the settings file with sh: whatever the value, sourcing it gives the value
    back literally and runs nothing."""
    marker = tmp_path / 'ran'
    value = value.format(marker=marker)
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(b'PORT=7070\n')
    result = run(tmp_path, {'path': str(path), 'settings': {'VENDOR_NOTE': value}})
    assert result['changed'] is True, result
    out = subprocess.run(['sh', '-c', '. "$1"; printf %s "$VENDOR_NOTE"', 'sh', str(path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    assert out.stdout.decode() == value
    assert not marker.exists()
    assert path.read_bytes().startswith(b'PORT=7070\nVENDOR_NOTE=')
    assert path.read_bytes().count(b'\n') == 2


@pytest.mark.parametrize('value, words', [
    ('0A1B2C3D4E60/ETHERNET\nPORT=1', ['newline']),
    ('0A1B2C3D4E60/ETHERNET\rPORT=1', ['carriage return']),
    ("it's $(reboot)", ['one pair of quotes']),
])
def test_values_that_cannot_be_written_safely_are_refused_before_the_file_is_touched(tmp_path, value, words):
    path = tmp_path / 'flexnetls-demo'
    path.write_bytes(b'PORT=7070\n')
    before = os.stat(str(path))
    plain_failure(run(tmp_path, {'path': str(path), 'settings': {'BACKUP_SERVER_HOSTID': value}}), *words)
    assert path.read_bytes() == b'PORT=7070\n'
    assert os.stat(str(path)).st_mtime_ns == before.st_mtime_ns
    assert backups(path) == []
