"""The portal: the contract client (`client`), its data (`models`), its errors (`errors`) and a
sandbox server implementing the same contract (`sandbox`).

IMSS publishes no API for biometric enrollment, so the contract is ours (`portal-api.yaml`,
served by the sandbox at `/openapi.yaml`).  Nothing here imports Textual; this package file
imports nothing heavy so `siaptui --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

OPENAPI_PATH = Path(__file__).resolve().parent / "portal-api.yaml"
"""The one copy of the contract: the client, the sandbox, the tests and the docs all use this file."""

API_VERSION = "2.2.0"
