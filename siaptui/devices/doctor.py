"""`siaptui doctor`: why the fingerprint reader "is not found", and exactly what to do.

`diagnose(spec=None, backend=None) -> Report` walks the triage order support staff use
(../shared/notes/scanners-usb.md §3.4): is there a libusb backend → what is on the USB bus →
is it a reader we know (hw/scanners.toml) and support → can we open it (permissions, another
process, kernel driver, Windows driver, timeouts) → power management.  Each problem becomes a
`Finding` whose message and fix come from the catalog (`devices.doctor.<code>`), in Spanish or
English, so the same report feeds the Diagnóstico screen, `siaptui doctor` text for a support
ticket, and `--json` for tooling.

The emulator (`--device emulator:uru4500:fault=…`) runs through exactly the same code, which is
how every cause is exercised in tests without hardware.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from siaptui.i18n import language, t

SEVERITIES = ("ok", "info", "warning", "error")
PREFIX = "devices.doctor."


@dataclass
class Finding:
    """One observation: a stable code, how bad it is, and the words (current language)."""

    code: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.render()[0]

    @property
    def fix(self) -> str:
        return self.render()[1]

    def render(self, lang: Optional[str] = None) -> tuple[str, str]:
        key = PREFIX + self.code
        message = t(key, lang, **self.params) if lang else t(key, **self.params)
        fix_key = key + ".fix"
        fix = t(fix_key, lang, **self.params) if lang else t(fix_key, **self.params)
        return message, ("" if fix == fix_key else fix)

    def to_dict(self, lang: Optional[str] = None) -> dict[str, Any]:
        message, fix = self.render(lang)
        return {"code": self.code, "severity": self.severity, "message": message, "fix": fix,
                "params": {k: v for k, v in self.params.items() if isinstance(v, (str, int, float, bool))}}


@dataclass
class Report:
    """The whole diagnosis; `.findings` is what the Diagnóstico screen lists."""

    spec: str
    findings: list[Finding] = field(default_factory=list)
    system: dict[str, str] = field(default_factory=dict)
    devices: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    elapsed_ms: float = 0.0
    log_file: str = ""
    """Where siaptui writes its warnings and errors (support asks for this file)."""

    def add(self, code: str, severity: str, **params: Any) -> Finding:
        finding = Finding(code, severity, params)
        self.findings.append(finding)
        return finding

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_text(self, lang: Optional[str] = None) -> str:
        """Plain text to paste into a support ticket (no colours, no box drawing)."""
        lang = lang or language()
        stamp = iso_time(self.created_at)
        lines = [t("devices.doctor.title", lang, spec=self.spec, when=stamp)]
        lines.append(t("devices.doctor.system_line", lang, **self.system))
        if self.log_file:
            lines.append(t("devices.doctor.log_file", lang, path=self.log_file))
        if self.devices:
            lines.append(t("devices.doctor.devices_header", lang))
            for dev in self.devices:
                lines.append(f"  - {dev['usb_id']} {dev['name']} (bus {dev['bus']}, {dev['address']}) "
                             f"[{dev['status']}]")
        lines.append("")
        lines.extend(self.finding_lines(lang))
        return "\n".join(lines) + "\n"

    def finding_lines(self, lang: Optional[str] = None) -> list[str]:
        """Each finding as "[AVISO] message" and its indented fix: the report's body and what
        the Diagnóstico screen lists, in words so that no legend is needed."""
        lines = []
        for finding in self.findings:
            message, fix = finding.render(lang)
            lines.append(f"[{t('devices.doctor.severity.' + finding.severity, lang)}] {message}")
            if fix:
                lines.extend("    " + part for part in (t("devices.doctor.fix_label", lang) + ": " + fix).splitlines())
        return lines

    def to_json(self, lang: Optional[str] = None) -> str:
        return json.dumps({"spec": self.spec, "created_at": iso_time(self.created_at), "ok": self.ok,
                           "elapsed_ms": round(self.elapsed_ms, 1), "system": self.system, "log_file": self.log_file,
                           "devices": self.devices,
                           "findings": [f.to_dict(lang) for f in self.findings]}, ensure_ascii=False, indent=2)


# --------------------------------------------------------------------------- helpers


def iso_time(seconds: float) -> str:
    """ISO 8601 in UTC with its offset: a support ticket read in another time zone stays exact."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def system_facts(backend: Any = None) -> dict[str, str]:
    from siaptui import __version__

    facts = {"siaptui": __version__, "os": f"{platform.system()} {platform.release()}",
             "python": platform.python_version(), "pyusb": "-", "libusb": "-"}
    try:
        import usb

        facts["pyusb"] = getattr(usb, "__version__", "?")
    except ImportError:
        pass
    if backend is not None:
        lib = getattr(backend, "lib", None)
        facts["libusb"] = getattr(lib, "_name", None) or type(backend).__name__
    return facts


def node_path(backend: Any, dev: Any) -> str:
    """The device node a process holds open for this reader (Linux: /dev/bus/usb/BBB/DDD)."""
    custom = getattr(backend, "node_path", None)
    if callable(custom):
        return str(custom(dev))
    return f"/dev/bus/usb/{(dev.bus or 0):03d}/{(dev.address or 0):03d}"


