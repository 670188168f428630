"""The guarded start: no back-up starts ahead of a main whose back-office contact is unconfirmed."""

import pytest

from conftest import adhoc, pair_hosts

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
        assert lab.run(MAIN, ['service', 'flexnetls-demo', 'start']).returncode == 0
        rc, out = guarded_start(lab)
        assert rc != 0, out
        assert 'Refusing to start the back-up' in ' '.join(out.split()), out
        assert not running(lab, BACKUP)
    finally:
        lab.fault('none')
        lab.run(MAIN, ['service', 'flexnetls-demo', 'stop'])
