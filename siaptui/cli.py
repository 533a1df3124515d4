"""The `siaptui` command: argparse only, every subcommand imported when it runs.

`siaptui --help` must not import textual, numpy, scikit-image, pyusb or cryptography
(tests/test_import_hygiene.py).  Each subcommand lives in the module that owns the work and
exposes `main(args, settings) -> int`; this file only parses, loads settings and dispatches.

Every text of the parser comes from the catalog (`cli.help.*`), argparse's own words too
(`cli.argparse.*`, through the `_` gettext hook argparse calls), so the language is chosen before
the parser is built: `--lang`, else the config file and the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from siaptui import __version__, i18n
from siaptui.i18n import t

# subcommand -> "module:function"; each function takes (args, settings) and returns an exit code.
HANDLERS: dict[str, str] = {
    "tui": "siaptui.app:main",
    "demo": "siaptui.demo:main",
    "doctor": "siaptui.devices.doctor:main",
    "sandbox": "siaptui.portal.sandbox.cli:main",
    "capture": "siaptui.devices.capture_cli:main",
    "photo": "siaptui.camera.cli:main",
    "config": "siaptui.config_cli:main",
    "outbox export": "siaptui.store.bundle_export_cli:main",
    "outbox import": "siaptui.store.bundle_import_cli:main",
    "store": "siaptui.store.cli:main",
    "acuse": "siaptui.acuse.cli:main",
    "bench accuracy": "siaptui.bench.accuracy:main",
    "bench speed": "siaptui.bench.speed:main",
    "bench synth": "siaptui.bench.synth:main",
    "bench preview": "siaptui.bench.preview:main",
    "bench scanner": "siaptui.bench.scanner:main",
    "bench store": "siaptui.bench.store:main",
    "bench startup": "siaptui.bench.startup:main",
    "bench quality": "siaptui.bench.quality:main",
    "bench office": "siaptui.bench.office:main",
    "bench office-day": "siaptui.bench.office_day:main",
    "bench photo": "siaptui.bench.photo:main",
}


ARGPARSE_TEXTS: dict[str, str] = {
    "usage: ": "usage",
    "options": "options",
    "optional arguments": "options",  # its name before Python 3.10
    "positional arguments": "positionals",
    "subcommands": "subcommands",
    "show this help message and exit": "help",
    "%(prog)s: error: %(message)s\n": "error",
    "argument %(argument_name)s: %(message)s": "argument",
    "invalid choice: %(value)r (choose from %(choices)s)": "invalid_choice",
    "invalid %(type)s value: %(value)r": "invalid_value",
    "the following arguments are required: %s": "required",
    "unrecognized arguments: %s": "unrecognized",
    "expected one argument": "expected_one",
    "ambiguous option: %(option)s could match %(matches)s": "ambiguous",
    "not allowed with argument %s": "not_allowed",
}
"""argparse's English message ids (what it passes to gettext) -> `cli.argparse.<key>`."""


def h(key: str) -> str:
    """A help text of the parser, in the current language."""
    return t("cli.help." + key)


def within(low: float, high: float, kind: type = int) -> Callable[[str], Any]:
    """An argparse `type` that reads a number of `kind` and refuses one outside [low, high] in
    the clerk's language (argparse then exits with 2, the bad-command-line code)."""
    def read(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(t("cli.argparse.not_a_number", value=text)) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(t("cli.argparse.out_of_range", value=text, low=kind(low),
                                               high=kind(high)))
        return value

    return read


def _argparse_gettext(message: str) -> str:
    key = ARGPARSE_TEXTS.get(message)
    return t("cli.argparse." + key) if key else message


@contextlib.contextmanager
def argparse_in_catalog() -> Iterator[None]:
    """argparse's own words from the catalog while a parser is built and used.

    argparse looks its module-level `_` (gettext) up on every call and offers no other hook for
    "usage:", "options" or its error messages; swapping it only for this block keeps any other
    parser in the process (pytest's, for one) as it was.
    """
    original = argparse._  # type: ignore[attr-defined]  # argparse's gettext hook is not in typeshed
    argparse._ = _argparse_gettext  # type: ignore[attr-defined]  # the same hook
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]  # the same hook


