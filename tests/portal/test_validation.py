"""The sandbox refuses what the contract forbids, through a real sandbox on loopback: bodies
outside the schemas (ranges, lengths, formats, zones, enumerations), ISO 19794-2 records the
engine could not use, bodies too deep, too big or not JSON, methods a path does not allow and
HTTP it cannot frame — each as problem+json with a stable code, never a 500."""

from __future__ import annotations

import base64
import json
import socket
import struct
from typing import Any, Callable, Dict, Iterator, List, Tuple

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from siaptui.portal import OPENAPI_PATH
from siaptui.portal.client import canonical_json
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.server import serve_in_thread
from siaptui.portal.sandbox.validation import MAX_DEPTH, is_rfc3339, json_depth

from .conftest import enrollment, login, new_key, token_jpeg

DOC = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
PROBLEM = Draft202012Validator(DOC["components"]["schemas"]["Problem"])


def problem(response: httpx.Response, status: int, code: str) -> Dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    PROBLEM.validate(body)
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


@pytest.fixture(scope="module")
def portal(ca_dir, credential) -> Iterator[Dict[str, Any]]:
    with serve_in_thread(ca_dir=ca_dir) as running:
        with httpx.Client(base_url=running.url, timeout=30) as http:
            token = login(http, credential)["access_token"]
            yield {"url": running.url, "http": http, "credential": credential,
                   "auth": {"Authorization": f"Bearer {token}"},
                   "admin": {"Sandbox-Admin-Token": running.admin_token}}


def _signed(portal: Dict[str, Any], path: str, data: Any) -> httpx.Response:
    raw = data if isinstance(data, bytes) else canonical_json(data)
    return portal["http"].post(path, content=raw, headers={
        **portal["auth"], "Content-Type": "application/json", "Idempotency-Key": new_key(),
        "Efirma-Signature": base64.b64encode(portal["credential"].sign(raw)).decode()})


def _iso(width: int = 400, height: int = 500, points: List[Tuple[int, int]] = ((20, 30), (100, 200)),
         position: int = 2) -> str:
    """An ISO/IEC 19794-2:2005 record, well framed (length, views), with the given geometry."""
    body = b"".join(struct.pack(">HHBB", (1 << 14) | x, y, 10, 60) for x, y in points)
    view = struct.pack(">BBBB", position, 0, 80, len(points)) + body + b"\x00\x00"
    header = b"FMR\x00 20\x00" + struct.pack(">IHHHHHBB", 24 + len(view), 0, width, height, 197, 197, 1, 0)
    return base64.b64encode(header + view).decode()


def _good() -> Dict[str, Any]:
    return enrollment(seed.DEMO_WORKERS[0]).to_dict()


def _set(path: str, value: Any) -> Callable[[Dict[str, Any]], Dict[str, Any]]:
    def change(data: Dict[str, Any]) -> Dict[str, Any]:
        node: Any = data
        parts = path.split("/")[1:]
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[parts[-1]] = value
        return data
    return change


ENROLLMENT_REFUSALS = {
    "vendor id below 0": ("/device/vendor_id", -1),
    "product id above 65535": ("/device/product_id", 70000),
    "device model of 100,000 characters": ("/device/model", "U" * 100_000),
    "ISO week date": ("/captured_at", "2026-W01-1"),
    "time without a zone": ("/captured_at", "2026-03-02T10:00:00"),
    "date only": ("/captured_at", "2026-03-02"),
    "month 13": ("/captured_at", "2026-13-02T10:00:00Z"),
    "offset hour 24": ("/captured_at", "2026-03-02T10:00:00+24:00"),
    "consent before year 1 in UTC": ("/consent/accepted_at", "0001-01-01T00:00:00+01:00"),
    "consent after year 9999 in UTC": ("/consent/accepted_at", "9999-12-31T23:30:00-01:00"),
    "unknown consent method": ("/consent/method", "telepatia"),
    "empty aviso version": ("/consent/aviso_version", ""),
    "unknown missing reason": ("/fingers/0/missing_reason", "perdido"),
    "quality 101": ("/fingers/1/quality", 101),
    "NSS with a final newline": ("/nss", seed.DEMO_WORKERS[0]["nss"] + "\n"),
    "template with no minutiae": ("/fingers/1/template", _iso(points=[])),
    "template of width 0": ("/fingers/1/template", _iso(width=0)),
    "template of height 0": ("/fingers/1/template", _iso(height=0)),
    "minutia right of the image": ("/fingers/1/template", _iso(width=400, points=[(400, 10)])),
    "minutia below the image": ("/fingers/1/template", _iso(height=500, points=[(10, 600)])),
    "template with a bad magic": ("/fingers/1/template", base64.b64encode(b"XMR\x00" + b"\x00" * 40).decode()),
    "template not base64": ("/fingers/1/template", "no es base64!"),
    "ISO 19794-2:2011 header": ("/fingers/1/template",
                                base64.b64encode(b"FMR\x00030\x00" + base64.b64decode(_iso())[8:]).decode()),
}


