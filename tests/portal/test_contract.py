"""Property-based run against the sandbox's own OpenAPI document.

Hypothesis draws request bodies from the document's schemas (so they are well-formed by the
contract but arbitrary in content), from arbitrary JSON, and from arbitrary bytes; every answer
must be a non-5xx (no faults are injected here) that validates against the document: the
operation's success schema for 2xx, the Problem schema (as application/problem+json) otherwise.

hypothesis-jsonschema does not work with the installed Hypothesis, so `strategy()` below turns
the subset of JSON Schema the contract uses into strategies.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timezone
from typing import Any, Dict, Iterator

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from siaptui.portal import OPENAPI_PATH
from siaptui.portal.client import canonical_json
from siaptui.portal.models import format_time
from siaptui.portal.sandbox import seed
from siaptui.portal.sandbox.server import serve_in_thread

from .conftest import enrollment, login

DOC = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
REGISTRY = Registry().with_resource("urn:portal", Resource.from_contents(DOC, default_specification=DRAFT202012))
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])


def _resolve(schema: Dict[str, Any]) -> Dict[str, Any]:
    while "$ref" in schema:
        node: Any = DOC
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def strategy(schema: Dict[str, Any]) -> st.SearchStrategy:
    """Values valid for `schema` (the contract's subset of JSON Schema 2020-12)."""
    schema = _resolve(schema)
    if "oneOf" in schema:
        return st.one_of([strategy(option) for option in schema["oneOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([strategy({**schema, "type": k}) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2 ** 31)), schema.get("maximum", 2 ** 31))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes(timezones=st.just(timezone.utc)).map(format_time)
        if schema.get("contentEncoding") == "base64":
            return st.binary(max_size=200).map(lambda raw: base64.b64encode(raw).decode())
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40))
    if kind == "array":
        return st.lists(strategy(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 4), 4))
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {name: strategy(sub) for name, sub in properties.items() if name in required},
            optional={name: strategy(sub) for name, sub in properties.items() if name not in required})
    return st.none()


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"urn:portal#{ref}"}, registry=REGISTRY)


PROBLEM = _validator("/components/schemas/Problem")
ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                        lambda inner: (st.lists(inner, max_size=4)
                                       | st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                        max_leaves=12)


