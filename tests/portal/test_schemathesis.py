"""Schemathesis over the document the sandbox serves, against that sandbox on loopback.

Every operation gets bodies, headers and path values drawn from its schemas (positive) and
bodies that break them (negative).  Whatever is sent, the answer must not be a 5xx, must have a
documented status and content type, and must be valid against the document; a body the
document forbids must be refused as a request problem (400/413/415/422) before any handler acts
on it.  Bounded (12 examples an operation, no stateful phase): about 650 requests, under a
minute on one core.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import uuid
from typing import Any, Dict, Iterator

import httpx
import pytest

# schemathesis 4 needs Python 3.10: the run on the oldest claimed Python (3.9) goes without it.
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis 4 needs Python 3.10 or newer")

import requests
from hypothesis import HealthCheck, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from siaptui.biometrics.template import Minutia, Template, to_iso19794_2
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.ratelimit import RateLimit, VerifyLimits
from siaptui.portal.sandbox.server import serve_in_thread

from .conftest import login

REFUSAL_STATUSES = {400, 413, 415, 422}


def refused_before_the_handler(ctx: Any, response: Any, case: Any) -> None:
    """A body the document forbids is a request problem (400/413/415/422), never a business
    answer: not a 2xx, and not a 404/409 that means the handler acted on it."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY):
        assert response.status_code in REFUSAL_STATUSES, (
            f"{case.operation.label}: a body the contract forbids got {response.status_code}: {response.text[:300]}")


pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          refused_before_the_handler]


def _iso_record(number: int) -> str:
    """A record the sandbox accepts, so positive enrollment and verification bodies get past the
    template rules to the identity, duplicate-finger and matching code."""
    rng = random.Random(number)
    width, height = rng.randrange(100, 600), rng.randrange(100, 600)
    minutiae = [Minutia(rng.randrange(width), rng.randrange(height), rng.uniform(0, 6.28),
                        rng.choice(("ending", "bifurcation")), rng.randrange(101))
                for _ in range(rng.randrange(1, 40))]
    return base64.b64encode(to_iso19794_2(Template(width, height, 500, minutiae, 60), rng.randrange(1, 11))).decode()


schemathesis.openapi.format("iso19794-2", st.integers(0, 2 ** 32).map(_iso_record))


@pytest.fixture(scope="module")
def served(ca_dir, credential) -> Iterator[Dict[str, Any]]:
    # Without verification limits: the per-employer one counts every request, refusals included,
    # so past its 30 a minute a forbidden body would get 429 instead of reaching the validator
    # (test_authorization holds the limits themselves).
    unlimited = VerifyLimits(RateLimit(10 ** 6, 60.0), RateLimit(10 ** 6, 60.0))
    with serve_in_thread(ca_dir=ca_dir, verify_limits=unlimited) as running:
        with httpx.Client(base_url=running.url, timeout=10) as http:
            yield {"url": running.url, "http": http, "credential": credential,
                   "token": login(http, credential)["access_token"], "admin_token": running.admin_token}


@pytest.fixture(scope="module")
def contract(served):
    """The document as the sandbox serves it."""
    return schemathesis.openapi.from_url(served["url"] + "/openapi.yaml")


# Less the fault switches: a drawn `{"error500-next": 1}` makes the next answer a 500 on purpose.
schema = schemathesis.pytest.from_fixture("contract").exclude(method="PUT", path="/sandbox/faults")


WORKERS = itertools.cycle(seed.DEMO_WORKERS)
NSS = re.compile(r"[0-9]{11}")
CURP = re.compile(r"[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9]")
KEY = re.compile(r"[A-Za-z0-9._:\-]{8,200}")


def _real_identity(body: Any) -> Any:
    """A drawn body with a contract-valid NSS and CURP gets a seeded worker's instead, so the
    rest of the body (valid or deliberately broken) is judged by the handler, not refused as
    an unknown worker; a deliberately broken NSS or CURP is left as drawn."""
    if not (isinstance(body, dict) and isinstance(body.get("nss"), str) and isinstance(body.get("curp"), str)
            and NSS.fullmatch(body["nss"]) and CURP.fullmatch(body["curp"])):
        return body
    worker = next(WORKERS)
    return {**body, "nss": worker["nss"], "curp": worker["curp"]}


def _send(case: Any, served: Dict[str, Any]) -> requests.Response:
    """The case as requests would send it, with a real session (and the admin token on the
    control routes), a real worker and a real e.firma signature over the exact body bytes, so
    drawn bodies reach the handlers' own rules."""
    token = served["token"]
    if case.operation.path == "/v1/auth/logout":  # its own session: logging out must not end the run's
        token = login(served["http"], served["credential"])["access_token"]
    credentials = {"Authorization": f"Bearer {token}"}
    if case.operation.path.startswith("/sandbox/"):
        credentials["Sandbox-Admin-Token"] = served["admin_token"]
    kwargs = case.as_transport_kwargs(base_url=served["url"], headers=credentials)
    if "json" in kwargs:
        kwargs["data"] = json.dumps(_real_identity(kwargs.pop("json"))).encode("utf-8")
        kwargs["headers"].setdefault("Content-Type", "application/json")
    headers = kwargs["headers"]
    if KEY.fullmatch(str(headers.get("Idempotency-Key", ""))):  # a valid key, but one per case
        headers["Idempotency-Key"] = uuid.uuid4().hex
    if "Efirma-Signature" in headers and isinstance(kwargs.get("data"), bytes):
        headers["Efirma-Signature"] = base64.b64encode(served["credential"].sign(kwargs["data"])).decode()
    kwargs.setdefault("timeout", 10)
    return requests.request(**kwargs)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_contract(case, served) -> None:
    case.validate_response(_send(case, served), checks=CHECKS)


