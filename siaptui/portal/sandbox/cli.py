"""`siaptui sandbox`: run the practice portal, or issue a demo e.firma and exit.

    siaptui sandbox                              # http://127.0.0.1:8765, database in the data dir
    siaptui sandbox --port 0 --fault overload=5  # a free port, month-end mode
    siaptui sandbox --tls                        # HTTPS with a certificate from the sandbox CA
    siaptui sandbox --issue-efirma DIR [--kind csd] [--expired]
    siaptui sandbox --allow-test-ca --cert-date 2020-01-01   # SAT's public test FIEL (expired 2021)
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from siaptui.i18n import t
from siaptui.portal.sandbox.faults import Faults, FaultSpecError, apply, parse_specs


def _cert_date(text: str) -> datetime:
    from siaptui.errors import SiaptuiError

    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(hour=12, tzinfo=timezone.utc)
    except ValueError:
        raise SiaptuiError(f"--cert-date {text!r}: AAAA-MM-DD", code="sandbox_fault") from None


def main(args: Any, settings: Any) -> int:
    from siaptui import config
    from siaptui.errors import SiaptuiError

    if getattr(args, "issue_efirma", None):
        from siaptui.portal.sandbox.ca import issue_demo_efirma

        demo = issue_demo_efirma(Path(args.issue_efirma), kind=getattr(args, "kind", "fiel") or "fiel",
                                 expired=bool(getattr(args, "expired", False)))
        print(t("portal.sandbox.issued", kind=getattr(args, "kind", "fiel") or "fiel", rfc=demo.rfc,
                cer=str(demo.cer), key=str(demo.key), password=demo.password))
        return 0

    try:
        faults = Faults()
        apply(faults, parse_specs(getattr(args, "fault", []) or []))
    except FaultSpecError as exc:
        raise SiaptuiError(str(exc), code="sandbox_fault") from None
    host = args.host or (settings.sandbox.host if settings else "127.0.0.1")
    port = args.port if args.port is not None else (settings.sandbox.port if settings else 8765)
    db = Path(args.db) if args.db else config.data_dir(settings) / "sandbox" / "portal.sqlite3"
    cert_now = _cert_date(args.cert_date) if getattr(args, "cert_date", None) else None

    from siaptui.portal.sandbox import seed
    from siaptui.portal.sandbox.server import serve_forever

    def ready(url: str, bundle: Any, admin_token: str) -> None:
        print(t("portal.sandbox.started", url=url))
        print(t("portal.sandbox.admin_token", token=admin_token))
        if bundle:
            print(t("portal.sandbox.ca_bundle", file=bundle))
        if getattr(args, "allow_test_ca", False):
            print(t("portal.sandbox.test_ca", date=(cert_now or datetime.now(timezone.utc)).date().isoformat()))
        print(t("portal.sandbox.workers"))
        for worker in seed.DEMO_WORKERS:
            print(f"  {worker['nss']}  {worker['curp']}  {worker['name']}  ({worker['case']})")
        print(t("portal.sandbox.rosters", rfc=seed.DEMO_EMPLOYERS[0]["rfc"]))
        sys.stdout.flush()

    try:
        serve_forever(host, port, db=db, faults=faults, allow_test_ca=bool(getattr(args, "allow_test_ca", False)),
                      tls=bool(args.tls), cert_now=cert_now, on_ready=ready,
                      admin_token=(settings.sandbox.admin_token if settings else "") or None)
    except OSError as exc:
        raise SiaptuiError(str(exc), code="sandbox_port") from None
    return 0
