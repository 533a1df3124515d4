"""The `sim` scanner: synthetic fingers of the demo workers, with a real scanner's rhythm.

Why: clerks practise, `siaptui demo` runs and the TUI tests capture without hardware and without
anybody's real fingerprints.  The frames come from `siaptui.synth`, so two
placements of one finger match under the engine and different fingers do not — exactly what
the duplicate-worker check and the "impressions must agree" rule need to be exercised.

The caller says whose finger is on the glass: `present(person_seed, finger)`, or
`present_worker(nss, finger)` which looks the NSS up among the sandbox's demo workers (any other
NSS gets its own stable synthetic hand).  Each placement is a new impression number, counted
per finger for the whole process (`Practice.placements`), so a scanner opened again — the
capture screen entered again to recapture a worker — is served new impressions as a real
reader would be, and the sequence of images is the same on every run.  Timing imitates a
U.are.U-class reader: the finger arrives `arrive_s` after `wait_finger` starts, a capture takes
~`capture_ms`, the finger leaves `lift_s` after `wait_finger_off` starts.  Every wait polls `cancel` (≤ 50 ms).

Scripted trouble (`trouble=` option or `set_trouble()`): "dry", "pressure", "off_center",
"light" — the images carry that defect so the capture guidance can be practised.
`missing=True` makes `open()` fail like an unplugged reader (the "dispositivo no encontrado"
practice), and `impersonate=SEED` serves SEED's fingers whoever is presented (the "same
fingers under another NSS" practice).  Training mode sets the same three for every sim
scanner of the process through `Practice.set(...)`; explicit options win.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Dict, Iterable, Optional, Tuple

from siaptui.devices.base import (
    POLL_S,
    CaptureFailed,
    DeviceInfo,
    DeviceNotFound,
    DeviceTimeout,
    Frame,
    Scanner,
    ScannerError,
    wait_until,
)

#: Trouble names the sim understands (mirrors `siaptui.synth.TROUBLES`, which is not
#: imported here so that choosing `sim` does not load numpy before the first capture).
TROUBLES = ("dry", "pressure", "off_center", "light")

#: Finger used when nobody said which (ISO 2: right index, the one IMSS asks first).
DEFAULT_FINGER = 2


class Practice:
    """The trainer's script for every `sim` scanner of this process (training mode).

    Why process-wide: the capture screen opens its own scanner from the configured spec; a
    trainer changes what the simulated hardware does (unplugged, dry finger, another person's
    hand) the way they would with a real reader — from outside.  Explicit constructor options
    win over the script; `reset()` returns to a good, present reader.  The placements of each
    finger are counted here too: a finger never lands twice the same, whichever scanner object
    the screen holds.
    """

    trouble: Optional[str] = None
    missing: bool = False
    impersonate: Optional[int] = None
    timing: Tuple[float, float, float] = (0.6, 130.0, 0.4)
    """(arrive_s, capture_ms, lift_s) for scanners built without timing options."""
    placements: Dict[Tuple[int, int], int] = {}
    """Placements so far of each (person seed, finger), by every sim scanner of the process."""
    _placements_lock = threading.Lock()

    @classmethod
    def set(cls, *, trouble: Optional[str] = None, missing: bool = False,
            impersonate: Optional[int] = None) -> None:
        cls.trouble = _check_trouble(trouble)
        cls.missing = bool(missing)
        cls.impersonate = None if impersonate is None else int(impersonate)

    @classmethod
    def reset(cls) -> None:
        """A good, present reader, and every finger's placements counted from the first again."""
        cls.set()
        with cls._placements_lock:
            cls.placements.clear()

    @classmethod
    def placement(cls, key: Tuple[int, int]) -> int:
        with cls._placements_lock:
            return cls.placements.get(key, 0)

    @classmethod
    def lifted(cls, key: Tuple[int, int]) -> None:
        with cls._placements_lock:
            cls.placements[key] = cls.placements.get(key, 0) + 1


class SimOptionError(ScannerError):
    """A `sim` option with a value the simulator cannot honour (a settings typo)."""

    code = "sim_option"