def holders(node: str, proc: Path = Path("/proc")) -> list[tuple[int, str]]:
    """(pid, command) of processes with `node` open — the ones we are allowed to look at."""
    found: list[tuple[int, str]] = []
    try:
        target = os.path.realpath(node)
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return found
    for pid in pids:
        fd_dir = proc / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # another user's process: not ours to inspect
        for fd in fds:
            try:
                if os.path.realpath(os.readlink(fd_dir / fd)) == target:
                    found.append((int(pid), _command(proc / pid)))
                    break
            except OSError:
                continue
    return found


def _command(pid_dir: Path) -> str:
    try:
        raw = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").strip()
        if raw:
            return raw.decode("utf-8", "replace")[:120]
        return (pid_dir / "comm").read_text().strip()
    except OSError:
        return "?"


def suspects(proc: Path = Path("/proc")) -> list[tuple[int, str]]:
    """Processes known to grab readers (fprintd runs as root, so its fds are hidden from us)."""
    names = ("fprintd", "open-fprintd", "python3-validity", "siaptui")
    out: list[tuple[int, str]] = []
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return out
    for pid in pids:
        try:
            comm = (proc / pid / "comm").read_text().strip()
        except OSError:
            continue
        if comm in names:
            out.append((int(pid), comm))
    return out


USB_TROUBLE = ("error -71", "descriptor read", "not accepting address", "unable to enumerate",
               "over-current", "overcurrent", "cannot reset", "device not responding", "disabled by hub")


def kernel_usb_errors(limit: int = 5, run: Any = None) -> list[str]:
    """The last USB enumeration errors in the kernel log (Linux; empty when dmesg is not allowed).

    Why: "no device at all" has a hardware cause the kernel already saw (a bad cable shows as
    `device descriptor read/64, error -71`); quoting it saves a support round trip.
    """
    if not sys.platform.startswith("linux"):
        return []
    import subprocess

    try:
        out = (run or subprocess.run)(["dmesg"], capture_output=True, text=True, timeout=1.0)
    except (OSError, subprocess.SubprocessError):
        return []
    if getattr(out, "returncode", 1) != 0:
        return []
    lines = [line.strip() for line in out.stdout.splitlines()
             if "usb" in line.lower() and any(marker in line.lower() for marker in USB_TROUBLE)]
    return lines[-limit:]


def autosuspend_setting(dev: Any) -> Optional[str]:
    """`power/control` of this device in sysfs (Linux), matched by bus and address."""
    root = Path("/sys/bus/usb/devices")
    try:
        for entry in root.iterdir():
            try:
                if (int((entry / "busnum").read_text()) == dev.bus
                        and int((entry / "devnum").read_text()) == dev.address):
                    return (entry / "power" / "control").read_text().strip()
            except (OSError, ValueError):
                continue
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------- diagnosis


def diagnose(spec: Optional[str] = None, backend: Any = None) -> Report:
    """Run every check for `spec` (default: USB) and return the report; never raises for
    device trouble — that is what the findings are for."""
    started = time.monotonic()
    from siaptui.devices.registry import split_spec
    from siaptui.logfile import log_path

    spec = (spec or "usb").strip()
    report = Report(spec=spec, log_file=str(log_path()))
    prefix, rest = split_spec(spec)
    try:
        if prefix in ("sim", "folder", "replay"):
            _check_source(report, spec)
        else:
            _check_usb(report, spec, prefix, backend)
    finally:
        report.elapsed_ms = (time.monotonic() - started) * 1000
    return report


def _check_source(report: Report, spec: str) -> None:
    from siaptui.devices.base import ScannerError
    from siaptui.devices.registry import open_scanner
    from siaptui.errors import SiaptuiError, describe

    report.system = system_facts()
    try:
        with open_scanner(spec) as scanner:
            name = scanner.info.model or scanner.info.driver or spec
    except (ScannerError, SiaptuiError) as exc:
        message, fix = describe(exc)
        report.add("source_error", "error", spec=spec, message=message, fix=fix)
        return
    report.add("source_ok", "ok", spec=spec, name=name)


