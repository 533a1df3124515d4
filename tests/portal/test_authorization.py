"""Authorization of contract v2 over the real sandbox on loopback: an employer reaches only the
workers of its own roster, and the portal's answers never tell whether a worker exists elsewhere.

The property test draws random rosters (which employers have the worker's alta), who holds the
biometric record, a calling employer and an operation; each operation is also sent for a worker
who exists nowhere, and for a caller without the alta the two answers must be identical.  The
regression tests replay the authorization requests of issue 19 one by one.
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from siaptui import efirma
from siaptui.identity import curp_check_digit, nss_check_digit
from siaptui.portal.client import canonical_json
from siaptui.portal.models import ConsentRecord
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.ca import issue_demo_efirma
from siaptui.portal.sandbox.ratelimit import RateLimit, VerifyLimits
from siaptui.portal.sandbox.server import RunningSandbox, serve_in_thread

from .conftest import enrollment, iso_template, login, new_key, token_jpeg

DEMO = "DEPM800101AB2"
PREVIOUS = seed.PREVIOUS_EMPLOYER_RFC
THIRD = "OTR150101AB1"
EMPLOYERS = (DEMO, PREVIOUS, THIRD)
OPERATIONS = ("lookup", "enroll", "transfer", "verify")
NOT_IN_ROSTER = (404, "worker_not_in_roster")
ALLOWED_IN_ROSTER = ("already_enrolled", "nothing_to_transfer")
_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

_serial = itertools.count(1)
_CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"


def fresh_identity() -> Dict[str, Any]:
    """A well-formed NSS + CURP never used before in this run (check digits included)."""
    n = next(_serial)
    nss10 = f"7710850{n:03d}"[:10] if n < 1000 else f"77{10 + n // 10000:02d}85{n % 10000:04d}"
    letters = "".join(_CONSONANTS[(n // 20 ** i) % 20] for i in range(3))
    curp17 = f"ZAZA850101HDF{letters}0"
    return {"nss": nss10 + nss_check_digit(nss10), "curp": curp17 + curp_check_digit(curp17),
            "name": f"TRABAJADOR PRUEBA {n}", "person_seed": 50_000 + n}


class Employer:
    """One logged-in employer speaking raw HTTP (the exact answers are what is compared)."""

    def __init__(self, url: str, credential: efirma.Credential) -> None:
        self.credential = credential
        self.http = httpx.Client(base_url=url, timeout=30)
        session = login(self.http, credential)
        self.rfc = session["employer"]["rfc"]
        self.http.headers["Authorization"] = f"Bearer {session['access_token']}"

    def signed(self, path: str, body: Dict[str, Any]) -> httpx.Response:
        raw = canonical_json(body)
        return self.http.post(path, content=raw, headers={
            "Content-Type": "application/json", "Idempotency-Key": new_key(),
            "Efirma-Signature": base64.b64encode(self.credential.sign(raw)).decode()})

    def act(self, operation: str, worker: Dict[str, Any], *, template_seed: int = 1) -> httpx.Response:
        who = {"nss": worker["nss"], "curp": worker["curp"]}
        if operation == "lookup":
            return self.http.post("/v1/workers/lookup", json=who)
        if operation == "enroll":
            return self.signed("/v1/enrollments", enrollment(worker, template_seed=template_seed).to_dict())
        if operation == "transfer":
            consent = ConsentRecord("aviso-2026-01", _NOW, "firma_electronica", self.rfc)
            return self.signed("/v1/transfers", {**who, "consent": consent.to_dict()})
        template = base64.b64encode(iso_template(template_seed * 100 + 2, position=2)).decode()
        return self.http.post("/v1/verifications", json={**who, "position": 2, "template": template})

    def roster_nss(self) -> List[str]:
        found: List[str] = []
        cursor: Optional[str] = None
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = self.http.get("/v1/workers", params=params).json()
            found += [w["nss"] for w in page["workers"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return found


def answer(response: httpx.Response) -> Tuple[int, str, Any]:
    """What a caller can observe: status, content type and the whole body."""
    return response.status_code, response.headers.get("content-type", ""), response.json()


def refused(response: httpx.Response) -> Tuple[int, str]:
    body = response.json()
    return response.status_code, body.get("code", "")


@pytest.fixture(scope="module")
def world(ca_dir: Path, demo_files: Dict[str, Any], credential: efirma.Credential,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[RunningSandbox, Dict[str, Employer]]]:
    """A sandbox with three employers (the demo one, the previous one, a third with no seeded
    roster), each logged in with its own e.firma; verification limits out of the way."""
    unlimited = VerifyLimits(RateLimit(10 ** 6, 60.0), RateLimit(10 ** 6, 60.0))
    running = serve_in_thread(ca_dir=ca_dir, verify_limits=unlimited)
    running.store.add_employer(THIRD, "OTRA EMPRESA SA DE CV", "Y5433333106")
    out = tmp_path_factory.mktemp("employers")
    credentials = {DEMO: credential}
    for rfc, name in ((PREVIOUS, "TALLER ANTERIOR SA DE CV"), (THIRD, "OTRA EMPRESA SA DE CV")):
        demo = issue_demo_efirma(out / rfc, rfc=rfc, curp="XEXX010101HNEXXXA4", name=name, ca_directory=ca_dir)
        credentials[rfc] = efirma.load(demo.cer, demo.key, demo.password, allow_test_ca=True)
    try:
        employers = {rfc: Employer(running.url, cred) for rfc, cred in credentials.items()}
        yield running, employers
    finally:
        for employer in locals().get("employers", {}).values():
            employer.http.close()
        running.stop()


def enrolled_worker(running: RunningSandbox, employer: Employer, days_ago: int = 0) -> Dict[str, Any]:
    """A new worker on `employer`'s roster only, enrolled by it through the API (the answer's
    `enrollment_id` is kept in the returned dict)."""
    worker = fresh_identity()
    running.store.add_worker(worker["nss"], worker["curp"], worker["name"])
    running.store.add_alta(employer.rfc, worker["nss"], date.today() - timedelta(days=days_ago))
    made = employer.act("enroll", worker, template_seed=worker["person_seed"])
    assert made.status_code == 201, made.text
    return {**worker, "enrollment_id": made.json()["enrollment_id"]}


def holder_of(running: RunningSandbox, nss: str) -> Optional[str]:
    row = running.store.worker_by_nss(nss)
    return None if row is None else row["biometrics_employer"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roster=st.sets(st.sampled_from(EMPLOYERS)), holder_index=st.integers(0, 3),
       caller=st.sampled_from(EMPLOYERS), operation=st.sampled_from(OPERATIONS))
def test_no_cross_employer_access_and_no_existence_leak(world, roster, holder_index, caller, operation) -> None:
    running, employers = world
    worker, nobody = fresh_identity(), fresh_identity()
    running.store.add_worker(worker["nss"], worker["curp"], worker["name"], person_seed=worker["person_seed"])
    for rfc in roster:
        running.store.add_alta(rfc, worker["nss"], date.today() - timedelta(days=2))
    ordered = sorted(roster)
    holder = ordered[holder_index] if holder_index < len(ordered) else None
    if holder is not None:  # the record exists, made through the API by an employer with the alta
        made = employers[holder].act("enroll", worker, template_seed=worker["person_seed"])
        assert made.status_code == 201, made.text
    me = employers[caller]
    seed_value = worker["person_seed"] + 7_000_000  # fresh fingers: never a duplicate
    got = me.act(operation, worker, template_seed=seed_value)
    if caller not in roster:
        unknown = me.act(operation, nobody, template_seed=seed_value + 1)
        assert refused(got) == NOT_IN_ROSTER, got.text
        assert answer(got) == answer(unknown)  # "exists elsewhere" reads exactly as "exists nowhere"
        assert holder_of(running, worker["nss"]) == holder  # nothing moved, nothing enrolled
        assert worker["nss"] not in me.roster_nss()
    else:
        if got.status_code >= 400:  # refused for a reason of its own roster, never "not yours"
            assert refused(got) != NOT_IN_ROSTER and refused(got)[1] in ALLOWED_IN_ROSTER, got.text
        assert worker["nss"] in me.roster_nss()
        if got.status_code == 201 and operation in ("enroll", "transfer"):
            assert holder_of(running, worker["nss"]) == caller
        if operation == "verify" and got.status_code == 200:
            body = got.json()
            assert set(body) == {"outcome", "confidence"}
            if holder != caller:
                assert body["outcome"] == "not_enrolled"


def test_enrollment_status_of_another_employer_reads_as_unknown(world) -> None:
    running, employers = world
    worker = enrolled_worker(running, employers[DEMO])
    enrollment_id = worker["enrollment_id"]
    theirs = employers[PREVIOUS].http.get(f"/v1/enrollments/{enrollment_id}")
    unknown = employers[PREVIOUS].http.get("/v1/enrollments/enr_00000000000000000000")
    assert refused(theirs) == (404, "enrollment_not_found")
    assert answer(theirs)[:2] == answer(unknown)[:2] and theirs.json()["code"] == unknown.json()["code"]
    assert employers[DEMO].http.get(f"/v1/enrollments/{enrollment_id}").status_code == 200


# --- the requests of issue 19, one by one ------------------------------------------------------------

def test_b_cannot_verify_a_worker_of_a(world) -> None:
    """B verifying A's enrolled worker got 200 with the raw score; now the roster refusal."""
    running, employers = world
    worker = enrolled_worker(running, employers[DEMO])
    probe = employers[PREVIOUS].act("verify", worker, template_seed=worker["person_seed"])
    assert refused(probe) == NOT_IN_ROSTER
    assert "score" not in probe.text and "threshold" not in probe.text


