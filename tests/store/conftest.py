"""Fixtures shared by the store tests: a clock, and a store on each backend.

`store` (and `open_any`, to open the same database again) runs a test on the SQLite file and on
a real PostgreSQL server that the tests start themselves with pgserver (one server per test
session, a fresh database per test).  When pgserver cannot start a server here the PostgreSQL
half is skipped with the reason — except under CI=true, where that is a failure: CI must run both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from siaptui.store.db import Store, open_store
from tests.store.helpers import Clock

BACKENDS = ("sqlite", "postgres")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true needs PostgreSQL for the store tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL server of pgserver's bundled binaries, in a throw-away folder."""
    try:
        with warnings.catch_warnings():  # pgserver's socket folder: XDG_RUNTIME_DIR unset on CI and as root
            warnings.simplefilter("ignore")
            import pgserver
        import psycopg  # noqa: F401 - the store's driver, checked here for a clear skip
    except ImportError as exc:
        _unavailable(f"pgserver/psycopg not installed ({exc}); install siaptui[test,postgres]")
    folder = Path(tempfile.mkdtemp(prefix="siaptui-pg-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    except Exception as exc:  # noqa: BLE001 - any start failure means "no server here"
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"pgserver could not start PostgreSQL: {type(exc).__name__}: {exc}")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def pg_url(pg_server: Any) -> Iterator[str]:
    """A fresh, empty database on the session's server (dropped afterwards)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield pg_server.get_uri(name)
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def open_any(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Store]:
    """Open (again) this test's database on its backend: open_any(clock=…, passphrase=…)."""
    if backend == "sqlite":
        return lambda **options: open_store(tmp_path / "siaptui.db", **options)
    url = request.getfixturevalue("pg_url")
    return lambda **options: open_store(url=url, key_dir=tmp_path, **options)


@pytest.fixture()
def clock() -> Clock:
    """A hand-moved clock (the sender tests override it with a real-time one)."""
    return Clock()


@pytest.fixture()
def store(open_any: Callable[..., Store], clock: Any) -> Iterator[Store]:
    with open_any(clock=clock) as opened:
        yield opened