def _check_usb(report: Report, spec: str, prefix: str, backend: Any) -> None:
    from siaptui.devices import hwdb
    from siaptui.devices.base import NoBackend, ScannerError
    from siaptui.devices.registry import open_scanner
    from siaptui.devices.usbopen import UsbScanner, driver_for
    from siaptui.devices.usbtransport import find_devices

    target: Optional[tuple[Optional[int], Optional[int]]] = None
    if backend is None:
        try:
            scanner = open_scanner(spec) if prefix in ("usb", "emulator") else open_scanner("usb")
        except ScannerError as exc:
            report.system = system_facts()
            report.add("bad_spec", "error", spec=spec, detail=str(exc.params.get("detail", exc)))
            return
        assert isinstance(scanner, UsbScanner)
        if scanner.vid is not None and prefix == "usb":
            target = (scanner.vid, scanner.pid)
        try:
            backend = scanner.backend
        except NoBackend:
            report.system = system_facts()
            report.add("no_backend", "error")
            return
    report.system = system_facts(backend)
    try:
        devices = find_devices(backend)
    except NoBackend:
        report.add("no_backend", "error")
        return
    except ScannerError as exc:
        report.add("enumeration_failed", "error", detail=str(exc))
        return

    candidates = []
    others = 0
    for dev in devices:
        entry = hwdb.lookup(dev.idVendor, dev.idProduct)
        vendor = hwdb.vendor_name(dev.idVendor)
        usb_id = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
        if entry is None and vendor is None:
            others += 1
            continue
        if target is not None and (dev.idVendor != target[0] or target[1] not in (None, dev.idProduct)):
            continue
        name = f"{entry.vendor} {entry.model}" if entry else f"{vendor} ({usb_id})"
        status = entry.status if entry else "unknown"
        report.devices.append({"usb_id": usb_id, "name": name, "bus": dev.bus, "address": dev.address,
                               "status": status})
        if entry is None:
            report.add("unknown_model", "warning", usb_id=usb_id, vendor=vendor)
        elif not entry.usable:
            report.add("unsupported_model", "error", usb_id=usb_id, model=name, notes=entry.notes)
        else:
            candidates.append((dev, entry, name, usb_id))

    if not devices:
        # A real host always shows its root hubs: an empty bus is a virtual machine or a container
        # that was not given the USB device, and cables or ports are not the cause.
        report.add("no_usb_bus", "error")
        return
    if not report.devices:
        wanted = f"({target[0]:04x}:{(target[1] or 0):04x}) " if target else ""
        report.add("no_device", "error", others=others, wanted=wanted)
        from siaptui.devices.fakeusb import FakeBackend

        if not isinstance(backend, FakeBackend):
            seen = kernel_usb_errors()
            if seen:
                report.add("kernel_usb_errors", "info", lines="\n".join(seen))
        return
    for dev, entry, name, usb_id in candidates:
        _try_open(report, backend, dev, entry, name, usb_id, spec, driver_for)


def _try_open(report: Report, backend: Any, dev: Any, entry: Any, name: str, usb_id: str, spec: str,
              driver_for: Any) -> None:
    from siaptui.devices import base

    node = node_path(backend, dev)
    params = {"usb_id": usb_id, "model": name, "node": node}
    try:
        scanner = driver_for(dev, spec)
        scanner.open()
        scanner.close()
    except base.PermissionDenied:
        report.add("permission", "error", **params)
        return
    except base.DeviceBusy:
        held = holders(node) or suspects()
        who = ", ".join(f"{cmd} (PID {pid})" for pid, cmd in held) or t("devices.doctor.holder_unknown")
        fprintd = any("fprintd" in cmd for _, cmd in held)
        report.add("busy_fprintd" if fprintd else "busy", "error", holder=who, **params)
        return
    except base.KernelDriverBound:
        report.add("kernel_driver", "error", **params)
        return
    except base.WrongDriver:
        report.add("wrong_driver", "error", **params)
        return
    except base.DeviceTimeout as exc:
        report.add("timeout", "error", detail=str(exc), **params)
        _autosuspend(report, backend, dev, params)
        return
    except base.DeviceGone:
        report.add("gone", "error", **params)
        return
    except base.VendorSdkMissing as exc:
        report.add("sdk_missing", "error", sdk=exc.params.get("sdk", ""), library=exc.params.get("library", ""),
                   **params)
        return
    except base.UnsupportedDevice as exc:
        report.add("unsupported_model", "error", notes=str(exc.params.get("detail", exc)), **params)
        return
    except base.ScannerError as exc:
        report.add("open_failed", "error", detail=str(exc), **params)
        return
    report.add("device_ok", "ok", **params)
    _autosuspend(report, backend, dev, params)


def _autosuspend(report: Report, backend: Any, dev: Any, params: dict[str, Any]) -> None:
    from siaptui.devices.fakeusb import FakeBackend

    if isinstance(backend, FakeBackend) or not sys.platform.startswith("linux"):
        return
    if autosuspend_setting(dev) == "auto":
        report.add("autosuspend", "warning", **params)


# --------------------------------------------------------------------------- CLI


def main(args: argparse.Namespace, settings: Any) -> int:
    if getattr(args, "udev_rule", False):
        # The whole shipped rule, so a pipx user can `| sudo tee /etc/udev/rules.d/...`.
        from siaptui.shipped import udev_rule_path

        sys.stdout.write(udev_rule_path().read_text(encoding="utf-8"))
        return 0
    spec = getattr(args, "device", None)
    if not spec and settings is not None:
        spec = settings.scanner.device
    report = diagnose(spec)
    camera = getattr(args, "camera", None) or (settings.camera.device if settings is not None else "auto")
    from siaptui.camera.doctor import check_camera

    check_camera(report, camera, **({"width": settings.camera.width, "height": settings.camera.height}
                                    if settings is not None else {}))
    if getattr(args, "json", False):
        print(report.to_json())
    else:
        print(report.to_text(), end="")
    return 0 if report.ok else 1
