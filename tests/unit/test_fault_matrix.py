# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/FAULTS.md, the fault matrix, stays true to the tests: every test it names exists, every row has a
result, and every test of the fault test files is named in a row."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import re

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MATRIX = os.path.join(TOP, 'docs', 'FAULTS.md')
FAULT_FILES = [
    'tests/unit/plugins/module_utils/test_fnls_http_faults.py',
    'tests/unit/plugins/modules/test_modules_faults.py',
    'tests/unit/plugins/modules/test_local_settings_faults.py',
    'tests/unit/plugins/modules/test_hostid_info_faults.py',
    'tests/unit/plugins/modules/test_pair_lock_faults.py',
    'tests/unit/plugins/filter/test_hostid_faults.py',
    'tests/integration/test_faults.py',
    'tests/integration/test_faults_runtime.py',
    'tests/integration/test_faults_interrupted.py',
]
REF = re.compile(r'`([\w./-]+\.py)(?:::(\w+)(?:\[[^\]`]*\])?)?`|`((?:extensions/molecule)/[\w./-]+)`')


def rows():
    """(row id, test cell, result cell) of every table row whose first cell is a row id like A1 or B12."""
    out = []
    with open(MATRIX) as handle:
        for line in handle:
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if len(cells) >= 4 and re.match(r'^\*\*[A-Z]\d+\*\*$|^[A-Z]\d+$', cells[0]):
                out.append((cells[0].strip('*'), cells[-2], cells[-1]))
    return out


def functions(path):
    with open(os.path.join(TOP, path)) as handle:
        tree = ast.parse(handle.read())
    return set(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def references():
    refs = []
    for row, tests, _result in rows():
        for m in REF.finditer(tests):
            refs.append((row, m.group(1) or m.group(3), m.group(2)))
    return refs


def test_the_matrix_has_rows_with_unique_ids_and_results():
    found = rows()
    assert len(found) >= 40
    ids = [r[0] for r in found]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for row, tests, result in found:
        assert REF.search(tests), '%s names no test' % row
        assert result.lower().startswith('pass'), '%s: %s' % (row, result)


@pytest.mark.parametrize('row, path, name', references())
def test_every_named_test_exists(row, path, name):
    top_dir = path.split('/')[0]
    if top_dir in ('lab', 'extensions') and not os.path.isdir(os.path.join(TOP, top_dir)):
        pytest.skip('%s is not in this copy of the collection (ansible-test units runs on the collection only)'
                    % top_dir)
    full = os.path.join(TOP, path)
    assert os.path.exists(full), '%s names %s, which does not exist' % (row, path)
    if name:
        assert name in functions(path), '%s names %s::%s, which does not exist' % (row, path, name)


@pytest.mark.parametrize('path', FAULT_FILES)
def test_every_fault_test_is_in_the_matrix(path):
    named = set(name for _row, p, name in references() if p == path)
    tests = set(f for f in functions(path) if f.startswith('test_'))
    assert tests - named == set(), 'not in docs/FAULTS.md: %s' % sorted(tests - named)
