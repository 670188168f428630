# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.<namespace>.<name>`` importable for plain pytest runs.

When the collection already sits at ``.../ansible_collections/<ns>/<name>`` (as
under ``ansible-test units``) the directory above ``ansible_collections`` is put
on ``sys.path``. Otherwise ``<collection>/.venv/collections`` is used when it
links the collection in, else a temporary tree with a link is made.
The directory is also exported in ``PYTHONPATH`` so tests that run modules in a
subprocess import the same code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import os
import re
import shutil
import sys
import tempfile

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _name():
    namespace, name = 'fnls', 'failover'
    galaxy = os.path.join(COLLECTION_ROOT, 'galaxy.yml')
    if os.path.exists(galaxy):
        with open(galaxy) as handle:
            text = handle.read()
        m_ns = re.search(r'^namespace:\s*["\']?([a-z0-9_]+)', text, re.M)
        m_name = re.search(r'^name:\s*["\']?([a-z0-9_]+)', text, re.M)
        namespace = m_ns.group(1) if m_ns else namespace
        name = m_name.group(1) if m_name else name
    return namespace, name


def _collections_dir():
    parts = COLLECTION_ROOT.split(os.sep)
    if len(parts) >= 3 and parts[-3] == 'ansible_collections':
        return os.sep.join(parts[:-3])
    namespace, name = _name()
    local = os.path.join(COLLECTION_ROOT, '.venv', 'collections')
    link = os.path.join(local, 'ansible_collections', namespace, name)
    if os.path.isdir(link) and os.path.samefile(link, COLLECTION_ROOT):
        return local
    tmp = tempfile.mkdtemp(prefix='collections-')
    atexit.register(shutil.rmtree, tmp, True)
    os.makedirs(os.path.join(tmp, 'ansible_collections', namespace))
    os.symlink(COLLECTION_ROOT, os.path.join(tmp, 'ansible_collections', namespace, name))
    return tmp


COLLECTIONS_DIR = _collections_dir()
if COLLECTIONS_DIR not in sys.path:
    sys.path.insert(0, COLLECTIONS_DIR)
_pythonpath = os.environ.get('PYTHONPATH', '')
if COLLECTIONS_DIR not in _pythonpath.split(os.pathsep):
    os.environ['PYTHONPATH'] = os.pathsep.join([p for p in (COLLECTIONS_DIR, _pythonpath) if p])
