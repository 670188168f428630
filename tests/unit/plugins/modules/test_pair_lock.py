# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pair_lock: taking, releasing, refusing a live lock of another run, waiting, expiry, the take-over of an
interrupted run's lock, the grace period of a lock directory without a holder, breaking a stale lock, and
runs (threads and processes) that race for the same lock many times: exactly one of them holds it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

from ansible_collections.fnls.failover.tests.unit.plugins.modules.fnls_module_harness import (
    assert_plain_failure, check_documentation, run)
from ansible_collections.fnls.failover.plugins.modules import pair_lock

A = 'a' * 16
B = 'b' * 16
C = 'c' * 16


def args(path, owner, **kw):
    a = dict(path=str(path), owner=owner, controller='ctl-' + owner[:1])
    a.update(kw)
    return a


def params(path, owner, **kw):
    """What AnsibleModule would hand the module: every option with its default."""
    p = dict(path=str(path), state='present', owner=owner, controller='ctl-' + owner[:1], controller_pid=0,
             ttl=3600, wait=0.0, grace=5.0, force=False, force_owner='')
    p.update(kw)
    return p


def holder_of(path):
    with open(os.path.join(str(path), pair_lock.INFO)) as fh:
        return json.load(fh)


def place(path, owner, expires_in=3600.0, controller='elsewhere', pid=4242):
    """A lock as another run leaves it (written in one step, as the module does)."""
    now = time.time()
    record = dict(owner=owner, controller=controller, controller_pid=pid, acquired_at=pair_lock.stamp(now),
                  expires_at=pair_lock.stamp(now + expires_in), expires_at_epoch=now + expires_in)
    assert pair_lock.try_take(str(path), record)
    return record


def leftovers(path):
    """Side directories of a take or a removal left beside the lock."""
    head, tail = os.path.split(str(path))
    return [n for n in os.listdir(head) if n.startswith('.' + tail + '.')]


@pytest.fixture
def lock(tmp_path):
    return tmp_path / 'fnls.lock'


def test_documentation_matches_the_argument_spec():
    returns = check_documentation(pair_lock)
    assert {'acquired', 'holder', 'taken_over', 'broken', 'waited'} <= set(returns)


def test_take_is_idempotent_and_release_removes_it(lock):
    res = run(pair_lock, args(lock, A, controller_pid=77, ttl=60))
    assert res['acquired'] is True and res['changed'] is False, res
    holder = holder_of(lock)
    assert (holder['owner'], holder['controller'], holder['controller_pid']) == (A, 'ctl-a', 77)
    assert holder['expires_at_epoch'] == pytest.approx(time.time() + 60, abs=5)
    assert os.listdir(str(lock)) == [pair_lock.INFO]
    assert run(pair_lock, args(lock, A))['acquired'] is True        # the same run again
    res = run(pair_lock, args(lock, A, state='absent'))
    assert res['acquired'] is True and not lock.exists()
    assert run(pair_lock, args(lock, A, state='absent')) == dict(changed=False, acquired=False, waited=0.0)
    assert leftovers(lock) == []


def test_a_live_lock_of_another_run_is_refused_and_left_alone(lock):
    place(lock, B, controller='other-controller.example')
    res = run(pair_lock, args(lock, A))
    assert_plain_failure(res)
    assert res['acquired'] is False and res['holder']['owner'] == B
    assert 'Another run is working on this failover pair' in res['msg']
    assert 'other-controller.example' in res['msg']
    assert 'state=absent and force=true' in res['msg'] and 'remove %s' % lock in res['msg']
    assert holder_of(lock)['owner'] == B
    res = run(pair_lock, args(lock, A, state='absent'))              # a release by another run leaves it
    assert res['acquired'] is False and res['holder']['owner'] == B
    assert holder_of(lock)['owner'] == B


def test_check_mode_takes_nothing_and_reports_the_holder(lock):
    res = run(pair_lock, args(lock, A), check=True)
    assert res['acquired'] is False and not lock.exists()
    place(lock, B)
    res = run(pair_lock, args(lock, A), check=True)
    assert res['acquired'] is False and res['holder']['owner'] == B
    assert run(pair_lock, args(lock, B, state='absent'), check=True)['acquired'] is True
    assert holder_of(lock)['owner'] == B


def test_a_run_that_waits_gets_the_lock_when_the_holder_releases_it(lock):
    place(lock, B)
    released = threading.Event()

    def release_later():
        time.sleep(0.6)
        pair_lock.release(params(lock, B, state='absent'))
        released.set()

    t = threading.Thread(target=release_later)
    t.start()
    try:
        res = run(pair_lock, args(lock, A, wait=30))
    finally:
        t.join()
    assert released.is_set()
    assert res['acquired'] is True and 'taken_over' not in res, res
    assert 0.5 <= res['waited'] < 30
    assert holder_of(lock)['owner'] == A


