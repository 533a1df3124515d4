"""The sandbox server over raw HTTP: what a client of the contract could get wrong, the admin
switches, persistence, the CA's SAT-format files, the seed data and the `siaptui sandbox` command."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from typing import Any, Dict

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from siaptui import efirma, identity
from siaptui.portal import OPENAPI_PATH
from siaptui.portal.client import canonical_json
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.ca import issue_demo_efirma, sat_pkcs8
from siaptui.portal.sandbox.faults import Faults, FaultSpecError, apply, parse_specs
from siaptui.portal.sandbox.server import serve_in_thread

from .conftest import enrollment, login, new_key


def problem(response: httpx.Response, status: int, code: str) -> Dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


@pytest.fixture
def http(sandbox):
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        yield client


def test_serves_its_own_contract(http) -> None:
    answer = http.get("/openapi.yaml")
    assert answer.status_code == 200 and answer.content == OPENAPI_PATH.read_bytes()
    document = yaml.safe_load(answer.text)
    assert document["openapi"].startswith("3.1") and "/v1/enrollments" in document["paths"]
    codes = set(document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    from siaptui.portal.errors import PROBLEM_CLASSES
    from siaptui.portal.sandbox.problems import PROBLEMS

    assert codes == set(PROBLEMS) == set(PROBLEM_CLASSES)


def test_request_format_problems(http, credential) -> None:
    token = login(http, credential)["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    worker = seed.DEMO_WORKERS[0]
    problem(http.post("/v1/workers/lookup", headers=auth, content=b"nss=1", ), 415, "unsupported_media_type")
    problem(http.post("/v1/workers/lookup", headers={**auth, "Content-Type": "application/json"},
                      content=b'{"nss": '), 400, "malformed_json")
    problem(http.post("/v1/workers/lookup", headers=auth, json=[1, 2]), 422, "invalid_request")
    problem(http.post("/v1/workers/lookup", headers={**auth, "Content-Type": "application/json"},
                      content=b"{" + b" " * (300 * 1024) + b"}"), 413, "body_too_large")
    problem(http.post("/v1/workers/lookup", json={"nss": worker["nss"], "curp": worker["curp"]}), 401, "unauthorized")
    problem(http.get("/v1/nada", headers=auth), 404, "not_found")
    problem(http.get("/v1/workers/lookup", headers=auth), 405, "method_not_allowed")


def test_enrollment_request_problems(http, credential) -> None:
    token = login(http, credential)["access_token"]
    body = canonical_json(enrollment(seed.DEMO_WORKERS[0]).to_dict())
    signature = base64.b64encode(credential.sign(body)).decode()
    base = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    problem(http.post("/v1/enrollments", headers={**base, "Efirma-Signature": signature}, content=body),
            400, "idempotency_key_required")
    problem(http.post("/v1/enrollments", headers={**base, "Efirma-Signature": signature, "Idempotency-Key": "corta"},
                      content=body), 400, "invalid_request")
    problem(http.post("/v1/enrollments", headers={**base, "Idempotency-Key": new_key()}, content=body),
            401, "signature_invalid")
    tampered = body.replace(b'"quality":72', b'"quality":99')
    assert tampered != body
    problem(http.post("/v1/enrollments", headers={**base, "Efirma-Signature": signature, "Idempotency-Key": new_key()},
                      content=tampered), 401, "signature_invalid")

    def send(data: Dict[str, Any]) -> httpx.Response:
        raw = canonical_json(data)
        return http.post("/v1/enrollments", content=raw, headers={
            **base, "Idempotency-Key": new_key(), "Efirma-Signature": base64.b64encode(credential.sign(raw)).decode()})

    good = enrollment(seed.DEMO_WORKERS[0]).to_dict()
    damaged = json.loads(json.dumps(good))
    damaged["fingers"][0]["template"] = base64.b64encode(b"FMR\x00 20\x00" + b"\x00" * 30).decode()
    assert "plantilla" in problem(send(damaged), 422, "invalid_request")["detail"]
    only_missing = dict(good, fingers=[{"position": 1, "missing_reason": "amputated"}])
    problem(send(only_missing), 422, "invalid_request")
    no_consent = {k: v for k, v in good.items() if k != "consent"}
    assert "consent" in problem(send(no_consent), 422, "invalid_request")["detail"]
    assert send(good).status_code == 201


def test_challenge_is_single_use(http, credential) -> None:
    challenge = http.post("/v1/auth/challenge").json()
    nonce = base64.b64decode(challenge["challenge"])
    body = {"challenge_id": challenge["challenge_id"],
            "certificate": base64.b64encode(credential.certificate_der).decode(),
            "signature": base64.b64encode(credential.sign(nonce)).decode()}
    assert http.post("/v1/auth/login", json=body).status_code == 200
    problem(http.post("/v1/auth/login", json=body), 401, "challenge_invalid")
    problem(http.post("/v1/auth/login", json=dict(body, challenge_id="chl_inventado")), 401, "challenge_invalid")
    problem(http.post("/v1/auth/login", json=dict(body, certificate="no es base64!")), 422, "invalid_request")


def test_refresh_token_works_once(http, credential) -> None:
    session = login(http, credential)
    renewed = http.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert renewed.status_code == 200 and renewed.json()["access_token"] != session["access_token"]
    problem(http.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}), 401, "session_expired")


def test_fault_switches_over_http(sandbox, http) -> None:
    http.headers["Sandbox-Admin-Token"] = sandbox.admin_token
    assert http.get("/sandbox/faults").json()["latency_ms"] == 0
    changed = http.put("/sandbox/faults", json={"overload-next": 1, "overload-retry-after": 7})
    assert changed.json()["overload_next"] == 1
    overloaded = http.post("/v1/auth/challenge")
    problem(overloaded, 503, "overloaded")
    assert overloaded.headers["retry-after"] == "7"
    assert http.post("/v1/auth/challenge").status_code == 200     # counted fault used up
    assert http.get("/v1/info").status_code == 200                 # never faulted
    problem(http.put("/sandbox/faults", json={"latency": "mucho"}), 422, "invalid_request")
    problem(http.put("/sandbox/faults", json={"inventada": 1}), 422, "invalid_request")
    http.put("/sandbox/faults", json={"error500-next": 1})
    problem(http.post("/v1/auth/challenge"), 500, "internal_error")


def test_a_request_waiting_out_the_latency_is_answered_when_the_sandbox_stops(ca_dir) -> None:
    """Stopping mid-delay answers 503 + Retry-After (the client keeps the item queued) instead of
    outlasting uvicorn's graceful shutdown and being cancelled with a traceback."""
    import threading

    running = serve_in_thread(ca_dir=ca_dir, faults={"latency": "30000"})
    answers: list = []
    asking = threading.Thread(target=lambda: answers.append(httpx.post(f"{running.url}/v1/auth/challenge",
                                                                        timeout=20)))
    asking.start()
    threading.Event().wait(0.5)  # the request is now asleep in the latency fault
    running.stop()
    asking.join(timeout=20)
    assert answers, "the delayed request got no answer"
    problem(answers[0], 503, "overloaded")
    assert answers[0].headers["retry-after"] == "1"


