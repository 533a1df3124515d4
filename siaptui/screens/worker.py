"""Trabajador: NSS and CURP, checked locally as they are typed, then confirmed by the portal.

Why both: the local check (`siaptui.identity`) tells the clerk at once which character is
wrong, without a round trip over a slow link; only the portal knows whether NSS and CURP
belong to the same person, so the lookup is the confirmation.  The confirmed name is shown so
the clerk can see it is the person in front of them before going on.
"""

from __future__ import annotations

from typing import Iterable, Optional, Tuple

from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from siaptui.enrollment.flow import Step, WorkerData
from siaptui.errors import SiaptuiError, describe
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain

NSS_LENGTH = 11
CURP_LENGTH = 18
SEPARATORS = {"nss": " -", "curp": " "}
"""What people write an NSS ("120 5851 2349", "120-5851-2349") or a CURP with around its
characters: dropped as typed or pasted (`IdentityField`), so the field's length limit counts
only the NSS's 11 digits and the CURP's 18 characters."""


STATUS_NEXT = {
    "enrolled_elsewhere": "transfer.worker_next",
    "enrolled": "worker.enrolled_here.next",
}
"""The lookup's biometric status -> what the clerk is told to do next (default: capture)."""


class WorkerFieldError(SiaptuiError):
    code = "worker_incomplete"


def check(kind: str, value: str) -> Tuple[bool, str]:
    """(valid, message) for one field as typed so far; message says what is wrong or missing."""
    expected = NSS_LENGTH if kind == "nss" else CURP_LENGTH
    if not value:
        return False, ""
    if kind == "nss":
        for position, char in enumerate(value, start=1):
            if not char.isdigit():
                return False, t("worker.nss.not_digit", position=position, char=char)
    if len(value) < expected:
        return False, t(f"worker.{kind}.progress", count=len(value), total=expected)
    from siaptui import identity

    validate = identity.validate_nss if kind == "nss" else identity.validate_curp
    try:
        validate(value)
    except SiaptuiError as exc:
        message, fix = describe(exc)
        return False, f"{message} {fix}".strip()
    return True, t(f"worker.{kind}.ok")


class IdentityField(Input):
    """The NSS or CURP field (its id says which): separators typed or pasted are left out."""

    def replace(self, text: str, start: int, end: int) -> None:
        """Every insertion (a key, a paste) comes here; a text of separators only inserts nothing."""
        kept = text.translate(str.maketrans("", "", SEPARATORS.get(self.id or "", "")))
        if text and not kept:
            return
        super().replace(kept, start, end)


def field_feedback(screen: FlowScreen, event: Input.Changed) -> bool:
    """Check an NSS or CURP field as typed and say what is wrong under it (`#nss-check`,
    `#curp-check`); False when the CURP was just upper-cased (a second event follows).

    A complete, valid NSS moves the focus on to the CURP, as Enter would: the clerk types on
    without looking up.  An invalid one keeps it in the NSS field, marked, to be corrected."""
    kind = event.input.id or ""
    value = event.value
    if kind == "curp" and value != value.upper():
        event.input.value = value.upper()
        return False
    valid, message = check(kind, value.strip())
    label = screen.query_one(f"#{kind}-check", Static)
    label.update(message)
    label.set_class(not valid, "field-error")
    label.set_class(valid, "field-ok")
    full_length = NSS_LENGTH if kind == "nss" else CURP_LENGTH
    event.input.set_class(bool(value) and not valid and len(value) >= full_length, "-invalid")
    curp = screen.query_one("#curp", Input)
    if kind == "nss" and valid and event.input.has_focus and not curp.value:
        curp.focus()
    return True


def stray_enter(screen: FlowScreen, field: Input) -> bool:
    """Enter in the still empty CURP just after a valid NSS: the Enter typed behind the NSS,
    after its last digit had already moved the focus here (`field_feedback`); it is ignored."""
    return field.id == "curp" and not field.value and check("nss", screen.query_one("#nss", Input).value)[0]


def typed_identity(screen: FlowScreen) -> Tuple[str, str]:
    """(NSS, CURP) as typed in the screen's `#nss` and `#curp` fields, trimmed, CURP upper-case."""
    return (screen.query_one("#nss", Input).value.strip(), screen.query_one("#curp", Input).value.strip().upper())


def refuse_invalid(screen: FlowScreen, nss: str, curp: str) -> bool:
    """Focus and explain the first of NSS and CURP that is not valid; True when one was."""
    for kind, value in (("nss", nss), ("curp", curp)):
        valid, message = check(kind, value)
        if not valid:
            screen.query_one(f"#{kind}", Input).focus()
            screen.show_error(WorkerFieldError(message or t(f"worker.{kind}.empty"), code=f"worker_{kind}_invalid"))
            return True
    return False


