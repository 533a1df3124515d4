"""Readers for recorded USB sessions: usbmon pcapng and umockdev `.ioctl` files.

Why: the replay backend must serve a *real* device's answers to our unmodified driver, and
libfprint's test recordings (../shared/data/usb-traces/) come in these two formats.  Both are
turned into the same list of `Transfer`s (one per completed URB, in completion order), so the
replay backend does not care where a session came from.

Parsing is defensive: a truncated or foreign file raises `RecordingError` naming the file and
the byte offset, never a struct.error.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from siaptui.devices.base import ScannerError

ISO, INTERRUPT, CONTROL, BULK = 0, 1, 2, 3
LINKTYPE_USB_LINUX_MMAPPED = 220
_USBMON_HEADER = struct.Struct("<QBBBBHbbqiiII8siiII")  # 64 bytes


class RecordingError(ScannerError):
    """A recorded session file is unreadable (truncated, wrong format)."""

    code = "recording_invalid"


@dataclass
class Transfer:
    """One completed USB transfer as the host saw it.

    `setup` is the 8-byte control setup (control transfers only).  `data` is what travelled:
    host->device bytes for OUT, device->host bytes for IN.  `status` is 0 or a negative errno
    (-2 ENOENT for a cancelled URB).  `length` is the requested length (wLength / buffer size).
    """

    kind: int
    endpoint: int
    setup: bytes = b""
    data: bytes = b""
    status: int = 0
    length: int = 0
    time: float = 0.0
    urb: int = 0

    @property
    def is_in(self) -> bool:
        if self.kind == CONTROL and self.setup:
            return bool(self.setup[0] & 0x80)
        return bool(self.endpoint & 0x80)

    @property
    def request(self) -> tuple[int, int, int, int, int]:
        """Control (bmRequestType, bRequest, wValue, wIndex, wLength)."""
        return struct.unpack("<BBHHH", self.setup) if len(self.setup) == 8 else (0, 0, 0, 0, 0)


@dataclass
class Recording:
    """A whole session: its transfers (completion order) and where it came from."""

    source: Path
    transfers: list[Transfer] = field(default_factory=list)
    devnum: Optional[int] = None
    busnum: Optional[int] = None


# --------------------------------------------------------------------------- pcapng


def _blocks(data: bytes, path: Path) -> Iterator[tuple[int, bytes, str]]:
    """Yield (block type, body, endian) from a pcapng byte string."""
    pos = 0
    endian = "<"
    while pos < len(data):
        if len(data) - pos < 12:
            raise RecordingError(f"{path}: truncated pcapng block at byte {pos}", file=str(path), offset=pos,
                                  detail=f"archivo incompleto (bloque en el byte {pos})")
        (btype,) = struct.unpack_from(endian + "I", data, pos)
        if btype == 0x0A0D0D0A:  # section header: its byte-order magic sets the endianness
            magic = data[pos + 8 : pos + 12]
            endian = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">" if magic == b"\x1a\x2b\x3c\x4d" else ""
            if not endian:
                raise RecordingError(f"{path}: bad pcapng byte-order magic", file=str(path), offset=pos,
                                      detail="no es un archivo pcapng válido")
        (blen,) = struct.unpack_from(endian + "I", data, pos + 4)
        if blen < 12 or blen % 4 or pos + blen > len(data):
            raise RecordingError(f"{path}: truncated pcapng block at byte {pos}", file=str(path), offset=pos,
                                  detail=f"archivo incompleto (bloque en el byte {pos})")
        yield btype, data[pos + 8 : pos + blen - 4], endian
        pos += blen


def read_pcapng(path: Path) -> Recording:
    """Parse a usbmon (link type 220) pcapng capture into completed transfers.

    Control setup and OUT data ride on the submit (`S`) record; IN data and the final status on
    the completion (`C`) record; the two are paired by URB id.
    """
    path = Path(path)
    data = _read_bytes(path)
    if data[:4] != b"\x0a\x0d\x0d\x0a":
        raise RecordingError(f"{path}: not a pcapng file", file=str(path), offset=0,
                             detail="no es un archivo pcapng")
    try:
        return _parse_pcapng(data, path)
    except struct.error as exc:  # a block whose body is shorter than its fields
        raise RecordingError(f"{path}: {exc}", file=str(path), offset=0,
                             detail="bloque pcapng dañado") from exc


def _parse_pcapng(data: bytes, path: Path) -> Recording:
    linktypes: list[int] = []
    pending: dict[int, tuple[bytes, bytes, int]] = {}
    rec = Recording(source=path)
    for btype, body, endian in _blocks(data, path):
        if btype == 0x0A0D0D0A:
            linktypes = []
        elif btype == 1:  # interface description
            linktypes.append(struct.unpack_from(endian + "H", body, 0)[0])
        elif btype == 6:  # enhanced packet
            if len(body) < 20:
                raise RecordingError(f"{path}: short packet block", file=str(path), offset=0,
                                     detail="paquete incompleto")
            iface, _hi, _lo, caplen, _origlen = struct.unpack_from(endian + "IIIII", body, 0)
            if iface >= len(linktypes) or linktypes[iface] != LINKTYPE_USB_LINUX_MMAPPED:
                continue
            packet = body[20 : 20 + caplen]
            if len(packet) < 64 or len(packet) < caplen:
                raise RecordingError(f"{path}: truncated usbmon packet", file=str(path), offset=0,
                                     detail="paquete usbmon incompleto")
            _usbmon(packet, pending, rec)
    return rec


def _usbmon(packet: bytes, pending: dict[int, tuple[bytes, bytes, int]], rec: Recording) -> None:
    (urb, rtype, kind, ep, devnum, busnum, flag_setup, flag_data, ts_sec, ts_usec, status,
     urb_len, cap_len, setup, _interval, _start, _xflags, _ndesc) = _USBMON_HEADER.unpack_from(packet, 0)
    payload = packet[64 : 64 + cap_len]
    rec.devnum, rec.busnum = devnum, busnum
    if rtype == ord("S"):
        out = payload if not ep & 0x80 else b""
        pending[urb] = (setup if flag_setup == 0 else b"", out, urb_len)
        return
    if rtype not in (ord("C"), ord("E")):
        return
    submitted = pending.pop(urb, None)
    if submitted is None:
        return  # completion of an URB submitted before the capture started
    sent_setup, out, req_len = submitted
    is_in = bool(ep & 0x80)
    if kind == CONTROL and sent_setup:
        is_in = bool(sent_setup[0] & 0x80)
    rec.transfers.append(
        Transfer(
            kind=kind,
            endpoint=ep,
            setup=sent_setup,
            data=payload if is_in else out,
            status=status,
            length=req_len,
            time=ts_sec + ts_usec / 1e6,
            urb=urb,
        )
    )


# --------------------------------------------------------------------------- umockdev ioctl


def read_ioctl(path: Path) -> Recording:
    """Parse a umockdev `.ioctl` recording (URB reap records) into transfers.

    Control URBs carry their 8-byte setup at the start of the buffer (usbdevfs convention); we
    split it off so control transfers look the same as in pcapng.
    """
    path = Path(path)
    text = _read_bytes(path).decode("ascii", errors="replace")
    rec = Recording(source=path)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("@"):
            continue
        parts = line.split()
        if not parts[0].startswith("USBDEVFS_REAPURB"):
            continue
        if len(parts) < 9:
            raise RecordingError(f"{path}:{number}: truncated URB record", file=str(path), offset=number,
                                 detail=f"línea {number} incompleta")
        try:
            kind, ep, status, _flags, buflen, actual = (int(x) for x in parts[2:8])
            blob = bytes.fromhex(parts[9]) if len(parts) > 9 else b""
        except ValueError as exc:
            raise RecordingError(f"{path}:{number}: {exc}", file=str(path), offset=number,
                                 detail=f"línea {number} no válida") from exc
        setup = b""
        if kind == CONTROL and len(blob) >= 8:
            setup, blob = blob[:8], blob[8:]
        length = struct.unpack("<H", setup[6:8])[0] if kind == CONTROL and setup else buflen
        rec.transfers.append(Transfer(kind=kind, endpoint=ep, setup=setup, data=blob, status=-abs(status),
                                      length=length))
    return rec


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{path}: {exc.strerror or exc}", file=str(path), offset=0,
                             detail=str(exc.strerror or exc)) from exc
