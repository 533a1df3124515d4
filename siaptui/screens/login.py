"""Inicio de sesión: the employer signs in with the SAT e.firma (.cer, .key, password).

Why here and not in a service: this screen only collects the three inputs, checks the obvious
(empty field, file not found) locally so the clerk gets an instant answer, and then hands the
real work to `siaptui.efirma.load` (in a thread: PBKDF2 is slow on old PCs) and
`PortalClient.login` (async).  The password is never stored: it lives in the Input until the
credential is loaded, then the field is cleared.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, Label

from siaptui.enrollment.flow import Employer, Step
from siaptui.errors import SiaptuiError
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain


class LoginError(SiaptuiError):
    """A login field the clerk must fix before anything is sent."""

    code = "login_field"


class LoginScreen(FlowScreen):
    SCREEN_ID = "login"
    FIELDS = ("cer", "key", "password")
    STEP = Step.LOGIN
    BINDINGS = [
        Binding("enter", "submit", "key.login", id="login"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        demo = self.siaptui.services.demo_credential
        yield Plain(t("login.intro"), classes="hint")
        yield Label(t("login.cer"), classes="field-label")
        yield Input(value=demo.cer if demo else "", placeholder=t("login.cer.placeholder"), id="cer")
        yield Label(t("login.key"), classes="field-label")
        yield Input(value=demo.key if demo else "", placeholder=t("login.key.placeholder"), id="key")
        yield Label(t("login.password"), classes="field-label")
        yield Input(value=demo.password if demo else "", password=True, id="password")
        if demo and demo.password:
            yield Plain(t("login.demo_data", password=demo.password), classes="demo-data")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self.siaptui.first_paint_ms is None:
            # Resume means this screen is current, so the next refresh really paints it;
            # the callback runs after that paint (mount-time callbacks can run before it).
            self.refresh()
            self.call_after_refresh(self.siaptui.first_paint)

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        """Enter in a field arrives after the characters typed before it (pasted paths, SSH
        bursts), so the whole value is read; a screen binding would run first."""
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        """Enter: sign in (from the last field, or when all are filled: `next_field` moves on before)."""
        values = {name: self.query_one(f"#{name}", Input).value.strip() for name in self.FIELDS}
        self.sign_in(values["cer"], values["key"], self.query_one("#password", Input).value)

    def sign_in(self, cer: str, key: str, password: str) -> None:
        for field, value, missing in (("cer", cer, "cer_missing"), ("key", key, "key_missing")):
            if not value:
                self.query_one(f"#{field}", Input).focus()
                self.show_error(LoginError(field, code=f"login_{missing}"))
                return
            if not Path(value).expanduser().is_file():
                self.query_one(f"#{field}", Input).focus()
                self.show_error(LoginError(value, code="login_file_not_found", path=value))
                return
        if not password:
            self.query_one("#password", Input).focus()
            self.show_error(LoginError("password", code="login_password_missing"))
            return
        self.show_info(t("login.working"))
        self._sign_in(str(Path(cer).expanduser()), str(Path(key).expanduser()), password)

    @work(exclusive=True, group="login")
    async def _sign_in(self, cer: str, key: str, password: str) -> None:
        services = self.siaptui.services
        try:
            from siaptui import efirma

            await services.portal_info()
            allow_test = bool(services.portal_is_sandbox) and (
                services.training or self.siaptui.settings.portal.allow_test_credentials
            )
            now = datetime.fromtimestamp(services.now(), timezone.utc)
            credential = await asyncio.to_thread(
                efirma.load, cer, key, password, now=now, allow_test_ca=allow_test
            )
            client = await services.client()
            session = await client.login(credential)
        except Exception as exc:  # noqa: BLE001 - every failure becomes message + next step
            self.show_error(exc)
            return
        self.query_one("#password", Input).value = ""
        services.credential = credential
        # The access token stays inside the client (kept out of reprs and tracebacks); the flow
        # only records who signed in and until when.
        self.siaptui.flow.employer = Employer(
            rfc=getattr(session, "employer_rfc", "") or getattr(credential, "rfc", ""),
            name=getattr(session, "employer_name", "") or getattr(credential, "name", ""),
            curp=getattr(credential, "curp", "") or "",
            session_expires_at=_timestamp(getattr(session, "expires_at", 0.0)),
            training=services.training,
        )
        self.show_info(t("login.ok", name=self.siaptui.flow.employer.name, rfc=self.siaptui.flow.employer.rfc), "ok")
        self.siaptui.goto("worker")
        self.siaptui.flush_outbox()


def _timestamp(value: object) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if not isinstance(value, (int, float, str)):
        return 0.0
    try:
        return float(value)
    except ValueError:
        return 0.0
