"""The role's preflight refuses what the collection does not support, before its first module runs on the host:
a Windows host, and a host whose Python cannot run this ansible-core's modules (EL 8's system Python 3.6). The
tasks (roles/failover_pair/tasks/platform.yml) run here with local connections, so that no lab is needed; the
registration on the lab runs them on every lab host too."""

import os
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[3]
PLATFORM = TOP / 'roles' / 'failover_pair' / 'tasks' / 'platform.yml'
PLAYBOOK = '''
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.include_tasks: %s
''' % PLATFORM
INVENTORY = '''
all:
  hosts:
    fine: {ansible_connection: local, ansible_python_interpreter: %(python)s}
    el8: {ansible_connection: local, ansible_python_interpreter: %(tmp)s/platform-python}
    nopython: {ansible_connection: local, ansible_python_interpreter: %(tmp)s/absent/python3}
    windows: {ansible_connection: winrm, ansible_host: 192.0.2.1}
'''
# Answers like EL 8's /usr/libexec/platform-python when asked for its version.
PLATFORM_PYTHON = '#!/bin/sh\necho "fnls-python 3.6 /usr/libexec/platform-python"\n'


def test_windows_and_old_python_are_refused_with_a_plain_message(tmp_path):
    (tmp_path / 'platform-python').write_text(PLATFORM_PYTHON)
    (tmp_path / 'platform-python').chmod(0o755)
    (tmp_path / 'play.yml').write_text(PLAYBOOK)
    (tmp_path / 'inventory.yml').write_text(INVENTORY % dict(python=sys.executable, tmp=tmp_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_')}
    env.update(ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'))
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'inventory.yml', 'play.yml'], cwd=tmp_path,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    out = proc.stdout
    assert proc.returncode == 2, out
    recap = out[out.index('PLAY RECAP'):]
    assert 'fine                       : ok=3' in recap and 'failed=0' in recap.split('fine', 1)[1].split('\n')[0], out
    for host in ('el8', 'nopython', 'windows'):
        assert 'failed=1' in recap.split(host, 1)[1].split('\n')[0], out
    assert ('el8: the modules of ansible-core' in out
            and 'need Python 3.8 or later on the managed host; found Python 3.6 (/usr/libexec/platform-python)' in out)
    assert 'nopython: the modules of ansible-core' in out and 'found no Python 3 that runs (looked for ' in out
    assert 'windows is a Windows host (connection winrm' in out and 'Linux hosts only' in out
    assert 'Traceback' not in out
    # The Windows host is refused from its inventory alone: nothing is sent to it.
    assert 'skipping: [windows]' in out
