# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pair_lock with a lock path it cannot use: a plain failure whose result still says the lock was not
acquired (the role reads ``acquired`` to decide, so a missing key turned a clear message into a template
error). docs/FAULTS.md lists this test in the fault matrix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

MODULE = 'ansible_collections.fnls.failover.plugins.modules.pair_lock'


def run(tmp_path, args):
    args_file = tmp_path / ('args-%d.json' % len(list(tmp_path.glob('args-*.json'))))
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    proc = subprocess.run([sys.executable, '-m', MODULE, str(args_file)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=os.environ.copy(), check=False)
    result = json.loads(proc.stdout.decode())
    assert ('failed' in result) == (proc.returncode != 0), result
    return result


def test_lock_in_a_missing_directory_fails_plainly_and_says_not_acquired(tmp_path):
    path = tmp_path / 'absent' / 'fnls.lock'
    result = run(tmp_path, {'path': str(path), 'owner': '0123456789abcdef'})
    assert result['failed'] is True and result['acquired'] is False, result
    assert result['msg'] == ('The lock %s cannot be made: its directory does not exist; set a lock path in an '
                             'existing directory.' % path)
    assert not (tmp_path / 'absent').exists()


def test_lock_taken_and_released(tmp_path):
    path = tmp_path / 'fnls.lock'
    assert run(tmp_path, {'path': str(path), 'owner': 'a' * 16})['acquired'] is True
    held = run(tmp_path, {'path': str(path), 'owner': 'b' * 16, 'controller': 'elsewhere'})
    assert held['failed'] is True and held['acquired'] is False
    assert 'Another run is working on this failover pair' in held['msg'] and 'remove %s' % path in held['msg']
    assert run(tmp_path, {'path': str(path), 'owner': 'a' * 16, 'state': 'absent'})['acquired'] is True
    assert not path.exists()