class WorkerScreen(FlowScreen):
    SCREEN_ID = "worker"
    FIELDS = ("nss", "curp")
    STEP = Step.WORKER
    BINDINGS = [
        Binding("enter", "submit", "key.continue", id="continue"),
    ]

    def compose_body(self) -> Iterable[Widget]:
        employer = self.siaptui.flow.employer
        if employer is not None:
            yield Plain(t("worker.employer", name=employer.name, rfc=employer.rfc), classes="hint")
        yield Label(t("worker.nss"), classes="field-label")
        yield IdentityField(max_length=NSS_LENGTH, id="nss")
        yield Plain("", id="nss-check", classes="field-error")
        yield Label(t("worker.curp"), classes="field-label")
        yield IdentityField(max_length=CURP_LENGTH, id="curp")
        yield Plain("", id="curp-check", classes="field-error")
        yield Plain("", id="confirmed", classes="big")
        demo = self._demo_workers()
        if demo:
            yield Plain(demo, classes="demo-data", id="demo-workers")

    def _demo_workers(self) -> str:
        """In training, the sandbox's seeded workers, so a trainee has valid data to type."""
        if not self.siaptui.services.training:
            return ""
        from siaptui.portal.sandbox import seed

        lines = [t("worker.demo_header")]
        for row in list(getattr(seed, "DEMO_WORKERS", []))[:3]:
            lines.append(f"  NSS {row['nss']}  CURP {row['curp']}  {row.get('name', '')}")
        return "\n".join(lines) if len(lines) > 1 else ""

    def __init__(self) -> None:
        super().__init__()
        self._enrollment_id: Optional[int] = None
        """The flow's enrollment the fields were last shown for."""

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        flow = self.siaptui.flow
        worker = flow.worker
        nss_field, curp_field = self.query_one("#nss", Input), self.query_one("#curp", Input)
        if worker.confirmed and not nss_field.value and not curp_field.value:
            nss_field.value, curp_field.value = worker.nss, worker.curp  # state restored from the flow
            self.query_one("#confirmed", Plain).update(t("worker.confirmed", name=worker.name))
        if flow.enrollment_id != self._enrollment_id and not worker.nss and not worker.curp:
            # A new worker (after an acuse or a refusal): start from empty fields.  Coming back
            # from another screen (F7, F2) keeps what was typed and the field it was typed in.
            nss_field.value = ""
            curp_field.value = ""
            self.query_one("#confirmed", Static).update("")
            nss_field.focus()
        self._enrollment_id = flow.enrollment_id
        prefill, self.siaptui.flow.prefill = self.siaptui.flow.prefill, None
        if prefill is not None:
            # Chosen in Pendientes: filled in, and confirmed by the portal as if typed.
            nss_field.value, curp_field.value = prefill
            curp_field.focus()
            self.action_submit()

    @on(Input.Changed, "#nss, #curp")
    def _typed(self, event: Input.Changed) -> None:
        if not field_feedback(self, event):
            return
        flow = self.siaptui.flow
        if flow.worker.confirmed and (flow.worker.nss, flow.worker.curp) != self._values():
            flow.worker = WorkerData()
            self.query_one("#confirmed", Static).update("")

    def _values(self) -> Tuple[str, str]:
        return typed_identity(self)

    @on(Input.Submitted, "#nss, #curp")
    def _entered(self, event: Input.Submitted) -> None:
        """Enter in a field arrives after the characters typed before it (bursts from barcode
        readers, pastes, SSH), so the whole value is read; a screen binding would run first."""
        event.stop()
        if not stray_enter(self, event.input):
            self.action_submit()

    def action_submit(self) -> None:
        """Enter: from NSS go to CURP; then look the worker up; once confirmed, go on — except
        for a worker this employer already enrolled: that is Verificación's, not a new capture."""
        nss, curp = self._values()
        flow = self.siaptui.flow
        if flow.worker.confirmed and (flow.worker.nss, flow.worker.curp) == (nss, curp):
            if flow.worker.biometric_status == "enrolled":
                self.show_info(t("worker.enrolled_here.refused"), "error")
                return
            self.siaptui.goto("consent")
            return
        if refuse_invalid(self, nss, curp):
            return
        self.show_info(t("worker.looking_up"))
        self._look_up(nss, curp)

    @work(exclusive=True, group="worker")
    async def _look_up(self, nss: str, curp: str, said: str = "") -> None:
        """Ask the portal; `said` replaces the usual next step once confirmed."""
        try:
            client = await self.siaptui.services.client()
            found = await client.lookup_worker(nss, curp)
        except Exception as exc:  # noqa: BLE001 - shown as message + next step
            self.show_error(exc)
            return
        if self._values() != (nss, curp):
            return  # the clerk changed the fields meanwhile; this answer is stale
        worker = WorkerData(nss=nss, curp=curp, name=str(getattr(found, "name", "") or ""), confirmed=True,
                            biometric_status=str(getattr(found, "biometric_status", "") or "none"))
        if self.siaptui.flow.needs_new_enrollment(nss, curp):
            self.siaptui.leave_held_capture(lambda: self._confirmed(worker, fresh=True), self._back_to_held)
            return
        self._confirmed(worker, said=said)

    def _confirmed(self, worker: WorkerData, *, fresh: bool = False, said: str = "") -> None:
        if fresh:
            self.siaptui.start_new_worker()
        self.siaptui.flow.confirm_worker(worker)
        self.query_one("#confirmed", Static).update(t("worker.confirmed", name=worker.name))
        self.show_info(said or t(STATUS_NEXT.get(worker.biometric_status, "worker.confirmed.next")), "ok")

    def _back_to_held(self) -> None:
        """The clerk keeps the fingers held: the worker they belong to, filled in and confirmed
        again, so Enter goes on to finish that submission."""
        nss, curp = self.siaptui.flow.enrolled
        self.siaptui.flow.worker = WorkerData(nss=nss, curp=curp)  # not a new worker: resuming keeps the fields
        self.query_one("#nss", Input).value, self.query_one("#curp", Input).value = nss, curp
        self.show_info(t("worker.looking_up"))
        self._look_up(nss, curp, t("worker.capture_kept"))


def masked(value: Optional[str]) -> str:
    """NSS/CURP as shown in lists and logs: first 4 and last 2 characters (DESIGN.md)."""
    value = value or ""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]
