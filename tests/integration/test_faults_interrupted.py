"""Interrupted runs: the controller is killed (SIGKILL to ansible-playbook's whole process group, as when a
job is killed or the machine running it dies) at three moments, watched in the lab's events and the back
office's log (never in the run's output): right after the ordered stop, right after the main's start, and during
the wait for the main's back-office contact.
After each kill the back-up has not been started ahead of a confirmed main, whatever the modules left
running on the hosts do: each check comes after an event that ends what could start the back-up (the killed
run's end, or the end of the back-up's guarded start that the killed run left running in the background);
the rerun takes over the killed run's lock and converges.

Pair 14: its main runs (registered alone) when the first run is killed after the stop; the rerun is killed
right after the main's start. Pair 15: a first registration killed during the wait (the back office
refuses at first, the main retries). One rerun then converges both. Concurrent runs are kept apart by the lock
(test_lock.py). docs/FAULTS.md is the matrix these tests belong to.
"""

import time

import pytest

from conftest import pair_hosts, playbook
from test_faults import (
    Background, assert_converged, assert_no_secret, assert_pair_safe, events_of, file_bytes,
    lock_present, need_pairs, start_server, wait_background_ended, wait_event)

pytestmark = [pytest.mark.lab, pytest.mark.slow]

P14, P15 = pair_hosts(14), pair_hosts(15)


def killed_at(lab, pair_hosts_, event=None, since=0.0):
    """Run the playbook on a pair and kill it as soon as the main logs ``event`` (None: once the run waits for
    the main's back-office contact, Background.wait_until_waiting); the killed run's output."""
    bg = Background(lab, pair_hosts_)
    try:
        if event is None:
            bg.wait_until_waiting(pair_hosts_[0])
        else:
            bg.wait_event(lab, pair_hosts_[0], event, since)
        bg.kill()
    finally:
        bg.stop()
    return bg.result()


def settings_intact(lab, main, backup):
    lines = file_bytes(lab, main).decode().splitlines()
    assert [l for l in lines if l.startswith('BACKUP_SERVER_HOSTID=')] == ['BACKUP_SERVER_HOSTID=' + lab.hostid(backup)]
    assert lines[0].startswith('# Local settings of the FlexNet Embedded license server')


@pytest.fixture(scope='module')
def state():
    return {}


def test_killed_right_after_the_ordered_stop(lab, state):
    need_pairs(lab)
    main, backup = P14
    start_server(lab, main)                         # a main that runs and is registered on its own
    wait_event(lab, main, 'bo_contact', 0, result='ok', timeout=60)
    t0 = time.time()
    run = killed_at(lab, P14, 'stop', t0)
    assert run.rc != 0 and 'PLAY RECAP' not in run.out, run
    # the run has ended (killed and reaped) right after the main's stop, before any start: the main stays
    # stopped, so no guard could pass, and the back-up has not been started
    assert not events_of(lab, main, 'start', t0)
    assert not events_of(lab, backup, 'start', t0)
    settings_intact(lab, main, backup)              # written before the stop, whole
    assert lock_present(lab, main)                  # the killed run's lock stays behind
    assert_pair_safe(lab, 14)
    state['p14_stop'] = t0


def test_rerun_killed_right_after_the_mains_start(lab, state):
    if 'p14_stop' not in state:
        pytest.skip('needs the run killed after the stop')
    main, backup = P14
    t0 = time.time()
    run = killed_at(lab, P14, 'start', t0)
    assert run.rc != 0 and 'PLAY RECAP' not in run.out, run
    # the main's start goes on without the controller and the main reaches the back office by itself; the
    # back-up's guarded start, launched before the main's start, may start it only after that contact: its
    # end (the back-up started, or the guard refused) is awaited before the pair is checked
    wait_event(lab, main, 'bo_contact', t0, result='ok', timeout=120)
    wait_background_ended(lab, [backup], t0)
    assert_pair_safe(lab, 14)
    state['p14_start'] = t0


def test_first_registration_killed_during_the_wait(lab, state):
    need_pairs(lab)
    main, backup = P15
    lab.fault('error', status=503, message='Service Unavailable')    # the main keeps retrying meanwhile
    try:
        t0 = time.time()
        run = killed_at(lab, P15)
        assert run.rc != 0 and 'PLAY RECAP' not in run.out, run
        assert events_of(lab, main, 'bo_contact', t0, 'error')  # killed while the main waited for the back office
        assert not events_of(lab, main, 'bo_contact', t0, 'ok')
        assert not events_of(lab, backup, 'start', t0)
    finally:
        lab.fault('none')
    wait_event(lab, main, 'bo_contact', t0, result='ok', timeout=120)   # the main's next retry gets through
    wait_background_ended(lab, [backup], t0)     # the back-up's guarded start, left running, has ended
    settings_intact(lab, main, backup)
    assert_pair_safe(lab, 15)
    state['p15_wait'] = t0


def test_rerun_after_the_interrupted_runs_converges(lab, state):
    if not {'p14_start', 'p15_wait'} <= set(state):
        pytest.skip('needs the interrupted runs above')
    run = playbook(lab, limit=P14 + P15)
    assert run.rc == 0, run
    assert_converged(lab, 14, run)
    assert_converged(lab, 15, run)
    assert not lock_present(lab, P14[0]) and not lock_present(lab, P15[0])
    assert_no_secret(lab, run)
