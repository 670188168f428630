"""The README's examples (docs/examples/) run as shipped against a fresh lab of one pair: the inventory with
`become`, the group variables, the Ansible Vault file (opened with its lab-only password file), the example
playbook limited to the pair `eu`, and the lock-breaking playbook of docs/AWX.md.

Only what differs on the lab is laid over the example inventory, in a second inventory of host variables:
the lab's addresses and ssh settings, root as the ssh user (the lab's hosts have no sudo, so `become` runs
through su), and the lab's back office. The lab is brought up with the passwords the vault holds, so the
secrets reach the role from the vault as they would on a site. requirements.yml is checked against galaxy.yml
(installing from a built artifact is tests/integration/test_installed_collection.py's part).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import VENV_BIN, _lab_possible, ansible_env, cannot_run

pytestmark = [pytest.mark.lab, pytest.mark.slow]

TOP = Path(__file__).resolve().parents[2]
EXAMPLES = TOP / 'docs' / 'examples'
VAULT_PASSWORD_FILE = EXAMPLES / 'vault-password.lab.txt'
LAB_NAME = os.environ.get('FNLS_EXAMPLES_LAB_NAME', 'galexamp')
LAB_DIR = Path(os.environ.get('FNLS_EXAMPLES_LAB_DIR', '/run/fnls-lab/' + LAB_NAME))
LAB_PORT = int(os.environ.get('FNLS_EXAMPLES_BO_PORT', '48803'))
MAIN, BACKUP = 'lic-eu-1', 'lic-eu-2'


def vault_secrets():
    out = subprocess.run([str(VENV_BIN / 'ansible-vault'), 'view', '--vault-password-file', str(VAULT_PASSWORD_FILE),
                          str(EXAMPLES / 'group_vars' / 'fnls_servers' / 'vault.yml')],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True, timeout=60).stdout
    return yaml.safe_load(out)


@pytest.fixture(scope='module')
def lab():
    why = _lab_possible()
    if why:
        cannot_run('the examples test', why)
    from fnlslab.hosts import Lab, down_dir
    down_dir(LAB_DIR, purge=True)
    # The lab keeps the passwords it finds in its directory: give it the vault's.
    secrets = vault_secrets()
    LAB_DIR.mkdir(parents=True, exist_ok=True)
    for name, value in (('backoffice.password', secrets['vault_fno_password']),
                        ('admin.password', secrets['vault_fnls_admin_password'])):
        (LAB_DIR / name).write_text(value + '\n')
        (LAB_DIR / name).chmod(0o600)
    lab = Lab.up(pairs=1, dir=LAB_DIR, name=LAB_NAME, bo_port=LAB_PORT, replace=True,
                 startup_delay=float(os.environ.get('FNLS_TEST_STARTUP_DELAY', '2')))
    try:
        yield lab
    finally:
        lab.down(purge=True)


@pytest.fixture(scope='module')
def overlay(lab, tmp_path_factory):
    """Host variables that put the example's pair eu on the lab's pair p01."""
    lab_hosts = {h.role: h for h in lab.hosts}
    hosts = {}
    for name, role in ((MAIN, 'main'), (BACKUP, 'backup')):
        h = lab_hosts[role]
        hosts[name] = {
            'ansible_host': h.addr,
            'ansible_ssh_common_args': lab.ssh_common_args(h),
            'ansible_user': 'root',
            'ansible_become_method': 'su',
            'ansible_ssh_private_key_file': str(lab.key),
            'ansible_python_interpreter': '/usr/bin/python3',
            'failover_pair_producer': lab.producer,
            'failover_pair_backoffice_url': lab.bo['url_hosts'],
            'failover_pair_backoffice_user': lab.bo['user'],
            'failover_pair_portal_url': lab.bo['portal_url'],
        }
    path = tmp_path_factory.mktemp('examples') / 'lab-overlay.yml'
    path.write_text(yaml.safe_dump({'all': {'hosts': hosts}}, sort_keys=False))
    return path


def run_example(overlay, playbook, *args):
    cmd = [str(VENV_BIN / 'ansible-playbook'), '-i', str(EXAMPLES / 'inventory.yml'), '-i', str(overlay),
           '--vault-password-file', str(VAULT_PASSWORD_FILE), str(EXAMPLES / playbook)] + list(args)
    proc = subprocess.run(cmd, cwd=str(EXAMPLES), env=ansible_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout


def test_requirements_name_this_collection_and_version():
    galaxy = yaml.safe_load((TOP / 'galaxy.yml').read_text())
    reqs = yaml.safe_load((EXAMPLES / 'requirements.yml').read_text())['collections']
    assert [r['name'] for r in reqs] == ['%s.%s' % (galaxy['namespace'], galaxy['name'])]
    low, high = re.match(r'^>=([0-9.]+),<([0-9.]+)$', reqs[0]['version']).groups()
    version = tuple(int(x) for x in galaxy['version'].split('.'))
    assert tuple(int(x) for x in low.split('.')) <= version < tuple(int(x) for x in high.split('.'))


def test_the_example_registers_the_pair_with_become_and_the_vault(lab, overlay):
    rc, out = run_example(overlay, 'register_pair.yml', '--limit', 'fnls_pair_eu')
    assert rc == 0, out[-6000:]
    assert re.search(r'%s\s*: ok=\d+\s+changed=[1-9]' % MAIN, out), out[-3000:]
    assert 'failed=0' in out and 'unreachable=0' in out
    assert re.search(r'eu: registered', out), out[-3000:]
    # The secrets came from the vault and were not printed.
    secrets = vault_secrets()
    assert secrets['vault_fno_password'] not in out and secrets['vault_fnls_admin_password'] not in out
    # The hosts of the pair us are not in the lab: the limit kept them out of the run.
    assert 'lic-us-1' not in out


def test_break_lock_removes_a_lock_left_by_a_cancelled_run(lab, overlay):
    """A lock held by a run that no longer exists (a cancelled job) stops the next run; break_lock.yml removes
    it, saying whose it was, and the next run can take it."""
    take = [str(VENV_BIN / 'ansible'), '-i', str(EXAMPLES / 'inventory.yml'), '-i', str(overlay),
            '--vault-password-file', str(VAULT_PASSWORD_FILE), MAIN, '-m', 'fnls.failover.pair_lock',
            '-a', json.dumps({'path': '/run/fnls-failover-%s.lock' % lab.producer, 'owner': 'cancelled-job-42',
                              'controller': 'automation-job-42-abcde', 'controller_pid': 7})]
    proc = subprocess.run(take, cwd=str(EXAMPLES), env=ansible_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and re.search(r'"?acquired"?: true', proc.stdout), proc.stdout

    # The next run cannot take it (the role then stops, naming the holder: tests/integration/test_lock.py).
    attempt = {'path': '/run/fnls-failover-%s.lock' % lab.producer, 'owner': 'next-run'}
    proc = subprocess.run(take[:-1] + [json.dumps(attempt)], cwd=str(EXAMPLES), env=ansible_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    assert proc.returncode != 0 and 'cancelled-job-42' in proc.stdout, proc.stdout

    rc, out = run_example(overlay, 'break_lock.yml', '--limit', 'fnls_pair_eu')
    assert rc == 0, out[-4000:]
    assert 'removed the lock of' in out and 'cancelled-job-42' in out, out[-3000:]

    # The lock is free again: a new run takes it (and this check gives it back).
    for args in ({'owner': 'next-run'}, {'owner': 'next-run', 'state': 'absent'}):
        args['path'] = '/run/fnls-failover-%s.lock' % lab.producer
        proc = subprocess.run(take[:-1] + [json.dumps(args)], cwd=str(EXAMPLES), env=ansible_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
        assert proc.returncode == 0 and re.search(r'"?acquired"?: true', proc.stdout), proc.stdout
