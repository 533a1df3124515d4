"""PortalClient against the real sandbox on a loopback port: every path, every error code."""

from __future__ import annotations

import socket
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from siaptui import efirma
from siaptui.errors import describe
from siaptui.portal import errors as perr, seal
from siaptui.portal.client import PortalClient
from siaptui.portal.models import ConsentRecord, Receipt
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.server import serve_in_thread

from .conftest import RecordingSleep, enrollment, iso_template, new_key


class RawCredential:
    """A certificate plus any RSA key: lets the tests present what efirma.load would refuse."""

    def __init__(self, cer: Path, key: Path, password: str, signing_key: Any = None) -> None:
        self.certificate_der = Path(cer).read_bytes()
        self._key = signing_key or serialization.load_der_private_key(Path(key).read_bytes(), password.encode())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _client(sandbox, **options) -> PortalClient:
    options.setdefault("sleep", RecordingSleep())
    return PortalClient(sandbox.url, **options)


def _assert_clear(error: BaseException) -> None:
    message, fix = describe(error)
    assert message and fix and "{" not in message + fix and not message.startswith("Ocurrió un error inesperado")


# --- happy path -----------------------------------------------------------------------------------

async def test_full_enrollment_flow(sandbox, credential, workers) -> None:
    async with _client(sandbox) as portal:
        info = await portal.info()
        assert info["sandbox"] is True and info["version"]
        session = await portal.login(credential)
        assert session.employer_rfc == credential.rfc and session.sandbox
        assert session.access_token not in repr(session)
        worker = await portal.lookup_worker(workers[0]["nss"], workers[0]["curp"])
        assert worker.name == workers[0]["name"] and worker.biometric_status == "none"
        request = enrollment(workers[0])
        key = new_key()
        receipt = await portal.submit_enrollment(request, key)
        assert receipt.folio.startswith("SBX-") and receipt.folio in receipt.acuse
        assert workers[0]["nss"] in receipt.acuse
        # The seal is the portal's Ed25519 signature of folio + text, checked with the key
        # /v1/info publishes.
        assert receipt.seal and seal.verify(info["seal_public_key"], receipt.folio, receipt.acuse, receipt.seal)
        # Resubmitting (as after a crash) with the same key and the stored dict: the same receipt.
        again = await portal.submit_enrollment(request.to_dict(), key)
        assert again == receipt
        assert Receipt.from_dict(receipt.to_dict()) == receipt
        status = await portal.enrollment_status(receipt.enrollment_id)
        assert status.folio == receipt.folio and status.fingers == [2, 7]
        after = await portal.lookup_worker(workers[0]["nss"], workers[0]["curp"])
        assert after.biometric_status == "enrolled" and after.enrolled_fingers == [2, 7]
        await portal.logout()
    assert sandbox.store.count_enrollments(workers[0]["nss"]) == 1


async def test_sat_test_fiel_login_when_the_sandbox_trusts_the_test_ca(shared: Path, ca_dir) -> None:
    folder = shared / "data" / "sat-test-credentials" / "FIEL_AAA010101AAA"
    frozen = datetime(2019, 6, 1, tzinfo=timezone.utc)
    credential = efirma.load(folder / "certificate.cer", folder / "private_key.key", "12345678a",
                             now=frozen, allow_test_ca=True)
    with serve_in_thread(ca_dir=ca_dir, allow_test_ca=True, cert_now=frozen) as trusting:
        async with _client(trusting) as portal:
            session = await portal.login(credential)
            assert session.employer_rfc == "AAA010101AAA"
            assert (await portal.info())["allow_test_ca"] is True
    with serve_in_thread(ca_dir=ca_dir, cert_now=frozen) as strict:
        async with _client(strict) as portal:
            with pytest.raises(perr.CertificateRejected) as caught:
                await portal.login(credential)
            assert "--allow-test-ca" in caught.value.detail


# --- login problems --------------------------------------------------------------------------------