@pytest.mark.parametrize("field, value", list(ENROLLMENT_REFUSALS.values()), ids=list(ENROLLMENT_REFUSALS))
def test_enrollment_bodies_the_contract_forbids(portal, field, value) -> None:
    body = problem(_signed(portal, "/v1/enrollments", _set(field, value)(_good())), 422, "invalid_request")
    assert body["field"] == field
    assert body["detail"].startswith(field)
    assert len(body["detail"]) < 400  # never echoes a 100,000-character value


def test_the_reference_records_are_accepted(portal) -> None:
    """The helpers above build records the sandbox accepts unchanged (so each refusal is the rule it names)."""
    good = _set("/fingers/1/template", _iso())(_good())
    assert good["fingers"][1]["position"] == 2 and "missing_reason" in good["fingers"][0]
    answer = _signed(portal, "/v1/enrollments", good)
    assert answer.status_code == 201, answer.text


def test_transfer_consent_out_of_range_is_a_422(portal) -> None:
    worker = seed.DEMO_WORKERS[1]
    consent = dict(_good()["consent"], accepted_at="0001-01-01T00:00:00+01:00")
    body = problem(_signed(portal, "/v1/transfers", {"nss": worker["nss"], "curp": worker["curp"], "consent": consent}),
                   422, "invalid_request")
    assert body["field"] == "/consent/accepted_at"


def test_verification_template_rules(portal) -> None:
    worker = seed.DEMO_WORKERS[0]
    for template in (_iso(points=[]), _iso(width=0), _iso(points=[(5, 900)])):
        answer = portal["http"].post("/v1/verifications", headers=portal["auth"], json={
            "nss": worker["nss"], "curp": worker["curp"], "position": 2, "template": template})
        assert problem(answer, 422, "invalid_request")["field"] == "/template"


def _json_routes() -> List[Tuple[str, str]]:
    return [(method.upper(), path) for path, item in DOC["paths"].items() for method, operation in item.items()
            if "application/json" in operation.get("requestBody", {}).get("content", {})]


def _raw(portal: Dict[str, Any], method: str, path: str, raw: Any, **headers: str) -> httpx.Response:
    """The control routes check their admin token before the body, so it goes with them."""
    admin = portal["admin"] if path.startswith("/sandbox/") else {}
    return portal["http"].request(method, path, content=raw, headers={
        **portal["auth"], **admin, "Content-Type": "application/json", "Idempotency-Key": new_key(), **headers})


@pytest.mark.parametrize("method, path", _json_routes())
def test_too_deep_malformed_and_too_big_on_every_json_route(portal, method, path) -> None:
    problem(_raw(portal, method, path, b"[" * 100_000), 400, "body_too_deep")
    problem(_raw(portal, method, path, b'{"a":' * 20_000 + b"1" + b"}" * 20_000), 400, "body_too_deep")
    problem(_raw(portal, method, path, b'{"nss": '), 400, "malformed_json")
    problem(_raw(portal, method, path, b'{"nss": NaN}'), 400, "malformed_json")
    problem(_raw(portal, method, path, b'{"nss": "\xff"}'), 400, "malformed_json")
    problem(_raw(portal, method, path, b'{"nss": "\\ud800"}'), 400, "malformed_json")
    problem(_raw(portal, method, path, b'{"x": "' + b"a" * 300_000 + b'"}'), 413, "body_too_large")
    streamed = _raw(portal, method, path, iter([b'{"x": "', b"a" * 300_000, b'"}']))  # chunked: no Content-Length
    problem(streamed, 413, "body_too_large")


def test_lone_surrogate_in_a_signed_enrollment_is_refused_not_a_500(portal) -> None:
    raw = canonical_json(_good()).replace(b'"U.are.U 4500"', b'"U.are.U \\ud800"')
    assert b"\\ud800" in raw
    problem(_signed(portal, "/v1/enrollments", raw), 400, "malformed_json")


def test_deep_but_allowed_nesting_reaches_the_schema(portal) -> None:
    nested: Any = 1
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    answer = _raw(portal, "POST", "/v1/auth/refresh", json.dumps({"refresh_token": nested}).encode())
    assert problem(answer, 422, "invalid_request")["field"] == "/refresh_token"


