"""The Textual application: screens, global keys, theme choice, and the enrollment flow state.

Why a factory (`build_app`): the demo, the Pilot tests and the snapshot tests build exactly the
app `siaptui` runs, with only the portal URL, the scanner, the demo credential and the clock
swapped (Posting's pattern).  The app itself only orchestrates: screens call services through
`self.services` in workers, and keep what the clerk typed in `self.flow`.
"""

from __future__ import annotations

import argparse
import logging
import os
from functools import partial
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from siaptui import screens as registry
from siaptui.config import Settings, config_path
from siaptui.enrollment.flow import Flow
from siaptui.enrollment.verification import Verification
from siaptui.i18n import CONSOLE_GLYPHS, t, use_console_glyphs
from siaptui.screens.keys import localize
from siaptui.services import DemoCredential, Services
from siaptui.theme import STYLESHEET, choose, themes
from siaptui.widgets.console_scrollbar import use_whole_cells

EXIT_AFTER_FIRST_PAINT = "SIAPTUI_EXIT_AFTER_FIRST_PAINT"
"""Environment switch for the cold-start benchmark: exit as soon as the first screen painted."""

QUIT_WAIT_S = 5.0
"""How long quitting waits for the background jobs (a send, a capture) to end and give back what they hold."""

FLOW_AFTER_WORKER = ("consent", "capture", "photo", "review", "submit", "transfer", "receipt")