async def test_login_problems(sandbox, demo_files) -> None:
    csd, expired, stranger, fiel = (demo_files[k] for k in ("csd", "expired", "stranger", "fiel"))
    async with _client(sandbox) as portal:
        for cred, error in [
            (RawCredential(csd.cer, csd.key, csd.password), perr.CertificateRejected),
            (RawCredential(expired.cer, expired.key, expired.password), perr.CertificateRejected),
            (RawCredential(stranger.cer, stranger.key, stranger.password), perr.EmployerNotRegistered),
            (RawCredential(fiel.cer, fiel.key, fiel.password,
                           rsa.generate_private_key(public_exponent=65537, key_size=2048)), perr.SignatureInvalid),
        ]:
            with pytest.raises(error) as caught:
                await portal.login(cred)
            assert not caught.value.transient
            _assert_clear(caught.value)
        assert portal.session is None


async def test_certificate_from_an_unknown_ca_is_rejected(sandbox, tmp_path) -> None:
    from siaptui.portal.sandbox.ca import SandboxCA, issue_demo_efirma

    rogue = issue_demo_efirma(tmp_path / "rogue", ca_directory=tmp_path / "rogue-ca")  # same CA name, other key
    assert SandboxCA.load_or_create(tmp_path / "rogue-ca").certificate.subject == sandbox.ca.certificate.subject
    async with _client(sandbox) as portal:
        with pytest.raises(perr.CertificateRejected):
            await portal.login(RawCredential(rogue.cer, rogue.key, rogue.password))


# --- worker lookup ---------------------------------------------------------------------------------

async def test_lookup_problems(sandbox, credential) -> None:
    cases = {
        "identity_mismatch": seed.DEMO_MISMATCHED_PAIRS[0],
        "curp_not_eligible": next((w["nss"], w["curp"]) for w in seed.DEMO_WORKERS if w["case"] == "curp_not_eligible"),
        "worker_not_in_roster": (seed.DEMO_UNKNOWN_NSS, "BOXW310820HNERXN09"),
        "invalid_request": ("12058512340", "PELJ850412HJCRPN00"),   # NSS check digit wrong
    }
    async with _client(sandbox) as portal:
        await portal.login(credential)
        for code, (nss, curp) in cases.items():
            with pytest.raises(perr.PortalError) as caught:
                await portal.lookup_worker(nss, curp)
            assert caught.value.problem_code == code and not caught.value.transient
            _assert_clear(caught.value)
        mismatch = await _raises(portal.lookup_worker(*seed.DEMO_MISMATCHED_PAIRS[1]))
        assert describe(mismatch)[0] == "CURP o NSS no coinciden con el registro IMSS."
        invalid = await _raises(portal.lookup_worker("12058512340", "PELJ850412HJCRPN00"))
        assert "carácter 11" in invalid.detail


async def _raises(awaitable) -> perr.PortalError:
    with pytest.raises(perr.PortalError) as caught:
        await awaitable
    return caught.value


async def test_curp_not_eligible_message_is_the_portal_one(sandbox, credential) -> None:
    worker = next(w for w in seed.DEMO_WORKERS if w["case"] == "curp_not_eligible")
    async with _client(sandbox) as portal:
        await portal.login(credential)
        error = await _raises(portal.submit_enrollment(enrollment(worker), new_key()))
        assert isinstance(error, perr.CurpNotEligible)
        assert describe(error)[0] == "CURP no válido para registro biométrico."
        assert "RENAPO" in describe(error)[1]


# --- enrollment problems ---------------------------------------------------------------------------

async def test_enrollment_conflicts(sandbox, credential, workers) -> None:
    async with _client(sandbox) as portal:
        await portal.login(credential)
        key = new_key()
        await portal.submit_enrollment(enrollment(workers[1]), key)
        changed = enrollment(workers[1], template_seed=99)
        assert isinstance(await _raises(portal.submit_enrollment(changed, key)), perr.IdempotencyConflict)
        again = await _raises(portal.submit_enrollment(enrollment(workers[1]), new_key()))
        assert isinstance(again, perr.AlreadyEnrolled)
        missing = await _raises(portal.enrollment_status("enr_doesnotexist"))
        assert isinstance(missing, perr.EnrollmentNotFound)
        for error in (again, missing):
            _assert_clear(error)


