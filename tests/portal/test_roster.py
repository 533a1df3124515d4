"""The roster of contract v2: `GET /v1/workers` over the real sandbox (pages, filter, deadlines)
and `PortalClient.list_workers()`, and the deadline rule itself against Mexico's holidays."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Dict, List

import httpx
import pytest

from siaptui.portal import errors as perr
from siaptui.portal.client import PortalClient
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.deadlines import enrollment_deadline

from .conftest import RecordingSleep, login


@pytest.mark.parametrize("start,deadline", [
    (date(2026, 6, 1), date(2026, 6, 8)),      # Monday, no holiday: the next Monday
    (date(2026, 1, 30), date(2026, 2, 9)),     # Día de la Constitución, first Monday of February
    (date(2026, 3, 13), date(2026, 3, 23)),    # Natalicio de Benito Juárez, third Monday of March
    (date(2026, 12, 21), date(2026, 12, 29)),  # Navidad
    (date(2026, 12, 31), date(2027, 1, 8)),    # Año Nuevo, across the year
    (date(2026, 9, 12), date(2026, 9, 21)),    # a Saturday alta; 16 September (Independencia)
])
def test_deadline_is_five_business_days_without_federal_holidays(start, deadline) -> None:
    assert enrollment_deadline(start) == deadline


@pytest.fixture
def http(sandbox, credential):
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        session = login(client, credential)
        client.headers["Authorization"] = f"Bearer {session['access_token']}"
        yield client


def _all_pages(http: httpx.Client, **params: Any) -> List[Dict[str, Any]]:
    found: List[Dict[str, Any]] = []
    cursor = None
    while True:
        answer = http.get("/v1/workers", params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["workers"]) <= int(params.get("limit", 50))
        found += page["workers"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_roster_lists_only_this_employers_altas_in_pages(sandbox, http) -> None:
    whole = _all_pages(http, limit="50")
    paged = _all_pages(http, limit="3")
    assert paged == whole
    assert {w["nss"] for w in whole} == {str(w["nss"]) for w in seed.DEMO_WORKERS}
    assert not {str(w["nss"]) for w in seed.OTHER_WORKERS} & {w["nss"] for w in whole}
    assert [w["start_date"] for w in whole] == sorted(w["start_date"] for w in whole)
    today = sandbox.store.seed_date
    for worker in whole:
        start = date.fromisoformat(worker["start_date"])
        assert worker["enrollment_deadline"] == enrollment_deadline(start).isoformat()
    offsets = dict(seed.ROSTERS["DEPM800101AB2"])
    assert {w["nss"]: (today - date.fromisoformat(w["start_date"])).days for w in whole} == offsets
    # Some still within the window, some past it (the Pendientes screen shows both).
    deadlines = [date.fromisoformat(w["enrollment_deadline"]) for w in whole]
    assert min(deadlines) < today < max(deadlines)


def test_roster_filter_and_refusals(http) -> None:
    elsewhere = _all_pages(http, status="enrolled_elsewhere")
    assert [w["nss"] for w in elsewhere] == [str(w["nss"]) for w in seed.DEMO_WORKERS
                                             if w["case"] == "enrolled_elsewhere"]
    assert len(_all_pages(http, status="none")) == len(seed.DEMO_WORKERS) - 1
    assert _all_pages(http, status="enrolled") == []
    for params in ({"status": "todos"}, {"limit": "0"}, {"limit": "101"}, {"limit": "diez"}, {"limit": "²"},
                   {"limit": "0005"}, {"cursor": ""},
                   {"cursor": "no-es-un-cursor"}, {"cursor": "MTIwNTg1MTIzNDk"}):  # base64 of an NSS
        answer = http.get("/v1/workers", params=params)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_request", params
    assert http.get("/v1/workers", headers={"Authorization": "Bearer x"}).json()["code"] == "unauthorized"


def test_roster_cursor_carries_no_identity(http) -> None:
    first = http.get("/v1/workers", params={"limit": "1"}).json()
    assert first["next_cursor"] and first["workers"][0]["nss"] not in first["next_cursor"]
    import base64

    decoded = base64.urlsafe_b64decode(first["next_cursor"] + "==").decode()
    assert first["workers"][0]["nss"] not in decoded and first["workers"][0]["curp"] not in decoded


async def test_client_lists_the_roster_page_by_page(sandbox, credential) -> None:
    async with PortalClient(sandbox.url, sleep=RecordingSleep()) as portal:
        await portal.login(credential)
        page = await portal.list_workers(limit=5)
        assert len(page.workers) == 5 and page.next_cursor
        rest = await portal.list_workers(limit=5, cursor=page.next_cursor)
        assert rest.next_cursor is None
        everyone = page.workers + rest.workers
        assert {w.nss for w in everyone} == {str(w["nss"]) for w in seed.DEMO_WORKERS}
        today = sandbox.store.seed_date
        overdue = {w.nss for w in everyone if w.overdue(today)}
        assert "56987800424" in overdue and "43149520207" not in overdue  # 20 days ago; today
        pending = await portal.list_workers(status="enrolled_elsewhere")
        assert [w.nss for w in pending.workers] == ["27957545455"]
        assert pending.workers[0].enrollment_deadline == enrollment_deadline(today - timedelta(days=2))
        with pytest.raises(perr.InvalidRequest):
            await portal.list_workers(cursor="roto")
        worker = await portal.lookup_worker("27957545455", "FONR750320HMCLVB03")
        assert worker.start_date == today - timedelta(days=2) and worker.history == []
