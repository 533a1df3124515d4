"""Device specs, the folder scanner, the hw table and hot-plug helpers."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siaptui.devices import base, hwdb
from siaptui.devices.folder import FolderScanner
from siaptui.devices.hotplug import _udev_ids
from siaptui.devices.registry import open_scanner, split_spec
from siaptui.devices.usbopen import UsbScanner, parse_usb_target

REPO = Path(__file__).resolve().parents[2]


def test_split_and_usb_targets() -> None:
    assert split_spec("replay:/a:b/c") == ("replay", "/a:b/c")
    assert split_spec(" USB ") == ("usb", "")
    assert parse_usb_target("05ba:000a:SER:1", "usb:05ba:000a:SER:1") == (0x05BA, 0x000A, "SER:1")
    assert parse_usb_target("", "usb") == (None, None, "")
    with pytest.raises(base.UnsupportedDevice):
        parse_usb_target("zz:1", "usb:zz:1")


@pytest.mark.parametrize("spec", ["", "camera", "bluetooth:1"])
def test_unknown_specs_are_clear_errors(spec: str) -> None:
    with pytest.raises(base.UnsupportedDevice) as info:
        open_scanner(spec)
    assert info.value.code == "device_unsupported"


def test_usb_specs_build_lazily() -> None:
    scanner = open_scanner("usb:05ba:000a")
    assert isinstance(scanner, UsbScanner) and not scanner.is_open
    assert (scanner.vid, scanner.pid) == (0x05BA, 0x000A)
    assert scanner.info.usb_id == "05ba:000a"


def test_folder_scanner_serves_images_in_order(tmp_path: Path) -> None:
    for name, value in (("b.png", 20), ("a.png", 10), ("c.bmp", 30)):
        Image.fromarray(np.full((40, 30), value, np.uint8)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("ignored")
    seen = []
    with open_scanner(f"folder:{tmp_path}", dpi=508) as scanner:
        assert isinstance(scanner, FolderScanner)
        for _ in range(4):
            assert scanner.wait_finger(timeout=1)
            frame = scanner.capture()
            again = scanner.capture()  # repeatable while the finger stays
            assert np.array_equal(frame.pixels, again.pixels)
            assert scanner.wait_finger_off()
            seen.append(int(frame.pixels[0, 0]))
    assert seen == [10, 20, 30, 10] and frame.dpi == 508 and frame.device.driver == "folder"


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(base.DeviceNotFound):
        open_scanner(f"folder:{tmp_path / 'missing'}").open()
    with pytest.raises(base.DeviceNotFound):
        open_scanner(f"folder:{tmp_path}").open()  # empty
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with open_scanner(f"folder:{tmp_path}", loop=False) as scanner:
        scanner.wait_finger()
        with pytest.raises(base.CaptureFailed):
            scanner.capture()
        scanner.wait_finger_off()
        assert scanner.wait_finger(timeout=0.1) is False  # exhausted, no loop
        assert not scanner.wait_finger(cancel=_set())


def _set() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


def test_scanner_table_entries_are_consistent() -> None:
    import importlib

    seen = set()
    for entry in hwdb.entries():
        assert (entry.vid, entry.pid) not in seen
        seen.add((entry.vid, entry.pid))
        assert entry.status in ("supported", "sdk", "unsupported")
        if entry.usable:
            module = importlib.import_module(f"siaptui.devices.drivers.{entry.driver}")
            assert callable(module.create)
    assert hwdb.lookup(0x05BA, 0x000A).driver == "uru4000"
    assert hwdb.lookup(0x1162, 0x2200).status == "sdk"
    assert hwdb.vendor_name(0x1B55) == "ZKTeco" and hwdb.lookup(0xDEAD, 0xBEEF) is None


def test_udev_event_ids() -> None:
    class Event:
        properties = {"PRODUCT": "5ba/a/103"}

    assert _udev_ids(Event()) == (0x05BA, 0x000A)
    Event.properties = {}
    assert _udev_ids(Event()) is None


def test_error_messages_have_defaults_for_every_placeholder() -> None:
    from siaptui.errors import describe

    for cls in (base.DeviceBusy, base.PermissionDenied, base.VendorSdkMissing, base.DeviceTimeout):
        message, fix = describe(cls("x"))
        assert "{" not in message and fix


def test_capture_cli_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from siaptui import cli

    out = tmp_path / "x.png"
    assert cli.main(["capture", "--device", "emulator:uru4500:manual", "--timeout", "0.2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "No se colocó el dedo" in err and "--timeout" in err and not out.exists()
    assert cli.main(["capture", "--device", "emulator:uru4500:fault=eacces", "--out", str(out)]) == 1
    assert "udev" in capsys.readouterr().err


def test_capture_cli_writes_a_png_from_the_emulator(tmp_path: Path) -> None:
    from siaptui import cli

    out = tmp_path / "x.png"
    assert cli.main(["capture", "--device", "emulator:uru4500:on=0.05:frame_ms=2:person=3", "--out", str(out)]) == 0
    with Image.open(out) as saved:
        assert saved.mode == "L" and saved.size == (384, 290) and round(saved.info["dpi"][0]) == 500


def test_watch_on_this_machine_stops_promptly() -> None:
    """The real path (pyudev, or polling when netlink is unavailable) honours `stop`."""
    import time

    from siaptui.devices.hotplug import watch

    stop = threading.Event()
    events: list = []
    thread = threading.Thread(target=watch, args=(lambda e, i: events.append(e), stop), kwargs={"interval": 0.05},
                              daemon=True)
    thread.start()
    time.sleep(0.2)
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive() and events == []


def test_watch_spec_follows_the_emulated_bus() -> None:
    from siaptui.devices import emulator
    from siaptui.devices.hotplug import watch_spec

    emulator.reset()
    spec = "emulator:uru4500:watchtest=1"
    with pytest.raises(base.UnsupportedDevice):  # unknown option: the spec is validated first
        watch_spec(spec, lambda e, i: None, threading.Event())
    spec = "emulator:uru4500:replug=0.1:frame_ms=1"
    bus = emulator.bus_for(spec.split(":", 1)[1], spec)
    stop = threading.Event()
    events: list = []
    thread = threading.Thread(target=watch_spec, args=(spec, lambda e, i: events.append((e, i.usb_id)), stop, 0.02),
                              daemon=True)
    thread.start()
    import time

    time.sleep(0.1)
    bus.unplug(replug_after=0.1)
    deadline = time.monotonic() + 2
    while len(events) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(timeout=2)
    assert events[:2] == [("removed", "05ba:000a"), ("added", "05ba:000a")]


def test_replay_device_file_errors(tmp_path: Path) -> None:
    from siaptui.devices.recording import RecordingError
    from siaptui.devices.replay import load_backend, read_device_file

    (tmp_path / "device").write_text("P: /devices/x\nE: DEVTYPE=usb_device\n")
    with pytest.raises(RecordingError):
        read_device_file(tmp_path / "device")
    (tmp_path / "device").write_text("P: /devices/x\nN: bus/usb/001/002=12010002\n")
    (tmp_path / "capture.ioctl").write_text("")
    with pytest.raises(RecordingError):  # descriptor blob cut short
        load_backend(tmp_path)