async def test_transfer_and_verification(sandbox, credential, workers) -> None:
    moved = next(w for w in seed.DEMO_WORKERS if w["case"] == "enrolled_elsewhere")
    consent = ConsentRecord("aviso-2026-01", datetime(2026, 3, 2, tzinfo=timezone.utc))
    async with _client(sandbox) as portal:
        await portal.login(credential)
        before = await portal.lookup_worker(moved["nss"], moved["curp"])
        assert before.biometric_status == "enrolled_elsewhere"
        taken = await _raises(portal.submit_enrollment(enrollment(moved), new_key()))
        assert isinstance(taken, perr.AlreadyEnrolled) and "transferencia" in taken.detail
        key = new_key()
        result = await portal.transfer(moved["nss"], moved["curp"], consent, key)
        assert result.fingers == list(seed.TRANSFER_FINGERS) and result.folio in result.acuse
        # The transfer's acuse is sealed like an enrollment's: the portal's key signs folio + text.
        public = (await portal.info())["seal_public_key"]
        assert result.seal and seal.verify(public, result.folio, result.acuse, result.seal)
        assert "Sello:" not in result.acuse
        assert (await portal.transfer(moved["nss"], moved["curp"], consent, key)) == result  # replay
        assert (await portal.lookup_worker(moved["nss"], moved["curp"])).biometric_status == "enrolled"
        nothing = await _raises(portal.transfer(workers[2]["nss"], workers[2]["curp"], consent, new_key()))
        assert isinstance(nothing, perr.NothingToTransfer)
        # 1:1 verification: a finger not on record; the record that moved holds the templates
        # of the seeded person's fingers (somebody else's template does not match them); a
        # record whose template data is gone cannot be compared.
        not_enrolled = await portal.verify(workers[2]["nss"], workers[2]["curp"], 3, iso_template(1))
        assert not_enrolled.outcome == "not_enrolled" and not not_enrolled.matched
        other = await portal.verify(moved["nss"], moved["curp"], 2, iso_template(2))
        assert other.outcome == "no_match" and other.confidence is not None
        with sandbox.store.transaction() as db:
            db.execute("UPDATE templates SET template = NULL WHERE nss = ?", (moved["nss"],))
        unavailable = await portal.verify(moved["nss"], moved["curp"], 2, iso_template(2))
        assert unavailable.outcome == "unavailable" and unavailable.confidence is None


async def test_duplicate_finger_across_workers(sandbox, credential, workers) -> None:
    async with _client(sandbox) as portal:
        await portal.login(credential)
        await portal.submit_enrollment(enrollment(workers[3], template_seed=5), new_key())
        # Same fingers presented under another worker's NSS.
        error = await _raises(portal.submit_enrollment(enrollment(workers[4], template_seed=5), new_key()))
        assert isinstance(error, perr.DuplicateFinger) and error.params["finger"] in (2, 7)
        _assert_clear(error)
        match = await portal.verify(workers[3]["nss"], workers[3]["curp"], 2, iso_template(502, position=2))
        assert match.outcome == "match"


# --- sessions --------------------------------------------------------------------------------------

async def test_expired_session_mid_submit_is_renewed(sandbox, credential, workers) -> None:
    async with _client(sandbox) as portal:
        first = await portal.login(credential)
        sandbox.set_faults(expire_session="access")          # refresh token still valid
        receipt = await portal.submit_enrollment(enrollment(workers[0]), new_key())
        assert receipt.folio and portal.session.access_token != first.access_token
        sandbox.set_faults(expire_session="all")             # refresh fails too: sign in again
        worker = await portal.lookup_worker(workers[1]["nss"], workers[1]["curp"])
        assert worker.nss == workers[1]["nss"]
    assert sandbox.store.count_enrollments() == 1


async def test_not_logged_in_and_bad_token(sandbox, credential, workers) -> None:
    async with _client(sandbox) as portal:
        error = await _raises(portal.lookup_worker(workers[0]["nss"], workers[0]["curp"]))
        assert isinstance(error, perr.NotLoggedIn)
        _assert_clear(error)
        await portal.login(credential)
        portal.session.access_token = "token-que-no-existe"
        error = await _raises(portal.lookup_worker(workers[0]["nss"], workers[0]["curp"]))
        assert isinstance(error, perr.Unauthorized)
        _assert_clear(error)


# --- overload, server errors, retries --------------------------------------------------------------

