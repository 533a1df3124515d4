"""What every siaptui screen shares: the frame (title, training banner, step bar, status line,
footer), F1 help, Esc back, and showing an error as "what happened + the next step".

Why a base class: so that every screen fits 80×24 the same way, every action shows in the
footer, and no screen invents its own way to report a failure.  Screens put their content in
`compose_body()` and report with `show_error(exc)` / `show_info(text)`.

A status message is about the data on screen when it was said (`FlowScreen.status_subject`):
screens are kept for the whole session (`SiaptuiApp.screen_for`), so the message goes as soon
as that data changes — a field edited, a new worker, another employer or none — instead of
greeting the next worker with the previous one's news.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Optional, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import Input, Static

from siaptui.enrollment.flow import Step
from siaptui.errors import explain
from siaptui.i18n import t
from siaptui.screens.keys import localize
from siaptui.widgets.fitted_footer import FittedFooter
from siaptui.widgets.step_bar import StepBar

if TYPE_CHECKING:  # pragma: no cover
    from siaptui.app import SiaptuiApp


class Plain(Static):
    """A Static that shows text as written: names, paths, portal texts and "[OK]" marks may
    contain square brackets, which must never be read as markup."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        super().__init__(content, markup=False, **kwargs)


class TitleBar(Plain):
    """App title, and the MODO PRÁCTICA banner whenever training data is in play."""

    DEFAULT_CSS = """
    TitleBar { height: 1; width: 100%; background: $primary; color: $text; text-style: bold; }
    TitleBar.-training { background: $warning; color: $background; }
    """

    def __init__(self, training: bool) -> None:
        text = t("app.training_banner") if training else t("app.title")
        super().__init__(text, classes="-training" if training else "")


class StatusLine(Plain):
    """Up to three lines under the content: the last error with its fix, or progress."""

    DEFAULT_CSS = """
    StatusLine { height: auto; max-height: 5; width: 100%; padding: 0 1; }
    StatusLine.-error { color: $error; text-style: bold; }
    StatusLine.-ok { color: $success; }
    StatusLine.-warning { color: $warning; }
    StatusLine.-empty { display: none; }
    """

    def set(self, text: VisualType, kind: str = "info") -> None:
        self.set_classes(f"-{kind}" if text else "-empty")
        self.update(text)


def next_in_order(screen: Screen, order: Iterable[str], field: Optional[Widget]) -> Optional[Input]:
    """The field Enter in `field` moves to: the next one of `order` while any of them is empty.

    The app asks this before handing Enter to the field (`SiaptuiApp.action_next_field`), so
    the focus has moved by the time the characters typed behind the Enter arrive.
    """
    names = list(order)
    if field is None or field.id not in names or field.id == names[-1]:
        return None
    inputs = [screen.query_one(f"#{name}", Input) for name in names]
    if all(entry.value.strip() for entry in inputs):
        return None
    return inputs[names.index(field.id) + 1]


class WalksFields:
    """For screens and dialogs: FIELDS names the text fields Enter walks through, in order
    (see `next_in_order`); the app asks `next_field` on every Enter."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def next_field(self, field: Optional[Widget]) -> Optional[Input]:
        return next_in_order(cast(Screen, self), self.FIELDS, field)


class FlowScreen(WalksFields, Screen):
    """A full screen of the app.  Subclasses set SCREEN_ID, STEP and compose_body() (and
    FIELDS, `WalksFields`)."""

    SCREEN_ID = ""
    STEP: Optional[Step] = None
    AUTO_FOCUS: ClassVar[Optional[str]] = "Input, Button, OptionList, DataTable, RadioSet, Select, Checkbox"
    BINDINGS = [
        Binding("escape", "back", "key.back", id="back", tooltip="key.back.tooltip"),
    ]

    def __init__(self) -> None:
        super().__init__()
        localize(self)
        self._status_about: Optional[int] = None
        """`status_subject()` when the status line was last set; None while it is empty."""

    @property
    def siaptui(self) -> "SiaptuiApp":
        return cast("SiaptuiApp", self.app)  # Textual types `app` as the base App

    def skipped_steps(self) -> frozenset[Step]:
        """Steps of the bar this visit does not take; the acuse of a transfer overrides it."""
        return frozenset()

    def compose(self) -> ComposeResult:
        yield TitleBar(self.siaptui.services.training)
        if self.STEP is not None:
            yield StepBar(self.STEP, skipped=self.skipped_steps())
        with VerticalScroll(id="body"):
            yield from self.compose_body()
        yield StatusLine(classes="-empty", id="status")
        yield FittedFooter()

    def compose_body(self) -> Iterable[Widget]:  # pragma: no cover - overridden
        return ()

    def on_mount(self) -> None:
        if self.siaptui.low_motion:
            for field in self.query(Input):
                field.cursor_blink = False

    def on_screen_resume(self) -> None:
        if self.STEP is not None:
            self.siaptui.flow.step = self.STEP
        self._drop_stale_status()

    def on_input_changed(self, event: Input.Changed) -> None:
        """A field edited: what the status line said about its old value no longer holds."""
        self._drop_stale_status()

    # -- reporting ---------------------------------------------------------------------------
    def status_subject(self) -> int:
        """What a status message said now is about: the employer signed in, the enrollment (each
        worker is a new one) and what this screen's fields hold.  Kept as a hash so that no copy
        of a typed password outlives its field."""
        flow = self.siaptui.flow
        # Who is signed in, not their session: a token renewed in the background is the same data.
        employer = (flow.employer.rfc, flow.employer.training) if flow.employer is not None else None
        return hash((employer, flow.enrollment_id, tuple(field.value for field in self.query(Input))))

    def _drop_stale_status(self) -> None:
        if self._status_about is not None and self._status_about != self.status_subject():
            self.clear_status()

    def show_error(self, error: BaseException) -> None:
        self.show_info(explain(error).strip(), "error")

    def show_info(self, text: VisualType, kind: str = "info") -> None:
        self._status_about = self.status_subject() if text else None
        self.query_one(StatusLine).set(text, kind)

    def clear_status(self) -> None:
        self.show_info("", "empty")

    # -- actions -----------------------------------------------------------------------------
    def action_back(self) -> None:
        self.siaptui.back()


class FlowModal(WalksFields, ModalScreen):
    """A dialog over the current screen (help, quit confirmation, bad config)."""

    def __init__(self) -> None:
        super().__init__()
        localize(self)

    def action_dismiss_none(self) -> None:
        """Esc in a dialog: close it with no answer (its caller does nothing)."""
        self.dismiss(None)

    DEFAULT_CSS = """
    FlowModal { align: center middle; }
    FlowModal > #dialog {
        width: 76; max-width: 100%; height: auto; max-height: 22;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """
