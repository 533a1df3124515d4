"""Small builders shared by the store tests (real files, real SQLite, no mocks)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

NSS = "92919084431"
OTHER_NSS = "41787612344"
CURP = "KAHO641101HNTLKS06"
RFC = "AAA010101AAA"


class Clock:
    """A hand-moved clock so due times are exact (behaviour, not timings)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def request_dict(nss: str = NSS, curp: str = CURP, template: bytes | None = None) -> dict[str, Any]:
    """An EnrollmentRequest.to_dict()-shaped request with a recognisable template."""
    import base64

    template = template if template is not None else b"FMR\x00 20\x00" + os.urandom(120)
    return {
        "nss": nss,
        "curp": curp,
        "fingers": [{"position": 2, "template": base64.b64encode(template).decode("ascii"), "quality": 80},
                    {"position": 7, "missing_reason": "bandaged"}],
        "device": {"model": "sim", "vendor_id": 0, "product_id": 0, "serial": "", "driver": "sim"},
        "consent": {"aviso_version": "2025-1", "accepted_at": "2026-01-05T10:00:00Z",
                    "method": "firma_autografa", "recorded_by": RFC, "voluntary_purposes": False},
        "captured_at": datetime(2026, 1, 5, 10, 5, tzinfo=timezone.utc).isoformat().replace("+00:00", "Z"),
    }