def test_a_run_that_waits_gives_up_at_its_deadline(lock):
    place(lock, B)
    res = run(pair_lock, args(lock, A, wait=0.6))
    assert_plain_failure(res)
    assert res['acquired'] is False and res['waited'] >= 0.6
    assert holder_of(lock)['owner'] == B


def test_an_expired_lock_is_taken_over(lock):
    old = place(lock, B, expires_in=-1)
    res = run(pair_lock, args(lock, A))
    assert res['acquired'] is True, res
    assert res['taken_over'] == old
    assert holder_of(lock)['owner'] == A
    assert leftovers(lock) == []


def test_a_lock_is_not_expired_before_its_ttl(lock):
    place(lock, B, expires_in=2)
    assert run(pair_lock, args(lock, A))['acquired'] is False
    assert pair_lock.expired(holder_of(lock), time.time() + 3) is True
    assert pair_lock.expired({}, time.time()) is True                 # a holder without an expiry
    assert pair_lock.expired({'expires_at_epoch': 'soon'}, time.time()) is True


def test_the_lock_of_a_dead_run_is_taken_over_with_force(lock):
    """What the role does for an interrupted run of the same controller: force, naming the dead run."""
    dead = place(lock, B, controller='this-controller', pid=999999)
    res = run(pair_lock, args(lock, A, force=True, force_owner=B))
    assert res['acquired'] is True and res['taken_over'] == dead, res
    assert holder_of(lock)['owner'] == A


def test_force_for_a_dead_run_leaves_a_lock_another_run_took_meanwhile(lock):
    """Two reruns judge the same run gone; the first takes the lock; the second must not take it from it."""
    place(lock, C)                                    # C took it after B was judged gone
    res = run(pair_lock, args(lock, A, force=True, force_owner=B))
    assert_plain_failure(res)
    assert res['acquired'] is False and res['holder']['owner'] == C
    assert holder_of(lock)['owner'] == C


def test_force_without_owner_takes_any_lock(lock):
    place(lock, B)
    res = run(pair_lock, args(lock, A, force=True))
    assert res['acquired'] is True and res['taken_over']['owner'] == B


def test_a_fresh_directory_without_holder_gets_its_grace_period(lock):
    os.mkdir(str(lock))
    started = time.monotonic()
    res = run(pair_lock, args(lock, A, grace=1.5))
    took = time.monotonic() - started
    assert res['acquired'] is True and res['taken_over'] == {}, res
    assert took >= 1.4, 'an empty directory was taken over before its grace period ended (%.2f s)' % took
    assert holder_of(lock)['owner'] == A


def test_an_old_directory_without_holder_is_taken_over_at_once(lock):
    os.mkdir(str(lock))
    with open(os.path.join(str(lock), pair_lock.INFO), 'w') as fh:
        fh.write('{"owner": "b')                           # a torn holder counts as none
    old = time.time() - 60
    os.utime(str(lock), (old, old))
    started = time.monotonic()
    res = run(pair_lock, args(lock, A, grace=30))
    assert res['acquired'] is True and res['taken_over'] == {}, res
    assert time.monotonic() - started < 10
    assert holder_of(lock)['owner'] == A


def test_a_holder_that_appears_during_the_grace_period_is_respected(lock):
    """The state of a run of an older version in the middle of taking the lock (mkdir, then the holder file):
    it is not taken over; once the holder is written it is a live lock of another run."""
    os.mkdir(str(lock))
    record = dict(owner=B, controller='slow-taker', controller_pid=1, acquired_at='x', expires_at='y',
                  expires_at_epoch=time.time() + 3600)

    def finish_taking():
        time.sleep(0.5)
        tmp = os.path.join(str(lock), pair_lock.INFO + '.tmp')
        with open(tmp, 'w') as fh:
            json.dump(record, fh)
        os.rename(tmp, os.path.join(str(lock), pair_lock.INFO))

    t = threading.Thread(target=finish_taking)
    t.start()
    try:
        res = run(pair_lock, args(lock, A, grace=20))
    finally:
        t.join()
    assert_plain_failure(res)
    assert res['acquired'] is False and res['holder']['owner'] == B
    assert holder_of(lock)['owner'] == B


