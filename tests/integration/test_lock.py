"""Two runs on one pair never interleave: a lock on the main host; an interrupted run's lock is taken over."""

import json
import socket
import time

import pytest

from conftest import pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]
MAIN, BACKUP = pair_hosts(3)
LOCK = '/run/fnls-failover-demo.lock'


def place_lock(lab, controller, pid):
    holder = dict(owner='0123456789abcdef', controller=controller, controller_pid=pid,
                  acquired_at='2026-01-01T00:00:00Z', expires_at='2099-01-01T00:00:00Z',
                  expires_at_epoch=time.time() + 3600)
    lab.run(MAIN, ['mkdir', '-p', LOCK], check=True)
    lab.run(MAIN, ['sh', '-c', 'cat > %s/holder.json' % LOCK], input=json.dumps(holder), check=True)


def lock_present(lab):
    return lab.run(MAIN, ['test', '-d', LOCK]).returncode == 0


def starts(lab):
    return len([e for e in lab.events() if e['event'] == 'start' and e.get('host') in (MAIN, BACKUP)])


def test_a_run_releases_its_lock(lab):
    run = playbook(lab, limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    assert not lock_present(lab)


def test_a_second_run_stops_while_another_run_holds_the_pair(lab):
    place_lock(lab, 'other-controller.example', 4242)
    try:
        before = starts(lab)
        run = playbook(lab, '-e', 'failover_pair_settings_backup=true', limit=[MAIN, BACKUP],
                       extra_vars={'failover_pair_main_settings': {'licensing.main.uri': 'http://changed:7070/x'}})
        assert run.rc != 0, run
        assert 'Another run is working on this failover pair' in run.flat, run
        assert 'other-controller.example' in run.flat
        assert starts(lab) == before
        assert lock_present(lab)            # the other run's lock is left alone
    finally:
        lab.run(MAIN, ['rm', '-rf', LOCK])


def test_the_lock_of_an_interrupted_run_is_taken_over(lab):
    place_lock(lab, socket.gethostname(), 999999)   # this controller, a process that no longer exists
    run = playbook(lab, limit=[MAIN, BACKUP])
    assert run.rc == 0, run
    assert not lock_present(lab)