def test_verification_answers_a_band_never_a_score(world) -> None:
    running, employers = world
    worker = enrolled_worker(running, employers[DEMO])
    same = employers[DEMO].act("verify", worker, template_seed=worker["person_seed"])
    other = employers[DEMO].act("verify", worker, template_seed=worker["person_seed"] + 1)
    assert same.status_code == 200 and other.status_code == 200
    assert same.json()["outcome"] == "match" and other.json()["outcome"] == "no_match"
    for body in (same.json(), other.json()):
        assert set(body) == {"outcome", "confidence"} and body["confidence"] in ("high", "medium", "low")


def test_b_cannot_transfer_a_worker_of_a_with_its_own_consent(world) -> None:
    """B transferred A's worker to itself with a consent B wrote (201); now refused, A keeps it."""
    running, employers = world
    worker = enrolled_worker(running, employers[DEMO])
    taken = employers[PREVIOUS].act("transfer", worker)
    assert refused(taken) == NOT_IN_ROSTER
    assert holder_of(running, worker["nss"]) == DEMO
    mine = employers[DEMO].act("lookup", worker).json()
    assert mine["biometric_status"] == "enrolled" and [h["event"] for h in mine["history"]] == ["enrolled"]


def test_transfer_needs_the_alta_and_leaves_a_history_line(world) -> None:
    running, employers = world
    worker = enrolled_worker(running, employers[PREVIOUS], days_ago=400)
    running.store.add_alta(DEMO, worker["nss"], date.today())  # the new employer registers the alta
    moved = employers[DEMO].act("transfer", worker)
    assert moved.status_code == 201, moved.text
    before = employers[PREVIOUS].act("lookup", worker).json()
    assert before["biometric_status"] == "enrolled_elsewhere"
    assert [h["event"] for h in before["history"]] == ["enrolled", "transferred_out"]
    assert before["history"][1]["folio"] == moved.json()["folio"]
    assert "DEPM" not in json.dumps(before)  # the line does not say who took the record
    no_record = employers[PREVIOUS].act("verify", worker, template_seed=worker["person_seed"]).json()
    assert no_record == {"outcome": "not_enrolled", "confidence": None}


