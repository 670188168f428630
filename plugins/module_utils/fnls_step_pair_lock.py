# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of the pair_lock module, runnable as a step of another module (see fnls_step)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import fcntl
import json
import os
import shutil
import stat
import time
import uuid

from ansible.module_utils.basic import AnsibleModule

INFO = 'holder.json'
TAKE_TRIES = 50         # take-overs lost to another run in a row before giving up (each one is progress elsewhere)
FLOCK_TIMEOUT = 30.0    # seconds to wait for another run's take-over or release of the same directory


class LockError(Exception):
    pass


def side_name(path, kind):
    """A unique name beside ``path`` for a directory being built (``new``) or removed (``old``)."""
    head, tail = os.path.split(path)
    return os.path.join(head, '.%s.%s.%s' % (tail, uuid.uuid4().hex, kind))


def parse_holder(raw):
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get('owner') else None


def read_holder(path):
    """The holder's record in the lock directory ``path``, or None when there is none that can be read."""
    try:
        with open(os.path.join(path, INFO), 'rb') as fh:
            return parse_holder(fh.read().decode('utf-8', 'replace'))
    except OSError:
        return None


def look(path):
    """The lock as it is now: None when there is none, else dict(holder (None: none readable), ident, mtime,
    directory (False: a file or a link is there, which this module never makes))."""
    try:
        st = os.lstat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    directory = stat.S_ISDIR(st.st_mode)
    holder = read_holder(path) if directory else None
    return dict(holder=holder, ident=(st.st_dev, st.st_ino), mtime=st.st_mtime, directory=directory)


def not_a_lock(path):
    return ('%s is not a lock directory (a file or a link is there, which no run of this module makes); this '
            'run stops here without touching the pair. Remove it, or break it with state=absent and force=true.'
            % path)


def expired(holder, now):
    try:
        return float(holder.get('expires_at_epoch', 0)) <= now
    except (TypeError, ValueError):
        return True


def forced(holder, force, force_owner):
    """Whether O(force) applies to ``holder`` (with O(force_owner), only to a lock that run holds)."""
    if not force:
        return False
    return not force_owner or (holder is not None and holder.get('owner') == force_owner)


def stale_reason(state, now, force, grace, seen_since, force_owner=''):
    """Why the lock ``state`` may be taken over now ('forced', 'expired', 'abandoned'), or None.

    ``seen_since`` is when (time.monotonic()) this run first saw this directory without a holder, or None.
    """
    if forced(state['holder'], force, force_owner):
        return 'forced'
    if state['holder'] is None:
        age = now - state['mtime']
        watched = time.monotonic() - seen_since if seen_since is not None else 0.0
        return 'abandoned' if max(age, watched) >= grace else None
    return 'expired' if expired(state['holder'], now) else None


def remove_quietly(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


def try_take(path, record):
    """Publish the lock with the holder's record in one step. True when this run took it, False when another
    run holds it (or any lock directory is there)."""
    if os.path.lexists(path):
        return False
    new = side_name(path, 'new')
    os.mkdir(new, 0o700)
    try:
        fd = os.open(os.path.join(new, INFO), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as fh:
            json.dump(record, fh)
        # rename(2) of a directory onto an existing directory that holds a file fails (EEXIST/ENOTEMPTY);
        # onto a missing name it is atomic: the lock appears with its holder, or not at all.
        os.rename(new, path)
    except OSError as e:
        remove_quietly(new)
        if e.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            return False
        raise
    return True


class DirLock(object):
    """``flock`` on the lock directory, with the check that ``path`` still is the directory locked.

    Every run that removes the lock directory (a take-over, a release, a break) holds this while it checks and
    renames it aside, so the check and the removal act on the same directory and the same holder.
    """

    def __init__(self, path, ident):
        self.path = path
        self.ident = ident
        self.fd = None

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDONLY)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                return False
            raise
        try:
            return self._lock()
        except BaseException:
            self.__exit__()
            raise

    def _lock(self):
        deadline = time.monotonic() + FLOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockError('Another run has been taking over or releasing the lock %s for %d s.'
                                    % (self.path, FLOCK_TIMEOUT))
                time.sleep(0.01)
        st = os.fstat(self.fd)
        if self.ident is not None and (st.st_dev, st.st_ino) != self.ident:
            return False
        try:
            now = os.lstat(self.path)
        except OSError:
            return False
        return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)

    def __exit__(self, *exc):
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None
        return False


def move_aside(path, ident, allowed):
    """Remove the lock directory ``ident`` at ``path`` when ``allowed(holder now)`` still says so.

    Returns (removed, holder): removed is True when this run removed it; holder is what it held (None: no
    readable holder). A lock that changed in the meantime is left alone (removed False).
    """
    with DirLock(path, ident) as same:
        if not same:
            return False, None
        holder = read_holder(path)
        if not allowed(holder):
            return False, holder
        aside = side_name(path, 'old')
        os.rename(path, aside)
    remove_quietly(aside)
    return True, holder


def describe(holder):
    holder = holder or {}
    return 'run %s from %s since %s (until %s)' % (
        holder.get('owner', '?'), holder.get('controller') or 'an unknown controller',
        holder.get('acquired_at', '?'), holder.get('expires_at', '?'))