def test_a_file_in_place_of_the_lock_directory_is_refused_and_can_be_broken(lock):
    lock.write_text('junk')
    old = time.time() - 60
    os.utime(str(lock), (old, old))
    res = run(pair_lock, args(lock, A, force=True))
    assert_plain_failure(res)
    assert res['acquired'] is False and res['msg'].startswith('%s is not a lock directory' % lock)
    assert lock.read_text() == 'junk'
    res = run(pair_lock, args(lock, A, state='absent'))
    assert res['acquired'] is False and 'is not a lock directory' in res['msg'] and lock.exists()
    res = run(pair_lock, args(lock, A, state='absent', force=True))
    assert res['acquired'] is True and res['broken'] == {} and not lock.exists()
    assert run(pair_lock, args(lock, A))['acquired'] is True


def test_break_a_stale_lock_with_state_absent_and_force(lock):
    place(lock, B, controller='cancelled-awx-job')
    res = run(pair_lock, args(lock, 'admin-break', state='absent', force=True))
    assert res['acquired'] is True and res['broken']['owner'] == B, res
    assert 'cancelled-awx-job' in res['msg']
    assert res['msg'].startswith('Broke the lock %s held by run %s' % (lock, B))
    assert not lock.exists() and leftovers(lock) == []
    assert run(pair_lock, args(lock, A))['acquired'] is True         # and the pair can be locked again


def test_break_in_check_mode_and_of_a_directory_without_holder(lock):
    place(lock, B)
    assert run(pair_lock, args(lock, 'admin', state='absent', force=True), check=True)['acquired'] is True
    assert holder_of(lock)['owner'] == B
    pair_lock.release(params(lock, B, state='absent'))
    os.mkdir(str(lock))
    res = run(pair_lock, args(lock, 'admin', state='absent', force=True))
    assert res['acquired'] is True and res['broken'] == {} and not lock.exists()


def test_a_lock_in_a_directory_it_cannot_write_fails_plainly(tmp_path):
    ro = tmp_path / 'ro'
    ro.mkdir()
    ro.chmod(0o500)
    # root writes into a read-only directory, not into /proc
    where = '/proc' if os.geteuid() == 0 and os.path.isdir('/proc/self') else str(ro)
    try:
        res = run(pair_lock, args(os.path.join(where, 'fnls-unit-test.lock'), A))
    finally:
        ro.chmod(0o700)
    assert_plain_failure(res)
    assert res['acquired'] is False and 'could not be taken' in res['msg']


# --------------------------------------------------------------------------------------------
# the holder is published atomically
# --------------------------------------------------------------------------------------------
def test_the_lock_directory_never_shows_without_its_holder(lock):
    """A watcher looks at the lock while runs take and release it again and again: whenever the directory
    exists, its holder is there (the state that an older version took over at once)."""
    stop = threading.Event()
    seen = {'held': 0, 'bare': 0}

    def watch():
        while not stop.is_set():
            if os.path.isdir(str(lock)):
                if pair_lock.read_holder(str(lock)) is None and os.path.isdir(str(lock)):
                    seen['bare'] += 1
                else:
                    seen['held'] += 1

    t = threading.Thread(target=watch)
    t.start()
    try:
        for i in range(200):
            owner = '%016x' % i
            ok, res = pair_lock.acquire(params(lock, owner))
            assert ok and res['acquired'], res
            if i < 5:   # let the watcher see a held lock at least once, however loaded the machine
                deadline = time.time() + 5
                while seen['held'] == 0 and time.time() < deadline:
                    time.sleep(0.001)
            assert pair_lock.release(params(lock, owner, state='absent'))['acquired'] is True
    finally:
        stop.set()
        t.join()
    assert seen['bare'] == 0, seen
    assert seen['held'] > 0, seen
    assert leftovers(lock) == []


# --------------------------------------------------------------------------------------------
# races: many takers at once, exactly one holds the lock
# --------------------------------------------------------------------------------------------
def _thread_taker(p, barrier, won, errors):
    barrier.wait()
    try:
        ok, res = pair_lock.acquire(p)
    except Exception as e:   # noqa: BLE001 - a traceback is a failure of the test
        errors.append(repr(e))
        return
    if ok and res['acquired']:
        won.append(p['owner'])


