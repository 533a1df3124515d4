"""The `siaptui` command: argparse only, every subcommand imported when it runs.

`siaptui --help` must not import textual, numpy, scikit-image, pyusb or cryptography
(tests/test_import_hygiene.py).  Each subcommand lives in the module that owns the work and
exposes `main(args, settings) -> int`; this file only parses, loads settings and dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Callable, Sequence

from siaptui import __version__

# subcommand -> "module:function"; each function takes (args, settings) and returns an exit code.
HANDLERS: dict[str, str] = {
    "tui": "siaptui.app:main",
    "demo": "siaptui.demo:main",
    "doctor": "siaptui.devices.doctor:main",
    "sandbox": "siaptui.portal.sandbox.cli:main",
    "capture": "siaptui.devices.capture_cli:main",
    "config": "siaptui.config_cli:main",
    "store": "siaptui.store.cli:main",
    "bench accuracy": "siaptui.bench.accuracy:main",
    "bench speed": "siaptui.bench.speed:main",
    "bench synth": "siaptui.bench.synth:main",
    "bench preview": "siaptui.bench.preview:main",
    "bench scanner": "siaptui.bench.scanner:main",
    "bench store": "siaptui.bench.store:main",
    "bench startup": "siaptui.bench.startup:main",
    "bench quality": "siaptui.bench.quality:main",
    "bench office": "siaptui.bench.office:main",
}


def build_parser() -> argparse.ArgumentParser:
    def common_options(defaults: bool) -> argparse.ArgumentParser:
        # Subcommands repeat these flags with SUPPRESS defaults so that `siaptui --lang en demo`
        # keeps the value given before the subcommand instead of resetting it to None.
        extra = {} if defaults else {"default": argparse.SUPPRESS}
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument("--lang", choices=("es", "en"), help="idioma / language (es, en)", **extra)
        options.add_argument("--debug", action="store_true", help="mostrar detalles técnicos de errores", **extra)
        options.add_argument("--config", metavar="FILE", help="archivo siaptui.toml a usar", **extra)
        return options

    common = common_options(defaults=False)
    parser = argparse.ArgumentParser(
        prog="siaptui",
        description="Enrolamiento biométrico de trabajadores ante el portal IMSS / IMSS fingerprint enrollment.",
        parents=[common_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"siaptui {__version__}")
    parser.add_argument("--device", metavar="SPEC", help="lector: usb, usb:VID:PID, emulator:uru4500, sim, replay:DIR, folder:DIR")
    parser.add_argument("--portal", metavar="URL", help="URL base del portal")
    parser.add_argument("--theme", choices=("auto", "default", "high-contrast", "mono"))
    sub = parser.add_subparsers(dest="command", metavar="COMANDO")

    demo = sub.add_parser("demo", parents=[common], help="práctica: portal de prueba + lector simulado, sin hardware ni red")
    demo.add_argument("--device", metavar="SPEC", default=argparse.SUPPRESS, help="lector para la demo (sim por omisión; emulator:uru4500)")
    demo.add_argument("--port", type=int, default=0, help="puerto del portal de prueba (0 = libre)")
    demo.add_argument("--theme", choices=("auto", "default", "high-contrast", "mono"), default=argparse.SUPPRESS)

    doctor = sub.add_parser("doctor", parents=[common], help="diagnóstico del lector: por qué «no se encuentra» y cómo arreglarlo")
    doctor.add_argument("--json", action="store_true", help="reporte en JSON")
    doctor.add_argument("--device", metavar="SPEC", default=argparse.SUPPRESS, help="revisar este lector (por omisión, el configurado)")

    sandbox = sub.add_parser("sandbox", parents=[common], help="portal de prueba (contrato docs/portal-api.yaml) en loopback")
    sandbox.add_argument("--host", default=None, help="dirección (127.0.0.1 por omisión)")
    sandbox.add_argument("--port", type=int, default=None, help="puerto (8765 por omisión)")
    sandbox.add_argument("--tls", action="store_true", help="servir HTTPS con un certificado generado")
    sandbox.add_argument("--db", metavar="FILE", help="base de datos del portal de prueba")
    sandbox.add_argument("--issue-efirma", metavar="DIR", help="emitir una e.firma de prueba en DIR y salir")
    sandbox.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]",
                         help="falla simulada: latency=MS, error500=RATE, overload=SECONDS, overload-rate=RATE, expire-session, drop-after-commit, bad-answer=malformed|truncated|content-type|huge")
    sandbox.add_argument("--allow-test-ca", action="store_true", help="aceptar certificados de prueba del SAT (A.C. 2 de pruebas)")
    sandbox.add_argument("--cert-date", metavar="AAAA-MM-DD", help="validar vigencia de certificados en esta fecha (e.firma de prueba del SAT)")
    sandbox.add_argument("--kind", choices=("fiel", "csd"), default="fiel", help="con --issue-efirma: FIEL o CSD")
    sandbox.add_argument("--expired", action="store_true", help="con --issue-efirma: emitirla ya vencida")

    capture = sub.add_parser("capture", parents=[common], help="capturar una imagen del lector a un archivo PNG")
    capture.add_argument("--device", metavar="SPEC", required=True)
    capture.add_argument("--out", metavar="FILE.png", required=True)
    capture.add_argument("--timeout", type=float, default=30.0, help="segundos para colocar el dedo")

    config = sub.add_parser("config", parents=[common], help="ver o revisar la configuración")
    config.add_argument("action", choices=("path", "show", "check"))

    store_cmd = sub.add_parser("store", parents=[common], help="revisar o rescatar la base de datos local (cierre antes siaptui)")
    store_cmd.add_argument("action", choices=("check", "recover"),
                           help="check: revisa la integridad (0 = íntegra, 1 = dañada); recover: copia lo legible a un archivo nuevo y guarda aparte el dañado")
    store_cmd.add_argument("--db", metavar="FILE", default=None, help="base de datos (por omisión, la de la carpeta de datos)")

    bench = sub.add_parser("bench", parents=[common], help="mediciones de velocidad, memoria y exactitud")
    bench_sub = bench.add_subparsers(dest="bench", metavar="MEDICIÓN", required=True)
    accuracy = bench_sub.add_parser("accuracy", parents=[common], help="EER/FMR en una carpeta FINGER_IMPRESSION.{tif,png,bmp}")
    accuracy.add_argument("dir", nargs="+", metavar="DIR")
    accuracy.add_argument("--dpi", type=int, default=None)
    accuracy.add_argument("--json", action="store_true")
    accuracy.add_argument("--nbis", action="store_true", help="medir también NBIS (nbis-py) en la misma corrida")
    accuracy.add_argument("--calibrate", action="store_true", help="medir los nudos de calibración puntaje→FMR con los impostores de todas las carpetas juntas")
    speed = bench_sub.add_parser("speed", parents=[common], help="extracción, 1:1 y 1:N")
    speed.add_argument("--gallery", type=int, default=10000)
    speed.add_argument("--data", metavar="DIR", default=None, help="imágenes de origen (FVC2002 de ../shared por omisión)")
    speed.add_argument("--json", action="store_true")
    speed.add_argument("--nbis", action="store_true")
    synth = bench_sub.add_parser("synth", parents=[common], help="realismo de dedos sintéticos")
    synth.add_argument("--fingers", type=int, default=100)
    synth.add_argument("--impressions", type=int, default=8)
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--out", metavar="DIR", default=None, help="guardar las imágenes generadas")
    synth.add_argument("--json", action="store_true")
    synth.add_argument("--no-reference", action="store_true", help="no medir los conjuntos FVC2002 de ../shared")
    synth.add_argument("--nbis", action="store_true", help="medir también NBIS (nbis-py) y NFIQ 2")
    preview = bench_sub.add_parser("preview", parents=[common], help="bytes y ms por cuadro de la vista previa")
    preview.add_argument("--frames", type=int, default=60)
    preview.add_argument("--json", action="store_true")
    preview.add_argument("--startup", action="store_true", help="arranque hasta la pantalla de captura (con /usr/bin/time -v)")
    preview.add_argument("--still", action="store_true", help="un dedo quieto (ruido del sensor) en lugar de impresiones distintas")
    quality = bench_sub.add_parser("quality", parents=[common], help="calidad frente a NFIQ 2 y error frente a rechazo")
    quality.add_argument("dir", nargs="+", metavar="DIR")
    quality.add_argument("--dpi", type=int, default=None)
    quality.add_argument("--json", action="store_true")
    quality.add_argument("--no-nfiq2", action="store_true", help="no comparar con NFIQ 2 (sin nbis-py)")
    quality.add_argument("--no-reject", action="store_true", help="no medir error frente a rechazo (sin comparador)")
    quality.add_argument("--bozorth3", action="store_true", help="nuestras minucias y las de NBIS con bozorth3 (nbis-py)")
    scanner = bench_sub.add_parser("scanner", parents=[common], help="decodificación de cuadros del U.are.U 4500 y doctor")
    scanner.add_argument("--json", action="store_true")
    store = bench_sub.add_parser("store", parents=[common], help="bandeja de salida, galería cifrada, borrado ARCO, bitácora")
    store.add_argument("--items", type=int, default=200, help="envíos a encolar y acusar")
    store.add_argument("--gallery", type=int, default=10000, help="plantillas en la galería local")
    store.add_argument("--audit", type=int, default=1000, help="entradas de bitácora a escribir y verificar")
    store.add_argument("--dir", default=None, help="carpeta de la base de datos desechable (se mide su disco)")
    store.add_argument("--url", default=None, metavar="postgresql://…",
                       help="medir también un servidor PostgreSQL, en un esquema desechable que se borra al final")
    store.add_argument("--json", action="store_true")
    office = bench_sub.add_parser("office", parents=[common], help="control de duplicados en una oficina sintética")
    office.add_argument("--workers", type=int, default=200)
    office.add_argument("--reenrolled", type=float, default=0.05, help="fracción que vuelve con otro NSS")
    office.add_argument("--views", type=int, default=2, help="impresiones guardadas por dedo")
    office.add_argument("--seed", type=int, default=1)
    office.add_argument("--processes", type=int, default=2)
    office.add_argument("--timing-gallery", type=int, default=0, metavar="N", help="medir la búsqueda con N personas")
    office.add_argument("--json", action="store_true")
    startup = bench_sub.add_parser("startup", parents=[common], help="tiempo hasta la primera pantalla y memoria, en una terminal real")
    startup.add_argument("--only", dest="command_name", action="append", choices=("demo", "tui"), help="qué arrancar (ambos por omisión)")
    startup.add_argument("--runs", type=int, default=5)
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
    return getattr(importlib.import_module(module), name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from siaptui import config, i18n
    from siaptui.errors import SiaptuiError, explain

    i18n.set_language(args.lang or i18n.language_from_environment())
    from pathlib import Path

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
    key = f"bench {args.bench}" if command == "bench" else command
    try:
        return int(_resolve(HANDLERS[key])(args, settings) or 0)
    except KeyboardInterrupt:
        print(i18n.t("cli.interrupted"), file=sys.stderr)
        return 130
    except SiaptuiError as exc:
        if args.debug:
            raise
        print(explain(exc).rstrip(), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
