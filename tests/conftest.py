"""Shared test fixtures: the ../shared reference data, isolated config and data dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path | None:
    """../shared beside the checkout, or SIAPTUI_SHARED; None when a fresh clone has neither."""
    explicit = os.environ.get("SIAPTUI_SHARED")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(REPO.parent / "shared")
    for candidate in candidates:
        if (candidate / "data").is_dir():
            return candidate
    return None


def in_ci() -> bool:
    """CI=true (GitHub Actions, GitLab CI and most others set it): missing data is a failure there."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def shared() -> Path:
    """The reference data folder; absent, the test skips on a developer's clone and fails in CI.

    In CI a skip would hide that the reference tests never ran, so there it is an error.
    """
    found = shared_dir()
    if found is None:
        looked = os.environ.get("SIAPTUI_SHARED") or str(REPO.parent / "shared")
        message = (f"the shared reference data is absent: no data/ folder in {looked} "
                   "(set SIAPTUI_SHARED to the folder that holds data/)")
        if in_ci():
            pytest.fail(message + "; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config file path, data dir and log dir: never the developer's real ones."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SIAPTUI_CONFIG", str(home / "config" / "siaptui.toml"))
    monkeypatch.setenv("SIAPTUI_STORE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("SIAPTUI_ACUSE_FOLDER", str(home / "acuses"))
    monkeypatch.setenv("SIAPTUI_LOG_DIR", str(home / "log"))
    kept = ("SIAPTUI_CONFIG", "SIAPTUI_STORE_DATA_DIR", "SIAPTUI_ACUSE_FOLDER", "SIAPTUI_LOG_DIR", "SIAPTUI_SHARED")
    for name in list(os.environ):
        if name.startswith("SIAPTUI_") and name not in kept:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    from siaptui import i18n

    i18n.set_language("es")
    return home


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: under `-n 2` a long test started last keeps one core busy while the
    other idles (longest first is the classic way to keep two queues even)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