async def test_overload_is_retried_honouring_retry_after(sandbox, credential, workers) -> None:
    sleep = RecordingSleep()
    async with _client(sandbox, sleep=sleep) as portal:
        await portal.login(credential)
        sandbox.set_faults(overload_next=2, overload_retry_after=3)
        receipt = await portal.submit_enrollment(enrollment(workers[0]), new_key())
        assert receipt.folio
        assert len(sleep.waits) == 2 and all(wait >= 3 for wait in sleep.waits)
    assert sandbox.store.count_enrollments() == 1


async def test_long_retry_after_is_handed_back(sandbox, credential, workers) -> None:
    sleep = RecordingSleep()
    async with _client(sandbox, sleep=sleep, max_retry_after=30) as portal:
        await portal.login(credential)
        sandbox.set_faults(overload=600)
        error = await _raises(portal.lookup_worker(workers[0]["nss"], workers[0]["curp"]))
        assert isinstance(error, perr.PortalOverloaded) and error.retry_after == 600 and error.transient
        assert sleep.waits == []            # not frozen for ten minutes: the outbox schedules it
        assert "600" in describe(error)[0]
        sandbox.set_faults(overload=0)


async def test_server_errors_retried_with_backoff_then_reported(sandbox, credential, workers) -> None:
    sleep = RecordingSleep()
    async with _client(sandbox, sleep=sleep, max_attempts=3, backoff=0.5) as portal:
        await portal.login(credential)
        sandbox.set_faults(error500_next=2)
        assert (await portal.lookup_worker(workers[0]["nss"], workers[0]["curp"])).nss == workers[0]["nss"]
        assert len(sleep.waits) == 2 and 0.25 <= sleep.waits[0] <= 0.5 and 0.5 <= sleep.waits[1] <= 1.0
        sandbox.set_faults(error500_next=3)
        error = await _raises(portal.lookup_worker(workers[0]["nss"], workers[0]["curp"]))
        assert isinstance(error, perr.InternalError) and error.status == 500 and error.transient
        _assert_clear(error)


async def test_connection_dropped_after_commit_loses_and_duplicates_nothing(sandbox, credential, workers) -> None:
    async with _client(sandbox) as portal:
        await portal.login(credential)
        sandbox.set_faults(drop_after_commit=1)
        key = new_key()
        receipt = await portal.submit_enrollment(enrollment(workers[2]), key)
        assert receipt.folio
    assert sandbox.store.count_enrollments(workers[2]["nss"]) == 1
    assert sandbox.store.enrollment_keys() == [key]


# --- bad answers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["malformed", "truncated", "content-type", "huge"])
async def test_bad_answers_give_a_clear_message(sandbox, credential, workers, kind: str) -> None:
    async with _client(sandbox, max_attempts=1) as portal:
        await portal.login(credential)
        sandbox.set_faults(bad_answer=kind)
        error = await _raises(portal.lookup_worker(workers[0]["nss"], workers[0]["curp"]))
        assert isinstance(error, perr.PortalBadResponse) and error.transient
        expected = {"malformed": "malformed_json", "truncated": "truncated",
                    "content-type": "content_type", "huge": "too_large"}[kind]
        assert error.params["kind"] == expected
        _assert_clear(error)


@pytest.mark.parametrize("kind", ["malformed", "truncated", "huge", "bad-seal"])
async def test_bad_answer_to_a_submission_is_resubmitted_once(sandbox, credential, workers, kind: str) -> None:
    async with _client(sandbox) as portal:
        await portal.login(credential)
        sandbox.set_faults(bad_answer=kind)
        key = new_key()
        receipt = await portal.submit_enrollment(enrollment(workers[5]), key)
        assert receipt.folio and receipt.seal
        assert seal.verify((await portal.info())["seal_public_key"], receipt.folio, receipt.acuse, receipt.seal)
    assert sandbox.store.enrollment_keys() == [key]


async def test_a_transfer_sealed_by_another_key_is_asked_again(sandbox, credential) -> None:
    moved = next(w for w in seed.DEMO_WORKERS if w["case"] == "enrolled_elsewhere")
    consent = ConsentRecord("aviso-2026-01", datetime(2026, 3, 2, tzinfo=timezone.utc))
    async with _client(sandbox) as portal:
        await portal.login(credential)
        sandbox.set_faults(bad_answer="bad-seal")
        result = await portal.transfer(moved["nss"], moved["curp"], consent, new_key())
        assert seal.verify((await portal.info())["seal_public_key"], result.folio, result.acuse, result.seal)


