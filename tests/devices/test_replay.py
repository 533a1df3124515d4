"""Replay acceptance: the recorded U.are.U 4500 session decodes to libfprint's own capture.png.

The recordings are libfprint's, committed under tests/data/usb-traces/ (LGPL-2.1, see its README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siaptui import cli
from siaptui.devices.base import CaptureFailed, ScannerError
from siaptui.devices.recording import CONTROL, RecordingError, read_ioctl, read_pcapng
from siaptui.devices.registry import open_scanner
from siaptui.devices.replay import ReplayDiverged, load_backend

TRACES = Path(__file__).resolve().parent.parent / "data" / "usb-traces"


def trace(name: str) -> Path:
    return TRACES / name


def reference(folder: Path) -> np.ndarray:
    ref = np.asarray(Image.open(folder / "capture.png"))
    if ref.ndim == 3:  # libfprint wrote gray as RGB; all channels are equal
        assert (ref[..., 0] == ref[..., 1]).all() and (ref[..., 0] == ref[..., 2]).all()
        ref = ref[..., 0]
    return ref


def test_capture_cli_reproduces_libfprint_image(tmp_path: Path) -> None:
    folder = trace("uru4000-4500")
    out = tmp_path / "x.png"
    assert cli.main(["capture", "--device", f"replay:{folder}", "--out", str(out)]) == 0
    mine = np.asarray(Image.open(out))
    assert mine.dtype == np.uint8 and mine.ndim == 2
    assert np.array_equal(mine, reference(folder))


def test_replay_consumes_every_recorded_control_transfer() -> None:
    scanner = open_scanner(f"replay:{trace('uru4000-4500')}")
    with scanner:
        assert scanner.info.driver == "uru4000" and scanner.info.usb_id == "05ba:000a"
        assert scanner.info.serial == "{FB0B9071-2E08-7742-BC16-2FAA247CEF66}"
        assert scanner.wait_finger(timeout=5)
        frame = scanner.capture(timeout=5)
        assert frame.pixels.shape == (290, 384) and frame.dpi == 500
        assert scanner.wait_finger_off(timeout=5)
        backend = scanner.backend
    # close() wrote MODE 0x70, the last recorded control transfer: the driver did exactly
    # what libfprint did, in the same order, with the recorded seed.
    assert backend.exhausted


def test_wrong_seed_is_reported_as_divergence() -> None:
    scanner = open_scanner(f"replay:{trace('uru4000-4500')}", seed_source=lambda: 0x12345678)
    with scanner:
        assert scanner.wait_finger(timeout=5)
        with pytest.raises(ReplayDiverged) as info:
            scanner.capture(timeout=5)
    assert isinstance(info.value, CaptureFailed) and info.value.code == "replay_diverged"


def test_pcapng_parser_reads_usbmon_records() -> None:
    rec = read_pcapng(trace("uru4000-4500") / "capture.pcapng")
    bulk = [t for t in rec.transfers if t.endpoint == 0x82]
    assert len(bulk) == 1 and len(bulk[0].data) == 111040 and bulk[0].length == 111424
    seed_write = [t for t in rec.transfers if t.kind == CONTROL and t.request[:3] == (0x40, 4, 0x33)]
    assert seed_write[0].data == bytes.fromhex("002421ea51")


def test_truncated_pcapng_is_a_clear_error(tmp_path: Path) -> None:
    data = (trace("uru4000-4500") / "capture.pcapng").read_bytes()
    bad = tmp_path / "capture.pcapng"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError) as info:
        read_pcapng(bad)
    assert info.value.code == "recording_invalid" and "byte" in str(info.value)
    junk = tmp_path / "junk.pcapng"
    junk.write_bytes(b"hello world, not a capture")
    with pytest.raises(RecordingError):
        read_pcapng(junk)


def test_ioctl_parser_and_truncation(tmp_path: Path) -> None:
    source = trace("aes3500") / "capture.ioctl"
    rec = read_ioctl(source)
    assert rec.transfers and any(t.endpoint == 0x81 for t in rec.transfers)
    lines = source.read_text().splitlines()
    broken = tmp_path / "capture.ioctl"
    broken.write_text("\n".join(lines[:3] + ["USBDEVFS_REAPURBNDELAY 0 3 1 0"]) + "\n")
    with pytest.raises(RecordingError):
        read_ioctl(broken)


def test_replay_of_other_drivers_is_recognised_but_unsupported() -> None:
    backend = load_backend(trace("aes3500"))  # umockdev .ioctl + device file
    assert backend.devices[0].desc.idVendor == 0x08FF
    with pytest.raises(ScannerError) as info:
        open_scanner(f"replay:{trace('aes3500')}").open()
    assert info.value.code == "device_unsupported"


def test_missing_replay_folder(tmp_path: Path) -> None:
    with pytest.raises(RecordingError):
        open_scanner(f"replay:{tmp_path / 'nothing'}")


def test_ioctl_session_replays_through_pyusb() -> None:
    """A umockdev recording (NB-1010, bulk only) served to a generic player through pyusb itself."""
    import usb.core

    backend = load_backend(trace("nb1010"))
    dev = usb.core.find(backend=backend, idVendor=0x298D)
    assert dev is not None
    reads = 0
    for transfer in backend.recording.transfers:
        if transfer.status != 0:
            continue
        if transfer.is_in:
            got = bytes(dev.read(transfer.endpoint, max(transfer.length, len(transfer.data)), 1000))
            assert got == transfer.data
            reads += 1
        else:
            assert dev.write(transfer.endpoint, transfer.data, 1000) == len(transfer.data)
    assert reads > 10 and backend.exhausted
    backend = load_backend(trace("nb1010"))
    dev = usb.core.find(backend=backend, idVendor=0x298D)
    first_out = next(t for t in backend.host_transfers())
    with pytest.raises(ReplayDiverged):
        dev.write(first_out.endpoint, b"\x00" + first_out.data, 1000)


def test_any_truncation_or_corruption_is_a_recording_error(tmp_path: Path) -> None:
    import random

    data = (trace("uru4000-4500") / "capture.pcapng").read_bytes()
    rng = random.Random(4500)
    bad = tmp_path / "capture.pcapng"
    for _ in range(40):
        blob = bytearray(data[: rng.randrange(1, len(data))])
        if rng.random() < 0.5 and len(blob) > 64:
            pos = rng.randrange(len(blob))
            blob[pos] ^= 0xFF
        bad.write_bytes(bytes(blob))
        try:
            read_pcapng(bad)
        except RecordingError:
            pass


def test_empty_recording_is_refused(tmp_path: Path) -> None:
    import shutil

    shutil.copy(trace("uru4000-4500") / "device", tmp_path / "device")
    (tmp_path / "capture.ioctl").write_text("# nothing recorded\n")
    with pytest.raises(RecordingError):
        load_backend(tmp_path)


def test_block_shorter_than_its_fields(tmp_path: Path) -> None:
    import struct

    data = (trace("uru4000-4500") / "capture.pcapng").read_bytes()
    shb = struct.unpack_from("<I", data, 4)[0]
    bad = tmp_path / "capture.pcapng"
    bad.write_bytes(data[:shb] + struct.pack("<III", 1, 12, 12))  # interface block with no body
    with pytest.raises(RecordingError):
        read_pcapng(bad)