def race_threads(make_params, takers, rounds, prepare=None, lock=None):
    """``rounds`` times: ``takers`` threads call acquire() at the same moment. Returns per round the owners
    that were told they hold the lock and the holder found afterwards."""
    out = []
    for r in range(rounds):
        if prepare:
            prepare(r)
        barrier = threading.Barrier(takers)
        won = []
        errors = []

        threads = [threading.Thread(target=_thread_taker,
                                    args=(make_params('%02d%014x' % (i, r)), barrier, won, errors))
                   for i in range(takers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        out.append((won, holder_of(lock)['owner'] if lock and os.path.isdir(str(lock)) else None))
        if lock is not None and os.path.isdir(str(lock)):
            pair_lock.release(params(lock, 'x', state='absent', force=True))
    return out


def assert_one_winner(rounds):
    for n, (won, holder) in enumerate(rounds):
        assert len(won) == 1, 'round %d: %d runs believe they hold the lock: %s' % (n, len(won), won)
        assert holder == won[0], 'round %d: %s holds it, %s was told so' % (n, holder, won[0])


def test_threads_racing_for_a_free_lock(lock):
    assert_one_winner(race_threads(lambda owner: params(lock, owner), takers=6, rounds=100, lock=lock))
    assert leftovers(lock) == []


def test_threads_racing_for_an_expired_lock(lock):
    rounds = race_threads(lambda owner: params(lock, owner), takers=6, rounds=100, lock=lock,
                          prepare=lambda r: place(lock, 'expired-%02d' % r, expires_in=-5))
    assert_one_winner(rounds)
    assert leftovers(lock) == []


def test_threads_racing_for_an_abandoned_directory(lock):
    def prepare(r):
        os.mkdir(str(lock))
        os.utime(str(lock), (time.time() - 60, time.time() - 60))
    rounds = race_threads(lambda owner: params(lock, owner, grace=5), takers=6, rounds=100, lock=lock,
                          prepare=prepare)
    assert_one_winner(rounds)


def test_threads_racing_to_take_over_the_same_dead_run(lock):
    """Every taker judged the same run gone (force with force_owner): one takes the lock, none takes it from
    the one that did."""
    rounds = race_threads(lambda owner: params(lock, owner, force=True, force_owner='dead-run'), takers=6,
                          rounds=100, lock=lock, prepare=lambda r: place(lock, 'dead-run', pid=999999))
    assert_one_winner(rounds)


def _process_taker(path, owner, barrier, results):
    barrier.wait()
    try:
        ok, res = pair_lock.acquire(params(path, owner))
        results.put((owner, bool(ok and res['acquired']), None))
    except Exception as e:   # noqa: BLE001
        results.put((owner, False, repr(e)))


@pytest.mark.parametrize('expired_first', [False, True], ids=['free', 'expired'])
def test_processes_racing_for_the_lock(lock, expired_first):
    ctx = multiprocessing.get_context('fork')
    takers, rounds = 4, 25
    for r in range(rounds):
        if expired_first:
            place(lock, 'expired', expires_in=-5)
        barrier = ctx.Barrier(takers)
        results = ctx.Queue()
        procs = [ctx.Process(target=_process_taker, args=(str(lock), '%02d%014x' % (i, r), barrier, results))
                 for i in range(takers)]
        for p in procs:
            p.start()
        got = [results.get(timeout=60) for dummy in procs]
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        assert [g for g in got if g[2]] == []
        won = [g[0] for g in got if g[1]]
        assert len(won) == 1, 'round %d: %s believe they hold the lock' % (r, won)
        assert holder_of(lock)['owner'] == won[0]
        pair_lock.release(params(lock, won[0], state='absent'))
    assert leftovers(lock) == []


def run_module_process(tmp_path, module_args):
    """The module in a process of its own, as Ansible runs it; its JSON result."""
    args_file = tmp_path / ('args-%s.json' % uuid.uuid4().hex)
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args}))
    proc = subprocess.run([sys.executable, '-m', pair_lock.__name__, str(args_file)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=os.environ.copy(), check=False, timeout=120)
    result = json.loads(proc.stdout.decode())
    assert ('failed' in result) == (proc.returncode != 0), result
    return result


def test_module_processes_racing_for_the_lock(tmp_path):
    """The module itself, as Ansible runs it (a process each), several at once on one lock, free and expired."""
    lock = tmp_path / 'fnls.lock'
    for r in range(4):
        if r % 2:
            place(lock, 'expired', expires_in=-5)
        results = {}
        owners = ['%02d%014x' % (i, r) for i in range(4)]
        threads = [threading.Thread(target=lambda o=o: results.__setitem__(o, run_module_process(
            tmp_path, args(lock, o)))) for o in owners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == owners
        won = [o for o in owners if results[o].get('acquired')]
        assert len(won) == 1, results
        assert holder_of(lock)['owner'] == won[0]
        for o in owners:
            if o != won[0]:
                assert results[o]['failed'] and results[o]['holder']['owner'] == won[0], results[o]
                assert 'Traceback' not in results[o]['msg']
        pair_lock.release(params(lock, won[0], state='absent'))