def check(response: httpx.Response, path: str, method: str = "post") -> None:
    """No 5xx, and the answer is exactly what the document allows."""
    assert response.status_code < 500, response.text
    operation = DOC["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    kind = response.headers.get("content-type", "").split(";")[0]
    body = response.json()
    if 200 <= response.status_code < 300:
        assert documented is not None, f"{response.status_code} not documented for {method} {path}"
        assert kind == "application/json"
        schema = documented["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "$ref": "urn:portal" + schema["$ref"]} if "$ref" in schema else schema,
                             registry=REGISTRY).validate(body)
    else:
        assert kind == "application/problem+json"
        PROBLEM.validate(body)
        assert body["status"] == response.status_code


@pytest.fixture(scope="module")
def portal(ca_dir, credential) -> Iterator[Dict[str, Any]]:
    with serve_in_thread(ca_dir=ca_dir) as running:
        with httpx.Client(base_url=running.url, timeout=10) as http:
            session = login(http, credential)
            yield {"http": http, "auth": {"Authorization": f"Bearer {session['access_token']}"},
                   "credential": credential, "session": session}


def _post(portal: Dict[str, Any], path: str, raw: bytes, *, signed: bool = False, **headers: str) -> httpx.Response:
    sent = {**portal["auth"], "Content-Type": "application/json", **headers}
    if signed:
        sent["Efirma-Signature"] = base64.b64encode(portal["credential"].sign(raw)).decode()
        sent.setdefault("Idempotency-Key", uuid.uuid4().hex)
    return portal["http"].post(path, content=raw, headers=sent)


@SETTINGS
@given(body=strategy({"$ref": "#/components/schemas/LookupRequest"}) | ANY_JSON)
def test_lookup(portal, body) -> None:
    check(_post(portal, "/v1/workers/lookup", json.dumps(body).encode()), "/v1/workers/lookup")


@SETTINGS
@given(body=strategy({"$ref": "#/components/schemas/EnrollmentRequest"}),
       worker=st.sampled_from(seed.DEMO_WORKERS), real=st.booleans())
def test_enrollment(portal, body, worker, real) -> None:
    if real:  # a contract-valid body for a real worker, real templates: reaches the commit path
        body = enrollment(worker).to_dict()
    check(_post(portal, "/v1/enrollments", canonical_json(body), signed=True), "/v1/enrollments")


@SETTINGS
@given(body=ANY_JSON | st.binary(max_size=300))
def test_enrollment_garbage(portal, body) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    check(_post(portal, "/v1/enrollments", raw, signed=True), "/v1/enrollments")


@SETTINGS
@given(body=strategy({"$ref": "#/components/schemas/VerifyRequest"}) | ANY_JSON)
def test_verify(portal, body) -> None:
    check(_post(portal, "/v1/verifications", json.dumps(body).encode()), "/v1/verifications")


@SETTINGS
@given(body=strategy({"$ref": "#/components/schemas/TransferRequest"}))
def test_transfer(portal, body) -> None:
    check(_post(portal, "/v1/transfers", canonical_json(body), signed=True), "/v1/transfers")


@SETTINGS
@given(body=strategy({"$ref": "#/components/schemas/LoginRequest"}) | ANY_JSON,
       refresh=strategy({"$ref": "#/components/schemas/RefreshRequest"}))
def test_auth(portal, body, refresh) -> None:
    http = portal["http"]
    check(http.post("/v1/auth/login", json=body), "/v1/auth/login")
    check(http.post("/v1/auth/refresh", json=refresh), "/v1/auth/refresh")
    check(http.post("/v1/auth/challenge", json={}), "/v1/auth/challenge")


@SETTINGS
@given(enrollment_id=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF,
                                                    blacklist_characters="/?#%"), min_size=1, max_size=30))
def test_enrollment_status(portal, enrollment_id) -> None:
    answer = portal["http"].get(f"/v1/enrollments/{enrollment_id}", headers=portal["auth"])
    check(answer, "/v1/enrollments/{enrollment_id}", "get")


def test_info_and_a_successful_round(portal) -> None:
    check(portal["http"].get("/v1/info"), "/v1/info", "get")
    worker = seed.DEMO_WORKERS[5]
    lookup = _post(portal, "/v1/workers/lookup", json.dumps({"nss": worker["nss"], "curp": worker["curp"]}).encode())
    check(lookup, "/v1/workers/lookup")
    assert lookup.status_code == 200


@SETTINGS
@given(status=st.none() | st.sampled_from(["none", "enrolled", "enrolled_elsewhere"]) | st.text(max_size=12),
       limit=st.none() | st.integers(-5, 150).map(str) | st.text(max_size=6),
       cursor=st.none() | st.text(max_size=80), follow=st.booleans())
def test_roster(portal, status, limit, cursor, follow) -> None:
    params = {name: value for name, value in (("status", status), ("limit", limit), ("cursor", cursor))
              if value is not None}
    answer = portal["http"].get("/v1/workers", params=params, headers=portal["auth"])
    check(answer, "/v1/workers", "get")
    if follow and answer.status_code == 200 and answer.json()["next_cursor"]:
        following = portal["http"].get("/v1/workers", headers=portal["auth"],
                                       params={**params, "cursor": answer.json()["next_cursor"]})
        check(following, "/v1/workers", "get")


@pytest.mark.parametrize("method,path", [("get", "/sandbox/faults"), ("put", "/sandbox/faults"),
                                         ("get", "/sandbox/enrollments")])
def test_control_answers(portal, method, path) -> None:
    http = portal["http"]
    check(http.request(method.upper(), path, json={}), path, method)  # no token: the documented problem
    assert http.request(method.upper(), path, json={}).status_code == 401
