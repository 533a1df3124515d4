"""Ajustes: edit the settings a clerk or technician needs, and save them to siaptui.toml.

Why a form and not "edit the file": the office has no one who edits TOML.  Values are checked
by the same rules as the file (`siaptui.config`), so a setting saved here always loads again;
the file is written atomically.  The theme, the preview, the quality, the acuse folder and the
camera apply at once; language, Modo práctica, portal and scanner at the next start (screens
already built keep their texts).

The camera field is checked by the camera's own spec rules (`camera.registry.parse`), and
"Probar cámara" opens the typed camera once through the same `camera.doctor.probe` that
`siaptui doctor --camera` runs, so the clerk meets the doctor's error and fix word for word.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterable

from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from siaptui import config
from siaptui.errors import SiaptuiError
from siaptui.i18n import t
from siaptui.screens.base import FlowScreen, Plain


class SettingsFieldError(SiaptuiError):
    code = "settings_field"


class SettingsScreen(FlowScreen):
    """Compact one-line fields so that every setting fits at 80×24 without scrolling."""

    SCREEN_ID = "settings"
    DEFAULT_CSS = """
    SettingsScreen .field-label { margin-top: 0; }
    SettingsScreen Input, SettingsScreen Select { margin-bottom: 1; background: $boost; }
    SettingsScreen #acuse_folder { margin-bottom: 0; }
    SettingsScreen .pair { height: auto; }
    SettingsScreen .pair > Vertical { width: 1fr; height: auto; }
    SettingsScreen .pair Input, SettingsScreen .pair Select { margin-bottom: 0; }
    SettingsScreen .pair > Vertical:first-child { margin-right: 2; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", id="settings-save", priority=True),
        Binding("ctrl+t", "probe_camera", "key.probe_camera", id="settings-probe-camera", priority=True),
    ]

    def compose_body(self) -> Iterable[Widget]:
        s = self.siaptui.settings
        app = self.siaptui
        key = "settings.file_demo" if app.settings_are_demo else "settings.file"
        yield Plain(t(key, path=str(app.settings_file)), classes="hint")
        yield Label(t("settings.lang"), classes="field-label")
        yield Select([(t("settings.lang.es"), "es"), (t("settings.lang.en"), "en")], value=s.general.lang,
                     allow_blank=False, compact=True, id="lang")
        yield Label(t("settings.theme"), classes="field-label")
        yield Select([(t(f"settings.theme.{name}"), name) for name in ("auto", "default", "high-contrast", "mono")],
                     value=s.general.theme, allow_blank=False, compact=True, id="theme")
        # A yes/no list rather than a checkbox: a checkbox's state is shown only by colour,
        # which the mono (16-colour / NO_COLOR) theme cannot show.
        yield Label(t("settings.training"), classes="field-label")
        yield Select([(t("settings.yes"), "yes"), (t("settings.no"), "no")],
                     value="yes" if s.general.training else "no", allow_blank=False, compact=True, id="training")
        yield Label(t("settings.portal"), classes="field-label")
        yield Input(value=s.portal.base_url, compact=True, id="base_url")
        # Two short fields side by side, so that the whole form still fits 80×24 (their labels
        # take the muted "hint" look without the field-label margin, which the row already has).
        with Horizontal(classes="pair"):
            with Vertical():
                yield Label(t("settings.device"), classes="hint")
                yield Input(value=s.scanner.device, compact=True, id="device")
            with Vertical():
                yield Label(t("settings.camera"), classes="hint")
                yield Input(value=s.camera.device, compact=True, id="camera")
        with Horizontal(classes="pair"):
            with Vertical():
                yield Label(t("settings.preview"), classes="hint")
                yield Select([(t(f"settings.preview.{name}"), name)
                              for name in ("auto", "ascii", "braille", "halfblock")],
                             value=s.scanner.preview, allow_blank=False, compact=True, id="preview")
            with Vertical():
                yield Label(t("settings.min_quality"), classes="hint")
                yield Input(value=str(s.capture.min_quality), compact=True, id="min_quality")
        yield Label(t("settings.acuse_folder"), classes="field-label")
        yield Input(value=s.acuse.folder, compact=True, id="acuse_folder")

    def _form(self) -> Dict[str, Dict[str, Any]]:
        quality_text = self.query_one("#min_quality", Input).value.strip()
        try:
            quality = int(quality_text)
        except ValueError:
            raise SettingsFieldError(quality_text, code="settings_not_a_number",
                                     field=t("settings.min_quality")) from None
        if not 0 <= quality <= 100:
            raise SettingsFieldError(quality_text, code="settings_out_of_range", field=t("settings.min_quality"))
        camera = self._camera_spec()
        return {
            "general": {
                "lang": self.query_one("#lang", Select).value,
                "theme": self.query_one("#theme", Select).value,
                "training": self.query_one("#training", Select).value == "yes",
            },
            "portal": {"base_url": self.query_one("#base_url", Input).value.strip()},
            "scanner": {
                "device": self.query_one("#device", Input).value.strip() or "usb",
                "preview": self.query_one("#preview", Select).value,
            },
            "capture": {"min_quality": quality},
            "acuse": {"folder": self.query_one("#acuse_folder", Input).value.strip()},
            "camera": {"device": camera},
        }

    def _camera_spec(self) -> str:
        """The typed camera spec (empty = auto), CameraSpecInvalid when the camera rules refuse it."""
        from siaptui.camera.registry import parse

        spec = self.query_one("#camera", Input).value.strip() or "auto"
        parse(spec)
        return spec

    def action_probe_camera(self) -> None:
        try:
            spec = self._camera_spec()
        except Exception as exc:  # noqa: BLE001 - a malformed spec is the clerk's to fix
            self.show_error(exc)
            return
        self.show_info(t("settings.camera_probing", spec=spec))
        self._probe(spec)

    @work(thread=True, exclusive=True, group="settings-camera")
    def _probe(self, spec: str) -> None:
        """Open the camera off the event loop: a webcam can take seconds to answer or fail."""
        from siaptui.camera.doctor import probe

        camera = self.siaptui.settings.camera
        found = probe(spec, width=camera.width, height=camera.height)
        self.app.call_from_thread(self._probed, found)

    def _probed(self, found: Any) -> None:
        if found.error is not None:
            self.show_error(found.error)
        else:
            self.show_info(t("devices.doctor.camera_ok", name=found.name, width=found.width, height=found.height),
                           "ok")

    def action_save(self) -> None:
        try:
            changes = self._form()
            candidate = copy.deepcopy(self.siaptui.settings)
            # The file's own rules (types, choices), so whatever is saved here loads again.
            config._apply(candidate, t("settings.source"), changes, from_text=False)
            path = config.save(candidate, self.siaptui.settings_file)
        except Exception as exc:  # noqa: BLE001 - a bad value or an unwritable file is said with its fix
            self.show_error(exc)
            return
        live = self.siaptui.settings
        restart = (candidate.general.lang != live.general.lang or candidate.general.training != live.general.training)
        live.general.theme = candidate.general.theme
        live.scanner.preview = candidate.scanner.preview
        live.capture.min_quality = candidate.capture.min_quality
        live.acuse.folder = candidate.acuse.folder
        live.camera.device = candidate.camera.device
        self.siaptui.apply_theme_setting()
        message = t("settings.saved_demo" if self.siaptui.settings_are_demo else "settings.saved", path=str(path))
        if (restart or candidate.portal.base_url != live.portal.base_url
                or candidate.scanner.device != live.scanner.device):
            message += "\n" + t("settings.restart")
        self.show_info(message, "ok")
