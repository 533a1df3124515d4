"""`siaptui doctor`: every cause produced through the emulator, in both languages, text and JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siaptui import cli, i18n as shipped_i18n
from siaptui.devices import emulator, hwdb
from siaptui.devices.doctor import diagnose, holders
from siaptui.shipped import udev_rule_path


@pytest.fixture(autouse=True)
def _fresh_buses() -> None:
    emulator.reset()


UNFILLED = re.compile(r"\{[a-z_]+\}")  # a catalog placeholder left unfilled (udev's ATTRS{idVendor} is fine)


def codes(spec: str) -> list[str]:
    return diagnose(spec).codes()


@pytest.mark.parametrize(
    "options, code",
    [
        ("", "device_ok"),
        (":fault=no_backend", "no_backend"),
        (":fault=absent", "no_device"),
        (":pid=000e", "unsupported_model"),
        (":pid=0099", "unknown_model"),
        (":fault=eacces", "permission"),
        (":fault=busy", "busy"),
        (":fault=kernel_driver", "kernel_driver"),
        (":fault=wrong_driver", "wrong_driver"),
        (":fault=nopower", "timeout"),
    ],
)
def test_each_cause_is_named(options: str, code: str) -> None:
    report = diagnose(f"emulator:uru4500{options}")
    assert code in report.codes()
    finding = next(f for f in report.findings if f.code == code)
    assert finding.message and not UNFILLED.search(finding.message)
    if finding.severity == "error":
        assert finding.fix and not UNFILLED.search(finding.fix)
        assert not report.ok
    for lang in ("es", "en"):
        message, fix = finding.render(lang)
        assert message != "devices.doctor." + code


def test_permission_fix_installs_the_shipped_rule() -> None:
    finding = diagnose("emulator:uru4500:fault=eacces").findings[0]
    assert INSTALL in finding.fix
    assert "udevadm control --reload-rules" in finding.fix and "usermod -aG plugdev" in finding.fix


INSTALL = "siaptui doctor --udev-rule | sudo tee /etc/udev/rules.d/70-siaptui.rules"


def test_udev_rule_is_printed_whole_and_covers_every_usable_reader(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--udev-rule"]) == 0
    printed = capsys.readouterr().out
    assert printed == udev_rule_path().read_text(encoding="utf-8") and INSTALL in printed
    rules = [line for line in printed.splitlines() if line.startswith("ATTRS{idVendor}")]
    assert all('TAG+="uaccess"' in line and 'ATTR{power/control}="on"' in line for line in rules)
    for entry in hwdb.entries():
        if entry.usable:
            by_model = f'ATTRS{{idVendor}}=="{entry.vid:04x}", ATTRS{{idProduct}}=="{entry.pid:04x}",'
            by_vendor = f'ATTRS{{idVendor}}=="{entry.vid:04x}", TAG'
            assert any(line.startswith((by_model, by_vendor)) for line in rules), entry.usb_id


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_fix_text_needs_a_checkout(lang: str) -> None:
    # A pipx user has no hw/ folder: every udev instruction goes through `siaptui doctor --udev-rule`.
    from siaptui.files import read_toml

    catalog = read_toml((Path(shipped_i18n.__file__).parent / lang / "devices.toml").read_text(encoding="utf-8"))
    for key in ("error.device_permission.fix", "devices.doctor.permission.fix",
                "devices.doctor.timeout.fix", "devices.doctor.autosuspend.fix"):
        assert INSTALL in catalog[key], key
    assert not [key for key, text in catalog.items() if "sudo cp" in text or "hw/udev" in text]


def _holder(tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path]:
    node = tmp_path / "usbnode"
    node.write_bytes(b"")
    exe = tmp_path / name
    os.symlink(sys.executable, exe)
    code = f"import time; f = open({str(node)!r}); print('ready', flush=True); time.sleep(30)"
    proc = subprocess.Popen([str(exe), "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, node


def test_busy_names_the_process_holding_the_node(tmp_path: Path) -> None:
    proc, node = _holder(tmp_path, "otherapp")
    try:
        assert (proc.pid, ) == tuple(pid for pid, _ in holders(str(node)))
        finding = diagnose(f"emulator:uru4500:fault=busy:node={node}").findings[0]
    finally:
        proc.kill()
        proc.wait()
    assert finding.code == "busy"
    assert f"PID {proc.pid}" in finding.message and "otherapp" in finding.message
    assert str(node) in finding.fix


def test_busy_by_fprintd_says_how_to_stop_it(tmp_path: Path) -> None:
    proc, node = _holder(tmp_path, "fprintd")
    try:
        finding = diagnose(f"emulator:uru4500:fault=busy:node={node}").findings[0]
    finally:
        proc.kill()
        proc.wait()
    assert finding.code == "busy_fprintd"
    assert "systemctl stop fprintd" in finding.fix


def test_report_text_in_both_languages_and_json() -> None:
    report = diagnose("emulator:uru4500:fault=eacces")
    es, en = report.to_text("es"), report.to_text("en")
    assert "Qué hacer" in es and "[ERROR]" in es and "05ba:000a" in es
    assert "What to do" in en and "does not allow" in en
    data = json.loads(report.to_json("en"))
    assert data["ok"] is False and data["findings"][0]["code"] == "permission"
    assert data["devices"][0]["usb_id"] == "05ba:000a"


def test_sources_and_bad_specs(tmp_path: Path) -> None:
    assert codes(f"folder:{tmp_path}") == ["source_error"]  # empty folder
    assert codes("emulator:uru4500:fault=melt") == ["bad_spec"]


def test_doctor_cli_json_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--json", "--device", "emulator:uru4500:on=0.1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["findings"][0]["code"] == "device_ok"
    assert cli.main(["doctor", "--lang", "en", "--device", "emulator:uru4500:fault=absent"]) == 1
    assert "No fingerprint reader is connected" in capsys.readouterr().out


def test_doctor_on_the_real_bus_answers_quickly() -> None:
    started = time.monotonic()
    report = diagnose()  # whatever this machine has; there is normally no reader in CI
    assert report.findings and time.monotonic() - started < 10
    assert set(report.codes()) <= {"device_ok", "no_device", "no_backend", "unknown_model", "unsupported_model",
                                   "permission", "busy", "busy_fprintd", "kernel_driver", "timeout", "autosuspend",
                                   "enumeration_failed", "open_failed", "sdk_missing", "gone",
                                   "kernel_usb_errors", "no_usb_bus"}


def test_kernel_usb_errors_are_quoted() -> None:
    from types import SimpleNamespace

    from siaptui.devices.doctor import kernel_usb_errors

    log = ("[ 10.1] usb 1-10: new full-speed USB device number 50 using xhci_hcd\n"
           "[ 10.2] usb 1-10: device descriptor read/64, error -71\n"
           "[ 10.3] EXT4-fs (vda): mounted filesystem\n"
           "[ 10.4] usb usb1-port10: unable to enumerate USB device\n")
    lines = kernel_usb_errors(run=lambda *a, **k: SimpleNamespace(returncode=0, stdout=log))
    assert lines == ["[ 10.2] usb 1-10: device descriptor read/64, error -71",
                     "[ 10.4] usb usb1-port10: unable to enumerate USB device"]
    assert kernel_usb_errors(run=lambda *a, **k: SimpleNamespace(returncode=1, stdout="")) == []


def test_a_machine_without_any_usb_bus_is_told_apart_from_no_reader_plugged() -> None:
    """A virtual machine or container shows no bus at all: cables and ports are not the cause."""
    bus_missing = diagnose("emulator:uru4500:fault=no_bus")
    assert "no_usb_bus" in bus_missing.codes() and "no_device" not in bus_missing.codes()
    message, fix = next(f for f in bus_missing.findings if f.code == "no_usb_bus").render("es")
    assert "máquina virtual" in message and "cable" not in message and "--device" in fix
    unplugged = diagnose("emulator:uru4500:fault=absent")
    assert "no_device" in unplugged.codes() and "no_usb_bus" not in unplugged.codes()


def test_the_report_names_the_version_and_iso_8601_times() -> None:
    import json

    from siaptui import __version__

    report = diagnose("emulator:uru4500")
    text = report.to_text("es")
    assert f"siaptui {__version__}" in text
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", text)
    data = json.loads(report.to_json("es"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", data["created_at"])
    assert data["system"]["siaptui"] == __version__
