"""Pendientes against the sandbox on loopback with the app's clock frozen: the portal computes
each deadline (5 business days, Mexican federal holidays excluded), the app says who is overdue
*today*; a worker whose window spans a holiday is still in time on the day the deadline would
have passed without it, and overdue the day after.  Enter starts that worker's transfer; the
list and the Bandeja's folios export as CSV files."""

from __future__ import annotations

import csv
from datetime import date, datetime, time as clock_time, timedelta, timezone
from typing import Any, List, Tuple

import holidays
from textual.widgets import DataTable, Input

from siaptui.enrollment.flow import FingerCapture, Impression
from siaptui.portal.sandbox import seed
from tests.portal.test_authorization import fresh_identity
from tests.ui.conftest import SIZE, make_app, screen_text, transfer_to_acuse, wait_until

ROBERTO = next(w for w in seed.DEMO_WORKERS if w["case"] == "enrolled_elsewhere")


def weekdays_after(start: date, count: int, skip: Tuple[date, ...] = ()) -> date:
    day, counted = start, 0
    while counted < count:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in skip:
            counted += 1
    return day


def holiday_scenario(today: date) -> Tuple[date, date, date]:
    """(holiday, alta, deadline): the next federal holiday on a weekday, with no other holiday
    in the two weeks around it; the alta is the business day before it, so the holiday falls
    inside the 5-business-day window and pushes the deadline one business day later."""
    calendar = holidays.Mexico(years=range(today.year, today.year + 3))
    for holiday in sorted(d for d in calendar if d > today + timedelta(days=7)):
        if holiday.weekday() >= 5:
            continue
        if any(other != holiday and abs((other - holiday).days) <= 14 for other in calendar):
            continue
        alta = holiday - timedelta(days=1)
        while alta.weekday() >= 5:
            alta -= timedelta(days=1)
        return holiday, alta, weekdays_after(alta, 5, (holiday,))
    raise AssertionError("no holiday in the next three years")


def noon_utc(day: date) -> float:
    return datetime.combine(day, clock_time(18, 0), timezone.utc).timestamp()


def rows(app: Any) -> List[List[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_deadlines_across_a_holiday_with_a_frozen_clock(demo) -> None:
    sandbox, efirma, settings = demo
    holiday, alta, deadline = holiday_scenario(date.today())
    assert weekdays_after(alta, 5) < deadline  # without the holiday it would already have passed
    in_window, late = fresh_identity(), fresh_identity()
    for worker, start in ((in_window, alta), (late, alta - timedelta(days=14))):
        sandbox.store.add_worker(worker["nss"], worker["curp"], worker["name"])
        sandbox.store.add_alta(efirma.rfc, worker["nss"], start)
    clock = [noon_utc(weekdays_after(alta, 5))]  # the day the deadline would fall without the holiday
    app = make_app(settings, now=lambda: clock[0], portal_url=sandbox.url, device="sim",
                   credential_dir=efirma.cer.parent, demo_password=efirma.password)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "worker", 60)
        clock[0] = noon_utc(deadline)  # the last day of the window, holiday excluded
        await pilot.press("f8")
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "pending" and app.screen.loaded, 30)
        screen = app.screen
        by_name = {line.name: line for line in screen.lines}
        assert by_name[in_window["name"]].deadline == deadline
        assert by_name[in_window["name"]].status == "pending"
        assert by_name[late["name"]].status == "overdue"
        assert by_name[ROBERTO["name"]].status in ("transfer", "overdue")
        # Most urgent first: every overdue line above every line still in time, enrolled last.
        rank = {"overdue": 0, "pending": 1, "transfer": 1, "enrolled": 2}
        ranks = [rank[line.status] for line in screen.lines]
        assert ranks == sorted(ranks)
        in_time = [line.deadline for line in screen.lines if rank[line.status] == 1]
        assert in_time == sorted(in_time)  # nearest deadline first
        shown = rows(app)
        assert shown[0][4] == "VENCIDO"
        row = next(r for r in shown if r[0] == in_window["name"])
        assert row[3] == deadline.strftime("%d/%m/%Y") and row[4] == "pendiente"
        assert in_window["nss"] not in screen_text(app)  # masked on screen

        # The day after: overdue.
        clock[0] = noon_utc(deadline + timedelta(days=1))
        await pilot.press("f5")
        await wait_until(pilot, lambda: next(x for x in screen.lines if x.nss == in_window["nss"]).status == "overdue")

        # Filters: by status (S cycles all → overdue → …) and by typed text.
        await pilot.press("s")
        assert screen.status_filter == "overdue" and all(r[4] == "VENCIDO" for r in rows(app))
        await pilot.press("s", "s", "s", "s")
        assert screen.status_filter is None
        await pilot.press("slash", *"flores", "enter")
        assert [r[0] for r in rows(app)] == [ROBERTO["name"]]

        # CSV of what is shown: written whole, path on screen, NSS masked.
        await pilot.press("e")
        await pilot.pause()
        [path] = list((app.services.data_dir() / "exportes").glob("pendientes-*.csv"))
        assert str(path.name) in " ".join(screen_text(app).split())
        with path.open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle))
        assert table[0][:2] == ["Nombre", "NSS (enmascarado)"]
        assert [r[0] for r in table[1:]] == [ROBERTO["name"]] and table[1][1] == "2795*****55"

        # Enter on the worker: Trabajador filled in and confirmed by the portal → transfer.
        # Another worker's captured fingers not yet in the outbox: asked first, kept on N.
        assert isinstance(app.screen.focused, DataTable)
        app.flow.fingers[1] = FingerCapture(position=1, impressions=[Impression(quality=80, template=b"x")], best=0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DiscardCaptureScreen")
        await pilot.press("n")
        await wait_until(pilot, lambda: getattr(app.screen, "SCREEN_ID", "") == "pending")
        assert "terminar primero ese envío" in " ".join(screen_text(app).split()) and app.flow.fingers[1].best == 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DiscardCaptureScreen")
        await pilot.press("s")  # discarded, explicitly
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "worker" and app.flow.worker.confirmed, 30)
        assert app.screen.query_one("#nss", Input).value == ROBERTO["nss"]
        assert app.flow.worker.biometric_status == "enrolled_elsewhere"
        await transfer_to_acuse(pilot)
        folio = app.flow.receipt["folio"]

        # The Bandeja's folios as CSV.
        await pilot.press("f2")
        await wait_until(pilot, lambda: app.screen.SCREEN_ID == "outbox")
        await pilot.press("c")
        await pilot.pause()
        [path] = list((app.services.data_dir() / "exportes").glob("folios-*.csv"))
        with path.open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle))
        assert table[0][1] == "Folio" and table[1][1] == folio and table[1][2] == "2795*****55"
        assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left
