"""`emulator:uru4500` — a DigitalPersona U.are.U 4500 in software, behind a pyusb backend.

Why: the demo, training and the fault tests need a reader that behaves like the real one —
descriptors, registers, power-up IRQs, finger on/off, key exchange and *scrambled* frames — so
the real driver's every path (decode included) runs without hardware.  Frames are made from
fingerprint images (default: the synthetic fingers of `siaptui.synth`), converted to
what the sensor sends (bright ridges, rotated 180°), split into the recorded block layout and
scrambled with the same keystream a real 4500 uses.

Spec options (after `emulator:uru4500`, separated by `:` or `,`; also accepted as keyword
arguments of `open_scanner`):

* `on=S` seconds from "waiting for finger" to finger on (default 1.0); `hold=S` seconds the
  finger stays (default 1.5); `manual` — the finger moves only via `place_finger()` /
  `lift_finger()` on the backend (tests);
* `frame_ms=N` bulk transfer time per frame (default 128, as measured on a real 4500);
* `plain` — send unscrambled frames (some 4000B units do); `pid=000e` — present another PID;
* `person=N`, `finger=N` — which synthetic finger to show;
* `replug=S` seconds until an unplugged reader comes back (default 1.0; 0 = never);
* `fault=NAME[+NAME…]` with NAME one of: `death` (interrupt of death, then an empty frame),
  `stall` (bulk endpoint stalls, EPIPE), `timeout` (bulk reads time out), `nopower` (the
  0x56AA power IRQ never comes), `unplug` (ENODEV in the middle of the first frame), `busy`
  (EBUSY at claim), `eacces` (no permission), `wrong_driver` (Windows vendor driver:
  NotImplementedError), `kernel_driver` (a kernel driver that cannot be detached), `no_backend`
  (no libusb), `absent` (no reader: only the root hub on the bus), `no_bus` (no USB bus at all,
  as in a virtual machine or a container without the device passed through);
* `node=PATH` — the device-node path `siaptui doctor` searches in /proc/*/fd (busy tests).

Example: `emulator:uru4500:fault=unplug:replug=0.5:on=0.2`.
"""

from __future__ import annotations

import errno
import logging
import random
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, FrozenSet, Optional, Tuple

import numpy as np

from siaptui.devices.base import NoBackend, UnsupportedDevice
from siaptui.devices.drivers import uru4000 as proto
from siaptui.devices.fakeusb import FakeBackend, FakeDevice, enodev, usb_error
from siaptui.devices.usbopen import UsbScanner

log = logging.getLogger(__name__)

FAULTS = frozenset({"death", "stall", "timeout", "nopower", "unplug", "busy", "eacces", "wrong_driver",
                    "kernel_driver", "no_backend", "absent", "no_bus"})
# model -> (VID, PID); "msv2" is the Microsoft Fingerprint Reader v2 with its AES challenge-response.
MODELS = {"uru4500": (0x05BA, 0x000A), "uru4000": (0x05BA, 0x0007), "msv2": (0x045E, 0x00CA)}

# A real 4500's descriptors (../shared/notes/scanners-usb.md §1.2), PID patched per model.
#: A USB 2.0 root hub (1d6b:0002), what every real host's bus shows besides its devices.
_DESCRIPTORS_ROOT_HUB = bytes.fromhex(
    "12010002090001406B1D020015050302010109021900010100E0000904000001090000000705810304000C")
_DESCRIPTORS_4500 = bytes.fromhex(
    "1201000200000040BA050A0003010102030109022000010100806409040000" "02FFFFFF0007058103400008070582024000" "00")
#: The block layout of the recorded 4500 frame: (flags, lines); 289 rows sent, 290 assembled.
RECORDED_LAYOUT = ((0x02, 72), (0x00, 1), (0x02, 49), (0x01, 1), (0x00, 1), (0x02, 49), (0x00, 1), (0x02, 116))


@dataclass
class EmulatorOptions:
    model: str = "uru4500"
    pid: Optional[int] = None
    on: float = 1.0
    hold: float = 1.5
    manual: bool = False
    frame_ms: float = 128.0
    plain: bool = False
    person: int = 1
    finger: int = 2
    replug: float = 1.0
    faults: FrozenSet[str] = frozenset()
    node: str = ""
    layout: Tuple[Tuple[int, int], ...] = RECORDED_LAYOUT
    image: Any = None  # ndarray or callable(impression) -> ndarray; None = synthetic fingers


