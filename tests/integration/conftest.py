"""End-to-end tests: the collection's playbooks against the lab.

A session-wide lab brings up a back office and a few pairs of license-server hosts (network
namespaces with their own NIC, filesystem and processes, reached over SSH). Each test module works on
pairs of its own, so tests do not depend on each other's order. Everything is torn down at the end.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import base64
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
RECAP = re.compile(r'^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
                   r'\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)', re.M)
PAIRS = int(os.environ.get('FNLS_TEST_PAIRS', '18'))   # pairs 1-5 main tests, 6-15 test_faults*, 16-18 can fail over


def must_run():
    """Whether a test that cannot run here fails instead of skipping: as root (the documented machine,
    Debian 12 as root, runs every test) or in CI. Only a user who is not root may skip, with the reason
    shown in pytest's summary (-ra)."""
    return bool(os.environ.get('CI')) or os.geteuid() == 0


def cannot_run(what, why):
    """Fail (root or CI) or skip (any other user) ``what``, which cannot run here because of ``why``."""
    if must_run():
        pytest.fail('%s cannot run: %s; as root (the documented machine) or in CI they must run'
                    % (what, why), pytrace=False)
    pytest.skip('%s: %s' % (what, why))


def _lab_possible():
    if os.geteuid() != 0:
        return 'the lab needs root (network namespaces)'
    for tool in ('ip', 'unshare', 'nc', 'ssh'):
        if shutil.which(tool) is None:
            return '%s is not installed (run scripts/bootstrap.sh)' % tool
    return None


@pytest.fixture(scope='session')
def lab(tmp_path_factory):
    why = _lab_possible()
    if why:
        cannot_run('the end-to-end tests', why)
    from fnlslab.hosts import Lab, down_dir
    d = Path(os.environ.get('FNLS_TEST_LAB_DIR', '/run/fnls-lab/tests'))
    down_dir(d, purge=True)
    lab = Lab.up(pairs=PAIRS, dir=d, startup_delay=float(os.environ.get('FNLS_TEST_STARTUP_DELAY', '2')),
                 bo_port=int(os.environ.get('FNLS_TEST_BO_PORT', '18888')), replace=True)
    try:
        yield TestLab(lab)
    finally:
        lab.down(purge=True)


class TestLab:
    """The lab, with the few shortcuts the tests use."""
    __test__ = False

    def __init__(self, lab):
        self._lab = lab

    def __getattr__(self, name):
        return getattr(self._lab, name)

    @property
    def backoffice_url(self):
        return self._lab.bo['url_local']

    @property
    def backoffice_user(self):
        return self._lab.bo['user']

    @property
    def backoffice_password(self):
        return self._lab.bo_password

    def hostid(self, host):
        return self._lab.host(host).hostid

    def address(self, host):
        return self._lab.host(host).addr


class Run:
    def __init__(self, proc, elapsed):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.flat = ' '.join(self.out.split())   # the output with line wrapping undone
        self.elapsed = elapsed
        self.recap = {m['host']: {k: int(v) for k, v in m.groupdict().items() if k != 'host'}
                      for m in RECAP.finditer(self.out)}

    def changed(self, host):
        return self.recap[host]['changed']

    def failed(self, host):
        return self.recap[host]['failed']

    def __repr__(self):
        return '<ansible-playbook rc=%s>\n%s' % (self.rc, self.out[-6000:])


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': str(TOP / 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': str(TOP / '.venv' / 'collections'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'PATH': '%s:%s' % (VENV_BIN, env.get('PATH', '')),
    })
    env.update(extra or {})
    return env


def playbook(lab, *args, playbook='fnls.failover.register_pair', limit=None, extra_vars=None, env=None,
             timeout=600):
    cmd = [str(VENV_BIN / 'ansible-playbook'), '-i', str(lab.inventory), playbook]
    if limit:
        cmd += ['--limit', ','.join(limit)]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    cmd += list(args)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=str(TOP), env=ansible_env(env), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
    return Run(proc, time.monotonic() - t0)


def adhoc(lab, host, module, args, extra_vars=None, check=False):
    cmd = [str(VENV_BIN / 'ansible'), '-i', str(lab.inventory), host, '-m', module, '-a', json.dumps(args)]
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if check:
        cmd.append('--check')
    proc = subprocess.run(cmd, cwd=str(TOP), env=ansible_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout


def pair_hosts(n):
    return ['fnls-p%02d-main' % n, 'fnls-p%02d-backup' % n]


def bo_call(lab, method, path, body=None):
    """Call the back office's device API on loopback, with the lab's credentials."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(lab.backoffice_url + path, data=data, method=method)
    token = base64.b64encode(('%s:%s' % (lab.backoffice_user, lab.backoffice_password)).encode()).decode()
    req.add_header('Authorization', 'Basic ' + token)
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read().decode())


def bo_get(lab, path):
    return bo_call(lab, 'GET', path)


def devices_for(lab, hostid):
    return bo_get(lab, '/flexnet/operations/devices?hostid=' + urllib.parse.quote(hostid))['devices']


import urllib.parse  # noqa: E402  (used by devices_for)
