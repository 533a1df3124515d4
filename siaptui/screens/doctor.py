"""Diagnóstico: why the scanner "is not found", and what to do, in the clerk's words.

Why a thread worker: `siaptui.devices.doctor.diagnose()` walks USB, udev rules and drivers and
can block for a second or two on an old PC; the screen stays responsive and shows a line while
it runs.  "Guardar reporte" writes the plain-text report to a file in the data folder (shown on
screen) and also asks the terminal to put it on the clipboard (OSC 52, which works over SSH where
the terminal allows it; whether it did cannot be known, so the screen names the file).
"""

from __future__ import annotations

from typing import Any, Iterable

from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from siaptui.i18n import language, t
from siaptui.screens.base import FlowScreen, Plain


class DoctorScreen(FlowScreen):
    SCREEN_ID = "doctor"
    BINDINGS = [
        Binding("f5", "run", "key.rerun", id="doctor-rerun"),
        Binding("c", "copy", "key.copy_report", id="doctor-copy"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: Any = None

    def compose_body(self) -> Iterable[Widget]:
        yield Plain(t("doctor.device", spec=self.siaptui.services.scanner_spec), classes="hint")
        yield Plain("", id="findings")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self.report is None:
            self.action_run()

    def action_run(self) -> None:
        self.query_one("#findings", Static).update(t("doctor.running"))
        self.clear_status()
        self._diagnose(self.siaptui.services.scanner_spec)

    @work(thread=True, exclusive=True, group="doctor")
    def _diagnose(self, spec: str) -> None:
        try:
            from siaptui.camera.doctor import check_camera
            from siaptui.devices import doctor

            report = doctor.diagnose(spec)
            camera = self.siaptui.settings.camera
            check_camera(report, camera.device, width=camera.width, height=camera.height)
        except Exception as exc:  # noqa: BLE001 - the diagnosis itself failed: shown, never a traceback
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._show, report)

    def _failed(self, exc: BaseException) -> None:
        self.query_one("#findings", Static).update("")
        self.show_error(exc)

    def _show(self, report: Any) -> None:
        self.report = report
        lines = report.finding_lines(language())
        self.query_one("#findings", Static).update("\n".join(lines) or t("doctor.nothing"))

    def action_copy(self) -> None:
        if self.report is None:
            return
        from siaptui import config
        from siaptui.devices.doctor import iso_time
        from siaptui.files import atomic_write

        text = self.report.to_text(language())
        stamp = iso_time(self.report.created_at).replace(":", "").replace("+0000", "Z")
        path = config.data_dir(self.siaptui.settings) / "reportes" / f"diagnostico-{stamp}.txt"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text.encode("utf-8"))
        except OSError as exc:
            self.show_info(t("doctor.save_failed", path=str(path), detail=exc.strerror or str(exc)), "error")
            return
        self.app.copy_to_clipboard(text)
        self.show_info(t("doctor.saved", path=str(path)), "ok")
