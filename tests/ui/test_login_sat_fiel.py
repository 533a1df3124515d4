"""The TUI signs in with SAT's public test FIEL against a sandbox that trusts SAT's test CA.

SAT's test certificates expired in 2021, so the app and the sandbox share a frozen clock inside
the certificate's validity; a CSD in the same place is refused with the catalog message.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from siaptui.config import Settings
from tests.ui.conftest import SIZE, make_app, screen_text, wait_until

FROZEN = datetime(2019, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def sat_sandbox(tmp_path: Path):
    from siaptui.portal.sandbox.server import serve_in_thread

    sandbox = serve_in_thread(db=tmp_path / "portal.db", allow_test_ca=True, cert_now=FROZEN)
    try:
        yield sandbox
    finally:
        sandbox.stop()


async def _sign_in(app, folder: Path, pilot) -> None:
    password = (folder / "password.txt").read_text().strip()
    for field, value in (("#cer", folder / "certificate.cer"), ("#key", folder / "private_key.key"),
                         ("#password", password)):
        app.screen.query_one(field).value = str(value)
    await pilot.pause()
    await pilot.press("enter")


@pytest.mark.parametrize("kind", ["FIEL", "CSD01"])
async def test_sat_test_credentials_against_the_sandbox(shared: Path, sat_sandbox, kind: str) -> None:
    settings = Settings()
    settings.portal.allow_test_credentials = True
    app = make_app(settings, now=FROZEN.timestamp, portal_url=sat_sandbox.url)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _sign_in(app, shared / "data" / "sat-test-credentials" / f"{kind}_AAA010101AAA", pilot)
        if kind == "FIEL":
            await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "worker", 60)
            assert app.flow.employer is not None and app.flow.employer.rfc == "AAA010101AAA"
        else:
            await wait_until(pilot, lambda: "CSD" in screen_text(app), 60)
            assert getattr(app.screen, "SCREEN_ID", "") == "login"
