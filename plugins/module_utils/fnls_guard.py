# -*- coding: utf-8 -*-
# Copyright: fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""While the back-up's guard waits for its main's confirmed back-office contact, it follows the main itself, so
that a main that failed does not keep its back-up waiting for the whole guard time: a main that never becomes
ready, or that stops answering once it was ready, ends the wait at once (the back-up stays stopped); once the main
is ready, the wait ends when the main's own wait for its contact would have ended. Pure logic: the caller asks the
main's health and passes what it saw."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

READY, STARTING, DOWN = 'ready', 'starting', 'down'


class MainWatch(object):
    """``start``: when the guard began (a monotonic clock); ``guard_wait``: its whole wait; ``ready_timeout``: how
    long the main may take to become ready (0: not followed); ``wait_timeout``: the main's own wait for its contact
    once ready (0: no cut); ``gone_after``: how long a main that was ready may not answer before the guard gives
    up; ``margin``: slack for the two hosts' polls."""

    def __init__(self, start, guard_wait, ready_timeout=0.0, wait_timeout=0.0, gone_after=10.0, margin=5.0):
        self.start = start
        self.deadline = start + guard_wait
        self.ready_timeout = ready_timeout
        self.wait_timeout = wait_timeout
        self.gone_after = gone_after
        self.margin = margin
        self.ready_at = None
        self.down_since = None
        self.last_detail = ''

    def see(self, now, state, detail=''):
        """Records what the main's health said at ``now``; returns why the guard gives up, or None."""
        self.last_detail = detail
        if state == READY:
            self.down_since = None
            if self.ready_at is None:
                self.ready_at = now
                if self.wait_timeout:
                    self.deadline = min(self.deadline, now + self.wait_timeout + self.margin)
            return None
        if state == DOWN:
            if self.ready_at is not None:
                if self.down_since is None:
                    self.down_since = now
                if now - self.down_since >= self.gone_after:
                    return ('the main stopped answering %.0f s ago, after it had started (%s)'
                            % (now - self.down_since, detail or 'no answer'))
                return None
        if self.ready_at is None and self.ready_timeout and now - self.start >= self.ready_timeout + self.margin:
            return ('the main did not become ready within %.0f s (%s)'
                    % (self.ready_timeout, detail or ('it is still starting' if state == STARTING else 'no answer')))
        return None

    def remaining(self, now):
        return self.deadline - now
