"""Auth and discovery routes: `/openapi.yaml`, `/v1/info` and the e.firma challenge login."""

from __future__ import annotations

import base64
import secrets
from typing import List

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from siaptui.portal import API_VERSION, OPENAPI_PATH, seal
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.sessions import CHALLENGE_TTL
from siaptui.portal.sandbox.state import PortalState
from siaptui.portal.sandbox.wire import b64_field, iso, now, read_json


def routes(state: PortalState) -> List[Route]:
    sessions, store = state.sessions, state.store

    async def openapi(request: Request) -> Response:
        return Response(OPENAPI_PATH.read_bytes(), media_type="application/yaml")

    async def info(request: Request) -> Response:
        available = await run_in_threadpool(lambda: state.biometrics.available)
        seal_key = await run_in_threadpool(store.seal_key)
        return JSONResponse({
            "sandbox": True, "version": API_VERSION, "name": "Portal de prueba siaptui (sandbox)",
            "allow_test_ca": sessions.allow_test_ca,
            "duplicate_check": "available" if available else "unavailable",
            "seal_public_key": seal.public_key_b64(seal_key),
        })

    async def challenge(request: Request) -> Response:
        if request.headers.get("content-type"):
            await read_json(request)  # body optional; when sent it must be JSON
        challenge_id = "chl_" + secrets.token_hex(12)
        nonce = secrets.token_bytes(32)
        expires = now() + CHALLENGE_TTL
        store.add_challenge(challenge_id, nonce, expires)
        return JSONResponse({"challenge_id": challenge_id, "challenge": base64.b64encode(nonce).decode(),
                             "expires_at": iso(expires)})

    async def login(request: Request) -> Response:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        _, data = await read_json(request)
        challenge_id = data.get("challenge_id")
        if not isinstance(challenge_id, str):
            raise Problem("invalid_request", "falta «challenge_id»", status=422)
        der = b64_field(data.get("certificate"), "certificate")
        signature = b64_field(data.get("signature"), "signature")
        nonce = store.use_challenge(challenge_id)
        if nonce is None:
            raise Problem("challenge_invalid", "pida un reto nuevo en /v1/auth/challenge")
        info = sessions.trusted(der)
        public = x509.load_der_x509_certificate(der).public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise Problem("certificate_rejected", "la llave del certificado no es RSA")
        try:
            public.verify(signature, nonce, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise Problem("signature_invalid", "la firma del reto no corresponde al certificado") from None
        return JSONResponse(sessions.new_session(info.rfc, der))

    async def refresh(request: Request) -> Response:
        _, data = await read_json(request)
        token = data.get("refresh_token")
        if not isinstance(token, str):
            raise Problem("invalid_request", "falta «refresh_token»", status=422)
        row = store.take_refresh(token)
        if row is None:
            raise Problem("session_expired", "inicie sesión de nuevo con su e.firma")
        return JSONResponse(sessions.new_session(row["employer_rfc"], bytes(row["cert_der"])))

    async def logout(request: Request) -> Response:
        sessions.authenticate(request)
        store.revoke(request.headers["authorization"][7:].strip())
        return JSONResponse({"logged_out": True})

    return [
        Route("/openapi.yaml", openapi, methods=["GET"]),
        Route("/v1/info", info, methods=["GET"]),
        Route("/v1/auth/challenge", challenge, methods=["POST"]),
        Route("/v1/auth/login", login, methods=["POST"]),
        Route("/v1/auth/refresh", refresh, methods=["POST"]),
        Route("/v1/auth/logout", logout, methods=["POST"]),
    ]
