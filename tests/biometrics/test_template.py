"""Templates: own format, ISO/IEC 19794-2:2005 and ANSI INCITS 378-2004, good and malformed."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from siaptui.biometrics.orientation_map import OrientationMap
from siaptui.biometrics.template import (
    Minutia,
    Template,
    TemplateError,
    from_ansi378,
    from_iso19794_2,
    to_ansi378,
    to_iso19794_2,
)
from siaptui.errors import describe


def _template(count: int = 30) -> Template:
    minutiae = [
        Minutia(x=float(10 + 7 * i % 300), y=float(20 + 11 * i % 350), angle=(i * 0.37) % (2 * math.pi),
                kind="bifurcation" if i % 3 == 0 else "ending", quality=(i * 13) % 101)
        for i in range(count)
    ]
    return Template(width=388, height=374, dpi=500, minutiae=minutiae, quality=71)


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + math.pi) % (2 * math.pi) - math.pi)


def _assert_same(original: Template, decoded: Template, step: float) -> None:
    assert (decoded.width, decoded.height, decoded.dpi, decoded.quality) == (
        original.width, original.height, original.dpi, original.quality)
    assert len(decoded.minutiae) == len(original.minutiae)
    for a, b in zip(original.minutiae, decoded.minutiae):
        assert (a.x, a.y, a.kind, a.quality) == (b.x, b.y, b.kind, b.quality)
        assert _angle_gap(a.angle, b.angle) <= step / 2 + 1e-9


def _with_map(template: Template) -> Template:
    angle = np.arange(6 * 5, dtype=np.uint8).reshape(6, 5) * 7
    strength = np.where(np.arange(30).reshape(6, 5) % 4 == 0, 0, 200).astype(np.uint8)
    period = np.where(strength > 0, 80 + np.arange(30).reshape(6, 5), 0).astype(np.uint8)
    template.orientation = OrientationMap(angle, strength, period)
    return template


def test_own_format_round_trip_is_compact() -> None:
    original = _template()
    data = original.to_bytes()
    assert len(data) == 13 + 8 * 30 + 2  # header, minutiae, an empty (0×0) orientation map
    decoded = Template.from_bytes(data)
    _assert_same(original, decoded, 2 * math.pi / 65536)
    assert decoded.orientation is None


def test_own_format_keeps_the_orientation_map_exactly() -> None:
    original = _with_map(_template())
    data = original.to_bytes()
    assert len(data) == 13 + 8 * 30 + 2 + 3 * 30
    decoded = Template.from_bytes(data)
    _assert_same(original, decoded, 2 * math.pi / 65536)
    assert decoded.orientation == original.orientation
    assert decoded.orientation.period is not None


def test_own_format_version_2_records_are_read_without_periods() -> None:
    """Version 2 stored the map's angle and strength only: it still reads, with no period layer
    (the matcher then checks the flow alone)."""
    original = _with_map(_template(5))
    current = original.to_bytes()
    version_2 = current[:3] + b"\x02" + current[4:-30]  # the period layer is the last 30 bytes
    decoded = Template.from_bytes(version_2)
    assert decoded.orientation.period is None
    assert np.array_equal(decoded.orientation.angle, original.orientation.angle)
    assert np.array_equal(decoded.orientation.strength, original.orientation.strength)


def test_own_format_version_1_records_are_still_read() -> None:
    """Galleries enrolled before the maps existed keep working (matched on minutiae alone)."""
    current = _template(5).to_bytes()
    version_1 = current[:3] + b"\x01" + current[4:-2]
    decoded = Template.from_bytes(version_1)
    assert len(decoded.minutiae) == 5 and decoded.orientation is None


@pytest.mark.parametrize("cut", [1, 2, 3, 31, 91])
def test_own_format_with_a_cut_map_says_so(cut: int) -> None:
    data = _with_map(_template(4)).to_bytes()
    with pytest.raises(TemplateError) as caught:
        Template.from_bytes(data[:-cut])
    assert caught.value.params["reason"] in ("engine.template.length_mismatch", "engine.template.truncated")


def test_iso_round_trip_quantises_angles_to_360_over_256() -> None:
    original = _template()
    data = to_iso19794_2(original, 7, impression_type=0, view=0, device_id=5)
    assert data[:8] == b"FMR\x00 20\x00"
    assert struct.unpack(">I", data[8:12])[0] == len(data) == 24 + 4 + 6 * 30 + 2
    assert struct.unpack(">HH", data[18:22]) == (197, 197)
    [(position, decoded)] = from_iso19794_2(data)
    assert position == 7
    _assert_same(original, decoded, 2 * math.pi / 256)


def test_ansi_round_trip_uses_2_degree_units_and_26_byte_header() -> None:
    original = _template()
    data = to_ansi378(original, 2, product_owner=0x0033, product_type=0x0101)
    assert struct.unpack(">H", data[8:10])[0] == len(data) == 26 + 4 + 6 * 30 + 2
    assert struct.unpack(">HH", data[10:14]) == (0x0033, 0x0101)
    [(position, decoded)] = from_ansi378(data)
    assert position == 2
    _assert_same(original, decoded, math.radians(2))
    assert all(byte <= 179 for byte in data[26 + 4 + 4::6][:30])


def test_ansi_reader_accepts_the_six_byte_length() -> None:
    short = to_ansi378(_template(5), 1)
    body = short[10:]
    long_form = short[:8] + struct.pack(">HI", 0, len(short) + 4) + body
    [(position, decoded)] = from_ansi378(long_form)
    assert position == 1 and len(decoded.minutiae) == 5


def _documented_sample() -> bytes:
    """mexico-identity.md §7.2: 340 bytes, 512x512, 197 px/cm, 2 views, first minutia (100, 14)."""
    head = bytes.fromhex("464D5200 20323000 00000154 00B5 0200 0200 00C5 00C5 02 00".replace(" ", ""))
    view1 = bytes.fromhex("07005A1B") + bytes.fromhex("4064000E505A")
    view1 += b"".join(struct.pack(">HHBB", (1 << 14) | (50 + i), 60 + i, i, 50) for i in range(26))
    view1 += b"\x00\x00"
    # Second view: 23 minutiae and a 4-byte extended data block, filling the declared 340 bytes.
    view2 = bytes([8, 0, 60, 23]) + b"".join(struct.pack(">HHBB", (2 << 14) | i, i, 0, 40) for i in range(23))
    view2 += struct.pack(">H", 4) + b"\x00\x00\x00\x00"
    record = head + view1 + view2
    assert len(record) == 340
    return record


def test_decodes_the_documented_sample_header() -> None:
    views = from_iso19794_2(_documented_sample())
    assert [p for p, _ in views] == [7, 8]
    position, first = views[0]
    assert (first.width, first.height, first.dpi, first.quality) == (512, 512, 500, 90)
    assert len(first.minutiae) == 27
    m = first.minutiae[0]
    assert (m.x, m.y, m.kind, m.quality) == (100, 14, "ending", 90)
    assert math.degrees(m.angle) == pytest.approx(80 * 360 / 256)
    assert views[1][1].minutiae[0].kind == "bifurcation"


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda d: d[:10], "engine.template.truncated"),
        (lambda d: b"XMR\x00" + d[4:], "engine.template.bad_magic"),
        (lambda d: d[:4] + b"030\x00" + d[8:], "engine.template.bad_version"),
        (lambda d: d + b"\x00", "engine.template.length_mismatch"),
        (lambda d: d[:22] + b"\x05" + d[23:], "engine.template.views_beyond"),
        (lambda d: d[:24] + bytes([11]) + d[25:], "engine.template.bad_position"),
        (lambda d: d[:27] + bytes([200]) + d[28:], "engine.template.count_beyond"),
    ],
)
def test_malformed_iso_records_say_why(mutate, reason) -> None:
    with pytest.raises(TemplateError) as caught:
        from_iso19794_2(mutate(to_iso19794_2(_template(10), 3)))
    assert caught.value.code == "template_invalid"
    assert caught.value.params["reason"] == reason
    message, fix = describe(caught.value)
    assert "plantilla" in message and fix


def test_malformed_ansi_angle_and_writer_limits() -> None:
    data = bytearray(to_ansi378(_template(3), 3))
    data[26 + 4 + 4] = 200  # first minutia's angle byte: beyond 179
    with pytest.raises(TemplateError) as caught:
        from_ansi378(bytes(data))
    assert caught.value.params["reason"] == "engine.template.bad_angle"
    with pytest.raises(TemplateError):
        to_iso19794_2(_template(3), 11)
    with pytest.raises(TemplateError):
        to_iso19794_2(_template(256), 1)
    with pytest.raises(TemplateError):
        Template.from_bytes(b"SMT\x09" + bytes(8))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_never_crash(blob: bytes) -> None:
    for reader in (from_iso19794_2, from_ansi378, Template.from_bytes):
        try:
            reader(blob)
        except TemplateError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 1000), st.integers(0, 255), st.integers(0, 400))
def test_mutated_records_never_crash(index: int, value: int, cut: int) -> None:
    own = bytearray(_with_map(_template(12)).to_bytes())
    own[index % len(own)] = value
    for candidate in (bytes(own), bytes(own[: cut % (len(own) + 1)])):
        try:
            Template.from_bytes(candidate)
        except TemplateError:
            pass
    for writer, reader in ((to_iso19794_2, from_iso19794_2), (to_ansi378, from_ansi378)):
        data = bytearray(writer(_template(12), 4))
        data[index % len(data)] = value
        for candidate in (bytes(data), bytes(data[: cut % (len(data) + 1)])):
            try:
                views = reader(candidate)
            except TemplateError:
                continue
            assert all(0 <= p <= 10 for p, _ in views)
