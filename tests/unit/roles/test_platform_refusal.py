"""The role's first task, fnls.failover.pair_read, refuses what the collection does not support with a plain
message: a Windows host (from its inventory alone, nothing is sent to it), and a host whose Python cannot run this
ansible-core's modules (EL 8's system Python 3.6), found by one raw command only after the module could not run.
The read runs here with local connections, so that no lab is needed; the registration on the lab runs it on every
lab host too."""

import os
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parents[3]
PLAYBOOK = '''
- hosts: all
  gather_facts: false
  tasks:
    - name: Read
      fnls.failover.pair_read:
        name: flexnetls-none
        service_manager: service
        settings_path: /nonexistent/flexnetls-none
        server_url: http://127.0.0.1:9
        hostid_source: host
        pair: {name: p1, role: main}
'''
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
    import ansible_collections.fnls.failover as collection
    collections = os.path.dirname(os.path.dirname(os.path.dirname(list(collection.__path__)[0])))
    env.update(ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
               ANSIBLE_COLLECTIONS_PATH=collections)
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', 'inventory.yml', 'play.yml'], cwd=tmp_path,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    out = proc.stdout
    assert proc.returncode == 2, out
    recap = out[out.index('PLAY RECAP'):]
    # the fine host runs the read (which fails here for want of a server, not for its platform)
    assert 'fine: the modules of' not in out and 'fine is a Windows host' not in out
    assert 'ok: [fine]' in out or 'fatal: [fine]' in out, out
    for host in ('el8', 'nopython', 'windows'):
        assert 'failed=1' in recap.split(host, 1)[1].split('\n')[0], out
    assert ('el8: the modules of ansible-core' in out
            and 'need Python 3.8 or later on the managed host; found Python 3.6 (/usr/libexec/platform-python)' in out)
    assert 'nopython: the modules of ansible-core' in out and 'found no Python 3 that runs (looked for ' in out
    assert 'windows is a Windows host (connection winrm' in out and 'Linux hosts only' in out
    assert 'Traceback' not in out
    # The Windows host is refused from its inventory alone: nothing is sent to it (it would be unreachable).
    assert 'unreachable=0' in recap.split('windows', 1)[1].split('\n')[0], out
