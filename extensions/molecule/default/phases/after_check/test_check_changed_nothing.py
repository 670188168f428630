"""After `molecule check` (the registration in check mode) and before the first converge: nothing changed."""

import pytest

from conftest import BACKUP, MAIN, SERVICE, SETTINGS


@pytest.mark.parametrize("name", [MAIN, BACKUP])
def test_settings_file_untouched_and_no_backup_copy(lab, main, backup, name):
    host = {MAIN: main, BACKUP: backup}[name]
    assert host.file(SETTINGS).content == lab.pristine(name)
    directory, base = SETTINGS.rsplit("/", 1)
    assert [f for f in host.file(directory).listdir() if f.startswith(base)] == [base]


def test_no_server_runs_or_ever_ran(host, lab):
    assert not host.service(SERVICE).is_running
    assert not list(host.process.filter(user="flexnetls"))
    assert not [e for e in lab.events() if e.get("source") == "server"]


def test_back_office_holds_nothing(lab):
    assert lab.devices() == []
    assert not [e for e in lab.events() if e.get("source") == "backoffice"]