def test_fault_specs() -> None:
    assert parse_specs(["latency=200", "expire-session", "bad-answer=huge"]) == {
        "latency": "200", "expire-session": None, "bad-answer": "huge"}
    faults = Faults()
    fired = apply(faults, {"latency": "200", "expire-session": None, "drop-after-commit": None})
    assert fired == ["expire-session:access"]
    assert faults.latency_ms == 200 and faults.drop_after_commit == 1
    for bad in ({"error500": 2}, {"bad-answer": "rara"}, {"expire-session": "x"}, {"nada": 1}):
        with pytest.raises(FaultSpecError):
            apply(faults, bad)


def test_state_survives_a_restart(ca_dir, credential, tmp_path) -> None:
    db = tmp_path / "portal.sqlite3"
    worker = seed.DEMO_WORKERS[3]
    body = canonical_json(enrollment(worker).to_dict())
    key = new_key()

    def submit(url: str) -> httpx.Response:
        with httpx.Client(base_url=url) as http:
            token = login(http, credential)["access_token"]
            return http.post("/v1/enrollments", content=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key,
                "Efirma-Signature": base64.b64encode(credential.sign(body)).decode()})

    with serve_in_thread(db=db, ca_dir=ca_dir) as first:
        original = submit(first.url)
        assert original.status_code == 201
    with serve_in_thread(db=db, ca_dir=ca_dir) as second:
        replay = submit(second.url)
        assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == original.json()
        assert second.store.count_enrollments() == 1


