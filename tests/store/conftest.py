"""Fixtures shared by the store tests: a clock and a store opened on it in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from siaptui.store.db import open_store
from tests.store.helpers import Clock


@pytest.fixture()
def clock() -> Clock:
    """A hand-moved clock (the sender tests override it with a real-time one)."""
    return Clock()


@pytest.fixture()
def store(tmp_path: Path, clock):
    with open_store(tmp_path / "siaptui.db", clock=clock) as opened:
        yield opened