def _over_ssh(environ: Optional[Dict[str, str]] = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT"))


def process_age_ms() -> Optional[float]:
    """Milliseconds since this process started (Linux /proc), for the first-paint figure.

    Measured from the kernel's start time, so interpreter start-up and imports count too.
    """
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 overall; 2 fields precede the ')'-split
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        return (uptime - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000.0
    except (OSError, ValueError, IndexError):
        return None


class SiaptuiApp(App, inherit_bindings=False):
    """siaptui: e.firma login → worker → consent → capture → review → submit → acuse."""

    CSS_PATH = STYLESHEET
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False
    BINDINGS = [
        Binding("f1", "help", "key.help", id="help", tooltip="key.help.tooltip"),
        Binding("f2", "goto('outbox')", "key.outbox", id="outbox"),
        Binding("f3", "goto('doctor')", "key.doctor", id="doctor"),
        Binding("f4", "goto('settings')", "key.settings", id="settings"),
        Binding("ctrl+q", "request_quit", "key.quit", id="quit", priority=True),
        Binding("f6", "goto('training')", "key.training", id="training"),
        Binding("f7", "goto('verify')", "key.verify", id="verify"),
        Binding("f8", "goto('pending')", "key.pending", id="pending"),
        # Tab moves focus at the app level, before the next keys are handed to a widget: over
        # SSH keystrokes arrive in bursts, and a non-priority Tab is resolved only after the
        # characters typed behind it were already queued to the field being left (measured in
        # tmux: "12058512349<Tab>PELJ…" lost the CURP).
        Binding("tab", "focus_next", show=False, priority=True, id="focus-next"),
        Binding("shift+tab", "focus_previous", show=False, priority=True, id="focus-previous"),
        # Enter in a field with a next one to fill moves there the same way (the screen's
        # `next_field` says where); otherwise Enter goes on to the field and the screen.
        Binding("enter", "next_field", show=False, priority=True, id="next-field"),
    ]

    def __init__(
        self,
        settings: Settings,
        services: Services,
        *,
        config_error: Optional[BaseException] = None,
        low_motion: Optional[bool] = None,
    ) -> None:
        # NO_COLOR: Textual strips colour with its NoColor filter only when the app paints in
        # native ANSI; otherwise it maps every colour to a grey that is black on the terminal's
        # black.  Emphasis then comes from bold and reverse (app.tcss, `App:nocolor`).
        super().__init__(ansi_color=True if "NO_COLOR" in os.environ else None)
        localize(self)
        self.settings = settings
        self.services = services
        self.flow = Flow()
        self.verification = Verification()
        """Verificación's check in progress (apart from the enrollment's flow)."""
        self.config_error = config_error
        self.low_motion = _over_ssh() if low_motion is None else low_motion
        """No cursor blink and no animations: over SSH every redraw costs bytes."""
        self._sender: Any = None
        """The background OutboxSender while a session runs it (see flush_outbox)."""
        self.ascii_glyphs = os.environ.get("TERM", "") == "linux"
        """The Linux console font lacks ✓, ›, —, rounded corners and eighth blocks: the catalog's
        text is translated (i18n.CONSOLE_GLYPHS), app.tcss draws plain lines there and
        scrollbars are drawn in whole cells (widgets/console_scrollbar.py)."""
        use_console_glyphs(self.ascii_glyphs)
        use_whole_cells(self.ascii_glyphs)
        self.set_class(self.ascii_glyphs, "-linux-console")
        self.settings_file: Path = config_path()
        """Where Ajustes saves; the demo points it into its own folder (`settings_are_demo`)."""
        self.settings_are_demo = False
        self.first_paint_ms: Optional[float] = None
        self._instances: Dict[str, Screen] = {}
        self.title = t("app.title")
        if self.low_motion:
            self.animation_level = "none"

    # -- start -------------------------------------------------------------------------------
    def on_mount(self) -> None:
        for theme in themes():
            self.register_theme(theme)
        self.theme = choose(self.settings.general.theme)
        if self.settings.keys and self.config_error is None:
            from siaptui import keymap
            from siaptui.config import ConfigError

            try:
                keymap.check(self.settings.keys, str(self.settings_file))
                keymap.apply(self, self.settings.keys)
            except ConfigError as exc:  # shown like any bad setting: fix it, or go on with the defaults
                self.config_error = exc
        self.push_screen(self.screen_for("login"))
        if self.config_error is not None:
            from siaptui.screens.config_error import ConfigErrorScreen

            self.push_screen(ConfigErrorScreen(self.config_error))
        if self.settings.store.url.strip():  # an office server (the SQLite default loads nothing here)
            from siaptui.store.db import store_url

            if store_url(self.settings):
                self.run_worker(self._check_office_key(), group="office-key", exclusive=True)

    def first_paint(self, settled: bool = False) -> None:
        """Called by the first screen once it is current; records when it reached the terminal.

        The refresh that follows mounting can fall inside a batched update (nothing written),
        so one more full refresh is requested and the time taken after *that* one, when the
        login screen has really been written out.  Then, for the startup bench, exit.
        """
        if self.first_paint_ms is not None:
            return
        if not settled:
            self.screen.refresh()
            self.screen.call_after_refresh(self.first_paint, True)
            return
        self.first_paint_ms = process_age_ms()
        if os.environ.get(EXIT_AFTER_FIRST_PAINT) == "1":
            self.exit()

    def get_key_display(self, binding: Binding) -> str:
        """Textual draws Enter as ⏎ and the arrows as →; the Linux console shows words."""
        shown = super().get_key_display(binding)
        if not self.ascii_glyphs:
            return shown
        table: dict[int, str] = str.maketrans(CONSOLE_GLYPHS)
        return shown.translate(table)

    def apply_theme_setting(self) -> None:
        self.theme = choose(self.settings.general.theme)

    # -- office server -----------------------------------------------------------------------
    async def _check_office_key(self) -> None:
        """On an office server, open the store at start: a station without the office key asks
        for the office passphrase, the first station of an office sets it (screens/office_key.py);
        any other failure (server down, a name another computer holds) is said at once."""
        import asyncio

        from siaptui.screens.office_key import JoinOfficeDialog, SetOfficePassphraseDialog
        from siaptui.store.connection import default_station
        from siaptui.store.db import store_url
        from siaptui.store.keyring import has_office_copy
        from siaptui.store.postgres import describe

        station, server = default_station(self.settings), describe(store_url(self.settings))
        try:
            store = await asyncio.to_thread(self.services.store)
            missing_copy = await asyncio.to_thread(lambda: not has_office_copy(store))
        except Exception as exc:  # noqa: BLE001 - every failure is a message with its next step
            if getattr(exc, "code", "") == "store_station_no_key":
                self.push_screen(JoinOfficeDialog(station, server), partial(self._joined, station, exc))
            else:
                self._status(exc)
            return
        if missing_copy:
            self.push_screen(SetOfficePassphraseDialog(station, server), self._passphrase_set)

    def _joined(self, station: str, no_key: BaseException, answer: Optional[bool]) -> None:
        if answer:
            self.notify(t("office_key.joined", station=station), timeout=10)
        else:  # Esc: what this station lacks and how to get it
            self._status(no_key)

    def _passphrase_set(self, answer: Any) -> None:
        if answer is True:
            self.notify(t("office_key.set_done"), timeout=10)
        elif answer is None:
            self._status(t("office_key.set_later"), "warning")
        else:  # another station set it meanwhile
            self._status(answer)

    def _status(self, said: Any, kind: str = "error") -> None:
        """The current screen's status line says it (an error: what happened and what to do)."""
        from siaptui.errors import explain

        text = explain(said).strip() if isinstance(said, BaseException) else str(said)
        show = getattr(self.screen, "show_info", None)
        if show is not None:
            show(text, kind)
        else:
            self.notify(text, severity="error" if kind == "error" else "warning", timeout=30)

    # -- navigation --------------------------------------------------------------------------
    def screen_for(self, screen_id: str) -> Screen:
        """The one instance of a registered screen (kept while the app runs: Esc loses nothing)."""
        screen = self._instances.get(screen_id)
        if screen is None:
            screen = registry.load(screen_id)()
            self.install_screen(screen, screen_id)
            self._instances[screen_id] = screen
        return screen

    def goto(self, screen_id: str) -> None:
        """Show a screen: push it, or pop back to it when it is already on the stack."""
        screen = self.screen_for(screen_id)
        if screen is self.screen:
            return
        if screen in self.screen_stack:
            while self.screen_stack[-1] is not screen:
                self.pop_screen()
        else:
            self.push_screen(screen)

    def action_goto(self, screen_id: str) -> None:
        self.goto(screen_id)

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        """F6 (the trainer's scenario menu) exists only in Modo práctica: hidden otherwise.
        F7 (Verificación) and F8 (Pendientes) ask the portal as the employer: after the login.
        Enter-moves-on exists only while there is a field to move to, so the screens' own Enter
        (shown in their footers) is untouched everywhere else."""
        if action == "next_field":
            return self._next_field() is not None
        if action == "goto" and parameters == ("training",) and not self.services.training:
            return False
        if action == "goto" and parameters in (("verify",), ("pending",)) and self.flow.employer is None:
            return False
        return True

    def back(self) -> None:
        """Esc: the previous screen, with what was typed still there (never below login)."""
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def start_new_worker(self, target: str = "worker", prefill: Optional[Tuple[str, str]] = None) -> None:
        """The one way to a new worker: keep the employer session, forget the previous worker.

        Every route (the acuse, a refusal, a lookup of another worker, a practice scenario)
        comes here, so no fingers, consent, review, submission or receipt reach the next
        worker: the flow is reset and the per-worker screens are dropped, to be built afresh.
        Runs as an app-level worker because it may remove the very screen that asked for it.
        `prefill` (NSS, CURP) is handed to Trabajador, which fills it in and looks it up.
        """
        self.flow.start_new_worker()
        self.run_worker(self._reset_to(target, prefill), exclusive=True, group="navigation")

    def leave_held_capture(self, go_on: Callable[[], None], stay: Optional[Callable[[], None]] = None) -> None:
        """Before another worker starts: fingers captured but not yet in the outbox are never
        dropped silently.  The clerk discards them (then `go_on`) or goes back to finish that
        submission (then `stay`), the question Ctrl+Q asks about the same fingers."""
        if not self.flow.has_unsent_capture:
            go_on()
            return
        from siaptui.screens.quit_confirm import DiscardCaptureScreen

        def answered(discard: Optional[bool]) -> None:
            if discard:
                go_on()
            elif stay is not None:
                stay()

        self.push_screen(DiscardCaptureScreen(self.flow.enrolled[0]), answered)

    async def _reset_to(self, target: str, prefill: Optional[Tuple[str, str]] = None) -> None:
        screen = self.screen_for(target)
        self.flow.prefill = prefill  # read when Trabajador resumes, by a pop or a push below
        popped = False
        while self.screen_stack[-1] is not screen and len(self.screen_stack) > 2:
            await self.pop_screen()
            popped = True
        if popped:
            # Each screen passed on the way down resumed for a moment and may have written
            # into the flow (the capture screen lays out its fingers): forget that too.
            self.flow.start_new_worker()
        if self.screen is not screen:
            await self.push_screen(screen)
        for screen_id in FLOW_AFTER_WORKER:
            old = self._instances.get(screen_id)
            if old is not None and old not in self.screen_stack:
                del self._instances[screen_id]
                self.uninstall_screen(screen_id)
                await old.remove()

    # -- outbox ------------------------------------------------------------------------------
    def flush_outbox(self) -> None:
        """After a login: send what is pending now, then keep sending for the whole session.

        The outbox promises "retried until the portal acknowledges it": the background sender
        retries due items with backoff (honouring Retry-After) while the app runs; claims make it
        safe beside the Envío screen's own attempt and the Bandeja's "Reintentar".
        """
        self.run_worker(self._flush_outbox(), group="outbox-flush", exclusive=True)

    async def _flush_outbox(self) -> None:
        from siaptui.errors import describe, explain
        from siaptui.store.sender import OutboxSender

        try:
            store = self.services.store()
        except Exception as exc:  # noqa: BLE001 - e.g. a damaged file: the message and the way out
            self.notify(explain(exc), severity="error", timeout=15)
            return
        sender = OutboxSender(store, self.services.new_logged_in_client, on_sent=self._outbox_item_sent)
        self._sender = sender
        try:
            result = await sender.run_once_async()  # never raises: failures are on the items and in the log
            if result.sent:
                self.notify(t("app.outbox_flushed", count=result.sent), timeout=8)
            if result.error is not None:
                self.notify(describe(result.error)[0], severity="warning", timeout=8)
            await sender.arun_forever(lambda: False)  # until the app exits (the worker is cancelled)
        except Exception as exc:  # noqa: BLE001 - never a crash of the app; the log has the traceback
            logging.getLogger("siaptui.app").error("background sender ended", exc_info=exc)
            self.notify(describe(exc)[0], severity="warning", timeout=8)
        finally:
            self._sender = None
            await sender.close()

    def _outbox_item_sent(self, item_id: int) -> None:
        """The background sender delivered an item: if it is the enrollment's (or transfer's)
        that Envío or Transferencia left "not sent yet", that screen shows it received."""
        from siaptui.screens.sending import QueueAndSendScreen

        if item_id != self.flow.outbox_id:
            return
        for screen in list(self._instances.values()):
            if isinstance(screen, QueueAndSendScreen):
                screen.delivered_elsewhere()

    def _next_field(self) -> Any:
        """Where Enter moves the focus now (the screen's `next_field`), or None: Enter goes on."""
        pick = getattr(self.screen, "next_field", None)
        return pick(self.focused) if callable(pick) else None

    def action_next_field(self) -> None:
        target = self._next_field()
        if target is not None:
            self.screen.set_focus(target)

    def wake_sender(self) -> None:
        """New work in the outbox (an import): let the background sender look now, not at its next poll."""
        if self._sender is not None:
            self._sender.wake()

    # -- help and quit -----------------------------------------------------------------------
    def action_help(self) -> None:
        from siaptui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        screen_id = getattr(self.screen, "SCREEN_ID", "") or "general"
        # The screen's and the app's keys, each action once with all its keys.  Not the widgets'
        # own (a table's paging) nor Textual's Screen ones (copy text): those are untranslated,
        # and the footer never shows them either.
        textual_own = {binding.action for binding in Screen.BINDINGS if isinstance(binding, Binding)}
        listed: Dict[Tuple[str, str], List[str]] = {}
        for node, binding, _enabled, _tooltip in self.screen.active_bindings.values():
            if binding.description and isinstance(node, (App, Screen)) and binding.action not in textual_own:
                listed.setdefault((binding.action, binding.description), []).append(self.get_key_display(binding))
        keys = [(", ".join(shown), what) for (_action, what), shown in listed.items()]
        self.push_screen(HelpScreen(screen_id, keys))

    def action_request_quit(self) -> None:
        """Ctrl+Q: quit, but ask first when a capture would be lost or the outbox holds unsent
        enrollments (kept and sent at the next start; in Modo práctica, discarded)."""
        from siaptui.screens.quit_confirm import QuitConfirmScreen

        if isinstance(self.screen, QuitConfirmScreen):
            return
        capturing = self.flow.has_unsent_capture
        unsent = self._unsent_count()
        if not capturing and not unsent:
            self.exit()
            return

        def answered(quit_now: Optional[bool]) -> None:
            if quit_now:
                self.exit()

        self.push_screen(QuitConfirmScreen(capturing, unsent, self.services.training), answered)

    def _unsent_count(self) -> int:
        """Outbox items still to send; 0 when the store cannot be opened (nothing to keep)."""
        try:
            return len(self.services.store().outbox.pending())
        except Exception:  # noqa: BLE001 - a broken store must not stop the clerk from quitting
            return 0

    async def on_unmount(self) -> None:
        """Let every worker end before the store closes: a sender cancelled mid-send gives its
        claim back, and it can only do that while the store is open (otherwise the item waits
        out the claim's lease before the next start may send it)."""
        import asyncio

        workers = list(self.workers)
        self.workers.cancel_all()
        waits = [asyncio.ensure_future(worker.wait()) for worker in workers]
        if waits:  # one deadline for all: a thread stuck in a device read must not keep the app open
            done, stuck = await asyncio.wait(waits, timeout=QUIT_WAIT_S)
            for waited in done:
                if not waited.cancelled():
                    waited.exception()  # WorkerCancelled / WorkerFailed: it has ended, which is all we need
            for waited in stuck:
                waited.cancel()
        await self.services.close()


def build_app(
    settings: Settings,
    *,
    portal_url: Optional[str] = None,
    device: Optional[str] = None,
    credential_dir: Optional[Path] = None,
    now: Optional[Callable[[], float]] = None,
    demo_password: Optional[str] = None,
    config_error: Optional[BaseException] = None,
    low_motion: Optional[bool] = None,
    settings_file: Optional[Path] = None,
) -> SiaptuiApp:
    """Build the app as `siaptui` runs it; tests and `siaptui demo` swap only these inputs.

    `credential_dir` holding one `.cer` and one `.key` pre-fills the login paths; with
    `demo_password` (demo/training only) the password too, and the login screen shows it as
    demo data.  `settings_file` is where Ajustes saves (the demo's own folder for the demo;
    the user's siaptui.toml otherwise).
    """
    demo: Optional[DemoCredential] = None
    if credential_dir is not None:
        folder = Path(credential_dir)
        cers = sorted(folder.glob("*.cer"))
        keys = sorted(folder.glob("*.key"))
        demo = DemoCredential(
            cer=str(cers[0]) if cers else "",
            key=str(keys[0]) if keys else "",
            password=demo_password or "",
        )
    services = Services(settings, portal_url=portal_url, device=device, demo_credential=demo, now=now)
    app = SiaptuiApp(settings, services, config_error=config_error, low_motion=low_motion)
    if settings_file is not None:
        app.settings_file, app.settings_are_demo = Path(settings_file), True
    return app


def run(app: SiaptuiApp) -> int:
    """Run the app; print the first-paint figure when the startup bench asked for it."""
    import sys

    app.run()
    if os.environ.get(EXIT_AFTER_FIRST_PAINT) == "1" and app.first_paint_ms is not None:
        print(f"first_paint_ms={app.first_paint_ms:.0f}", file=sys.stderr)
    return int(app.return_code or 0)


def main(args: argparse.Namespace, settings: Settings) -> int:
    """`siaptui`: the TUI against the configured portal and scanner."""
    app = build_app(
        settings,
        config_error=getattr(args, "config_error", None),
    )
    return run(app)


__all__ = ["SiaptuiApp", "build_app", "main", "run"]
