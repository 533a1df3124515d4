"""The 4500 emulator through the real driver: round trip, faults, unplug/replug, finger timing."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from siaptui.devices import base, emulator
from siaptui.devices.drivers.uru4000 import HEIGHT, WIDTH
from siaptui.devices.hotplug import poll
from siaptui.devices.registry import open_scanner

FAST = "on=0.05:hold=0.3:frame_ms=2"


@pytest.fixture(autouse=True)
def _fresh_buses() -> None:
    emulator.reset()


def source_image() -> np.ndarray:
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    img[0, :] = 255  # layouts below send 289 rows (a 4500 never sends 290); row 0 stays blank
    return img


def lost_pixels(layout: tuple) -> list[tuple[int, int]]:
    """Where an upright image loses a byte: the last sensor byte of each encrypted block.

    The 4500 shifts encrypted data by one byte, so libfprint's decoder zeroes the last byte of
    each block (-> 255 after inversion); the 180° rotation moves it to column 0.
    """
    out, lost = 0, []
    for flags, lines in layout:
        out += lines
        if flags & 0x02:
            lost.append((HEIGHT - out, 0))
    return lost


def test_round_trip_scrambled_with_key_change() -> None:
    layout = ((0x02, 100), (0x00, 40), (0x82, 149))  # encrypted, plain, new key + encrypted
    img = source_image()
    scanner = open_scanner(f"emulator:uru4500:{FAST}", image=img, layout=layout)
    with scanner:
        assert scanner.wait_finger(timeout=3)
        frame = scanner.capture(timeout=3)
        writes = scanner.backend.last_seed_writes
    expected = img.copy()
    for y, x in lost_pixels(layout):
        expected[y, x] = 255
    assert np.array_equal(frame.pixels, expected)
    assert len(writes) == 2  # one key exchange per key: the CHANGE_KEY block asked again
    assert frame.device.driver == "uru4000" and frame.dpi == 500


def test_recorded_layout_duplicates_the_missing_row() -> None:
    img = source_image()
    with open_scanner(f"emulator:uru4500:{FAST}", image=img) as scanner:
        scanner.wait_finger(timeout=3)
        got = scanner.capture(timeout=3).pixels
    differ = {tuple(p) for p in np.argwhere(got != img)}
    missing_row = HEIGHT - 1 - 122  # sensor row 122 is "not present": filled from the next row
    allowed = {(missing_row, x) for x in range(WIDTH)} | set(lost_pixels(emulator.RECORDED_LAYOUT))
    assert differ <= allowed and len(differ) > WIDTH // 2
    assert np.array_equal(got[missing_row], got[missing_row - 1])


def test_plain_frames_skip_descrambling() -> None:
    img = np.full((HEIGHT, WIDTH), 230, dtype=np.uint8)
    img[100:200, 100:300] = 40
    img[0, :] = 255
    with open_scanner(f"emulator:uru4500:plain:{FAST}", image=img, layout=((0x00, 200), (0x00, 89))) as scanner:
        scanner.wait_finger(timeout=3)
        got = scanner.capture(timeout=3).pixels
        assert scanner.backend.last_seed_writes == []
    assert np.array_equal(got, img)


def test_finger_timing_and_repeat_capture() -> None:
    with open_scanner("emulator:uru4500:on=0.2:hold=0.4:frame_ms=2", image=source_image()) as scanner:
        started = time.monotonic()
        assert not scanner.wait_finger(timeout=0.05)  # not yet placed
        assert scanner.wait_finger(timeout=2)
        assert time.monotonic() - started >= 0.15
        a = scanner.capture(timeout=2)
        b = scanner.capture(timeout=2)  # live preview: the finger is still there
        assert np.array_equal(a.pixels, b.pixels)
        assert scanner.wait_finger_off(timeout=2)


def test_manual_finger_and_cancel() -> None:
    with open_scanner(f"emulator:uru4500:manual:{FAST}", image=source_image()) as scanner:
        cancel = threading.Event()
        threading.Timer(0.15, cancel.set).start()
        started = time.monotonic()
        assert scanner.wait_finger(timeout=None, cancel=cancel) is False
        assert time.monotonic() - started < 1.0  # cancel honoured promptly
        scanner.backend.place_finger()
        assert scanner.wait_finger(timeout=2)
        scanner.capture(timeout=2)
        scanner.backend.lift_finger()
        assert scanner.wait_finger_off(timeout=2)


@pytest.mark.parametrize(
    "fault, error, when",
    [
        ("death", base.DeviceTimeout, "capture"),
        ("stall", base.DeviceTimeout, "capture"),
        ("timeout", base.DeviceTimeout, "capture"),
        ("nopower", base.DeviceTimeout, "open"),
        ("unplug", base.DeviceGone, "capture"),
        ("busy", base.DeviceBusy, "open"),
        ("eacces", base.PermissionDenied, "open"),
        ("wrong_driver", base.WrongDriver, "open"),
        ("kernel_driver", base.KernelDriverBound, "open"),
        ("no_backend", base.NoBackend, "open"),
        ("absent", base.DeviceNotFound, "open"),
    ],
)
def test_fault_maps_to_scanner_error(fault: str, error: type, when: str) -> None:
    scanner = open_scanner(f"emulator:uru4500:fault={fault}:replug=0:{FAST}", image=source_image())
    if when == "open":
        with pytest.raises(error) as info:
            scanner.open()
    else:
        scanner.open()
        try:
            assert scanner.wait_finger(timeout=3)
            with pytest.raises(error) as info:
                scanner.capture(timeout=0.3)
        finally:
            scanner.close()
    assert info.value.code == error.code
    from siaptui.errors import describe

    message, fix = describe(info.value)
    assert message and fix and "{" not in message + fix


def test_interrupt_of_death_recovers_on_next_capture() -> None:
    with open_scanner(f"emulator:uru4500:fault=death:{FAST}", image=source_image()) as scanner:
        scanner.wait_finger(timeout=3)
        with pytest.raises(base.DeviceTimeout):
            scanner.capture(timeout=1)
        frame = scanner.capture(timeout=1)  # the driver re-enters capture mode and carries on
        assert frame.pixels.shape == (HEIGHT, WIDTH)


def test_unsupported_model_and_bad_options() -> None:
    with pytest.raises(base.UnsupportedDevice):
        open_scanner("emulator:uru4500:pid=000e").open()
    for spec in ("emulator:uru4500:fault=melt", "emulator:uru9999", "emulator:uru4500:on=soon"):
        with pytest.raises(base.UnsupportedDevice):
            open_scanner(spec)
    with pytest.raises(base.UnsupportedDevice):
        open_scanner("emulator:uru4500", layout=((0x02, 300),))


def test_capture_carries_on_after_replug() -> None:
    img = source_image()
    scanner = open_scanner(f"emulator:uru4500:fault=unplug:replug=0.4:{FAST}", image=img)
    events: list[tuple[str, float]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=poll, args=(lambda e, info: events.append((e, time.monotonic())), stop,
                                                  scanner.backend, 0.05), daemon=True)
    scanner.open()
    watcher.start()
    try:
        assert scanner.wait_finger(timeout=3)
        with pytest.raises(base.DeviceGone):
            scanner.capture(timeout=2)
        assert scanner.reconnect(timeout=2.0)
        resumed = time.monotonic()
        assert scanner.wait_finger(timeout=2)
        frame = scanner.capture(timeout=2)
    finally:
        scanner.close()
        stop.set()
        watcher.join(timeout=2)
    assert [e for e, _ in events][:2] == ["removed", "added"]
    added = dict((e, t) for e, t in events)["added"]
    assert resumed - added < 2.0
    assert frame.pixels.shape == (HEIGHT, WIDTH)


def test_reopening_like_the_capture_screen_finds_the_same_bus() -> None:
    """The capture screen calls open_scanner(spec, **same_options) again after an unplug."""
    options = {"image": source_image(), "fault": "unplug", "replug": 0.3, "on": 0.05, "frame_ms": 2}
    first = open_scanner("emulator:uru4500", **options)
    assert open_scanner("emulator:uru4500", **options).backend is first.backend
    with first:
        assert first.wait_finger(timeout=2)
        with pytest.raises(base.DeviceGone):
            first.capture(timeout=2)
    deadline = time.monotonic() + 2.0
    while True:
        scanner = open_scanner("emulator:uru4500", **options)
        try:
            scanner.open()
            break
        except base.DeviceNotFound:
            assert time.monotonic() < deadline, "reader did not come back within 2 s"
            time.sleep(0.1)
    with scanner:
        assert scanner.wait_finger(timeout=2)
        assert scanner.capture(timeout=2).pixels.shape == (HEIGHT, WIDTH)  # the unplug fired once


def test_lifted_finger_gives_empty_frames_and_a_new_placement() -> None:
    with open_scanner("emulator:uru4500:on=0.05:hold=0.3:frame_ms=2", image=source_image()) as scanner:
        assert scanner.wait_finger(timeout=2)
        assert scanner.capture(timeout=2).pixels.std() > 30
        time.sleep(0.4)  # the emulated finger leaves while the reader is still capturing
        assert scanner.capture(timeout=2).pixels.std() < 5
        assert scanner.wait_finger(timeout=2)  # a new placement is reported, not a stale one
        assert scanner.capture(timeout=2).pixels.std() > 30


def test_synthetic_fingers_by_default() -> None:
    with open_scanner(f"emulator:uru4500:{FAST}") as scanner:
        assert scanner.backend.images.label == "synth"
        scanner.wait_finger(timeout=3)
        frame = scanner.capture(timeout=5)
    assert frame.pixels.shape == (HEIGHT, WIDTH) and frame.pixels.std() > 10


def test_microsoft_v2_reader_powers_up_only_after_the_aes_challenge_is_answered() -> None:
    """045e:00ca keeps HWSTAT's power-down bit until the host answers its 16-byte challenge."""
    from siaptui.devices.drivers import uru4000
    from siaptui.devices.registry import open_scanner

    with open_scanner("emulator:msv2:on=0.05:hold=0.3") as scanner:
        assert (scanner.info.vid, scanner.info.pid) == (0x045E, 0x00CA)
        assert scanner.wait_finger(timeout=5.0)
        frame = scanner.capture(timeout=5.0)
        assert frame.pixels.shape == (uru4000.HEIGHT, uru4000.WIDTH)
