"""Settings: defaults < siaptui.toml < SIAPTUI_<SECTION>_<KEY> environment < command-line flags.

The file lives in platformdirs' user config dir (override with SIAPTUI_CONFIG); it is read with
`siaptui.files.read_toml` and written atomically with tomli-w by the Ajustes screen.  A bad
file never stops the app silently: `ConfigError` names the file, the key and what was expected,
and the caller offers to start with the defaults.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from siaptui.errors import SiaptuiError
from siaptui.files import TOMLDecodeError, atomic_write, read_toml

APP_NAME = "siaptui"


class ConfigError(SiaptuiError):
    code = "config_invalid"


def _choice(*values: str) -> dict[str, Any]:
    return {"choices": values}


def _between(low: float, high: float | None = None) -> dict[str, Any]:
    """Numeric bounds: a port of 99999 or an fps of 0 fails at load, not deep inside a screen."""
    return {"range": (low, high)}


def _http_url(value: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _store_url(value: str) -> bool:
    return not value or value.startswith(("postgresql://", "postgres://"))


def _not_a_file(value: str) -> bool:
    return not value or not Path(value).expanduser().is_file()


def _check(test: Any, expected: str) -> dict[str, Any]:
    """A free-form test for text values, with the Spanish description of what it wants."""
    return {"check": (test, expected)}


@dataclass
class General:
    lang: str = field(default="es", metadata=_choice("es", "en"))
    """Language of every screen: es (español de México) or en."""
    theme: str = field(default="auto", metadata=_choice("auto", "default", "high-contrast", "mono"))
    """auto picks mono on 16-colour terminals (TERM=linux) or with NO_COLOR."""
    training: bool = False
    """Práctica mode: sandbox portal, simulated scanner, training data marked everywhere."""


@dataclass
class Portal:
    base_url: str = field(default="http://127.0.0.1:8765",
                          metadata=_check(_http_url, "una URL http:// o https:// con servidor"))
    """Base URL of the portal API (the contract in siaptui/portal/portal-api.yaml)."""
    ca_bundle: str = ""
    """PEM file of extra CAs to trust for the portal's TLS; empty = system CAs. TLS is always verified."""
    timeout_s: float = field(default=20.0, metadata=_between(0.1, 600))
    """Seconds to wait for one portal answer before retrying."""
    allow_test_credentials: bool = False
    """Accept SAT test e.firma certificates (only honoured when the portal is a sandbox)."""


@dataclass
class Scanner:
    device: str = "usb"
    """usb | usb:VID:PID[:serial] | emulator:uru4500 | sim | replay:DIR | folder:DIR"""
    preview: str = field(default="auto", metadata=_choice("auto", "ascii", "braille", "halfblock"))
    """Preview drawing; auto chooses by terminal (no braille on TERM=linux)."""
    preview_fps: int = field(default=8, metadata=_between(1, 60))
    """Frames per second drawn at most (lower it on slow SSH links)."""
    bell: bool = False
    """Ring the terminal bell when an impression is accepted."""


@dataclass
class Camera:
    device: str = "auto"
    """auto | 0, 1, … (index) | /dev/videoN | image:FILE | folder:DIR | sim"""
    width: int = field(default=640, metadata=_between(160, 3840))
    """Frame width asked of the webcam; 640×480 is what every office webcam gives."""
    height: int = field(default=480, metadata=_between(120, 2160))
    """Frame height asked of the webcam."""
    auto_capture: bool = True
    """Take the photo by itself as soon as every check holds (the capture key works always)."""


@dataclass
class Capture:
    impressions: int = field(default=3, metadata=_between(1, 10))
    """Impressions per finger that must agree with each other."""
    min_quality: int = field(default=40, metadata=_between(0, 100))
    """Quality (0-100) an impression needs to be accepted automatically."""


@dataclass
class Sandbox:
    host: str = "127.0.0.1"
    port: int = field(default=8765, metadata=_between(1, 65535))
    admin_token: str = ""
    """Control token of the practice portal: `siaptui sandbox` uses it when set (else draws and
    prints one), training scenarios switch the portal's faults with it; `siaptui demo` sets it."""


