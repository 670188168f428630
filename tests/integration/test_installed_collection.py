"""The collection as users get it: built with ansible-galaxy, installed into an empty collections path,
and run from there against a fresh lab of one pair.

Only meta/, plugins/, roles/ and playbooks/ are kept of the installed collection before the playbooks run,
so a pass proves that nothing else of this repository (the lab, the tests, the checkout's ansible.cfg, a
collections path with the source tree) is needed. The module_defaults playbook then reads the pair with
connection options set once per action group of meta/runtime.yml.
"""

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import _lab_possible, cannot_run

pytestmark = [pytest.mark.lab, pytest.mark.slow]

TOP = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MODULE_DEFAULTS = TOP / 'tests' / 'integration' / 'targets' / 'module_defaults' / 'module_defaults.yml'
LAB_NAME = os.environ.get('FNLS_INSTALLED_LAB_NAME', 'galinst')
LAB_DIR = Path(os.environ.get('FNLS_INSTALLED_LAB_DIR', '/run/fnls-lab/' + LAB_NAME))
LAB_PORT = int(os.environ.get('FNLS_INSTALLED_BO_PORT', '48801'))

# What an installed collection may hold: the four directories it runs from, its metadata, its licence and its docs.
KEEP = {'meta', 'plugins', 'roles', 'playbooks'}
ALLOWED_TOP = KEEP | {'MANIFEST.json', 'FILES.json', 'README.md', 'CHANGELOG.rst', 'COPYING', 'changelogs', 'docs'}
NEVER = ('lab', 'tests', 'benchmarks', 'extensions', '.venv', 'scripts', 'artifacts', 'build', '.git')


def clean_env(collections_path, cwd):
    """The environment of a user's shell: only the given collections path, no checkout settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('ANSIBLE_') and k not in ('PYTHONPATH', 'FNLS_LAB_DIR')}
    env.update({
        'PATH': '%s:%s' % (VENV_BIN, os.environ.get('PATH', '')),
        'HOME': str(cwd),
        'ANSIBLE_COLLECTIONS_PATH': str(collections_path),
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_CONFIG': str(cwd / 'ansible.cfg'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
    })
    return env


def run(cmd, env, cwd, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout


@pytest.fixture(scope='module')
def artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp('artifact')
    rc, text = run([VENV_BIN / 'ansible-galaxy', 'collection', 'build', '--output-path', out, TOP],
                   env=dict(os.environ), cwd=TOP, timeout=300)
    assert rc == 0, text
    built = list(out.glob('fnls-failover-*.tar.gz'))
    assert len(built) == 1, text
    return built[0]


@pytest.fixture(scope='module')
def fresh_lab():
    why = _lab_possible()
    if why:
        cannot_run('the installed-collection test', why)
    from fnlslab.hosts import Lab, down_dir
    down_dir(LAB_DIR, purge=True)
    lab = Lab.up(pairs=1, dir=LAB_DIR, name=LAB_NAME, bo_port=LAB_PORT, replace=True,
                 startup_delay=float(os.environ.get('FNLS_TEST_STARTUP_DELAY', '2')))
    try:
        yield lab
    finally:
        lab.down(purge=True)


def test_artifact_holds_the_collection_only(artifact):
    with tarfile.open(artifact) as tar:
        names = sorted(tar.getnames())
    print('\n'.join(['%s holds:' % artifact.name] + ['  ' + n for n in names]))
    top = {n.split('/', 1)[0] for n in names}
    assert top <= ALLOWED_TOP, sorted(top - ALLOWED_TOP)
    assert KEEP <= top
    for name in names:
        assert name.split('/', 1)[0] not in NEVER, name
        assert '__pycache__' not in name and not name.endswith(('.pyc', '.tar.gz', '.plugin-cache.yaml')), name
    for needed in ('meta/runtime.yml', 'playbooks/register_pair.yml', 'roles/failover_pair/meta/argument_specs.yml',
                   'plugins/modules/server.py', 'plugins/filter/hostid.py', 'changelogs/changelog.yaml', 'COPYING',
                   'docs/PROFILE.md'):
        assert needed in names


def test_installed_collection_registers_a_pair(artifact, fresh_lab, tmp_path):
    collections = tmp_path / 'collections'
    collections.mkdir()
    (tmp_path / 'ansible.cfg').write_text('[defaults]\nforks = 10\n')
    env = clean_env(collections, tmp_path)

    rc, text = run([VENV_BIN / 'ansible-galaxy', 'collection', 'install', '--offline', '-p', collections,
                    artifact], env=env, cwd=tmp_path, timeout=300)
    assert rc == 0, text
    installed = collections / 'ansible_collections' / 'fnls' / 'failover'
    assert (installed / 'MANIFEST.json').is_file(), text
    for entry in installed.iterdir():
        if entry.name in KEEP | {'MANIFEST.json', 'FILES.json'}:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    assert not (installed / 'lab').exists() and not (installed / 'tests').exists()

    rc, text = run([VENV_BIN / 'ansible-galaxy', 'collection', 'list', 'fnls.failover'], env=env, cwd=tmp_path)
    assert rc == 0 and str(collections) in text and str(TOP) not in text, text

    inventory = str(fresh_lab.inventory)
    rc, text = run([VENV_BIN / 'ansible-playbook', '-i', inventory, 'fnls.failover.register_pair'],
                   env=env, cwd=tmp_path, timeout=900)
    flat = ' '.join(text.split())
    assert rc == 0, text[-6000:]
    assert 'p01: registered' in flat and '/portal/servers/' in flat, text[-6000:]
    assert 'failed=0' in text and 'unreachable=0' in text, text[-3000:]

    # Connection options set once per action group (meta/runtime.yml) with module_defaults.
    playbook = tmp_path / 'module_defaults.yml'
    shutil.copy(MODULE_DEFAULTS, playbook)
    rc, text = run([VENV_BIN / 'ansible-playbook', '-i', inventory, playbook], env=env, cwd=tmp_path)
    assert rc == 0, text[-6000:]
    assert 'fnls-p01-main' in text and 'failed=0' in text, text[-3000:]
