"""Modo práctica: the trainer's menu of scenarios, applied to the running app.

Why a screen of its own: a trainer sits beside a clerk and says "now the reader is unplugged",
"now the portal is saturated"; this menu makes that one key press.  Applying a scenario only
configures the real pieces (`siaptui.enrollment.training.apply`: sandbox faults, the sim scanner's script,
a demo e.firma, a demo worker, pre-enrolled gallery fingers) and then sends the trainee to the
screen where the failure will show; the message and fix the trainee reads there are the
app's own, exactly as in an office.

Keyboard only, 80×24: F6 (the shell's key, shown only in Modo práctica) opens it; ↑/↓ choose,
Intro applies, Esc returns.  The menu refuses to run outside
training mode (the banner MODO PRÁCTICA is on every screen then) and against a portal that is
not a sandbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, Optional

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from siaptui.enrollment import training
from siaptui.i18n import LANGUAGES, catalog, placeholders, t
from siaptui.screens.base import FlowScreen


def expected_params(scenario: training.Scenario) -> Dict[str, Any]:
    """The values of the clerk's final message that are known before the scenario runs."""
    known: Dict[str, Any] = {
        "spec": "sim",
        "retry_after": t("portal.retry_after.seconds", seconds=training.OVERLOAD_RETRY_AFTER_S),
    }
    if scenario.duplicate_of is not None:
        known["nss"] = training.demo_worker(scenario.duplicate_of)["nss"]
    if scenario.efirma is not None and scenario.efirma[1]:
        from siaptui.portal.sandbox.ca import EXPIRED_DAYS_AGO

        known["date"] = (datetime.now(timezone.utc) - timedelta(days=EXPIRED_DAYS_AGO)).date().isoformat()
    return known


def expected_text(scenario: training.Scenario) -> str:
    """«message» — fix, as the clerk will read it at the end of the scenario; what only the run
    decides (the folio, the CSD's number, how many fingers match) reads "…", never a blank."""
    keys = [scenario.expected] + ([scenario.expected_fix] if scenario.expected_fix else [])
    known = expected_params(scenario)
    params = {name: known.get(name, "…") for key in keys for lang in LANGUAGES
              for name in placeholders(catalog(lang).get(key, ""))}
    message = t(scenario.expected, **params)
    if scenario.expected_fix:
        return t("training.expected_with_fix", message=message, fix=t(scenario.expected_fix, **params))
    return t("training.expected", message=message)


TOAST_S = 8
"""Seconds a practice notice stays: long enough to read its two lines, short enough not to sit
over the next screen (the same text stays in this menu's status line)."""