def test_demo_key_is_in_sat_format(tmp_path, ca_dir) -> None:
    demo = issue_demo_efirma(tmp_path, kind="csd", ca_directory=ca_dir)
    raw = demo.key.read_bytes()
    for oid in ("2a864886f70d01050d", "2a864886f70d01050c", "2a864886f70d0307"):  # PBES2, PBKDF2, 3DES
        assert bytes.fromhex(oid) in raw[:80]
    assert oct(demo.key.stat().st_mode & 0o777) == "0o600"
    private = serialization.load_der_private_key(raw, password=demo.password.encode())
    with pytest.raises(ValueError):
        serialization.load_der_private_key(raw, password=b"otra")
    again = serialization.load_der_private_key(sat_pkcs8(private, "x"), password=b"x")
    assert again.private_numbers() == private.private_numbers()
    info = efirma.inspect_certificate(demo.cer.read_bytes())
    assert not info.is_fiel and info.rfc == demo.rfc and info.issuer_name == efirma.SANDBOX_CA_NAME


def test_seed_data_is_valid_and_covers_the_cases() -> None:
    cases = [w["case"] for w in seed.DEMO_WORKERS]
    assert cases.count("ok") >= 5 and "curp_not_eligible" in cases and "enrolled_elsewhere" in cases
    everyone = [*seed.DEMO_WORKERS, *seed.OTHER_WORKERS]
    registry = {str(w["nss"]) for w in everyone}
    for rfc, altas in seed.ROSTERS.items():
        assert rfc in {e["rfc"] for e in seed.DEMO_EMPLOYERS}
        assert {nss for nss, _ in altas} <= registry and all(days >= 0 for _, days in altas)
    assert not {str(w["nss"]) for w in seed.OTHER_WORKERS} & {nss for nss, _ in seed.ROSTERS["DEPM800101AB2"]}
    assert seed.DEMO_UNKNOWN_NSS not in registry
    for worker in everyone:
        assert identity.validate_nss(worker["nss"]) == worker["nss"]
        assert identity.validate_curp(worker["curp"]) == worker["curp"]
        assert isinstance(worker["person_seed"], int)
    assert len({w["person_seed"] for w in everyone}) == len(everyone)
    by_nss = {w["nss"]: w["curp"] for w in seed.DEMO_WORKERS}
    for nss, curp in seed.DEMO_MISMATCHED_PAIRS:
        assert by_nss[nss] != curp and curp in by_nss.values()
    assert identity.validate_nss(seed.DEMO_UNKNOWN_NSS) not in by_nss
    for employer in seed.DEMO_EMPLOYERS:
        identity.validate_rfc(employer["rfc"])


def test_cli_issue_efirma(tmp_path) -> None:
    from siaptui import cli

    out = tmp_path / "efirma"
    assert cli.main(["sandbox", "--issue-efirma", str(out)]) == 0
    cer = next(out.glob("*.cer"))
    key = next(out.glob("*.key"))
    credential = efirma.load(cer, key, "demo12345", allow_test_ca=True)
    assert credential.rfc == seed.DEMO_EMPLOYERS[0]["rfc"]
    assert cli.main(["sandbox", "--issue-efirma", str(tmp_path / "old"), "--expired"]) == 0
    with pytest.raises(efirma.EfirmaExpired):
        efirma.load(next((tmp_path / "old").glob("*.cer")), next((tmp_path / "old").glob("*.key")), "demo12345",
                    allow_test_ca=True)


def test_cli_rejects_bad_fault(capsys) -> None:
    from siaptui import cli

    assert cli.main(["sandbox", "--fault", "temblor=7"]) == 1
    assert "temblor" in capsys.readouterr().err


def test_cli_serves(tmp_path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "siaptui", "sandbox", "--port", "0", "--db",
                                str(tmp_path / "p.sqlite3")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        first = process.stdout.readline()
        url = first.split()[first.split().index("en") + 1]
        token = process.stdout.readline().rsplit(": ", 1)[1].strip()  # the admin token line
        for _ in range(100):
            try:
                answer = httpx.get(url + "/v1/info", timeout=2)
                break
            except httpx.TransportError:
                import time

                time.sleep(0.1)
        assert answer.json()["sandbox"] is True
        assert httpx.get(url + "/sandbox/faults", timeout=2).status_code == 401
        assert httpx.get(url + "/sandbox/faults", headers={"Sandbox-Admin-Token": token}, timeout=2).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_overload_rate_lets_some_requests_through(sandbox, http) -> None:
    sandbox.set_faults(overload_rate=0.5, seed=3, overload_retry_after=2)
    statuses = [http.post("/v1/auth/challenge").status_code for _ in range(30)]
    assert 503 in statuses and 200 in statuses and set(statuses) == {200, 503}
    sandbox.set_faults(clear=True)
    assert http.post("/v1/auth/challenge").status_code == 200