@dataclass
class Store:
    data_dir: str = field(default="", metadata=_check(_not_a_file, "una carpeta (no un archivo)"))
    """Folder of the local database and key file; empty = platformdirs' user data dir."""
    url: str = field(default="", metadata=_check(_store_url, "vacío (base local) o una URL postgresql://"))
    """Office server shared by every station (postgresql://user@host/db); empty = the SQLite file here."""
    station: str = ""
    """This station's name in the audit log and outbox claims; empty = the computer's host name."""


@dataclass
class Acuse:
    folder: str = field(default="", metadata=_check(_not_a_file, "una carpeta (no un archivo)"))
    """Folder for the acuse PDF and PNG files; empty = platformdirs' user documents dir/siaptui/acuses."""


@dataclass
class Settings:
    general: General = field(default_factory=General)
    portal: Portal = field(default_factory=Portal)
    scanner: Scanner = field(default_factory=Scanner)
    capture: Capture = field(default_factory=Capture)
    camera: Camera = field(default_factory=Camera)
    sandbox: Sandbox = field(default_factory=Sandbox)
    store: Store = field(default_factory=Store)
    acuse: Acuse = field(default_factory=Acuse)
    keys: dict[str, str] = field(default_factory=dict)
    """[keys]: binding id → key or keys ("f9", "ctrl+b,f9"); siaptui.keymap checks ids and clashes."""

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)


SECTIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Settings))
_KEY_NAME = re.compile(r"^[a-z0-9_+\-]+(,[a-z0-9_+\-]+)*$")


def _keymap(file: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The [keys] table: each value a key name or a comma-separated list ("ctrl+b,f9")."""
    checked = {}
    for binding_id, keys in values.items():
        text = keys.replace(" ", "").lower() if isinstance(keys, str) else ""
        if not _KEY_NAME.match(text):
            raise ConfigError(f"keys.{binding_id} = {keys!r}", file=file, key=f"keys.{binding_id}",
                              expected='una tecla o teclas separadas por comas, p. ej. "f9" o "ctrl+b,f9"')
        checked[str(binding_id)] = text
    return checked


def config_path() -> Path:
    explicit = os.environ.get("SIAPTUI_CONFIG")
    if explicit:
        return Path(explicit)
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "siaptui.toml"


def data_dir(settings: Settings | None = None) -> Path:
    """Where the SQLite store, the key file and logs live (created 0700 on first use).

    Modo práctica gets its own sub-folder, so practice scenarios (a pre-enrolled "duplicate"
    worker, training enrollments) can never mix with an office's real gallery or outbox.
    """
    chosen = (settings.store.data_dir if settings else "") or os.environ.get("SIAPTUI_STORE_DATA_DIR", "")
    if chosen:
        path = Path(chosen).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path(APP_NAME, appauthor=False)
    if settings is not None and settings.general.training:
        path = path / "practica"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def acuse_dir(settings: Settings | None = None) -> Path:
    """Where saved acuses go (not created here: saving creates it and reports a failure).

    Why the documents folder by default: the clerk looks for papers there, not in a hidden data
    dir.  Modo práctica saves into a `practica` sub-folder, like the store.
    """
    chosen = (settings.acuse.folder if settings else "") or os.environ.get("SIAPTUI_ACUSE_FOLDER", "")
    if chosen:
        path = Path(chosen).expanduser()
    else:
        from platformdirs import user_documents_path

        path = user_documents_path() / APP_NAME / "acuses"
    if settings is not None and settings.general.training:
        path = path / "practica"
    return path


def _field(section: str, key: str) -> tuple[type, Mapping[str, Any]]:
    """The Python type and the metadata (choices, range, check) of one setting."""
    section_cls = type(getattr(Settings(), section))
    for f in dataclasses.fields(section_cls):
        if f.name == key:
            kind = {"str": str, "int": int, "float": float, "bool": bool}[str(f.type)]
            return kind, f.metadata
    raise KeyError(key)


def _describe(kind: type, rules: Mapping[str, Any]) -> str:
    """What a setting accepts, in the words of the config error's `expected`."""
    expected = _EXPECTED[kind]
    if "choices" in rules:
        expected += f" ({' | '.join(rules['choices'])})"
    if "range" in rules:
        low, high = rules["range"]
        expected += f" entre {low:g} y {high:g}"
    if "check" in rules:
        expected = rules["check"][1]
    return expected


def _within(value: Any, rules: Mapping[str, Any]) -> bool:
    if "choices" in rules and value not in rules["choices"]:
        return False
    if "range" in rules:
        low, high = rules["range"]
        if not low <= value <= high:
            return False
    return "check" not in rules or bool(rules["check"][0](value))


_EXPECTED = {str: "texto", int: "número entero", float: "número", bool: "true o false"}


def _coerce(file: str, section: str, key: str, value: Any, *, from_text: bool) -> Any:
    """Check one value against the field's type and choices; text from env vars is parsed."""
    kind, rules = _field(section, key)
    name = f"{section}.{key}"
    expected = _describe(kind, rules)
    try:
        if from_text:
            if kind is bool:
                lowered = str(value).strip().lower()
                if lowered not in ("1", "0", "true", "false", "yes", "no", "si", "sí"):
                    raise ValueError(value)
                value = lowered in ("1", "true", "yes", "si", "sí")
            else:
                value = kind(value)
        elif kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} = {value!r}", file=file, key=name, expected=expected
        ) from None
    if not _within(value, rules):
        raise ConfigError(
            f"{name} = {value!r}", file=file, key=name, expected=expected
        )
    return value


