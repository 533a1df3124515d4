"""`replay:DIR` — run the real driver against a recorded USB session.

DIR holds `device` (umockdev description: descriptors, strings) and `capture.pcapng` (usbmon)
or `capture.ioctl` (umockdev).  `ReplayBackend` is a pyusb backend: the unmodified transport
and driver open the "device", and every vendor control transfer must match the recording in
order (request type, request, value, index, length, and the bytes for OUT) — a mismatch is a
`ReplayDiverged` error naming the transfer, because a replay that silently drifts proves nothing.
IN data on the interrupt/bulk endpoints is served in recorded order, each only once the host has
made the control transfers that preceded it in the recording (so a driver that forgets to
switch the reader into a mode waits, as it would on real hardware).

Random values the host sent (the uru4000 scramble-key seed) must be reproduced for the writes to
match: the driver module may define `replay_options(backend)`, which reads them back from
`backend.control_writes()` — the driver knows its own protocol; this backend stays generic.
"""

from __future__ import annotations

import codecs
import errno
import importlib
import threading
import time
from pathlib import Path
from typing import Any

from siaptui.devices import hwdb
from siaptui.devices.base import CaptureFailed, UnsupportedDevice
from siaptui.devices.fakeusb import FakeBackend, FakeDevice, usb_error
from siaptui.devices.recording import CONTROL, Recording, RecordingError, Transfer, read_ioctl, read_pcapng
from siaptui.devices.usbopen import UsbScanner


class ReplayDiverged(CaptureFailed):
    """The driver asked for something the recorded device was never asked at that point."""

    code = "replay_diverged"


# --------------------------------------------------------------------------- device file


def _unescape(value: str) -> str:
    """umockdev attribute text: C escapes (\\302\\256, \\n) over UTF-8 bytes."""
    raw = codecs.escape_decode(value.encode("latin-1", errors="replace"))[0]
    return raw.decode("utf-8", errors="replace").rstrip("\n")


