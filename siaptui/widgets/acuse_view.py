"""The acuse on screen: its facts on the left, the QR code a phone can read on the right, the
portal's full text below.  Shared by the Acuse step and the acuse reopened from the Bandeja.

Why fixed black and white for the code (not theme colours): a QR reader needs dark modules on
a light ground whatever the theme; Textual's NO_COLOR filter keeps black and white as they are,
and a 16-colour terminal gets its nearest black and white.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable

from rich.text import Text
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static

from siaptui.acuse import qr
from siaptui.acuse.record import Acuse, local_time, payload
from siaptui.i18n import t


def Plain(text: str = "", **kwargs: object) -> Static:
    """Text shown as written: portal texts may contain square brackets, never markup."""
    return Static(text, markup=False, **kwargs)  # type: ignore[arg-type]  # Static's kwargs are typed narrower than what it accepts


class AcuseQR(Static):
    """The code as half-block text (ASCII "##" only where block characters cannot be shown)."""

    DEFAULT_CSS = """
    AcuseQR { width: auto; height: auto; color: #000000; background: #ffffff; }
    """

    def show(self, text: str, *, max_rows: int, halfblocks: bool) -> list[str]:
        rows = qr.terminal_rows(text, max_rows=max_rows, halfblocks=halfblocks, light_ink=self.app.no_color)
        self.update(Text("\n".join(rows), no_wrap=True, overflow="ignore"))
        return rows


class AcuseView(Vertical):
    DEFAULT_CSS = """
    AcuseView { height: auto; }
    AcuseView #acuse-top { height: auto; }
    AcuseView #acuse-facts { width: 1fr; height: auto; margin-right: 1; }
    AcuseView .acuse-gap { margin-top: 1; }
    AcuseView #acuse-result.-error { color: $error; text-style: bold; }
    AcuseView #acuse-result.-ok { color: $success; }
    """

    def compose(self) -> Iterable[Widget]:
        with Horizontal(id="acuse-top"):
            with Vertical(id="acuse-facts"):
                yield Plain("", id="acuse-folio", classes="big")
                yield Plain("", id="acuse-when")
                yield Plain("", id="acuse-worker")  # the name alone: long names still fit the column
                yield Plain("", id="acuse-employer")
                yield Plain("", id="acuse-nss")
                yield Plain("", id="acuse-seal")
                yield Plain("", id="acuse-training", classes="warning acuse-gap")
                yield Plain(t("acuse.scan"), id="acuse-scan", classes="hint acuse-gap")
                yield Plain(t("acuse.keys"), id="acuse-keys", classes="hint")
                yield Plain("", id="acuse-result", classes="acuse-gap")
            yield AcuseQR(id="acuse-qr")
        yield Plain(t("acuse.full_text"), classes="hint acuse-gap")
        yield Plain("", id="acuse-text")

    def show(self, acuse: Acuse, *, name: str = "", max_rows: int) -> None:
        """Fill in one acuse; the QR takes the widest quiet zone that fits `max_rows`."""
        def put(widget_id: str, text: str) -> None:
            widget = self.query_one(f"#{widget_id}", Static)
            widget.update(text)
            widget.display = bool(text)

        put("acuse-folio", t("acuse.folio", folio=acuse.folio))
        put("acuse-when", t("acuse.when", when=local_time(acuse.received_at)))
        put("acuse-worker", name)
        put("acuse-employer", t("acuse.employer", rfc=acuse.employer_rfc or "-"))
        put("acuse-nss", t("acuse.nss", nss=acuse.masked_nss or "-"))
        put("acuse-seal", f"{t('acuse.seal')}\n{acuse.seal}" if acuse.seal else t("acuse.no_seal"))
        put("acuse-training", t("acuse.training") if acuse.training else "")
        put("acuse-text", acuse.masked_text())
        self.report("")
        halfblocks = qr.can_show_halfblocks(os.environ, getattr(sys.__stdout__, "encoding", None))
        rows = self.query_one(AcuseQR).show(payload(acuse), max_rows=max_rows, halfblocks=halfblocks)
        if not halfblocks:
            self.report(t("acuse.ascii_note", columns=len(rows[0]) if rows else 0, rows=len(rows)))

    def report(self, text: str, kind: str = "info") -> None:
        """What saving or printing did (here, not in the status line, so the code stays whole).

        It takes the place of the two hints (the footer keeps G and I): beside the code at 80×24
        the column has no other rows for a folder and two file names."""
        result = self.query_one("#acuse-result", Static)
        result.set_classes(f"acuse-gap -{kind}")
        result.update(text)
        result.display = bool(text)
        for hint in ("#acuse-scan", "#acuse-keys"):
            self.query_one(hint).display = not text
