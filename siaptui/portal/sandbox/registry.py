"""Who a worker is, and whether the calling employer may act on him: the authorization rule
of the contract.

An employer reaches a worker only through its own roster (its altas).  Every decision here
depends on the caller's roster and the request alone — never on whether the NSS or the CURP
exists in the registry or with another employer — so a worker registered elsewhere and one who
does not exist get the same answer, byte for byte (`worker_not_in_roster`, one fixed detail)."""

from __future__ import annotations

from typing import Any, Mapping

from siaptui.errors import describe
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.store import SandboxStore

NOT_IN_ROSTER = "registre primero el alta del trabajador con este patrón y vuelva a intentarlo"
"""The one detail of worker_not_in_roster: it must not vary with what the portal knows."""


def resolve_worker(store: SandboxStore, data: Mapping[str, Any], employer_rfc: str) -> Any:
    """The registry row of a worker on the caller's roster, else the problem to answer."""
    from siaptui.identity import IdentityError, validate_curp, validate_nss

    nss, curp = data.get("nss"), data.get("curp")
    if not isinstance(nss, str) or not isinstance(curp, str):
        raise Problem("invalid_request", "faltan «nss» y «curp» (texto)", status=422)
    try:
        nss = validate_nss(nss)
        curp = validate_curp(curp)
    except IdentityError as exc:
        raise Problem("invalid_request", describe(exc)[0], status=422) from None
    if store.alta(employer_rfc, nss) is None:
        if store.roster_worker_by_curp(employer_rfc, curp) is not None:
            raise Problem("identity_mismatch", "verifique ambos datos con la constancia del trabajador")
        raise Problem("worker_not_in_roster", NOT_IN_ROSTER)
    worker = store.worker_by_nss(nss)
    if worker is None or worker["curp"] != curp:
        raise Problem("identity_mismatch", "verifique ambos datos con la constancia del trabajador")
    if not worker["eligible"]:
        raise Problem("curp_not_eligible", "la CURP debe validarse ante RENAPO antes del registro biométrico")
    return worker


def status_for(holder: Any, employer_rfc: str) -> str:
    """The biometric status as the caller sees it, from the employer holding the record."""
    return "none" if holder is None else ("enrolled" if holder == employer_rfc else "enrolled_elsewhere")