def seed_for_nss(nss: str) -> int:
    """The synthetic hand of a worker: the demo worker's `person_seed`, else one from the NSS.

    Non-demo NSS values still get a stable hand (hash of the digits), so a trainer can type any
    valid NSS and get consistent fingers; seeds from hashes stay above 10**6 to never collide
    with the hand-picked demo seeds.
    """
    digits = "".join(ch for ch in str(nss) if ch.isdigit())
    try:
        from siaptui.portal.sandbox.seed import DEMO_WORKERS
    except ImportError:  # pragma: no cover - sandbox not installed
        DEMO_WORKERS = []
    for worker in DEMO_WORKERS:
        if str(worker.get("nss")) == digits:
            return int(worker["person_seed"])
    digest = hashlib.sha256(digits.encode("ascii")).digest()
    return 10**6 + int.from_bytes(digest[:4], "big")


def _check_trouble(value: Optional[str]) -> Optional[str]:
    if value in (None, "", "none"):
        return None
    if value not in TROUBLES:
        raise SimOptionError(f"trouble={value!r}", option="trouble", value=str(value),
                             allowed=", ".join(TROUBLES))
    return str(value)


def _check_number(name: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:
        raise SimOptionError(f"{name}={value!r}", option=name, value=str(value),
                             allowed=f"{low:g}–{high:g}")
    return number


class SimScanner(Scanner):
    """Serves synthetic impressions; see the module docstring for the options."""

    dpi = 500

    def __init__(
        self,
        spec: str = "sim",
        *,
        trouble: Optional[str] = "script",
        people: Optional[Iterable[Any]] = None,
        person_seed: Optional[int] = None,
        finger: int = DEFAULT_FINGER,
        arrive_s: Optional[float] = None,
        capture_ms: Optional[float] = None,
        lift_s: Optional[float] = None,
        missing: Optional[bool] = None,
        impersonate: Optional[int] = -1,
    ) -> None:
        super().__init__(spec or "sim")
        self._trouble: Optional[str] = trouble if trouble == "script" else _check_trouble(trouble)
        default_arrive, default_capture, default_lift = Practice.timing
        self.arrive_s = _check_number("arrive_s", default_arrive if arrive_s is None else arrive_s, 0.0, 60.0)
        self.capture_ms = _check_number("capture_ms", default_capture if capture_ms is None else capture_ms,
                                        0.0, 5000.0)
        self.lift_s = _check_number("lift_s", default_lift if lift_s is None else lift_s, 0.0, 60.0)
        self._missing = None if missing is None else bool(missing)
        self._impersonate: Optional[int] = (
            -1 if impersonate == -1 else None if impersonate is None
            else int(_check_number("impersonate", impersonate, 0, 2**62))
        )
        first = self._first_person(people, person_seed)
        self._person = first
        self._finger = int(_check_number("finger", finger, 1, 10))
        self._on_since: Optional[float] = None  # monotonic time the finger landed
        # Arrival/lift deadlines survive across calls: a caller polling `wait_finger(timeout=0.5)`
        # in a loop must still see a finger that takes 0.6 s to arrive.
        self._arrival: Optional[float] = None
        self._leaving: Optional[float] = None
        self._current: Optional[Any] = None  # pixels of the placement on the glass
        self._state_lock = threading.Lock()
        self._warming: Optional[threading.Thread] = None
        self._warmed: Optional[Tuple[int, int]] = None

    @staticmethod
    def _first_person(people: Optional[Iterable[Any]], person_seed: Optional[int]) -> int:
        if person_seed is not None:
            return int(_check_number("person_seed", person_seed, 0, 2**62))
        for item in people or ():
            value = item[0] if isinstance(item, (tuple, list)) else item
            return int(_check_number("people", value, 0, 2**62))
        try:
            from siaptui.portal.sandbox.seed import DEMO_WORKERS

            return int(DEMO_WORKERS[0]["person_seed"])
        except (ImportError, IndexError, KeyError):  # pragma: no cover - sandbox not installed
            return 1001

    # -- what the trainer / the capture screen controls
    def present(self, person_seed: int, finger: int = DEFAULT_FINGER) -> None:
        """The next placement will be `finger` (ISO 1–10) of person `person_seed`."""
        finger = int(_check_number("finger", finger, 1, 10))
        person = int(_check_number("person_seed", person_seed, 0, 2**62))
        with self._state_lock:
            if (person, finger) != (self._person, self._finger):
                self._lift_locked()
            self._person, self._finger = person, finger

    def present_worker(self, nss: str, finger: int = DEFAULT_FINGER) -> int:
        """Present a worker's finger by NSS; returns the person seed used."""
        seed = seed_for_nss(nss)
        self.present(seed, finger)
        return seed

    def set_trouble(self, trouble: Optional[str]) -> None:
        """Scripted defect for the following placements (None = a good finger)."""
        self._trouble = _check_trouble(trouble)
        with self._state_lock:
            self._lift_locked()

    @property
    def trouble(self) -> Optional[str]:
        """This scanner's defect: its own option, else the trainer's `Practice` script."""
        return Practice.trouble if self._trouble == "script" else self._trouble

    @property
    def missing(self) -> bool:
        return Practice.missing if self._missing is None else self._missing

    @property
    def impersonate(self) -> Optional[int]:
        return Practice.impersonate if self._impersonate == -1 else self._impersonate

    @property
    def presented(self) -> Tuple[int, int]:
        """(person_seed, finger) as served (after `impersonate`)."""
        person = self.impersonate if self.impersonate is not None else self._person
        return person, self._finger

    @property
    def finger_on(self) -> bool:
        with self._state_lock:
            return self._on_since is not None

    # -- Scanner hooks
    @property
    def info(self) -> DeviceInfo:
        from siaptui.i18n import t

        return DeviceInfo(spec=self._spec, model=t("training.sim.model"), driver="sim")

    def _open(self) -> None:
        if self.missing:
            raise DeviceNotFound("sim scanner set to 'missing'", spec=self._spec)

    def _close(self) -> None:
        with self._state_lock:
            self._lift_locked()

    def _wait_finger(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        if self.finger_on:
            return True
        self._warm_up()
        with self._state_lock:
            if self._arrival is None:
                self._arrival = time.monotonic() + self.arrive_s
            arrival = self._arrival
        if not wait_until(lambda: time.monotonic() >= arrival, timeout, cancel):
            return False
        with self._state_lock:
            if self._on_since is None:
                self._on_since = time.monotonic()
                self._current = None
        return True

    def _capture(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> Frame:
        started = time.monotonic()
        if not self.finger_on and not self._wait_finger(timeout, cancel):
            raise DeviceTimeout("no finger on the simulated sensor", usb_id="sim")
        pixels = self._placement_pixels()
        done = started + self.capture_ms / 1000.0
        wait_until(lambda: time.monotonic() >= done, None, cancel, poll=POLL_S)
        return self._frame(pixels.copy(), started)

    def _wait_finger_off(self, timeout: Optional[float], cancel: Optional[threading.Event]) -> bool:
        if not self.finger_on:
            return True
        with self._state_lock:
            if self._leaving is None:
                self._leaving = time.monotonic() + self.lift_s
            leave = self._leaving
        if not wait_until(lambda: time.monotonic() >= leave, timeout, cancel):
            return False
        with self._state_lock:
            self._lift_locked()
        return True

    # -- internals
    def _lift_locked(self) -> None:
        """Finger leaves the glass; the next placement of that finger is a new impression."""
        if self._on_since is not None:
            Practice.lifted(self.presented)
        self._on_since = None
        self._current = None
        self._arrival = None
        self._leaving = None

    def placement_number(self) -> int:
        """Impression number of the current (or next) placement of the presented finger."""
        with self._state_lock:
            return Practice.placement(self.presented)

    def _warm_up(self) -> None:
        """Build the presented finger's master print while the finger is "arriving".

        A master costs ~0.5–1 s (an impression ~0.1 s); doing it during the arrival wait keeps
        the capture itself near a real reader's ~130 ms, as the capture screen expects.
        """
        key = self.presented
        if key == self._warmed:
            return
        self._join_warm_up()
        self._warmed = key

        def build() -> None:
            from siaptui import synth

            try:
                synth.master(synth.finger_seed(*key))
            except Exception:  # noqa: BLE001 - the capture path builds it again and reports
                return

        self._warming = threading.Thread(target=build, name="sim-warm-up", daemon=True)
        self._warming.start()

    def _join_warm_up(self) -> None:
        warming, self._warming = self._warming, None
        if warming is not None:
            warming.join()

    def _placement_pixels(self) -> Any:
        """Render (once per placement) the impression now on the glass."""
        with self._state_lock:
            if self._current is not None:
                return self._current
            person, finger = self.presented
            number = Practice.placement((person, finger))
            trouble = self.trouble
        self._join_warm_up()  # the master is being built: wait for it instead of building twice
        from siaptui.synth import finger_image

        try:
            pixels = finger_image(person, finger, number, trouble)
        except MemoryError as exc:  # pragma: no cover - a 2 GB PC under load
            raise CaptureFailed(str(exc), detail="memoria insuficiente") from None
        with self._state_lock:
            if self._on_since is not None and self.presented == (person, finger):
                self._current = pixels
        return pixels
