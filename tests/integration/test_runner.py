"""The main playbook run the way AWX and Automation Platform run it: through ansible-runner's Python API,
from a private data directory (project, inventory, environment), against a fresh lab of two pairs.

The inventory is written like the README's example (group fnls_servers, a pair name and a role per
host, the back office's URL and credentials as group variables), with the lab's ssh settings added, and
with one group per slice that holds whole pairs (docs/AWX.md); the project's playbook imports
fnls.failover.register_pair, as an AWX project would. The fleet is registered as two slices run at the
same time, each limited to its slice group, as a workflow of limited jobs spreads them over execution
nodes; a slicing that splits pairs stops them in preflight, saying how to slice.
"""

import os
import sys
from pathlib import Path

import ansible_runner
import pytest
import yaml

from conftest import _lab_possible, cannot_run

pytestmark = [pytest.mark.lab, pytest.mark.slow]

TOP = Path(__file__).resolve().parents[2]
LAB_NAME = os.environ.get('FNLS_RUNNER_LAB_NAME', 'galrunner')
LAB_DIR = Path(os.environ.get('FNLS_RUNNER_LAB_DIR', '/run/fnls-lab/' + LAB_NAME))
LAB_PORT = int(os.environ.get('FNLS_RUNNER_BO_PORT', '48802'))
READ_TASK = 'Read - the server, its hostids, settings, lock and policy settings (changes nothing)'


@pytest.fixture(scope='module')
def fresh_lab():
    why = _lab_possible()
    if why:
        cannot_run('the ansible-runner test', why)
    from fnlslab.hosts import Lab, down_dir
    down_dir(LAB_DIR, purge=True)
    lab = Lab.up(pairs=2, dir=LAB_DIR, name=LAB_NAME, bo_port=LAB_PORT, replace=True,
                 startup_delay=float(os.environ.get('FNLS_TEST_STARTUP_DELAY', '2')))
    try:
        yield lab
    finally:
        lab.down(purge=True)


def readme_inventory(lab):
    """The README's inventory form, filled in with the lab's hosts, back office and secrets."""
    hosts = {}
    for host in lab.hosts:
        hosts[host.name] = {
            'ansible_host': host.addr,
            'failover_pair_name': host.pair,
            'failover_pair_role': host.role,
            # the lab's hosts are network namespaces on this machine, reached through `ip netns exec`
            'ansible_ssh_common_args': '-o ProxyCommand="ip netns exec %s nc %%h %%p" -o StrictHostKeyChecking=no '
                                       '-o UserKnownHostsFile=/dev/null' % host.netns,
        }
    # One group per slice, each holding whole pairs: slice n holds pair n here.
    slices = {}
    for host in lab.hosts:
        slices.setdefault('fnls_slice_%d' % int(host.pair[1:]), {'hosts': {}})['hosts'][host.name] = None
    return {'all': {'children': dict(slices, fnls_servers={
        'hosts': hosts,
        'vars': {
            'ansible_user': 'root',
            'ansible_ssh_private_key_file': str(lab.key),
            'ansible_python_interpreter': '/usr/bin/python3',
            'failover_pair_producer': 'demo',
            'failover_pair_backoffice_url': lab.bo['url_hosts'],
            'failover_pair_backoffice_user': lab.bo['user'],
            'failover_pair_backoffice_password': lab.bo_password,
            'failover_pair_admin_password': lab.admin_password,
            'failover_pair_portal_url': lab.bo['url_local'] + '/portal/',
        },
    })}}


