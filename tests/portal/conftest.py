"""Fixtures for the portal tests: a real sandbox on a loopback port, demo e.firma files, and
enrollment requests with well-formed ISO 19794-2 templates."""

from __future__ import annotations

import random
import struct
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest

from siaptui import efirma
from siaptui.portal.models import CaptureDevice, ConsentRecord, EnrollmentRequest, FingerRecord
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.ca import issue_demo_efirma
from siaptui.portal.sandbox.server import RunningSandbox, serve_in_thread


def iso_template(seed_value: int, minutiae: int = 24, position: int = 2) -> bytes:
    """A well-formed ISO/IEC 19794-2:2005 record with pseudo-random minutiae (notes §7.2)."""
    rng = random.Random(seed_value)
    body = b""
    for _ in range(minutiae):
        kind = rng.choice((1, 2)) << 14
        body += struct.pack(">HHBB", kind | rng.randrange(20, 380), rng.randrange(20, 480),
                            rng.randrange(256), rng.randrange(40, 100))
    view = struct.pack(">BBBB", position, 0, 80, minutiae) + body + b"\x00\x00"
    total = 24 + len(view)
    return b"FMR\x00" + b" 20\x00" + struct.pack(">IHHHHHBB", total, 0, 400, 500, 197, 197, 1, 0) + view


def enrollment(worker: Dict[str, Any], *, template_seed: Optional[int] = None, positions=(2, 7)) -> EnrollmentRequest:
    """A complete request for `worker`; each worker gets its own fingers unless `template_seed`
    says otherwise (the duplicate-finger test presents one person's fingers under two NSS)."""
    if template_seed is None:
        template_seed = int(worker["person_seed"])
    now = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    fingers: List[FingerRecord] = [FingerRecord(p, iso_template(template_seed * 100 + p, position=p), 70 + p)
                                   for p in positions]
    fingers.append(FingerRecord(1, missing_reason="bandaged"))
    return EnrollmentRequest(
        nss=str(worker["nss"]), curp=str(worker["curp"]), fingers=fingers,
        device=CaptureDevice("U.are.U 4500", 0x05BA, 0x000A, "SIM-1", "uru4000"),
        consent=ConsentRecord("aviso-2026-01", now, "firma_autografa", "DEPM800101AB2"),
        captured_at=now)


def new_key() -> str:
    return uuid.uuid4().hex


@pytest.fixture(scope="session")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-ca")


@pytest.fixture(scope="session")
def demo_files(ca_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    out = tmp_path_factory.mktemp("efirma")
    return {
        "fiel": issue_demo_efirma(out / "fiel", ca_directory=ca_dir),
        "csd": issue_demo_efirma(out / "csd", kind="csd", ca_directory=ca_dir),
        "expired": issue_demo_efirma(out / "expired", expired=True, ca_directory=ca_dir),
        "stranger": issue_demo_efirma(out / "stranger", rfc="XAXX010101AB9", curp="XEXX010101HNEXXXA4",
                                      name="PATRON SIN REGISTRO", ca_directory=ca_dir),
    }


@pytest.fixture(scope="session")
def credential(demo_files: Dict[str, Any]) -> efirma.Credential:
    demo = demo_files["fiel"]
    return efirma.load(demo.cer, demo.key, demo.password, allow_test_ca=True)


@pytest.fixture
def sandbox(ca_dir: Path) -> Iterator[RunningSandbox]:
    running = serve_in_thread(ca_dir=ca_dir)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def workers() -> List[Dict[str, Any]]:
    return [w for w in seed.DEMO_WORKERS if w["case"] == "ok"]


class RecordingSleep:
    """Stands in for asyncio.sleep so retry tests run fast and can check the waits."""

    def __init__(self) -> None:
        self.waits: List[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def login(http: httpx.Client, credential: efirma.Credential) -> Dict[str, Any]:
    """The documented protocol, by hand: challenge, sign, login."""
    import base64

    challenge = http.post("/v1/auth/challenge", json={}).json()
    nonce = base64.b64decode(challenge["challenge"])
    answer = http.post("/v1/auth/login", json={
        "challenge_id": challenge["challenge_id"],
        "certificate": base64.b64encode(credential.certificate_der).decode(),
        "signature": base64.b64encode(credential.sign(nonce)).decode()})
    assert answer.status_code == 200, answer.text
    return answer.json()


def token_jpeg() -> bytes:
    """A real token photo: the sim camera's face, cropped by siaptui.camera.token."""
    from siaptui.camera.face import analyse
    from siaptui.camera.registry import open_camera
    from siaptui.camera.token import token_image

    with open_camera("sim", fps=0, drift_frames=0) as camera:
        frame = camera.read()
    return token_image(frame, analyse(frame)).jpeg
