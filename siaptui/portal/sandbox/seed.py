"""Seed data of the sandbox portal: demo employers and workers, all synthetic.

Every CURP and NSS here passes `siaptui.identity` (check digits included; tests verify it), so
what the portal refuses it refuses for the portal's reasons, the ones clerks meet at month-end:

* `case: "ok"` — a worker who can be enrolled;
* `case: "curp_not_eligible"` — «CURP no válido para registro biométrico»;
* `case: "enrolled_elsewhere"` — biometrics registered by a previous employer: use a transfer;
* `DEMO_MISMATCHED_PAIRS` — a real NSS with another worker's CURP: «CURP o NSS no coinciden con
  el registro IMSS»;
* `DEMO_UNKNOWN_NSS` — a well-formed NSS that the registry does not have.

Rosters (`ROSTERS`): which employer has each worker's alta, and how many calendar days before
the seeding day it started, so the demo employer's roster has workers still
within their 5-business-day enrollment window, some past it, and one (`enrolled_elsewhere`)
whose biometrics the previous employer holds.  `OTHER_WORKERS` are on the previous employer's
roster only: for the demo employer they are exactly as unknown as `DEMO_UNKNOWN_NSS`.

`person_seed` is the synthetic-finger seed the `sim` scanner uses for that worker, so the demo
captures the same fingers for the same person every time (and the duplicate-finger check can be
shown by enrolling one person's fingers under another's NSS).  The seeds of the workers a clerk is
invited to enrol are ones whose ten synthetic fingers the duplicate-finger check tells apart
(synthetic fingers of one pattern class are more alike than real ones;
tests/enrollment/test_protocol.py).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

DEMO_EMPLOYERS: List[Dict[str, str]] = [
    # The default holder of `issue_demo_efirma`: a persona física employer (a small shop).
    {"rfc": "DEPM800101AB2", "curp": "DEPM800101MDFMRR07", "name": "MARIA DEMO PEREZ",
     "registro_patronal": "Y5412345102"},
    # SAT's public test FIEL (persona moral); accepted only when the sandbox trusts SAT test CAs.
    {"rfc": "AAA010101AAA", "curp": "HEGT761003MDFRNN09", "name": "ACCEM SERVICIOS EMPRESARIALES SC",
     "registro_patronal": "Y5499999109"},
    # The previous employer of the worker whose biometrics can be transferred.
    {"rfc": "TAN100101CD3", "curp": "", "name": "TALLER ANTERIOR SA DE CV",
     "registro_patronal": "Y5477777100"},
]

PREVIOUS_EMPLOYER_RFC = "TAN100101CD3"

DEMO_WORKERS: List[Dict[str, Any]] = [
    {"nss": "12058512349", "curp": "PELJ850412HJCRPN00", "name": "JUAN PEREZ LOPEZ",
     "person_seed": 1001, "case": "ok"},
    {"nss": "34109056787", "curp": "HEGG901123MDFRRD06", "name": "MARIA GUADALUPE HERNANDEZ GARCIA",
     "person_seed": 1002, "case": "ok"},
    {"nss": "56987800424", "curp": "RASL780205HNLMTS08", "name": "JOSE LUIS RAMIREZ SOTO",
     "person_seed": 1015, "case": "ok"},
    {"nss": "21200133441", "curp": "TODA010730MPLRZNA0", "name": "ANA SOFIA TORRES DIAZ",
     "person_seed": 1023, "case": "ok"},
    {"nss": "43149520207", "curp": "CUMA950909XOCRRL00", "name": "ALEX CRUZ MORALES",
     "person_seed": 1025, "case": "ok"},
    {"nss": "38028277770", "curp": "SAVP821201HVZNGD01", "name": "PEDRO SANCHEZ VEGA",
     "person_seed": 1011, "case": "ok"},
    {"nss": "15179901010", "curp": "MERL990515MGTNZC07", "name": "LUCIA MENDOZA RUIZ",
     "person_seed": 1007, "case": "curp_not_eligible"},
    {"nss": "27957545455", "curp": "FONR750320HMCLVB03", "name": "ROBERTO FLORES NAVA",
     "person_seed": 1008, "case": "enrolled_elsewhere"},
]

DEMO_MISMATCHED_PAIRS: List[Tuple[str, str]] = [
    ("12058512349", "HEGG901123MDFRRD06"),  # Juan's NSS with María Guadalupe's CURP
    ("56987800424", "TODA010730MPLRZNA0"),  # José Luis's NSS with Ana Sofía's CURP
]

DEMO_UNKNOWN_NSS = "92919084431"
"""Well-formed (Luhn passes) but not in the sandbox registry: «worker not found»."""

OTHER_WORKERS: List[Dict[str, object]] = [
    {"nss": "43128812344", "curp": "GOMR880214HDFMRC06", "name": "RICARDO GOMEZ MARTINEZ",
     "person_seed": 1101, "case": "ok"},
    {"nss": "06159204566", "curp": "LOPA920630MJCPRN01", "name": "ANDREA LOPEZ PRIETO",
     "person_seed": 1102, "case": "ok"},
]
"""Workers with an alta only at the previous employer (the cross-employer tests use them)."""

_DEMO_ALTAS: Tuple[Tuple[str, int], ...] = (
    ("12058512349", 1), ("34109056787", 3), ("56987800424", 20), ("21200133441", 2),
    ("43149520207", 0), ("38028277770", 12), ("15179901010", 4), ("27957545455", 2),
)

ROSTERS: Dict[str, Tuple[Tuple[str, int], ...]] = {
    "DEPM800101AB2": _DEMO_ALTAS,
    "AAA010101AAA": _DEMO_ALTAS,
    PREVIOUS_EMPLOYER_RFC: (("27957545455", 400), ("43128812344", 30), ("06159204566", 1)),
}
"""Employer RFC -> its altas: (NSS, calendar days between the alta and the seeding day)."""

TRANSFER_FINGERS = (2, 7)
"""Fingers on record for the `enrolled_elsewhere` worker (right and left index), with templates
of the synthetic fingers the `sim` reader serves for their `person_seed`
(`siaptui.enrollment.demo_fingers`)."""
