"""Fingerprint minutiae templates: the in-memory model and its three byte formats.

* `Template.to_bytes()/from_bytes()` — our own compact, versioned format for the local gallery
  (8 bytes per minutia, 16-bit angles, so nothing is lost on a round trip that matters; since
  version 2 followed by the coarse orientation map the matcher checks alignments with, since
  version 3 with the ridge period per block, see `orientation_map.py`).  Version 1 (no map) and
  2 (no period) records are still read.
* ISO/IEC 19794-2:2005 and ANSI INCITS 378-2004 finger minutiae records — the formats other
  systems (and the portal) exchange.  Both are big-endian; they share the per-view and
  per-minutia layout and differ in the header (ISO: 24 bytes, 4-byte length; ANSI: 26 bytes with
  a CBEFF product id and a 2- or 6-byte length) and in the angle unit (ISO 360/256 degrees, ANSI
  2 degrees).  Layouts: ../shared/notes/mexico-identity.md §7.

Angles follow the ISO convention throughout: radians, counter-clockwise from the +x axis as seen
on the image (y grows downwards), so the direction vector in pixel coordinates is
(cos a, -sin a).  Readers reject malformed records with `TemplateError`, whose message says what
is wrong (truncated, wrong magic or version, lengths that disagree, counts beyond the data,
invalid finger position) — a foreign record must never crash the program.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple

from siaptui.errors import SiaptuiError

if TYPE_CHECKING:  # numpy is imported only where a map is actually read (fast CLI start)
    from siaptui.biometrics.orientation_map import OrientationMap

KINDS = ("ending", "bifurcation")
_ISO_TYPE = {"ending": 1, "bifurcation": 2}
# Type 0 ("other") is legal in both standards; we have no third kind, and a ridge ending is the
# conservative reading (the matcher weighs type agreement lightly).  Type 3 is reserved: an error.
_TYPE_FROM_ISO = {0: "ending", 1: "ending", 2: "bifurcation"}

_OWN_MAGIC = b"SMT"
_OWN_VERSION = 3
_OWN_VERSIONS = (1, 2, 3)  # 1: no orientation map; 2: a map without the period layer
_OWN_HEADER = struct.Struct(">3sBHHHBH")  # magic, version, width, height, dpi, quality, count
_OWN_MINUTIA = struct.Struct(">HHHBB")  # x, y, angle (2*pi/65536), kind, quality
_MAP_SIZE = struct.Struct(">BB")  # orientation map rows, columns (0, 0: none); then 2 or 3 bytes a block
_MAP_LAYERS = {2: 2, 3: 3}  # bytes a map block per record version (version 1 has no map)

_ISO_HEADER = struct.Struct(">4s4sIHHHHHBB")  # 24 bytes
_ANSI_HEADER_TAIL = struct.Struct(">HHHHHHHBB")  # after magic/version/length: 16 bytes
_VIEW_HEADER = struct.Struct(">BBBB")
_MINUTIA = struct.Struct(">HHBB")
_MAGIC = b"FMR\x00"
_VERSION_2005 = b" 20\x00"
_VERSION_ANSI_ALT = b"020\x00"  # some real ANSI 378-2004 writers use this spelling
MAX_POSITION = 10


class TemplateError(SiaptuiError):
    """A template record that cannot be read or written; `detail` says exactly why."""

    code = "template_invalid"

    def __init__(self, reason_key: str, **params: Any) -> None:
        from siaptui.i18n import t

        detail = t(reason_key, **params)
        super().__init__(detail, reason=reason_key, **params)


@dataclass(frozen=True)
class Minutia:
    """One ridge ending or bifurcation: pixel position, direction (radians), quality 0–100."""

    x: float
    y: float
    angle: float
    kind: str = "ending"
    quality: int = 100


@dataclass
class Template:
    """The minutiae of one impression plus the image geometry they were measured on."""

    width: int
    height: int
    dpi: int = 500
    minutiae: List[Minutia] = field(default_factory=list)
    quality: int = 0
    orientation: Optional[OrientationMap] = None  # ours carry one; foreign ISO/ANSI records do not

    def to_bytes(self) -> bytes:
        """Our compact gallery format: 12-byte header + 8 bytes per minutia + the orientation map."""
        _check_geometry(self, 0xFFFF)
        count = len(self.minutiae)
        if count > 0xFFFF:
            raise TemplateError("engine.template.too_many", count=count, limit=0xFFFF)
        parts = [_OWN_HEADER.pack(_OWN_MAGIC, _OWN_VERSION, self.width, self.height, self.dpi,
                                  _clamp_quality(self.quality), count)]
        for m in self.minutiae:
            x, y = _pixel(m.x, 0xFFFF), _pixel(m.y, 0xFFFF)
            angle = int(round(_norm_angle(m.angle) / (2 * math.pi) * 65536)) % 65536
            parts.append(_OWN_MINUTIA.pack(x, y, angle, _ISO_TYPE[_kind(m.kind)], _clamp_quality(m.quality)))
        parts.append(self.orientation.to_bytes() if self.orientation is not None else b"\x00\x00")
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Template":
        data = bytes(data)
        if len(data) < _OWN_HEADER.size:
            raise TemplateError("engine.template.truncated", need=_OWN_HEADER.size, have=len(data))
        magic, version, width, height, dpi, quality, count = _OWN_HEADER.unpack_from(data, 0)
        if magic != _OWN_MAGIC:
            raise TemplateError("engine.template.bad_magic", found=magic.hex())
        if version not in _OWN_VERSIONS:
            raise TemplateError("engine.template.bad_version", found=str(version))
        end = _OWN_HEADER.size + count * _OWN_MINUTIA.size
        layers = _MAP_LAYERS.get(version, 0)
        need = end + (_map_bytes(data, end, layers) if layers else 0)
        if len(data) != need:
            raise TemplateError("engine.template.length_mismatch", declared=need, actual=len(data))
        if dpi == 0:
            raise TemplateError("engine.template.bad_resolution", value=0)
        minutiae = []
        for i in range(count):
            x, y, angle, kind, mq = _OWN_MINUTIA.unpack_from(data, _OWN_HEADER.size + i * _OWN_MINUTIA.size)
            if kind not in _TYPE_FROM_ISO:
                raise TemplateError("engine.template.bad_type", index=i, value=kind)
            minutiae.append(Minutia(float(x), float(y), angle * 2 * math.pi / 65536,
                                    _TYPE_FROM_ISO[kind], min(mq, 100)))
        orientation = None
        if layers and data[end:end + _MAP_SIZE.size] != b"\x00\x00":
            from siaptui.biometrics.orientation_map import OrientationMap

            orientation = OrientationMap.from_bytes(data[end:], layers)
        return cls(width, height, dpi, minutiae, min(quality, 100), orientation)


def views_to_bytes(templates: Sequence[Template]) -> bytes:
    """Several impressions of one finger as one gallery record: own-format records back to back.

    Why keep them all: a later probe placed elsewhere on the glass still finds the finger in the
    view that covers that area.  A single template is a one-view record, so old rows still read.
    """
    if not templates:
        raise TemplateError("engine.template.truncated", need=_OWN_HEADER.size, have=0)
    return b"".join(t.to_bytes() for t in templates)


def views_from_bytes(data: bytes) -> List[Template]:
    """The views of a record written by `views_to_bytes` (or a single `to_bytes` template)."""
    data = bytes(data)
    views: List[Template] = []
    offset = 0
    while offset < len(data) or not views:
        if len(data) - offset < _OWN_HEADER.size:
            raise TemplateError("engine.template.truncated", need=_OWN_HEADER.size, have=len(data) - offset)
        _magic, version, *_rest, count = _OWN_HEADER.unpack_from(data, offset)
        end = offset + _OWN_HEADER.size + count * _OWN_MINUTIA.size
        layers = _MAP_LAYERS.get(version, 0)
        end += _map_bytes(data, end, layers) if layers else 0
        views.append(Template.from_bytes(data[offset:end]))
        offset = end
    return views


def _map_bytes(data: bytes, offset: int, layers: int) -> int:
    """Size of the orientation-map section at `offset` (its 2-byte size field counts even when
    the record is cut short, so the length check reports the truncation)."""
    if len(data) < offset + _MAP_SIZE.size:
        return _MAP_SIZE.size
    rows, cols = _MAP_SIZE.unpack_from(data, offset)
    return _MAP_SIZE.size + layers * rows * cols


# ----------------------------------------------------------------------------- ISO / ANSI writers

def to_iso19794_2(template: Template, finger_position: int, *, impression_type: int = 0,
                  view: int = 0, device_id: int = 0) -> bytes:
    """One-view ISO/IEC 19794-2:2005 record (24-byte header, 6 bytes per minutia)."""
    body = _view_block(template, finger_position, impression_type, view, _iso_angle)
    return _iso_record(template, [body], device_id)


def to_iso19794_2_views(templates: Sequence[Template], finger_position: int, *, impression_type: int = 0,
                        device_id: int = 0) -> bytes:
    """Several impressions of one finger as the views 0, 1, … of one ISO/IEC 19794-2 record.

    Why: the portal's duplicate search then holds what the capture kept (all agreeing
    impressions), the same as the office gallery, so the two checks see the same fingers.  The
    record's image size is the largest of the views (one sensor: they are all the same).
    """
    if not 1 <= len(templates) <= 16:
        raise TemplateError("engine.template.bad_field", name="view")
    bodies = [_view_block(t, finger_position, impression_type, view, _iso_angle) for view, t in enumerate(templates)]
    frame = max(templates, key=lambda t: (t.width, t.height))
    return _iso_record(frame, bodies, device_id)


def _iso_record(frame: Template, bodies: Sequence[bytes], device_id: int) -> bytes:
    resolution = _px_per_cm(frame.dpi)
    length = _ISO_HEADER.size + sum(len(b) for b in bodies)
    header = _ISO_HEADER.pack(_MAGIC, _VERSION_2005, length, _equipment(device_id),
                              frame.width, frame.height, resolution, resolution, len(bodies), 0)
    return header + b"".join(bodies)


def to_ansi378(template: Template, finger_position: int, *, impression_type: int = 0, view: int = 0,
               device_id: int = 0, product_owner: int = 0, product_type: int = 0) -> bytes:
    """One-view ANSI INCITS 378-2004 record (26-byte header, or 30 with the long length)."""
    body = _view_block(template, finger_position, impression_type, view, _ansi_angle)
    resolution = _px_per_cm(template.dpi)
    if not (0 <= product_owner <= 0xFFFF and 0 <= product_type <= 0xFFFF):
        raise TemplateError("engine.template.bad_field", name="CBEFF product id")
    tail = _ANSI_HEADER_TAIL.pack(product_owner, product_type, _equipment(device_id), template.width,
                                  template.height, resolution, resolution, 1, 0)
    short_total = 4 + 4 + 2 + len(tail) + len(body)
    if short_total <= 0xFFFF:
        length = struct.pack(">H", short_total)
    else:
        length = struct.pack(">HI", 0, short_total + 4)
    return _MAGIC + _VERSION_2005 + length + tail + body


# ----------------------------------------------------------------------------- ISO / ANSI readers

def from_iso19794_2(data: bytes) -> List[Tuple[int, Template]]:
    """Every view of an ISO/IEC 19794-2:2005 record as (finger_position, Template)."""
    data = bytes(data)
    if len(data) < _ISO_HEADER.size:
        raise TemplateError("engine.template.truncated", need=_ISO_HEADER.size, have=len(data))
    magic, version, length, _equip, width, height, xres, yres, views, _ = _ISO_HEADER.unpack_from(data, 0)
    _check_magic(magic, version, (_VERSION_2005,))
    if length != len(data):
        raise TemplateError("engine.template.length_mismatch", declared=length, actual=len(data))
    return _read_views(data, _ISO_HEADER.size, views, width, height, xres, yres, _iso_radians)


def from_ansi378(data: bytes) -> List[Tuple[int, Template]]:
    """Every view of an ANSI INCITS 378-2004 record as (finger_position, Template)."""
    data = bytes(data)
    if len(data) < 26:
        raise TemplateError("engine.template.truncated", need=26, have=len(data))
    _check_magic(data[0:4], data[4:8], (_VERSION_2005, _VERSION_ANSI_ALT))
    (length,) = struct.unpack_from(">H", data, 8)
    offset = 10
    if length == 0:
        if len(data) < 30:
            raise TemplateError("engine.template.truncated", need=30, have=len(data))
        (length,) = struct.unpack_from(">I", data, 10)
        offset = 14
    if length != len(data):
        raise TemplateError("engine.template.length_mismatch", declared=length, actual=len(data))
    _owner, _ptype, _equip, width, height, xres, yres, views, _ = _ANSI_HEADER_TAIL.unpack_from(data, offset)
    return _read_views(data, offset + _ANSI_HEADER_TAIL.size, views, width, height, xres, yres,
                       _ansi_radians)


# ----------------------------------------------------------------------------- shared helpers

def _view_block(template: Template, position: int, impression_type: int, view: int,
                angle_code: Callable[[float], int]) -> bytes:
    _check_position(position)
    if not 0 <= view <= 15:
        raise TemplateError("engine.template.bad_field", name="view")
    if impression_type not in (0, 1, 2, 3, 8):
        raise TemplateError("engine.template.bad_field", name="impression_type")
    _check_geometry(template, 0x3FFF)
    if len(template.minutiae) > 255:
        raise TemplateError("engine.template.too_many", count=len(template.minutiae), limit=255)
    parts = [_VIEW_HEADER.pack(position, (view << 4) | impression_type,
                               _clamp_quality(template.quality), len(template.minutiae))]
    for m in template.minutiae:
        x, y = _pixel(m.x, 0x3FFF), _pixel(m.y, 0x3FFF)
        parts.append(_MINUTIA.pack((_ISO_TYPE[_kind(m.kind)] << 14) | x, y, angle_code(m.angle),
                                   _clamp_quality(m.quality)))
    parts.append(b"\x00\x00")  # no extended data
    return b"".join(parts)


def _read_views(data: bytes, offset: int, views: int, width: int, height: int, xres: int, yres: int,
                to_radians: Callable[[int, int], float]) -> List[Tuple[int, Template]]:
    if xres == 0 or yres == 0:
        raise TemplateError("engine.template.bad_resolution", value=min(xres, yres))
    if views == 0:
        raise TemplateError("engine.template.no_views")
    dpi = int(round(xres * 2.54))
    found: List[Tuple[int, Template]] = []
    for v in range(views):
        if offset + _VIEW_HEADER.size > len(data):
            raise TemplateError("engine.template.views_beyond", view=v + 1, views=views)
        position, view_imp, quality, count = _VIEW_HEADER.unpack_from(data, offset)
        _check_position(position)
        offset += _VIEW_HEADER.size
        end = offset + count * _MINUTIA.size
        if end + 2 > len(data):
            raise TemplateError("engine.template.count_beyond", view=v + 1, count=count)
        minutiae = []
        for i in range(count):
            tx, y, angle, mq = _MINUTIA.unpack_from(data, offset + i * _MINUTIA.size)
            kind_code = tx >> 14
            if kind_code not in _TYPE_FROM_ISO:
                raise TemplateError("engine.template.bad_type", index=i + 1, value=kind_code)
            minutiae.append(Minutia(float(tx & 0x3FFF), float(y & 0x3FFF), to_radians(angle, i),
                                    _TYPE_FROM_ISO[kind_code], min(mq, 100)))
        offset = end
        (extended,) = struct.unpack_from(">H", data, offset)
        offset += 2 + extended
        if offset > len(data):
            raise TemplateError("engine.template.extended_beyond", view=v + 1, length=extended)
        found.append((position, Template(width, height, dpi, minutiae, min(quality, 100))))
    if offset != len(data):
        raise TemplateError("engine.template.length_mismatch", declared=len(data), actual=offset)
    return found


def _check_magic(magic: bytes, version: bytes, accepted: Tuple[bytes, ...]) -> None:
    if magic != _MAGIC:
        raise TemplateError("engine.template.bad_magic", found=magic.hex())
    if version not in accepted:
        raise TemplateError("engine.template.bad_version", found=version.hex())


def _check_position(position: int) -> None:
    if not (isinstance(position, int) and 0 <= position <= MAX_POSITION):
        raise TemplateError("engine.template.bad_position", value=position)


def _check_geometry(template: Template, limit: int) -> None:
    for name, value in (("width", template.width), ("height", template.height), ("dpi", template.dpi)):
        if not (isinstance(value, int) and 0 < value <= limit):
            raise TemplateError("engine.template.bad_field", name=name)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise TemplateError("engine.template.bad_kind", value=kind)
    return kind


def _pixel(value: float, limit: int) -> int:
    number = int(round(value))
    if not 0 <= number <= limit:
        raise TemplateError("engine.template.bad_field", name="x/y")
    return number


def _clamp_quality(value: float) -> int:
    return int(min(100, max(0, round(value))))


def _norm_angle(angle: float) -> float:
    return float(angle) % (2 * math.pi)


def _px_per_cm(dpi: int) -> int:
    return int(round(dpi / 2.54))


def _equipment(device_id: int) -> int:
    if not 0 <= device_id <= 0x0FFF:
        raise TemplateError("engine.template.bad_field", name="device_id")
    return device_id


def _iso_angle(angle: float) -> int:
    return int(round(_norm_angle(angle) * 256 / (2 * math.pi))) % 256


def _ansi_angle(angle: float) -> int:
    return int(round(math.degrees(_norm_angle(angle)) / 2)) % 180


def _iso_radians(code: int, index: int) -> float:
    return code * 2 * math.pi / 256


def _ansi_radians(code: int, index: int) -> float:
    if code > 179:
        raise TemplateError("engine.template.bad_angle", index=index + 1, value=code)
    return math.radians(code * 2)