def test_the_photo_moves_with_the_record_and_no_answer_returns_it(world) -> None:
    """The enrollment's photo is kept with the worker's record as biometric data: it follows
    the record on a transfer, and neither employer ever gets it back (contract 2.2, Photos)."""
    running, employers = world
    previous, demo = employers[PREVIOUS], employers[DEMO]
    worker = fresh_identity()
    running.store.add_worker(worker["nss"], worker["curp"], worker["name"])
    running.store.add_alta(PREVIOUS, worker["nss"], date.today() - timedelta(days=30))
    photo = token_jpeg()
    body = enrollment(worker, template_seed=worker["person_seed"]).to_dict()
    body["photo"] = base64.b64encode(photo).decode()
    made = previous.signed("/v1/enrollments", body)
    assert made.status_code == 201, made.text
    assert running.store.photo(worker["nss"]) == (photo, PREVIOUS)
    status = previous.http.get(f"/v1/enrollments/{made.json()['enrollment_id']}").json()
    assert status["photo"] is True

    running.store.add_alta(DEMO, worker["nss"], date.today())
    moved = demo.act("transfer", worker)
    assert moved.status_code == 201, moved.text
    assert running.store.photo(worker["nss"]) == (photo, DEMO)
    answers = [made, moved, status, previous.act("lookup", worker), demo.act("lookup", worker),
               demo.act("verify", worker, template_seed=worker["person_seed"])]
    texts = [json.dumps(a if isinstance(a, dict) else a.json()) for a in answers]
    assert all(body["photo"] not in text and body["photo"][:64] not in text for text in texts)

    plain = enrolled_worker(running, demo)
    assert demo.http.get(f"/v1/enrollments/{plain['enrollment_id']}").json()["photo"] is False


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/sandbox/faults", None),
    ("PUT", "/sandbox/faults", {"overload": 60}),
    ("PUT", "/sandbox/faults", {"expire-session": "all"}),
    ("GET", "/sandbox/enrollments", None),
])
def test_control_endpoints_need_the_admin_token(world, method, path, body) -> None:
    running, employers = world
    with httpx.Client(base_url=running.url, timeout=10) as anyone:
        for headers in ({}, {"Sandbox-Admin-Token": "adivinado"},
                        {"Authorization": employers[DEMO].http.headers["Authorization"]}):
            response = anyone.request(method, path, json=body, headers=headers)
            assert refused(response) == (401, "admin_token_required")
            assert "idempotency_keys" not in response.text
        assert running.faults.overload_seconds == 0
        assert employers[DEMO].http.get("/v1/workers").status_code == 200  # sessions untouched
        allowed = anyone.get("/sandbox/faults", headers={"Sandbox-Admin-Token": running.admin_token})
        assert allowed.status_code == 200


def test_verification_is_rate_limited_per_worker_and_per_employer(ca_dir: Path, credential) -> None:
    limits = VerifyLimits(per_worker=RateLimit(2, 60.0), per_employer=RateLimit(3, 60.0))
    with serve_in_thread(ca_dir=ca_dir, verify_limits=limits) as running:
        me = Employer(running.url, credential)
        try:
            first, second = [w for w in seed.DEMO_WORKERS if w["case"] == "ok"][:2]
            assert me.act("verify", first).status_code == 200
            assert me.act("verify", first).status_code == 200
            worker_limited = me.act("verify", first)
            assert refused(worker_limited) == (429, "rate_limited")
            assert 1 <= int(worker_limited.headers["retry-after"]) <= 60
            employer_limited = me.act("verify", second)  # the employer's third counted request was the 429
            assert refused(employer_limited) == (429, "rate_limited")
            nobody = fresh_identity()  # refusals count too: no free enumeration past the limit
            assert refused(me.act("verify", nobody)) == (429, "rate_limited")
        finally:
            me.http.close()
