"""Pendientes' rules without a terminal: every page of the roster, status today, urgency order,
filters; and the 1:1 check's advice from the portal's outcome and band."""

from __future__ import annotations

import asyncio
from datetime import date

from siaptui.efirma import load
from siaptui.enrollment.roster import fetch_roster, filtered, lines_for, status_of
from siaptui.enrollment.verification import Verification, advice_key
from siaptui.portal.client import PortalClient
from siaptui.portal.models import RosterEntry
from tests.store.sandbox_support import register_workers, sandbox_modules, synthetic_workers

TODAY = date(2026, 11, 20)


def entry(name: str, start: date, deadline: date, status: str = "none") -> RosterEntry:
    return RosterEntry("12058512349", "PELJ850412HJCRPN00", name, start, status, deadline)


def test_status_today_and_urgency_order() -> None:
    entries = [
        entry("ENROLADO", date(2026, 11, 2), date(2026, 11, 9), "enrolled"),
        entry("A TIEMPO LEJOS", date(2026, 11, 19), date(2026, 11, 27)),
        entry("VENCIDO RECIENTE", date(2026, 11, 10), date(2026, 11, 18)),
        entry("TRANSFERIBLE", date(2026, 11, 17), date(2026, 11, 25), "enrolled_elsewhere"),
        entry("HOY VENCE", date(2026, 11, 12), TODAY),
        entry("VENCIDO ANTIGUO", date(2026, 10, 1), date(2026, 10, 8)),
    ]
    assert status_of(entries[4], TODAY) == "pending"  # the deadline day itself is still in time
    lines = lines_for(entries, TODAY)
    assert [(line.name, line.status) for line in lines] == [
        ("VENCIDO ANTIGUO", "overdue"), ("VENCIDO RECIENTE", "overdue"), ("HOY VENCE", "pending"),
        ("TRANSFERIBLE", "transfer"), ("A TIEMPO LEJOS", "pending"), ("ENROLADO", "enrolled")]
    assert [line.name for line in filtered(lines, "overdue")] == ["VENCIDO ANTIGUO", "VENCIDO RECIENTE"]


def test_text_filter_ignores_accents_and_case_and_finds_nss_and_curp() -> None:
    lines = lines_for([RosterEntry("34109056787", "HEGG901123MDFRRD06", "MARÍA GUADALUPE HERNÁNDEZ",
                                   date(2026, 11, 17), "none", date(2026, 11, 24))], TODAY)
    for typed in ("maria", "hernandez", "3410905", "hegg90", ""):
        assert filtered(lines, None, typed) == lines, typed
    assert filtered(lines, None, "perez") == []
    assert filtered(lines, "enrolled", "maria") == []


def test_every_page_of_a_long_roster_is_fetched(tmp_path) -> None:
    server = sandbox_modules()
    from siaptui.portal.sandbox.ca import issue_demo_efirma

    register_workers(tmp_path / "sandbox.db", synthetic_workers(130))
    running = server.serve_in_thread(db=tmp_path / "sandbox.db")
    demo = issue_demo_efirma(tmp_path / "efirma")

    async def roster() -> list:
        async with PortalClient(running.url) as client:
            await client.login(load(demo.cer, demo.key, demo.password, allow_test_ca=True))
            return await fetch_roster(client)

    try:
        entries = asyncio.run(roster())
    finally:
        running.stop()
    nss = [e.nss for e in entries]
    assert len(nss) == len(set(nss)) == 130 + 8  # the synthetic workers and the 8 seeded altas


def test_advice_follows_outcome_and_band() -> None:
    assert advice_key("match", "high") == "verify.next.match_high"
    assert advice_key("match", "low") == advice_key("match", "medium") == "verify.next.match_unsure"
    assert advice_key("no_match", "high") == "verify.next.no_match_high"
    assert advice_key("no_match", "low") == "verify.next.no_match_unsure"
    assert advice_key("unavailable", None) == "verify.next.unavailable"
    check = Verification(nss="1", fingers=[2, 7], position=2, consent_at=1.0)
    check.choose(1)
    assert check.position == 7
    check.choose(1)
    assert check.position == 2
    check.answered("match", "high")
    assert check.consent_at is None and not check.ready_to_capture  # one consent per check
