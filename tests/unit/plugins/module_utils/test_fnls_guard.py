# -*- coding: utf-8 -*-
# Copyright (c) fnls.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The back-up's guard follows its main (fnls_guard.MainWatch): a failed main ends the wait, a good one is waited
for as long as the main itself waits for its contact, never longer than the guard's own time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.fnls.failover.plugins.module_utils.fnls_guard import DOWN, READY, STARTING, MainWatch


def test_a_main_that_never_becomes_ready_ends_the_wait_after_its_ready_timeout():
    w = MainWatch(0, 600, ready_timeout=30, wait_timeout=20, margin=5)
    assert w.see(10, DOWN) is None and w.see(34, STARTING) is None
    assert w.see(35, DOWN, 'connection refused') == 'the main did not become ready within 30 s (connection refused)'


def test_a_main_that_stops_answering_after_it_was_ready_ends_the_wait():
    w = MainWatch(0, 600, ready_timeout=30, wait_timeout=300, gone_after=10)
    assert w.see(12, READY) is None and w.see(20, DOWN) is None and w.see(29, DOWN) is None
    assert w.see(30, DOWN, 'connection refused').startswith('the main stopped answering 10 s ago')


def test_a_short_outage_is_forgiven():
    w = MainWatch(0, 600, gone_after=10)
    w.see(12, READY)
    assert w.see(15, DOWN) is None and w.see(18, READY) is None and w.see(27, DOWN) is None
    assert w.see(30, DOWN) is None


def test_once_ready_the_wait_ends_with_the_mains_own_wait():
    w = MainWatch(100, 600, ready_timeout=300, wait_timeout=20, margin=5)
    assert w.remaining(100) == 600
    w.see(112, READY)
    assert w.remaining(112) == 25
    w.see(130, READY)              # a later answer does not move the deadline
    assert w.deadline == 137


def test_without_following_nothing_changes():
    w = MainWatch(0, 50)
    for t in range(0, 60, 5):
        assert w.see(t, DOWN) is None
    assert w.deadline == 50