def read_device_file(path: Path) -> tuple[bytes, dict[str, str]]:
    """First device of a umockdev `device` file: raw descriptors and its text attributes."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RecordingError(f"{path}: {exc.strerror or exc}", file=str(path)) from exc
    first = text.split("\n\n", 1)[0]
    raw = b""
    attrs: dict[str, str] = {}
    for line in first.splitlines():
        if line.startswith("N: ") and "=" in line:
            try:
                raw = bytes.fromhex(line.split("=", 1)[1].strip())
            except ValueError as exc:
                raise RecordingError(f"{path}: bad descriptor hex: {exc}", file=str(path)) from exc
        elif line.startswith("H: descriptors=") and not raw:
            raw = bytes.fromhex(line.split("=", 1)[1].strip())
        elif line.startswith("A: ") and "=" in line:
            key, _, value = line[3:].partition("=")
            attrs[key] = _unescape(value)
    if not raw:
        raise RecordingError(f"{path}: no USB descriptors (N: line)", file=str(path))
    return raw, attrs


# --------------------------------------------------------------------------- backend


class ReplayBackend(FakeBackend):
    """Serves one recorded device; see the module docstring for the matching rules."""

    MAX_WAIT_S = 0.25  # an exhausted stream "times out" after at most this long

    def __init__(self, raw: bytes, attrs: dict[str, str], recording: Recording) -> None:
        super().__init__()
        bus = int(attrs.get("busnum", recording.busnum or 1) or 1)
        address = int(attrs.get("devnum", recording.devnum or 1) or 1)
        strings: dict[int, str] = {}
        device = FakeDevice(raw, {}, bus=bus, address=address)
        for index, name in ((device.desc.iManufacturer, "manufacturer"), (device.desc.iProduct, "product"),
                            (device.desc.iSerialNumber, "serial")):
            if index and name in attrs:
                strings[index] = attrs[name]
        device.strings = strings
        self.devices = [device]
        self.recording = recording
        # Host-initiated transfers that must be repeated in order: vendor/class control
        # transfers (standard ones are descriptor reads, answered from `device`) and OUT data.
        self._controls: list[Transfer] = []
        self._streams: dict[int, list[tuple[int, Transfer]]] = {}
        for transfer in recording.transfers:
            if transfer.kind == CONTROL:
                if transfer.setup and (transfer.setup[0] & 0x60) != 0:
                    self._controls.append(transfer)
            elif not transfer.is_in:
                self._controls.append(transfer)
            elif transfer.status == 0:
                self._streams.setdefault(transfer.endpoint, []).append((len(self._controls), transfer))
        self._next_control = 0
        self._cursor: dict[int, int] = {}
        self._cond = threading.Condition()

    def control_writes(self) -> list[Transfer]:
        """Recorded host->device vendor/class control transfers, in order."""
        return [t for t in self._controls if t.kind == CONTROL and not t.is_in]

    def host_transfers(self) -> list[Transfer]:
        """Everything the host must repeat, in order (controls and OUT data)."""
        return list(self._controls)

    @property
    def exhausted(self) -> bool:
        return self._next_control >= len(self._controls)

    def write_endpoint(self, dev: FakeDevice, ep: int, data: bytes, timeout: int) -> int:
        with self._cond:
            position = self._next_control
            expected = self._controls[position] if position < len(self._controls) else None
            if expected is None or expected.kind == CONTROL or expected.endpoint != ep or expected.data != data:
                if expected is None:
                    want = "(end)"
                elif expected.kind != CONTROL:
                    want = f"ep 0x{expected.endpoint:02x} {expected.data.hex()}"
                else:
                    want = f"control {expected.request}"
                raise ReplayDiverged(
                    f"transfer #{position + 1}: recorded {want}, driver wrote ep 0x{ep:02x} {data.hex()}",
                    detail=f"transferencia {position + 1}: grabada {want}, enviada 0x{ep:02x} {data.hex()}")
            self._next_control += 1
            self._cond.notify_all()
            return len(data)

    def vendor_control(self, dev: FakeDevice, request_type: int, request: int, value: int, index: int,
                       length: int, data: bytes, timeout: int) -> bytes:
        with self._cond:
            position = self._next_control
            if position < len(self._controls) and self._controls[position].kind != CONTROL:
                recorded = self._controls[position]
                raise ReplayDiverged(
                    f"transfer #{position + 1}: recorded a write to ep 0x{recorded.endpoint:02x}, "
                    "driver sent a control transfer",
                    detail=f"transferencia {position + 1}: se esperaba escritura a 0x{recorded.endpoint:02x}")
            if position >= len(self._controls):
                raise ReplayDiverged(f"control transfer #{position + 1} beyond the end of the recording",
                                     detail=f"0x{request_type:02x}/0x{request:02x} 0x{value:04x} fuera de la grabación")
            expected = self._controls[position]
            want = expected.request
            got = (request_type, request, value, index, length)
            if want != got or (not expected.is_in and expected.data != data):
                raise ReplayDiverged(
                    f"control transfer #{position + 1}: recorded {want} {expected.data.hex()}, "
                    f"driver sent {got} {data.hex()}",
                    detail=f"transferencia {position + 1}: grabada {expected.data.hex() or want}, "
                           f"enviada {data.hex() or got}")
            self._next_control += 1
            self._cond.notify_all()
            if expected.status != 0:
                raise usb_error("Pipe error", -9, errno.EPIPE)
            return expected.data if expected.is_in else b""

    def read_endpoint(self, dev: FakeDevice, ep: int, size: int, timeout: int) -> bytes:
        wait = self.MAX_WAIT_S if timeout == 0 else min(timeout / 1000.0, self.MAX_WAIT_S)
        deadline = time.monotonic() + wait
        with self._cond:
            stream = self._streams.get(ep, [])
            while True:
                cursor = self._cursor.get(ep, 0)
                if cursor < len(stream) and stream[cursor][0] <= self._next_control:
                    self._cursor[ep] = cursor + 1
                    return stream[cursor][1].data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise usb_error("Operation timed out", -7, errno.ETIMEDOUT)
                self._cond.wait(left)


def load_backend(folder: Path) -> ReplayBackend:
    """Build the backend for a recording folder; missing/bad files give clear errors."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise RecordingError(f"{folder} is not a folder", file=str(folder), detail="la carpeta no existe")
    raw, attrs = read_device_file(folder / "device")
    if (folder / "capture.pcapng").is_file():
        recording = read_pcapng(folder / "capture.pcapng")
    elif (folder / "capture.ioctl").is_file():
        recording = read_ioctl(folder / "capture.ioctl")
    else:
        raise RecordingError(f"{folder}: no capture.pcapng or capture.ioctl", file=str(folder))
    if not recording.transfers:
        raise RecordingError(f"{recording.source}: no USB transfers", file=str(recording.source),
                             detail="la grabación no contiene transferencias USB")
    try:
        return ReplayBackend(raw, attrs, recording)
    except ValueError as exc:  # malformed descriptors in the device file
        raise RecordingError(f"{folder / 'device'}: {exc}", file=str(folder / "device"),
                             detail="descriptores USB incompletos o dañados") from exc


def open_replay(rest: str, spec: str, **options: Any) -> UsbScanner:
    """`replay:DIR` -> a UsbScanner on the replay backend, with the driver's replay options."""
    if not rest:
        raise UnsupportedDevice("replay: needs a folder", spec=spec)
    backend = load_backend(Path(rest))
    desc = backend.devices[0].desc
    entry = hwdb.lookup(desc.idVendor, desc.idProduct)
    if entry is not None and entry.driver:
        module = importlib.import_module(f"siaptui.devices.drivers.{entry.driver}")
        hook = getattr(module, "replay_options", None)
        if hook is not None:
            for key, value in hook(backend).items():
                options.setdefault(key, value)
    return UsbScanner(spec, desc.idVendor, desc.idProduct, backend=backend, **options)
