"""Shared fixtures for the lab's tests. Keep them generic; topic-specific fixtures live in their
own test modules."""

from __future__ import annotations

import os

import pytest

LAB_USER = "admin"
LAB_PASSWORD = "lab-secret"


def must_run() -> bool:
    """Whether a test that cannot run here fails instead of skipping: as root (the documented machine,
    Debian 12 as root, runs every test) or in CI. Only a user who is not root may skip, with the reason
    shown in pytest's summary (-ra)."""
    return bool(os.environ.get("CI")) or os.geteuid() == 0


def _cannot_run(why: str) -> None:
    if must_run():
        pytest.fail("cannot run: %s; as root (the documented machine) or in CI this test must run" % why,
                    pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def cannot_run():
    """``cannot_run(why)``: fail as root or in CI, skip for any other user."""
    return _cannot_run


@pytest.fixture
def lab_credentials() -> tuple[str, str]:
    """User and password the lab's services are started with in tests."""
    return LAB_USER, LAB_PASSWORD


@pytest.fixture
def backoffice(tmp_path):
    """A back office on 127.0.0.1 (free port) with a fresh SQLite file; stopped after the test."""
    from fnlslab.backoffice import start_in_thread

    handle = start_in_thread(str(tmp_path / "backoffice.db"), host="127.0.0.1", port=0,
                             user=LAB_USER, password=LAB_PASSWORD)
    try:
        yield handle
    finally:
        handle.stop()
