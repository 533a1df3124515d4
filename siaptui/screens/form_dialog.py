"""A dialog of labelled one-line fields, a hint and one error line, answered by Enter.

Why one class: the Bandeja's export, import and ARCO dialogs are the same form with other
fields, and each had its own copy of the layout, of the Enter handling and of "show the problem
next to the field".  Here Enter acts on `Input.Submitted`, which arrives after the characters
typed before it (barcode readers, pasted text and SSH deliver both in one burst), so the whole
value is read.  A subclass says what its fields are and what `submit()` does with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Union

from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from siaptui.screens.base import FlowModal, Plain
from siaptui.widgets.fitted_footer import FittedFooter


@dataclass(frozen=True)
class Field:
    """One labelled input of the form; `label` is already in the clerk's language."""

    id: str
    label: str
    password: bool = False
    value: str = ""
    max_length: int = 0


BindingList = list[Union[Binding, tuple[str, str], tuple[str, str, str]]]
"""The type Textual gives a screen's BINDINGS."""


def form_keys(prefix: str, confirm_label: str) -> BindingList:
    """Esc cancels, Enter submits; `<prefix>-cancel` and `<prefix>-confirm` are the ids [keys] maps."""
    return [
        Binding("escape", "dismiss_none", "key.cancel", id=f"{prefix}-cancel"),
        Binding("enter", "submit", confirm_label, id=f"{prefix}-confirm"),
    ]


class FormDialog(FlowModal):
    """Title, fields, hint and error line; subclasses implement `submit()` and dismiss with a result."""

    def __init__(self, title: str, fields: Sequence[Field], hint: str) -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.hint = hint
        self._entered_in: Optional[str] = None
        """The field Enter was pressed in, while `submit()` runs (None: the footer's key)."""

    def compose(self) -> Iterable[Widget]:
        with Vertical(id="dialog"):
            yield Plain(self.form_title, classes="big")
            for field in self.fields:
                yield Label(field.label, classes="field-label")
                yield Input(value=field.value, password=field.password, max_length=field.max_length, id=field.id)
            yield Plain(self.hint, classes="hint")
            yield Plain("", id="form-error", classes="field-error")
        yield FittedFooter()

    def value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def refuse(self, field_id: str, message: str, *, clear: bool = False) -> None:
        """Put the cursor in the field at fault and say what is wrong with it.

        A field still empty after the one Enter was pressed in only gets the cursor: the clerk
        is filling the form in order and has not reached it yet, so there is nothing to blame.
        """
        target = self.query_one(f"#{field_id}", Input)
        not_reached = (not target.value and self._entered_in is not None
                       and self._index(field_id) > self._index(self._entered_in))
        if clear:
            target.value = ""
        target.focus()
        self.show_problem("" if not_reached else message)

    def show_problem(self, message: str) -> None:
        """A problem of the whole form (the file, the store), under the fields."""
        self.query_one("#form-error", Static).update(message)

    def _index(self, field_id: str) -> int:
        return next(i for i, field in enumerate(self.fields) if field.id == field_id)

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self._entered_in = event.input.id
        try:
            self.submit()
        finally:
            self._entered_in = None

    def action_submit(self) -> None:
        self.submit()

    def submit(self) -> None:
        """Check the values (`refuse()` the first wrong one) and act, dismissing with the result."""
        raise NotImplementedError