def _apply(settings: Settings, file: str, data: Mapping[str, Any], *, from_text: bool) -> None:
    for section, values in data.items():
        if section not in SECTIONS or not isinstance(values, Mapping):
            raise ConfigError(section, code="config_unknown_key", file=file, key=section)
        if section == "keys":
            settings.keys.update(_keymap(file, values))
            continue
        target = getattr(settings, section)
        for key, value in values.items():
            if not hasattr(target, key):
                raise ConfigError(f"{section}.{key}", code="config_unknown_key", file=file, key=f"{section}.{key}")
            setattr(target, key, _coerce(file, section, key, value, from_text=from_text))


def read_file(path: Path) -> dict[str, Any]:
    try:
        return read_toml(path.read_bytes().decode("utf-8"))
    except (TOMLDecodeError, UnicodeDecodeError) as exc:
        # Invalid UTF-8 and invalid TOML are both the file's syntax.
        raise ConfigError(str(exc), code="config_syntax", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(exc.strerror or str(exc), file=str(path), key="-", expected="-") from None


def environment_overrides(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """SIAPTUI_<SECTION>_<KEY>=value pairs that name a real setting (others are ignored)."""
    environ = os.environ if environ is None else environ
    found: dict[str, dict[str, str]] = {}
    defaults = Settings()
    for section in SECTIONS:
        if section == "keys":  # a free table of binding ids: set in the file only
            continue
        for f in dataclasses.fields(getattr(defaults, section)):
            name = f"SIAPTUI_{section}_{f.name}".upper()
            if name in environ:
                found.setdefault(section, {})[f.name] = environ[name]
    return found


def load(
    path: Path | None = None,
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    environ: Mapping[str, str] | None = None,
    use_file: bool = True,
    must_exist: bool = False,
) -> Settings:
    """Build the settings; raises ConfigError naming file, key and expectation.

    `use_file=False` is the "start with the defaults" answer to a bad file: the environment and
    the flags still apply.  `must_exist` is for a file the clerk named (--config): its absence
    is a typo, not "use the defaults".
    """
    settings = Settings()
    if path is not None and use_file and must_exist and not path.exists():
        raise ConfigError(str(path), code="config_not_found", file=str(path))
    path = path or config_path()
    if use_file and path.exists():
        _apply(settings, str(path), read_file(path), from_text=False)
    _apply(settings, "environment", environment_overrides(environ), from_text=True)
    if overrides:
        _apply(settings, "command line", overrides, from_text=False)
    return settings


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically (temp file, fsync, rename): a crash never leaves half a config file."""
    import tomli_w

    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = tomli_w.dumps(settings.to_dict()).encode("utf-8")
    atomic_write(path, payload)
    return path