def parse_options(rest: str, spec: str = "", **extra: Any) -> EmulatorOptions:
    """`uru4500:fault=stall:on=0.2` (+ keyword overrides) -> EmulatorOptions; bad input names the spec."""
    tokens = [t for t in rest.replace(",", ":").split(":") if t.strip()]
    opts = EmulatorOptions()
    if tokens and "=" not in tokens[0] and tokens[0] not in ("plain", "manual"):
        opts.model = tokens.pop(0).strip().lower()
    if opts.model not in MODELS:
        raise UnsupportedDevice(f"unknown emulator model {opts.model!r}", spec=spec or rest)
    pairs: list[tuple[str, Any]] = []
    for token in tokens:
        key, sep, value = token.partition("=")
        pairs.append((key.strip().lower(), value.strip() if sep else True))
    pairs.extend(extra.items())
    faults = set()
    try:
        for key, value in pairs:
            if key == "fault":
                names = value if isinstance(value, (set, frozenset, list, tuple)) else str(value).split("+")
                for name in names:
                    if name not in FAULTS:
                        raise ValueError(f"unknown fault {name!r} (known: {', '.join(sorted(FAULTS))})")
                    faults.add(name)
            elif key in ("on", "hold", "frame_ms", "replug"):
                setattr(opts, key, float(value))
            elif key in ("person", "finger"):
                setattr(opts, key, int(value))
            elif key == "pid":
                opts.pid = value if isinstance(value, int) else int(str(value), 16)
            elif key in ("plain", "manual"):
                setattr(opts, key, value is True or str(value).lower() in ("1", "true", "yes", "si", "sí"))
            elif key in ("node", "layout", "image"):
                setattr(opts, key, value)
            else:
                raise ValueError(f"unknown emulator option {key!r}")
    except ValueError as exc:
        raise UnsupportedDevice(f"{spec or rest}: {exc}", spec=spec or rest, detail=str(exc)) from exc
    opts.faults = frozenset(faults)
    present = sum(lines for flags, lines in opts.layout if not flags & proto.BLOCK_NOT_PRESENT)
    if (len(opts.layout) > 15 or present >= proto.HEIGHT
            or any(not (0 <= f <= 255 and 1 <= n <= 255) for f, n in opts.layout)):
        raise UnsupportedDevice(f"{spec or rest}: bad block layout", spec=spec or rest,
                                detail="≤15 bloques de 1–255 líneas y menos de 290 líneas presentes")
    return opts


# --------------------------------------------------------------------------- images


def _builtin_pattern(impression: int) -> np.ndarray:
    """Concentric ridges (a "whorl"), used ONLY when siaptui.synth is unavailable."""
    yy, xx = np.mgrid[0:290, 0:384].astype(np.float32)
    cy, cx = 145 + 3 * (impression % 5), 192 + 4 * (impression % 7)
    r = np.hypot((yy - cy) * 1.2, xx - cx)
    ridges = 0.5 + 0.5 * np.cos(2 * np.pi * r / 9.0)
    inside = r < 130
    return np.where(inside, 255 - ridges * 190, 235).astype(np.uint8)


