"""Registration on a managed host whose Python is older than the controller's.

A lab of its own, one pair, whose hosts run Debian 11 (bullseye) with its system python3 3.9
(ansible-core 2.19 supports 3.8 and later on targets); the controller runs the venv's Python. The
collection's modules run under 3.9 there, and so does the lab's emulated license server. The pair is
registered, and a rerun changes nothing.

The first run on a machine builds the bullseye base rootfs with debootstrap
(``<cache>/rootfs-bullseye``, one to three minutes); later runs use it.
"""

import os
from pathlib import Path

import pytest

from conftest import TestLab, cannot_run, _lab_possible, pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]
SUITE = 'bullseye'
PYTHON = (3, 9)


@pytest.fixture(scope='module')
def lab_py39():
    why = _lab_possible()
    if why:
        cannot_run('the older-Python host test', why)
    from fnlslab.hosts import Lab, down_dir
    d = Path(os.environ.get('FNLS_TEST_LAB_PY39_DIR', '/run/fnls-lab/py39'))
    down_dir(d, purge=True)
    lab = Lab.up(pairs=1, dir=d, name='py39', suite=SUITE,
                 startup_delay=float(os.environ.get('FNLS_TEST_STARTUP_DELAY', '2')),
                 bo_port=int(os.environ.get('FNLS_TEST_BO_PORT_PY39', '38974')), replace=True)
    try:
        yield TestLab(lab)
    finally:
        lab.down(purge=True)


def host_python(lab, host):
    """The (major, minor) of the host's python3, asked over ssh as Ansible reaches it."""
    proc = lab.run(host, ['python3', '-c', 'import sys; print(tuple(sys.version_info[:2]))'], via='ssh')
    assert proc.returncode == 0, proc.stderr
    return tuple(int(x) for x in proc.stdout.strip().strip('()').split(','))


def test_register_pair_on_debian_11_with_python_3_9(lab_py39):
    main, backup = pair_hosts(1)
    assert lab_py39.suite == SUITE
    for host in (main, backup):
        assert host_python(lab_py39, host) == PYTHON, host
        release = lab_py39.run(host, ['cat', '/etc/debian_version'], check=True).stdout
        assert release.startswith('11.'), (host, release)

    run = playbook(lab_py39, limit=[main, backup])
    assert run.rc == 0, run
    assert 'p01: registered' in run.flat, run
    assert run.changed(main) > 0 and run.changed(backup) > 0, run

    # the license servers the run started are the hosts' python3.9
    for host in (main, backup):
        exe = lab_py39.run(host, 'readlink /proc/$(cat /run/flexnetls-demo.pid)/exe', check=True).stdout.strip()
        assert exe == '/usr/bin/python3.9', (host, exe)

    rerun = playbook(lab_py39, limit=[main, backup])
    assert rerun.rc == 0, rerun
    assert rerun.changed(main) == 0 and rerun.changed(backup) == 0, rerun
