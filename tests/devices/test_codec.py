"""The uru4000 image codec: LFSR test vector from the bus recording, keystream vs a scalar model."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from siaptui.devices.base import CaptureFailed
from siaptui.devices.drivers import uru4000 as u
from siaptui.devices.recording import read_pcapng


def scalar_keystream(key: int, count: int) -> bytes:
    """Straight from the notes, one step at a time: the slow reference the fast path must equal."""
    out = bytearray()
    for _ in range(count):
        byte = 0
        for position, bit in enumerate((4, 8, 11, 14, 18, 21, 24, 29)):
            byte |= ((key >> bit) & 1) << position
        out.append(byte)
        key = ((bin(key & 0x9248144D).count("1") & 1) << 31) | (key >> 1)
    return bytes(out)


def test_recorded_key_exchange_vector() -> None:
    seed = struct.unpack("<I", bytes.fromhex("2421ea51"))[0]
    answer = struct.unpack("<I", bytes.fromhex("f228ae05"))[0]
    key = answer ^ seed
    assert key == 0x544409D6
    assert u.keystream(key, 0, 8).tobytes() == bytes.fromhex("17a04103d9a04025")


@pytest.mark.parametrize("key, start", [(0x544409D6, 0), (0x12345678, 1000), (0xFFFFFFFF, 111000), (1, 5)])
def test_bulk_keystream_matches_the_scalar_lfsr(key: int, start: int) -> None:
    reference = scalar_keystream(key, start + 300)[start:]
    assert u.keystream(key, start, 300).tobytes() == reference


def test_scramble_then_decode_round_trip() -> None:
    rng = np.random.default_rng(3)
    plain = rng.integers(0, 256, 384 * 5, dtype=np.uint8)
    sent = u.scramble_block(plain, 0xCAFEBABE, 77)
    back = u.decode_block(sent, 0xCAFEBABE, 77)
    assert np.array_equal(back[:-1], plain[:-1]) and back[-1] == 0  # the shifted byte is lost


def test_recorded_frame_noise_figures(shared: Path) -> None:
    rec = read_pcapng(shared / "data" / "usb-traces" / "uru4000-4500" / "capture.pcapng")
    payload = next(t.data for t in rec.transfers if t.endpoint == 0x82)
    head = u.parse_header(payload)
    assert head.num_lines == 289 and head.key_number == 0
    assert head.blocks == [(2, 72), (0, 1), (2, 49), (1, 1), (0, 1), (2, 49), (0, 1), (2, 116)]
    rows = np.frombuffer(payload, np.uint8, 289 * 384, 64).reshape(289, 384)
    assert u.is_scrambled(rows)
    seen = []
    image = u.decode_frame(payload, lambda n: seen.append(n) or 0x544409D6, rotate180=True)
    assert seen == [0] and image.shape == (290, 384)


def test_incomplete_frames_are_rejected() -> None:
    header = bytearray(64)
    struct.pack_into("<H", header, 4, 290)  # a 4500 never sends 290 rows
    assert not u.frame_is_complete(bytes(header) + bytes(290 * 384))
    struct.pack_into("<H", header, 4, 10)
    assert not u.frame_is_complete(bytes(header) + bytes(9 * 384))
    with pytest.raises(CaptureFailed):
        u.decode_frame(bytes(header), lambda n: 0)