def fit_sensor(image: np.ndarray) -> np.ndarray:
    """Centre-crop or pad (white) any uint8 image to the sensor's 290×384."""
    out = np.full((proto.HEIGHT, proto.WIDTH), 255, dtype=np.uint8)
    h, w = image.shape[:2]
    sy, sx = max(0, (h - proto.HEIGHT) // 2), max(0, (w - proto.WIDTH) // 2)
    crop = image[sy : sy + proto.HEIGHT, sx : sx + proto.WIDTH]
    oy, ox = (proto.HEIGHT - crop.shape[0]) // 2, (proto.WIDTH - crop.shape[1]) // 2
    out[oy : oy + crop.shape[0], ox : ox + crop.shape[1]] = crop
    return out


class ImageSource:
    """Which fingerprint the emulated finger shows, one impression per placement."""

    def __init__(self, opts: EmulatorOptions) -> None:
        self.opts = opts
        self.label = "image"
        self._synth: Optional[Callable[..., np.ndarray]] = None
        if opts.image is None:
            try:
                from siaptui.synth import finger_image

                self._synth = finger_image
                self.label = "synth"
            except ImportError:
                self.label = "builtin-pattern"
                log.warning("emulator: siaptui.synth unavailable; using the built-in ridge pattern")

        self._cache: dict[tuple[int, int, int], np.ndarray] = {}
        self._pending: dict[tuple[int, int, int], threading.Event] = {}
        self._lock = threading.Lock()

    def image(self, impression: int) -> np.ndarray:
        src = self.opts.image
        if callable(src):
            img = src(impression)  # evaluated per frame: tests may script what the finger shows
        elif src is not None:
            img = src
        elif self._synth is not None:
            return self._synthetic((self.opts.person, self.opts.finger, impression))
        else:
            img = _builtin_pattern(impression)
        return fit_sensor(np.asarray(img, dtype=np.uint8))

    def prefetch(self, impression: int) -> None:
        """Start drawing the next synthetic impression while the finger is "on its way".

        Why: a new synthetic finger costs ~0.5 s on an old PC; drawn inside the bulk read it
        would make the emulated 4500 look far slower than the real one (~128 ms per frame).
        """
        if self.opts.image is None and self._synth is not None:
            key = (self.opts.person, self.opts.finger, impression)
            threading.Thread(target=self._synthetic, args=(key,), daemon=True, name="emulator-synth").start()

    def _synthetic(self, key: tuple[int, int, int]) -> np.ndarray:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            waiting = self._pending.get(key)
            if waiting is None:
                self._pending[key] = threading.Event()
        if waiting is not None:  # another thread is drawing it
            waiting.wait()
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
        assert self._synth is not None
        try:
            img = fit_sensor(np.asarray(self._synth(*key), dtype=np.uint8))
        finally:
            with self._lock:
                done = self._pending.pop(key, None)
        with self._lock:
            if len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = img
        if done is not None:
            done.set()
        return img


# --------------------------------------------------------------------------- the device


class Emulated4500(FakeDevice):
    """Register file and finger state of one plugged-in emulated reader."""

    def __init__(self, opts: EmulatorOptions, address: int, serial: str) -> None:
        raw = bytearray(_DESCRIPTORS_4500)
        vid, pid = MODELS[opts.model]
        pid = opts.pid if opts.pid is not None else pid
        raw[8:10] = struct.pack("<H", vid)
        raw[10:12] = struct.pack("<H", pid)
        super().__init__(bytes(raw), {1: "DigitalPersona, Inc.", 2: "U.are.U® 4500 Fingerprint Reader", 3: serial},
                         bus=1, address=address)
        self.present = True
        self.challenge_response = proto.PROFILES.get((vid, pid), proto.Profile("")).challenge_response
        self.challenge = b""
        self.authenticated = False
        self.hwstat = 0x01
        self.mode = proto.MODE_INIT
        self.irqs: list[tuple[float, int]] = []  # (due time, type)
        self.key_number = 0
        self.pending_seed: Optional[int] = None
        self.finger_on_at: Optional[float] = None
        self.finger_off_at: Optional[float] = None
        self.reported_on = False
        self.reported_off = False
        self.impression = -1
        self.death_pending = False


class EmulatorBackend(FakeBackend):
    """The emulated bus: zero or one 4500, with faults and simulated unplug/replug."""

    def __init__(self, opts: Optional[EmulatorOptions] = None) -> None:
        super().__init__()
        self.opts = opts or EmulatorOptions()
        self.images = ImageSource(self.opts)
        self._rng = random.Random(0x4500)
        self._keys: dict[int, int] = {}
        self._lock = threading.RLock()
        self._address = 4
        self.unplugged_once = False
        self.death_sent = False
        self.frames_sent = 0
        self.last_image: Optional[np.ndarray] = None
        self.last_seed_writes: list[int] = []
        self.hubs: list[FakeDevice] = []
        if "no_bus" not in self.opts.faults:
            self.hubs = [FakeDevice(_DESCRIPTORS_ROOT_HUB, {1: "0000:00:14.0", 2: "xHCI Host Controller",
                                                            3: "Linux 5.15.0 xhci-hcd"}, bus=1, address=1)]
        self.devices = list(self.hubs)
        if not {"absent", "no_bus"} & set(self.opts.faults):
            self.plug()

    # -- bus events
    def plug(self) -> None:
        with self._lock:
            self._address += 1
            serial = f"{{EMU-4500-0000-{self._address:04d}}}"
            self.devices = [Emulated4500(self.opts, self._address, serial), *self.hubs]

    def unplug(self, replug_after: Optional[float] = None) -> None:
        with self._lock:
            for dev in self.devices:
                if isinstance(dev, Emulated4500):
                    dev.present = False
            self.devices = list(self.hubs)
        if replug_after and replug_after > 0:
            timer = threading.Timer(replug_after, self.plug)
            timer.daemon = True
            timer.start()

    @property
    def device(self) -> Optional[Emulated4500]:
        dev = self.devices[0] if self.devices else None
        return dev if isinstance(dev, Emulated4500) else None

    def node_path(self, dev: Any) -> str:
        """What `siaptui doctor` looks for in /proc/*/fd (a real reader: /dev/bus/usb/BBB/DDD)."""
        return self.opts.node or f"/dev/bus/usb/{dev.bus:03d}/{dev.address:03d}"

    # -- manual finger (tests, training)
    def place_finger(self, hold: Optional[float] = None) -> None:
        """A finger on the glass now; it stays until `lift_finger()`, or `hold` seconds."""
        dev = self.device
        if dev is not None:
            now = time.monotonic()
            dev.finger_on_at, dev.finger_off_at = now, (None if hold is None else now + hold)
            dev.reported_on = dev.reported_off = False

    def lift_finger(self) -> None:
        dev = self.device
        if dev is not None:
            dev.finger_off_at = time.monotonic()

    def _finger_present(self, dev: Emulated4500, now: float) -> bool:
        return (dev.finger_on_at is not None and now >= dev.finger_on_at
                and (dev.finger_off_at is None or now < dev.finger_off_at))

    # -- access faults
    def check_present(self, dev: Any) -> None:
        if not getattr(dev, "present", True):
            raise enodev()

    def open_device(self, dev: Any) -> Any:
        self.check_present(dev)
        if "eacces" in self.opts.faults:
            raise usb_error("Access denied (insufficient permissions)", -3, errno.EACCES)
        if "wrong_driver" in self.opts.faults:
            raise NotImplementedError("Operation not supported or unimplemented on this platform")
        return dev

    def claim_interface(self, dev_handle: Any, intf: int) -> None:
        self.check_present(dev_handle)
        if "busy" in self.opts.faults:
            raise usb_error("Resource busy", -6, errno.EBUSY)
        dev_handle.claimed.add(intf)

    def is_kernel_driver_active(self, dev_handle: Any, intf: int) -> bool:
        return "kernel_driver" in self.opts.faults

    def detach_kernel_driver(self, dev_handle: Any, intf: int) -> None:
        raise usb_error("Resource busy", -6, errno.EBUSY)

    # -- registers
    def _key(self, number: int) -> int:
        if number not in self._keys:
            self._keys[number] = self._rng.getrandbits(32)
        return self._keys[number]

    def vendor_control(self, dev: Any, request_type: int, request: int, value: int, index: int,
                       length: int, data: bytes, timeout: int) -> bytes:
        if request != proto.REQ:
            raise usb_error("Pipe error", -9, errno.EPIPE)
        with self._lock:
            if request_type & 0x80:
                return self._read_register(dev, value, length)
            self._write_register(dev, value, data)
            return b""

    def _read_register(self, dev: Emulated4500, reg: int, length: int) -> bytes:
        if reg == proto.REG_HWSTAT:
            return bytes([dev.hwstat])[:length]
        if reg == proto.REG_SCRAMBLE_KEY:
            seed = dev.pending_seed or 0
            return struct.pack("<I", self._key(dev.key_number) ^ seed)[:length]
        if reg == proto.REG_DEVICE_INFO:
            return bytes.fromhex("1a0a1a0a01150000002000108b211130")[:length]
        if reg == proto.REG_CHALLENGE:
            dev.challenge = bytes(random.getrandbits(8) for _ in range(16))
            return dev.challenge[:length]
        return bytes(length)

    def _write_register(self, dev: Emulated4500, reg: int, data: bytes) -> None:
        now = time.monotonic()
        if reg == proto.REG_HWSTAT and data:
            was_down = bool(dev.hwstat & 0x80)
            dev.hwstat = data[0]
            if dev.challenge_response and not dev.authenticated:
                dev.hwstat |= 0x80  # a v2 reader stays powered down until it is answered
                return
            if was_down and not data[0] & 0x80 and "nopower" not in self.opts.faults:
                dev.irqs.extend((now + 0.001 + 0.008 * i, proto.IRQ_SCANPWR_ON) for i in range(3))
        elif reg == proto.REG_RESPONSE and dev.challenge:
            dev.authenticated = data == proto.challenge_response(dev.challenge)
        elif reg == proto.REG_SCRAMBLE_INDEX and len(data) == 5:
            dev.key_number = data[0]
            dev.pending_seed = struct.unpack_from("<I", data, 1)[0]
            self.last_seed_writes.append(dev.pending_seed)
        elif reg == proto.REG_MODE and data:
            dev.mode = data[0]
            if dev.mode == proto.MODE_AWAIT_FINGER_ON:
                dev.reported_on = False
                self.images.prefetch(dev.impression + 1)
                if not self.opts.manual and not self._finger_present(dev, now):
                    dev.finger_on_at = now + self.opts.on
                    dev.finger_off_at = dev.finger_on_at + self.opts.hold
            elif dev.mode == proto.MODE_AWAIT_FINGER_OFF:
                dev.reported_off = False
            elif dev.mode == proto.MODE_CAPTURE and "death" in self.opts.faults and not self.death_sent:
                self.death_sent = True  # one-shot, like the field reports: the next try works
                dev.irqs.append((now, proto.IRQ_DEATH))
                dev.death_pending = True

    # -- endpoints
    def read_endpoint(self, dev: Any, ep: int, size: int, timeout: int) -> bytes:
        if ep == proto.EP_INTR:
            return self._interrupt(dev, timeout)
        if ep == proto.EP_DATA:
            return self._frame(dev, size, timeout)
        raise usb_error("Pipe error", -9, errno.EPIPE)

    def _due_irq(self, dev: Emulated4500, now: float) -> Optional[int]:
        with self._lock:
            if dev.mode == proto.MODE_AWAIT_FINGER_ON and not dev.reported_on and self._finger_present(dev, now):
                dev.reported_on = True
                dev.impression += 1
                return proto.IRQ_FINGER_ON
            if (dev.mode == proto.MODE_AWAIT_FINGER_OFF and not dev.reported_off
                    and not self._finger_present(dev, now)):
                dev.reported_off = True
                return proto.IRQ_FINGER_OFF
            dev.irqs.sort()
            if dev.irqs and dev.irqs[0][0] <= now:
                return dev.irqs.pop(0)[1]
        return None

    def _interrupt(self, dev: Emulated4500, timeout: int) -> bytes:
        deadline = time.monotonic() + (timeout / 1000.0 if timeout else 3600.0)
        while True:
            self.check_present(dev)
            now = time.monotonic()
            kind = self._due_irq(dev, now)
            if kind is not None:
                return struct.pack(">H", kind) + bytes(62)
            if now >= deadline:
                raise usb_error("Operation timed out", -7, errno.ETIMEDOUT)
            time.sleep(min(0.005, max(0.0, deadline - now)))

    def _sleep(self, dev: Emulated4500, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check_present(dev)
            time.sleep(min(0.01, max(0.0, end - time.monotonic())))

    def _frame(self, dev: Emulated4500, size: int, timeout: int) -> bytes:
        faults = self.opts.faults
        if dev.mode != proto.MODE_CAPTURE or "timeout" in faults:
            self._sleep(dev, (timeout or 1000) / 1000.0)
            raise usb_error("Operation timed out", -7, errno.ETIMEDOUT)
        if "stall" in faults:
            raise usb_error("Pipe error", -9, errno.EPIPE)
        if dev.death_pending:
            dev.death_pending = False
            self._sleep(dev, self.opts.frame_ms / 2000.0)
            return b""
        if "unplug" in faults and not self.unplugged_once:
            self.unplugged_once = True
            self._sleep(dev, self.opts.frame_ms / 2000.0)
            self.unplug(self.opts.replug)
            raise enodev()
        self._sleep(dev, self.opts.frame_ms / 1000.0)
        with self._lock:
            if self._finger_present(dev, time.monotonic()):
                image = self.images.image(max(dev.impression, 0))
            else:  # the sensor keeps scanning after the finger left: an empty, bright frame
                image = np.full((proto.HEIGHT, proto.WIDTH), 250, dtype=np.uint8)
            self.last_image = image
            payload = self.encode_frame(image, dev)
            self.frames_sent += 1
        return payload[:size]

    def encode_frame(self, image: np.ndarray, dev: Emulated4500) -> bytes:
        """What the sensor sends for `image` (dark ridges, upright): header + scrambled rows."""
        raw = np.subtract(np.uint8(255), image)
        if proto.PROFILES.get((dev.desc.idVendor, dev.desc.idProduct), proto.Profile("")).rotate180:
            raw = raw[::-1, ::-1]
        layout = list(self.opts.layout)
        if self.opts.plain:  # an unscrambled unit: same blocks, no encryption flags
            layout = [(flags & proto.BLOCK_NOT_PRESENT, lines) for flags, lines in layout]
        rows, out = [], 0
        for flags, lines in layout:
            if not flags & proto.BLOCK_NOT_PRESENT:
                rows.append(raw[out : out + lines])
            out += lines
        sent = np.ascontiguousarray(np.concatenate(rows)) if rows else np.zeros((0, proto.WIDTH), np.uint8)
        flat = sent.reshape(-1).copy()
        key_number = dev.key_number = (dev.key_number + 1) & 0x7F
        first_key_number = key_number
        key, position, src = self._key(key_number), 0, 0
        for flags, lines in layout:
            if flags & proto.BLOCK_CHANGE_KEY:
                key_number = (key_number + 1) & 0xFF
                key, position = self._key(key_number), 0
            count = lines * proto.WIDTH
            mode = flags & (proto.BLOCK_NO_KEY_UPDATE | proto.BLOCK_ENCRYPTED)
            if mode == proto.BLOCK_ENCRYPTED:
                lo = src * proto.WIDTH
                flat[lo : lo + count] = proto.scramble_block(flat[lo : lo + count], key, position,
                                                             filler=self._rng.getrandbits(8))
                position += count
            elif mode == 0:
                position += count
            if not flags & proto.BLOCK_NOT_PRESENT:
                src += lines
        header = bytearray(proto.HEADER)
        header[0:4] = bytes.fromhex("10408001")
        struct.pack_into("<H", header, 4, sent.shape[0])
        header[6] = first_key_number
        for i, (flags, lines) in enumerate(layout[:15]):
            header[16 + 2 * i], header[17 + 2 * i] = flags, lines
        return bytes(header) + flat.tobytes()


class EmulatorScanner(UsbScanner):
    """The real driver on the emulated bus, plus what only a simulation can do: be told whose
    finger to show (the capture screen calls `present_worker` on readers that offer it)."""

    def present_worker(self, nss: str, finger: int = 2) -> int:
        from siaptui.devices.sim import seed_for_nss

        seed = seed_for_nss(nss)
        bus = self._backend
        if isinstance(bus, EmulatorBackend):
            bus.opts.person, bus.opts.finger = seed, int(finger)
        return seed


def _raise_no_backend() -> Any:
    raise NoBackend("emulated fault: no libusb backend")


_BUSES: dict[Any, EmulatorBackend] = {}
_BUSES_LOCK = threading.Lock()


def bus_for(rest: str, spec: str = "", **options: Any) -> EmulatorBackend:
    """The emulated bus for a spec.

    Why shared: the capture screen reopens `open_scanner(spec)` after an unplug, exactly as it
    would for a real reader that stays attached to the same PC; a fresh bus per call would
    forget that the reader was unplugged (and fire a one-shot fault again).  The bus is keyed by
    the spec and the keyword options (the capture screen passes the same options each time).
    """
    key = (rest, tuple(sorted((name, _identity(value)) for name, value in options.items())))
    with _BUSES_LOCK:
        if key not in _BUSES:
            _BUSES[key] = EmulatorBackend(parse_options(rest, spec, **options))
        return _BUSES[key]


def _identity(value: Any) -> Any:
    """Hashable stand-in for an option value; unhashable ones (arrays, callables) by identity —
    safe because the cached bus keeps a reference, so the id cannot be reused meanwhile."""
    try:
        hash(value)
        return value
    except TypeError:
        return ("id", id(value))


def reset() -> None:
    """Forget shared emulated buses (tests)."""
    with _BUSES_LOCK:
        _BUSES.clear()


def open_emulator(rest: str, spec: str, **options: Any) -> UsbScanner:
    """`emulator:uru4500[:…]` -> the real uru4000 driver on an EmulatorBackend."""
    scanner_options = {k: options.pop(k) for k in list(options) if k in ("seed_source",)}
    backend = bus_for(rest, spec, **options)
    opts = backend.opts
    vid, pid = MODELS[opts.model]
    pid = opts.pid if opts.pid is not None else pid
    if "no_backend" in opts.faults:
        return EmulatorScanner(spec, vid, pid, backend=None, backend_loader=_raise_no_backend, **scanner_options)
    return EmulatorScanner(spec, vid, pid, backend=backend, **scanner_options)