async def test_a_receipt_the_published_key_does_not_verify_is_refused(ca_dir, credential, workers, tmp_path) -> None:
    """The portal changed its seal key without sealing its receipts again: a replay returns the
    recorded receipt, whose seal the published key no longer checks.  The client keeps no such
    acuse and says why; the outbox keeps the item (the error is transient)."""
    db = tmp_path / "portal.sqlite"
    first = serve_in_thread(db=db, ca_dir=ca_dir)
    key = new_key()
    try:
        async with _client(first) as portal:
            await portal.login(credential)
            receipt = await portal.submit_enrollment(enrollment(workers[4]), key)
    finally:
        first.stop()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM portal_keys WHERE name = 'seal'")
    second = serve_in_thread(db=db, ca_dir=ca_dir)
    try:
        async with _client(second) as portal:
            await portal.login(credential)
            error = await _raises(portal.submit_enrollment(enrollment(workers[4]), key))
            assert isinstance(error, perr.PortalBadResponse) and error.transient
            assert error.params["kind"] == "seal" and receipt.folio in str(error)
            _assert_clear(error)
        assert second.store.enrollment_keys() == [key]  # asked again, never committed twice
    finally:
        second.stop()


# --- transport -------------------------------------------------------------------------------------

async def test_network_down_and_timeout(sandbox, credential) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with PortalClient(f"http://127.0.0.1:{closed_port}", sleep=RecordingSleep(), max_attempts=2) as portal:
        error = await _raises(portal.info())
        assert isinstance(error, perr.PortalUnreachable) and error.transient
        _assert_clear(error)
    async with _client(sandbox, timeout=0.3, max_attempts=1) as portal:
        await portal.login(credential)
        sandbox.set_faults(latency=1500)
        error = await _raises(portal.lookup_worker("12058512349", "PELJ850412HJCRPN00"))
        assert isinstance(error, perr.PortalTimeout)
        _assert_clear(error)
        sandbox.set_faults(latency=0)


def test_plain_http_only_to_loopback() -> None:
    with pytest.raises(perr.PortalInsecureURL) as caught:
        PortalClient("http://portal.example.com")
    _assert_clear(caught.value)
    with pytest.raises(perr.PortalInsecureURL):
        PortalClient("ftp://127.0.0.1")


async def test_tls_verified_with_the_sandbox_ca(ca_dir, credential) -> None:
    with serve_in_thread(ca_dir=ca_dir, tls=True) as secure:
        assert secure.url.startswith("https://")
        async with PortalClient(secure.url, ca_bundle=secure.ca_bundle) as portal:
            assert (await portal.info())["sandbox"] is True
            await portal.login(credential)
        async with PortalClient(secure.url, sleep=RecordingSleep()) as portal:
            error = await _raises(portal.info())
            assert isinstance(error, perr.PortalTLSError) and not error.transient
            _assert_clear(error)


async def test_expired_session_without_a_usable_key_asks_to_sign_in(sandbox, demo_files, workers) -> None:
    demo = demo_files["fiel"]
    credential = efirma.load(demo.cer, demo.key, demo.password, allow_test_ca=True)
    async with _client(sandbox) as portal:
        await portal.login(credential)
        credential.forget()                       # what the TUI does on logout
        sandbox.set_faults(expire_session="all")
        error = await _raises(portal.lookup_worker(workers[0]["nss"], workers[0]["curp"]))
        assert isinstance(error, perr.SessionExpired)
        _assert_clear(error)


async def test_cut_answer_during_login_is_retried(sandbox, credential) -> None:
    async with _client(sandbox) as portal:
        sandbox.set_faults(bad_answer="truncated")     # the first answer (the challenge) is cut
        session = await portal.login(credential)
        assert session.employer_rfc == credential.rfc


async def test_concurrent_resubmissions_commit_once(sandbox, credential, workers) -> None:
    import asyncio

    async with _client(sandbox) as portal:
        await portal.login(credential)
        key = new_key()
        request = enrollment(workers[4])
        receipts = await asyncio.gather(*(portal.submit_enrollment(request, key) for _ in range(6)))
        assert len({r.folio for r in receipts}) == 1
    assert sandbox.store.enrollment_keys() == [key]