def private_data(lab, tmp_path, name):
    data = tmp_path / name
    (data / 'project').mkdir(parents=True)
    (data / 'inventory').mkdir()
    (data / 'env').mkdir()
    (data / 'project' / 'register_pair.yml').write_text(
        '---\n- name: Register the failover pairs\n  ansible.builtin.import_playbook: fnls.failover.register_pair\n')
    (data / 'inventory' / 'hosts.yml').write_text(yaml.safe_dump(readme_inventory(lab), sort_keys=False))
    (data / 'project' / 'ansible.cfg').write_text('[defaults]\nforks = 10\n')
    envvars = {
        'ANSIBLE_COLLECTIONS_PATH': str(TOP / '.venv' / 'collections'),
        'ANSIBLE_CONFIG': str(data / 'project' / 'ansible.cfg'),
        'ANSIBLE_NOCOLOR': '1',
        # the engine runs the ansible-playbook of the environment it is installed in
        'PATH': '%s%s%s' % (os.path.dirname(sys.executable), os.pathsep, os.environ.get('PATH', '')),
    }
    return dict(private_data_dir=str(data), playbook='register_pair.yml',
                inventory=str(data / 'inventory' / 'hosts.yml'), envvars=envvars, quiet=True, timeout=900)


def test_a_slicing_that_splits_pairs_stops_them_saying_how_to_slice(fresh_lab, tmp_path):
    """A job slice that holds one host of each pair (what job slicing over hosts does): both pairs stop at the
    read, before its module runs on a host, and the message says how to slice."""
    result = ansible_runner.run(limit='fnls-p01-main,fnls-p02-backup', **private_data(fresh_lab, tmp_path, 'split'))
    stdout = result.stdout.read()
    assert result.status == 'failed', stdout[-4000:]
    assert set(result.stats['failures']) == {'fnls-p01-main', 'fnls-p02-backup'}, result.stats
    events = list(result.events)
    failed = [e['event_data'] for e in events if e['event'] == 'runner_on_failed']
    assert {f['task'] for f in failed} == {READ_TASK, 'On failure - stop the pair'}, failed
    assert not [e for e in events if e['event'] == 'runner_on_ok' and e['event_data'].get('task') == READ_TASK]
    for f in failed:
        msg = f['res']['msg']
        assert 'this run left it out' in msg and 'job slice' in msg and 'docs/AWX.md' in msg, msg
    assert 'The inventory holds fnls-p01-backup of this pair too' in stdout, stdout[-4000:]
    # Nothing ran on a host: every task before the failure is a controller-side one.
    assert not [e for e in events if e['event'] == 'runner_on_ok'
                and e['event_data'].get('task_action', '').startswith('fnls.failover.')], 'a module ran'


def test_register_pairs_through_ansible_runner_in_two_slices(fresh_lab, tmp_path):
    jobs = []
    for n in (1, 2):
        thread, runner = ansible_runner.run_async(limit='fnls_slice_%d' % n,
                                                  **private_data(fresh_lab, tmp_path, 'slice%d' % n))
        jobs.append((n, thread, runner))
    for n, thread, result in jobs:
        thread.join(timeout=900)
        stdout = result.stdout.read()
        assert result.status == 'successful' and result.rc == 0, stdout[-6000:]

        stats = result.stats
        assert not stats['failures'] and not stats['dark'], stats
        assert set(stats['ok']) == {'fnls-p%02d-main' % n, 'fnls-p%02d-backup' % n}, stats

        events = list(result.events)
        names = [e['event'] for e in events]
        assert names[-1] == 'playbook_on_stats' and 'runner_on_failed' not in names
        summary = [e['event_data']['res']['msg'] for e in events
                   if e['event'] == 'runner_on_ok' and e['event_data'].get('task') == 'Show each pair\'s result']
        assert len(summary) == 1, names
        lines = summary[0] if isinstance(summary[0], list) else [summary[0]]
        assert len(lines) == 1 and lines[0].startswith('p%02d: registered' % n), lines
        assert '/portal/servers/' in lines[0], lines
        # The wait says what confirmed the main's contact and after how long.
        said = [e['event_data']['res'].get('msg', '') for e in events if e['event'] == 'runner_on_ok'
                and e['event_data'].get('task', '').startswith('Converge - the main starts')
                and e['event_data']['host'].endswith('-main')]
        assert said and 'confirmed by' in said[0] and ' s' in said[0], said
