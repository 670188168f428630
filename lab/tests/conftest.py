"""Shared fixtures for the lab's tests. Keep them generic; topic-specific fixtures live in their
own test modules."""

from __future__ import annotations

import pytest

LAB_USER = "admin"
LAB_PASSWORD = "lab-secret"


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
