"""The one base class for errors a clerk can act on.

Every service (devices, biometrics, portal, store, efirma, identity, config) raises its own
small hierarchy below `SiaptuiError`.  Each error carries a stable `code`; the catalog holds
`error.<code>` (what happened) and `error.<code>.fix` (the next step), in Spanish and English,
with `{placeholders}` filled from `params`.  The TUI and the CLI show `describe(err)` and never
a traceback (unless `--debug`).
"""

from __future__ import annotations

from typing import Any


class SiaptuiError(Exception):
    """An expected failure with a stable code and the values its message needs."""

    code: str = "unexpected"

    def __init__(self, detail: str = "", *, code: str | None = None, **params: Any) -> None:
        super().__init__(detail or (code or self.code))
        if code is not None:
            self.code = code
        self.detail = detail
        self.params = params


def describe(error: BaseException) -> tuple[str, str]:
    """Return (message, next step) for any exception, from the catalog in the current language.

    Unknown exceptions get the generic `error.unexpected` text: the clerk still learns what to
    do next (retry, run `siaptui doctor`, or send the log to support).
    """
    from siaptui.i18n import has, t

    code = getattr(error, "code", "unexpected") if isinstance(error, SiaptuiError) else "unexpected"
    params: dict[str, Any] = dict(getattr(error, "params", {}) or {})
    params.setdefault("detail", getattr(error, "detail", "") or str(error))
    key = f"error.{code}"
    if not has(key):
        key = "error.unexpected"
    fix_key = f"{key}.fix"
    return t(key, **params), (t(fix_key, **params) if has(fix_key) else "")


def explain(error: BaseException) -> str:
    """The message and its next step as one text (message on the first line), for a dialog's
    error line or stderr."""
    message, fix = describe(error)
    return f"{message}\n{fix}"
