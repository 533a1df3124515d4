"""Who a worker is, as the portal's registry knows him: NSS and CURP checked, then resolved to
one registry row, and the biometric status as seen by the calling employer."""

from __future__ import annotations

from typing import Any, Mapping

from siaptui.errors import describe
from siaptui.portal.sandbox.problems import Problem
from siaptui.portal.sandbox.store import SandboxStore


def resolve_worker(store: SandboxStore, data: Mapping[str, Any]) -> Any:
    from siaptui.identity import IdentityError, validate_curp, validate_nss

    nss, curp = data.get("nss"), data.get("curp")
    if not isinstance(nss, str) or not isinstance(curp, str):
        raise Problem("invalid_request", "faltan «nss» y «curp» (texto)", status=422)
    try:
        nss = validate_nss(nss)
        curp = validate_curp(curp)
    except IdentityError as exc:
        raise Problem("invalid_request", describe(exc)[0], status=422) from None
    by_nss, by_curp = store.worker_by_nss(nss), store.worker_by_curp(curp)
    if by_nss is None and by_curp is None:
        raise Problem("worker_not_found", "el NSS y la CURP no están en el registro del IMSS")
    if by_nss is None or by_nss["curp"] != curp:
        raise Problem("identity_mismatch", "verifique ambos datos con la constancia del trabajador")
    if not by_nss["eligible"]:
        raise Problem("curp_not_eligible", "la CURP debe validarse ante RENAPO antes del registro biométrico")
    return by_nss


def status_for(worker: Any, employer_rfc: str) -> str:
    holder = worker["biometrics_employer"]
    return "none" if holder is None else ("enrolled" if holder == employer_rfc else "enrolled_elsewhere")