def language_before_parsing(argv: Sequence[str]) -> str:
    """The language of --help and of argparse's errors, which come before the settings exist.

    `--lang` wins; otherwise the config file (`--config` or the usual one) and the environment
    decide, as they will for the rest of the run; a bad file leaves the environment's choice
    (the file's error is reported after parsing).
    """
    flags: dict[str, str] = {}
    for index, arg in enumerate(argv):
        name, equals, value = arg.partition("=")
        if name in ("--lang", "--config"):
            flags[name] = value if equals else (argv[index + 1] if index + 1 < len(argv) else "")
    if flags.get("--lang") in i18n.LANGUAGES:
        return flags["--lang"]
    from siaptui import config

    try:
        return config.load(Path(flags["--config"]) if flags.get("--config") else None).general.lang
    except config.ConfigError:
        return i18n.language_from_environment()


def build_parser() -> argparse.ArgumentParser:
    def common_options(defaults: bool) -> argparse.ArgumentParser:
        # Subcommands repeat these flags with SUPPRESS defaults so that `siaptui --lang en demo`
        # keeps the value given before the subcommand instead of resetting it to None.
        extra: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument("--lang", choices=("es", "en"), help=h("lang"), **extra)
        options.add_argument("--debug", action="store_true", help=h("debug"), **extra)
        options.add_argument("--config", metavar=h("metavar.file"), help=h("config_file"), **extra)
        return options

    common = common_options(defaults=False)
    parser = argparse.ArgumentParser(
        prog="siaptui",
        description=h("description"),
        parents=[common_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"siaptui {__version__}", help=h("version"))
    parser.add_argument("--device", metavar="SPEC", help=h("device"))
    parser.add_argument("--portal", metavar="URL", help=h("portal"))
    parser.add_argument("--theme", choices=("auto", "default", "high-contrast", "mono"), help=h("theme"))
    sub = parser.add_subparsers(dest="command", metavar=h("command_metavar"))

    demo = sub.add_parser("demo", parents=[common], help=h("command.demo"))
    demo.add_argument("--device", metavar="SPEC", default=argparse.SUPPRESS, help=h("demo.device"))
    demo.add_argument("--port", type=within(0, 65535), default=0, help=h("demo.port"))
    demo.add_argument("--theme", choices=("auto", "default", "high-contrast", "mono"), default=argparse.SUPPRESS)

    doctor = sub.add_parser("doctor", parents=[common], help=h("command.doctor"))
    doctor.add_argument("--json", action="store_true", help=h("doctor.json"))
    doctor.add_argument("--udev-rule", action="store_true", help=h("doctor.udev_rule"))
    doctor.add_argument("--device", metavar="SPEC", default=argparse.SUPPRESS, help=h("doctor.device"))
    doctor.add_argument("--camera", metavar="SPEC", default=None, help=h("doctor.camera"))

    sandbox = sub.add_parser("sandbox", parents=[common], help=h("command.sandbox"))
    sandbox.add_argument("--host", default=None, help=h("sandbox.host"))
    sandbox.add_argument("--port", type=within(0, 65535), default=None, help=h("sandbox.port"))
    sandbox.add_argument("--tls", action="store_true", help=h("sandbox.tls"))
    sandbox.add_argument("--db", metavar=h("metavar.file"), help=h("sandbox.db"))
    sandbox.add_argument("--issue-efirma", metavar="DIR", help=h("sandbox.issue_efirma"))
    sandbox.add_argument("--fault", action="append", default=[], metavar=h("metavar.fault"),
                         help=h("sandbox.fault"))
    sandbox.add_argument("--allow-test-ca", action="store_true", help=h("sandbox.allow_test_ca"))
    sandbox.add_argument("--cert-date", metavar=h("metavar.date"), help=h("sandbox.cert_date"))
    sandbox.add_argument("--kind", choices=("fiel", "csd"), default="fiel", help=h("sandbox.kind"))
    sandbox.add_argument("--expired", action="store_true", help=h("sandbox.expired"))

    capture = sub.add_parser("capture", parents=[common], help=h("command.capture"))
    capture.add_argument("--device", metavar="SPEC", required=True, help=h("capture.device"))
    capture.add_argument("--out", metavar=h("metavar.png"), required=True, help=h("capture.out"))
    capture.add_argument("--timeout", type=float, default=30.0, help=h("capture.timeout"))

    photo = sub.add_parser("photo", parents=[common], help=h("command.photo"))
    photo.add_argument("--camera", metavar="SPEC", default=None, help=h("photo.camera"))
    photo.add_argument("--out", metavar=h("metavar.jpg"), required=True, help=h("photo.out"))
    photo.add_argument("--frames", type=int, default=60, help=h("photo.frames"))
    photo.add_argument("--json", action="store_true", help=h("photo.json"))

    config = sub.add_parser("config", parents=[common], help=h("command.config"))
    config.add_argument("action", choices=("path", "show", "check", "init"), help=h("config.action"))
    config.add_argument("--force", action="store_true", help=h("config.force"))

    outbox = sub.add_parser("outbox", parents=[common], help=h("command.outbox"))
    outbox_sub = outbox.add_subparsers(dest="outbox", metavar=h("metavar.action"), required=True)
    outbox_export = outbox_sub.add_parser("export", parents=[common], help=h("outbox.export"),
                                          description=h("outbox.export.description"))
    outbox_export.add_argument("--out", metavar=h("metavar.file"), default=None, help=h("outbox.export.out"))
    outbox_export.add_argument("--passphrase-stdin", action="store_true", help=h("outbox.passphrase_stdin"))
    outbox_import = outbox_sub.add_parser("import", parents=[common], help=h("outbox.import"))
    outbox_import.add_argument("file", metavar=h("metavar.file"))
    outbox_import.add_argument("--passphrase-stdin", action="store_true", help=h("outbox.passphrase_stdin"))
    store_cmd = sub.add_parser("store", parents=[common], help=h("command.store"))
    store_cmd.add_argument("action", choices=("check", "recover"), help=h("store.action"))
    store_cmd.add_argument("--db", metavar=h("metavar.file"), default=None, help=h("store.db"))
    acuse = sub.add_parser("acuse", parents=[common], help=h("command.acuse"))
    acuse.add_argument("folio", metavar="FOLIO", help=h("acuse.folio"))
    acuse.add_argument("--pdf", metavar=h("metavar.file"), help=h("acuse.pdf"))
    acuse.add_argument("--png", metavar=h("metavar.file"), help=h("acuse.png"))
    acuse.add_argument("--print", action="store_true", help=h("acuse.print"))

    bench = sub.add_parser("bench", parents=[common], help=h("command.bench"))
    bench_sub = bench.add_subparsers(dest="bench", metavar=h("bench_metavar"), required=True)
    accuracy = bench_sub.add_parser("accuracy", parents=[common], help=h("command.bench.accuracy"))
    accuracy.add_argument("dir", nargs="+", metavar="DIR")
    accuracy.add_argument("--dpi", type=int, default=None)
    accuracy.add_argument("--json", action="store_true")
    accuracy.add_argument("--nbis", action="store_true", help=h("bench.accuracy.nbis"))
    accuracy.add_argument("--calibrate", action="store_true", help=h("bench.accuracy.calibrate"))
    accuracy.add_argument("--hard", action="store_true", help=h("bench.accuracy.hard"))
    speed = bench_sub.add_parser("speed", parents=[common], help=h("command.bench.speed"))
    speed.add_argument("--gallery", type=int, default=10000)
    speed.add_argument("--data", metavar="DIR", default=None, help=h("bench.speed.data"))
    speed.add_argument("--json", action="store_true")
    speed.add_argument("--nbis", action="store_true")
    synth = bench_sub.add_parser("synth", parents=[common], help=h("command.bench.synth"))
    synth.add_argument("--fingers", type=int, default=100)
    synth.add_argument("--impressions", type=int, default=8)
    synth.add_argument("--seed", type=within(0, 2**31), default=1)
    synth.add_argument("--out", metavar="DIR", default=None, help=h("bench.synth.out"))
    synth.add_argument("--json", action="store_true")
    synth.add_argument("--no-reference", action="store_true", help=h("bench.synth.no_reference"))
    synth.add_argument("--nbis", action="store_true", help=h("bench.synth.nbis"))
    synth.add_argument("--profile", choices=("fvc", "uru"), default="fvc", help=h("bench.synth.profile"))
    preview = bench_sub.add_parser("preview", parents=[common], help=h("command.bench.preview"))
    preview.add_argument("--frames", type=int, default=60)
    preview.add_argument("--json", action="store_true")
    preview.add_argument("--startup", action="store_true", help=h("bench.preview.startup"))
    preview.add_argument("--still", action="store_true", help=h("bench.preview.still"))
    quality = bench_sub.add_parser("quality", parents=[common], help=h("command.bench.quality"))
    quality.add_argument("dir", nargs="+", metavar="DIR")
    quality.add_argument("--dpi", type=int, default=None)
    quality.add_argument("--json", action="store_true")
    quality.add_argument("--no-nfiq2", action="store_true", help=h("bench.quality.no_nfiq2"))
    quality.add_argument("--no-reject", action="store_true", help=h("bench.quality.no_reject"))
    quality.add_argument("--bozorth3", action="store_true", help=h("bench.quality.bozorth3"))
    scanner = bench_sub.add_parser("scanner", parents=[common], help=h("command.bench.scanner"))
    scanner.add_argument("--json", action="store_true")
    store = bench_sub.add_parser("store", parents=[common], help=h("command.bench.store"))
    store.add_argument("--items", type=within(1, 10_000_000), default=200, help=h("bench.store.items"))
    store.add_argument("--gallery", type=within(1, 10_000_000), default=10000, help=h("bench.store.gallery"))
    store.add_argument("--audit", type=within(1, 10_000_000), default=1000, help=h("bench.store.audit"))
    store.add_argument("--dir", default=None, help=h("bench.store.dir"))
    store.add_argument("--url", default=None, metavar="postgresql://…", help=h("bench.store.url"))
    store.add_argument("--json", action="store_true")
    office = bench_sub.add_parser("office", parents=[common], help=h("command.bench.office"))
    office.add_argument("--workers", type=within(1, 100_000), default=200, help=h("bench.office.workers"))
    office.add_argument("--reenrolled", type=within(0, 1, float), default=0.05, help=h("bench.office.reenrolled"))
    office.add_argument("--views", type=within(1, 10), default=2, help=h("bench.office.views"))
    office.add_argument("--seed", type=within(1, 2**31), default=1, help=h("bench.office.seed"))
    office.add_argument("--processes", type=within(1, 64), default=2, help=h("bench.office.processes"))
    office.add_argument("--timing-gallery", type=within(0, 1_000_000), default=0, metavar="N",
                        help=h("bench.office.timing_gallery"))
    office.add_argument("--json", action="store_true")
    office_day = bench_sub.add_parser("office-day", parents=[common], help=h("command.bench.office_day"))
    office_day.add_argument("--workers", type=within(1, 10_000), default=20, help=h("bench.office_day.workers"))
    office_day.add_argument("--seed", type=within(0, 2**31), default=18, help=h("bench.office_day.seed"))
    office_day.add_argument("--json", action="store_true")
    photo_bench = bench_sub.add_parser("photo", parents=[common], help=h("command.bench.photo"))
    photo_bench.add_argument("--frames", type=int, default=30, help=h("bench.photo.frames"))
    photo_bench.add_argument("--json", action="store_true")
    startup = bench_sub.add_parser("startup", parents=[common], help=h("command.bench.startup"))
    startup.add_argument("--only", dest="command_name", action="append", choices=("demo", "tui"),
                         help=h("bench.startup.only"))
    startup.add_argument("--runs", type=within(1, 1000), default=5)
    startup.add_argument("--cols", type=int, default=80)
    startup.add_argument("--rows", type=int, default=24)
    startup.add_argument("--json", action="store_true")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Command-line flags that win over the file and the environment."""
    found: dict[str, dict[str, Any]] = {}
    for flag, (section, key) in {
        "lang": ("general", "lang"),
        "theme": ("general", "theme"),
        "device": ("scanner", "device"),
        "portal": ("portal", "base_url"),
    }.items():
        value = getattr(args, flag, None)
        if value is not None:
            found.setdefault(section, {})[key] = value
    return found


def _resolve(spec: str) -> Callable[..., int]:
    module, _, name = spec.partition(":")
    command: Callable[..., int] = getattr(importlib.import_module(module), name)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    i18n.set_language(language_before_parsing(argv))
    with argparse_in_catalog():
        args = build_parser().parse_args(argv)
    from siaptui import config
    from siaptui.errors import SiaptuiError, explain

    path = Path(args.config) if args.config else None
    command = args.command or "tui"
    try:
        settings = config.load(path, overrides=_overrides(args), must_exist=path is not None)
    except config.ConfigError as exc:
        if command in ("config",):
            settings = None  # `config check` reports the error itself
        else:
            print(explain(exc), file=sys.stderr)
            if command != "tui":
                return 2
            # The TUI offers to start with defaults; it shows the error on its first screen.
            settings = config.load(path, overrides=_overrides(args), use_file=False)
            args.config_error = exc
    if settings is not None:
        i18n.set_language(settings.general.lang)
    from siaptui import logfile

    logfile.setup(debug=bool(args.debug))
    key = f"{command} {getattr(args, command)}" if command in ("bench", "outbox") else command
    try:
        return int(_resolve(HANDLERS[key])(args, settings) or 0)
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return 130
    except SiaptuiError as exc:
        if args.debug:
            raise
        print(explain(exc).rstrip(), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