def stamp(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


def record_for(params, now):
    return dict(owner=params['owner'], controller=params['controller'], controller_pid=params['controller_pid'],
                acquired_at=stamp(now), expires_at=stamp(now + params['ttl']),
                expires_at_epoch=now + params['ttl'])


def acquire(params, check_mode=False, sleep=time.sleep):
    """Take the lock (state=present). Returns (ok, result): ok False is a failure whose result has a msg."""
    path = params['path']
    start = time.time()
    deadline = start + max(0.0, params['wait'])
    grace = max(0.0, params['grace'])
    seen = {}            # ident of a directory without a holder -> time.monotonic() first seen
    lost = 0
    while True:
        now = time.time()
        state = look(path)
        waited = round(now - start, 2)
        if state is None:
            if check_mode:
                return True, dict(changed=False, acquired=False, waited=0.0)
            if try_take(path, record_for(params, time.time())):
                return True, dict(changed=False, acquired=True, waited=round(time.time() - start, 2))
            continue   # another run took it between our look and our rename: look again
        holder = state['holder']
        if not state['directory']:
            return False, dict(msg=not_a_lock(path), acquired=False, waited=waited)
        if holder is not None and holder.get('owner') == params['owner']:
            return True, dict(changed=False, acquired=True, waited=waited)
        if holder is None:
            seen.setdefault(state['ident'], time.monotonic())
        reason = stale_reason(state, now, params['force'], grace, seen.get(state['ident']),
                              params.get('force_owner'))
        if check_mode:
            result = dict(changed=False, acquired=False, waited=0.0)
            if holder is not None and reason is None:
                result['holder'] = holder
                result['warnings'] = ['Another run holds the pair\'s lock: %s.' % describe(holder)]
            return True, result
        if reason is not None:
            def allowed(current):
                if current is not None and current.get('owner') == params['owner']:
                    return False
                if forced(current, params['force'], params.get('force_owner')):
                    return True
                if current is None:
                    # a directory without a holder: its age, or how long this run has seen it so
                    st = look(path)
                    return st is not None and stale_reason(st, time.time(), False, grace,
                                                           seen.get(st['ident'])) is not None
                return current.get('owner') != params['owner'] and expired(current, time.time())
            removed, was = move_aside(path, state['ident'], allowed)
            if removed:
                if try_take(path, record_for(params, time.time())):
                    return True, dict(changed=False, acquired=True, waited=round(time.time() - start, 2),
                                      taken_over=was or {})
            lost += 1
            if lost > TAKE_TRIES:
                return False, dict(acquired=False, waited=round(time.time() - start, 2), holder=holder or {},
                                   msg='The lock %s changed hands %d times while this run tried to take it over; '
                                       'this run stops here without touching the pair.' % (path, lost))
            continue
        if holder is None:
            # left by hand, or being taken by a run of an older version: wait for its grace period to end
            sleep(0.05)
            continue
        if now >= deadline:
            return False, dict(
                msg='Another run is working on this failover pair: %s holds the lock %s. This run stops here '
                    'without touching the pair. Wait for that run to finish (or set a lock wait), or, if that run '
                    'no longer exists, break the lock (fnls.failover.pair_lock with state=absent and force=true, '
                    'or remove %s).' % (describe(holder), path, path),
                acquired=False, holder=holder, waited=waited)
        sleep(max(0.01, min(0.5, deadline - now)))


def release(params, check_mode=False):
    """Release the lock (state=absent); with force, break it whoever holds it. Returns the result."""
    path = params['path']
    state = look(path)
    if state is None:
        return dict(changed=False, acquired=False, waited=0.0)
    holder = state['holder']
    mine = holder is not None and holder.get('owner') == params['owner']
    if not state['directory'] and not params['force']:
        return dict(changed=False, acquired=False, waited=0.0, msg=not_a_lock(path))
    if not mine and not forced(holder, params['force'], params.get('force_owner')):
        return dict(changed=False, acquired=False, waited=0.0, holder=holder or {},
                    msg='The lock is held by another run (%s); left in place.' % describe(holder))
    if check_mode:
        return dict(changed=False, acquired=True, waited=0.0)
    if not state['directory']:
        # a file or a link: broken on request only (force), by the one run that asks
        try:
            os.unlink(path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise
        return dict(changed=False, acquired=True, waited=0.0, broken={},
                    msg='Broke the lock %s: removed what was there instead of a lock directory.' % path)

    def allowed(current):
        return ((current is not None and current.get('owner') == params['owner'])
                or forced(current, params['force'], params.get('force_owner')))
    removed, was = move_aside(path, state['ident'], allowed)
    if not removed:
        if look(path) is None:
            return dict(changed=False, acquired=False, waited=0.0)
        current = read_holder(path)
        return dict(changed=False, acquired=False, waited=0.0, holder=current or {},
                    msg='The lock is held by another run (%s); left in place.' % describe(current))
    result = dict(changed=False, acquired=True, waited=0.0)
    if not mine:
        result['broken'] = was or {}
        result['msg'] = 'Broke the lock %s held by %s.' % (path, describe(was))
    return result


def run_module(make_module=AnsibleModule):
    module = make_module(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            owner=dict(type='str', required=True),
            controller=dict(type='str', default=''),
            controller_pid=dict(type='int', default=0),
            ttl=dict(type='int', default=3600),
            wait=dict(type='float', default=0),
            grace=dict(type='float', default=5),
            force=dict(type='bool', default=False),
            force_owner=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = p['path']
    if not os.path.isdir(os.path.dirname(path) or '/'):
        module.fail_json(msg='The lock %s cannot be made: its directory does not exist; set a lock path in an '
                             'existing directory.' % path, acquired=False)
    try:
        if p['state'] == 'absent':
            result = release(p, module.check_mode)
            if 'broken' in result:
                module.warn(result['msg'])
            module.exit_json(**result)
        ok, result = acquire(p, module.check_mode)
    except (LockError, OSError) as e:
        module.fail_json(msg='The lock %s could not be %s: %s' % (
            path, 'released' if p['state'] == 'absent' else 'taken', e), acquired=False)
    for warning in result.pop('warnings', []):
        module.warn(warning)
    if not ok:
        module.fail_json(**result)
    module.exit_json(**result)