def test_method_not_allowed_carries_allow(portal) -> None:
    http = portal["http"]
    answer = http.delete("/sandbox/faults")
    problem(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "GET, HEAD, PUT"  # both routes of the path, not only the first
    answer = http.get("/v1/enrollments", headers=portal["auth"])
    problem(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "POST"


def _exchange(url: str, raw: bytes) -> bytes:
    host, port = url.rsplit("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(raw)
        answer = b""
        while True:
            data = conn.recv(65536)
            if not data:
                return answer
            answer += data


FRAMING = {
    "bad request line": b"GARBAGE\r\n\r\n",
    "Content-Length not a number": b"POST /v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: abc\r\n\r\n{}",
    "two different Content-Lengths": b"POST /v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                     b"Content-Length: 5\r\n\r\n{}",
    "chunked garbage": b"POST /v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "header without a colon": b"GET /v1/info HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n",
}


@pytest.mark.parametrize("raw", list(FRAMING.values()), ids=list(FRAMING))
def test_framing_errors_are_problem_json(portal, raw) -> None:
    head, _, body = _exchange(portal["url"], raw).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 400"), lines
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    document = json.loads(body)
    PROBLEM.validate(document)
    assert document["code"] == "malformed_http" and document["status"] == 400


def test_rfc3339_rules() -> None:
    for good in ("2026-03-02T10:00:00Z", "2026-03-02T10:00:00.123456+05:30", "0001-01-01T00:00:00Z",
                 "2024-02-29T23:59:59-06:00", "9999-12-31T23:59:59Z", "2026-03-02T10:00:00.1234567890Z"):
        assert is_rfc3339(good), good
    for bad in ("2026-W01-1", "2026-03-02T10:00:00", "2026-03-02", "2026-02-30T10:00:00Z",
                "2026-03-02 10:00:00Z", "2026-03-02T10:00:00+0100", "2026-03-02T25:00:00Z",
                "0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00", "2026-03-02T10:00:00+01:60",
                "2026-03-02T10:00:00Z\n", "2026-03-02t10:00:00z"):
        assert not is_rfc3339(bad), bad


def test_a_time_outside_utc_years_is_a_value_error_for_client_and_sandbox() -> None:
    """The models (the client's answer reader, the sandbox's request reader) refuse it as bad
    data instead of raising OverflowError when it is first written or compared."""
    from siaptui.portal.models import ConsentRecord, parse_time

    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"):
        with pytest.raises(ValueError, match="1 a 9999"):
            parse_time(text, "accepted_at")
        with pytest.raises(ValueError):
            ConsentRecord.from_dict({"aviso_version": "a", "accepted_at": text, "method": "firma_autografa"})


def test_depth_is_measured_outside_strings() -> None:
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'{"a": "[[[[[[[[[[\\"[[[["}') == 1
    assert json_depth(b'"\\\\' + b"[" * 50) == 0  # an unterminated string runs to the end
    assert json_depth(b"[" * 100_000) == 100_000



def test_every_route_taking_a_body_is_in_the_document(ca_dir) -> None:
    """Bodies are checked against the document's operation for the request path, so a route
    taking a body that the document lacks would go unchecked."""
    from siaptui.portal.sandbox.app import build_app
    from siaptui.portal.sandbox.ca import SandboxCA
    from siaptui.portal.sandbox.store import SandboxStore

    store = SandboxStore(None)
    try:
        app = build_app(store, SandboxCA.load_or_create(ca_dir))
        served = {(method, route.path) for route in app.app.routes for method in route.methods
                  if method in ("POST", "PUT", "PATCH")}
    finally:
        store.close()
    documented = {(method.upper(), path) for path, item in DOC["paths"].items() for method in item}
    assert served and served <= documented, served - documented


def _picture(kind: str, size: Tuple[int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 190, 180)).save(out, format=kind)
    return out.getvalue()


def test_an_enrollment_with_the_token_photo_is_accepted(portal) -> None:
    from siaptui.portal.models import EnrollmentRequest

    request = enrollment(seed.DEMO_WORKERS[2])
    request.photo = token_jpeg()
    body = request.to_dict()
    assert EnrollmentRequest.from_dict(body).photo == request.photo  # the client's round trip
    answer = _signed(portal, "/v1/enrollments", body)
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("photo", [
    base64.b64encode(_picture("PNG", (240, 320))).decode(),   # not a JPEG
    base64.b64encode(_picture("JPEG", (640, 480))).decode(),  # not the token's size
    base64.b64encode(b"\xff\xd8" + b"\x00" * 30).decode(),    # a JPEG marker and nothing readable
    "bm90IGEgcGhvdG8=",                                       # base64 of text
    "A" * 32772,                                              # over the contract's length
], ids=["png", "640x480", "truncated", "text", "too-long"])
def test_a_photo_that_is_no_token_jpeg_is_refused(portal, photo: str) -> None:
    body = dict(_good(), photo=photo)
    assert problem(_signed(portal, "/v1/enrollments", body), 422, "invalid_request")["field"] == "/photo"
