"""The guarded start: no back-up starts ahead of a main whose back-office contact is unconfirmed."""

import time

import pytest

from conftest import adhoc, pair_hosts
from test_faults import wait_event

pytestmark = [pytest.mark.lab, pytest.mark.slow]
MAIN, BACKUP = pair_hosts(2)


def guarded_start(lab):
    return adhoc(lab, BACKUP, 'fnls.failover.server', {
        'name': 'flexnetls-demo', 'state': 'started',
        'admin_password': lab.admin_password,
        'guard_main_url': 'http://%s:7070' % lab.address(MAIN),
        'guard_check_mode_skip': False,
    })


def running(lab, host):
    return lab.run(host, ['service', 'flexnetls-demo', 'status']).returncode == 0


def test_guard_refuses_while_the_main_is_stopped(lab):
    assert not running(lab, MAIN)
    rc, out = guarded_start(lab)
    assert rc != 0, out
    assert 'Refusing to start the back-up' in ' '.join(out.split()), out
    assert not running(lab, BACKUP)


def test_guard_refuses_while_the_main_cannot_reach_the_back_office(lab):
    lab.fault('down')
    try:
        since = time.time()
        assert lab.run(MAIN, ['service', 'flexnetls-demo', 'start']).returncode == 0
        # the main is up and has tried the back office, and failed: the refusal below is due to the fault,
        # not to a main that is still starting
        wait_event(lab, MAIN, 'ready', since, timeout=120)
        wait_event(lab, MAIN, 'bo_contact', since, result='error', timeout=120)
        rc, out = guarded_start(lab)
        assert rc != 0, out
        assert 'Refusing to start the back-up' in ' '.join(out.split()), out
        assert not running(lab, BACKUP)
    finally:
        lab.fault('none')
        lab.run(MAIN, ['service', 'flexnetls-demo', 'stop'])