class TrainingScreen(FlowScreen):
    """Scenario menu: pick one, press Intro, continue on the screen it names."""

    SCREEN_ID = "training"
    BINDINGS = [Binding("enter", "apply", "key.training.apply", id="training-apply")]
    DEFAULT_CSS = """
    TrainingScreen #scenarios { height: 10; border: none; padding: 0; }
    TrainingScreen #detail { height: auto; max-height: 6; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.active: Optional[str] = None
        self.applying = False
        self.last_applied: Optional[training.Applied] = None
        self._original_credential: Any = None
        self._credential_saved = False
        self.submission_watch: Optional[training.SubmissionWatch] = None
        self.submit_report: Optional[training.SubmitReport] = None

    def compose_body(self) -> Iterable[Widget]:
        yield Static(t("training.menu.intro"), classes="hint")
        yield OptionList(*self._options(), id="scenarios")
        yield Static("", id="detail")

    def _options(self) -> list:
        options = []
        for number, item in enumerate(training.SCENARIOS, start=1):
            mark = t("training.menu.active") if item.id == self.active else ""
            options.append(Option(f"{number:>2}. {t(item.title_key)}{mark}", id=item.id))
        return options

    def on_mount(self) -> None:
        super().on_mount()
        menu = self.query_one("#scenarios", OptionList)
        menu.highlighted = 0
        menu.focus()
        self._describe(training.SCENARIOS[0])
        if not self.siaptui.services.training:
            self.show_error(training.TrainingError("off", code="training_off"))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._describe(training.scenario(event.option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.choose(event.option.id)

    def action_apply(self) -> None:
        """Intro when the list is not focused: apply the highlighted scenario."""
        menu = self.query_one("#scenarios", OptionList)
        if menu.highlighted is not None:
            option = menu.get_option_at_index(menu.highlighted)
            if option.id:
                self.choose(option.id)

    def _describe(self, item: training.Scenario) -> None:
        text = "\n".join([t(item.description_key), expected_text(item)])
        self.query_one("#detail", Static).update(text)

    # -- applying ----------------------------------------------------------------------------
    def choose(self, scenario_id: str) -> None:
        """Apply a scenario (Intro on the menu): checks on the UI thread, the work in a thread."""
        item = training.scenario(scenario_id)
        app = self.siaptui
        if self.applying:
            return
        if not app.services.training:
            self.show_error(training.TrainingError("off", code="training_off"))
            return
        if item.needs_login and app.flow.employer is None:
            self.show_error(training.TrainingError("login first", code="training_login_first"))
            return
        if item.worker is not None:  # a new worker: another worker's unsent fingers are asked about first
            app.leave_held_capture(lambda: self._begin(item))
        else:
            self._begin(item)

    def _begin(self, item: training.Scenario) -> None:
        self.applying = True
        self.show_info(t("training.applying", title=t(item.title_key)))
        self._apply(item)

    @work(thread=True, exclusive=True, group="training")
    def _apply(self, item: training.Scenario) -> None:
        services = self.siaptui.services
        try:
            store = services.store() if item.duplicate_of is not None else None
            done = training.apply(
                item,
                training=services.training,
                portal_url=services.portal_url,
                workdir=services.data_dir(),
                store=store,
                ca_bundle=self.siaptui.settings.portal.ca_bundle or None,
                admin_token=self.siaptui.settings.sandbox.admin_token,
            )
        except Exception as exc:  # noqa: BLE001 - shown as message + next step
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._applied, done)

    def _failed(self, exc: BaseException) -> None:
        self.applying = False
        self.show_error(exc)

    def _applied(self, done: training.Applied) -> None:
        """Point the app at the scenario's world, then send the trainee to its screen."""
        from siaptui.services import DemoCredential

        app = self.siaptui
        services = app.services
        item = done.scenario
        self.applying = False
        self.last_applied = done
        self.active = item.id
        menu = self.query_one("#scenarios", OptionList)
        highlighted = menu.highlighted
        menu.clear_options()
        menu.add_options(self._options())
        menu.highlighted = highlighted
        services.scanner_spec = "sim"  # the practice script drives the simulated reader
        if not self._credential_saved:
            self._original_credential, self._credential_saved = services.demo_credential, True
        if done.efirma is not None:
            services.demo_credential = DemoCredential(str(done.efirma.cer), str(done.efirma.key),
                                                      done.efirma.password)
        elif item.id == "all_clear":
            services.demo_credential = self._original_credential
        if done.efirma is not None or item.id == "all_clear":
            services.credential = None
            app.flow.employer = None
            self._fill_login(services.demo_credential)
        self._watch_submission(item)
        steps = t(item.steps_key, **(done.worker or {}))
        self.show_info(t("training.applied", title=t(item.title_key), steps=steps), "ok")
        app.notify(steps, title=t("training.applied.toast", title=t(item.title_key)), timeout=TOAST_S)
        if done.worker is None:
            app.goto(item.screen)
        else:
            # A scenario's worker is a new worker: typed, confirmed and consented from scratch.
            app.start_new_worker("worker" if item.screen == "capture" else item.screen)

    # -- faults in the middle of a submission ---------------------------------------------------
    def _watch_submission(self, item: training.Scenario) -> None:
        """Arm the scenario's mid-submit faults (a plain thread: it outlives this screen's
        visibility while the trainee walks on to Envío)."""
        import threading

        if self.submission_watch is not None:
            self.submission_watch.stop()
            self.submission_watch = None
        self.submit_report = None
        if not item.mid_submit:
            return
        app = self.siaptui
        watch = training.SubmissionWatch(app.services.portal_url, app.services.store(), item.mid_submit,
                                         at=item.mid_submit_at, ca_bundle=app.settings.portal.ca_bundle or None,
                                         admin_token=app.settings.sandbox.admin_token)
        self.submission_watch = watch

        def run() -> None:
            try:
                report = watch.run()
            except Exception as exc:  # noqa: BLE001 - shown as message + next step
                self._from_thread(self._watch_failed, exc)
                return
            if report is not None:
                self._from_thread(self._submission_done, item, report)

        threading.Thread(target=run, name="training-watch", daemon=True).start()

    def _from_thread(self, callback: Any, *args: Any) -> None:
        try:
            self.app.call_from_thread(callback, *args)
        except Exception:  # noqa: BLE001 - the app closed meanwhile: nobody to tell
            return

    def _watch_failed(self, exc: BaseException) -> None:
        from siaptui.errors import describe

        message, fix = describe(exc)
        self.app.notify(f"{message} {fix}", severity="error", timeout=TOAST_S)
        self.show_error(exc)

    def _submission_done(self, item: training.Scenario, report: training.SubmitReport) -> None:
        """Tell the trainee how the submission under the fault ended, from what the outbox,
        the portal client and the portal report (an expired session needs a seen renewal)."""
        self.submit_report = report
        renewal_needed = "expire-session" in item.mid_submit
        if (report.state == "sent" and report.copies_at_portal == 1 and item.submitted
                and (report.renewed or not renewal_needed)):
            text = t(item.submitted, folio=report.folio or "-")
            self.app.notify(text, title=t(item.title_key), timeout=TOAST_S)
            self.show_info(text, "ok")
        elif report.state == "sent":
            text = t("training.session_not_renewed", folio=report.folio or "-", copies=report.copies_at_portal)
            self.app.notify(text, severity="warning", timeout=TOAST_S)
            self.show_info(text, "error")
        # not sent: Envío and the Bandeja already show why, with the next step

    def on_unmount(self) -> None:
        if self.submission_watch is not None:
            self.submission_watch.stop()

    def _fill_login(self, credential: Any) -> None:
        """Put the scenario's e.firma paths into the sign-in fields (they stay editable)."""
        from textual.widgets import Input

        try:
            login = self.siaptui.screen_for("login")
            values = {"cer": credential.cer if credential else "", "key": credential.key if credential else "",
                      "password": credential.password if credential else ""}
            for name, value in values.items():
                login.query_one(f"#{name}", Input).value = value
        except Exception:  # noqa: BLE001 - login screen not composed yet: it reads demo_credential itself
            return
