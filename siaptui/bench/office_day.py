"""`siaptui bench office-day [--workers N] --json`: a day at the office, worker after worker.

Why a whole day: every other test walks one worker down one path, and the product broke where
paths meet — the next worker inheriting the last one's enrollment, a sender that stopped after
one error, an outbox that a restart forgot.  So the real app (`siaptui.app.build_app`) is driven
by keys through Textual's Pilot against the real sandbox on loopback, and enrolls N workers in a
row while the day goes wrong the way an office's does:

* the sandbox's faults are switched on at seeded random moments (503 + Retry-After, session
  expiry, the connection dropped after the commit, latency), each kind at least once;
* the morning uses the emulated U.are.U 4500 (`emulator:uru4500`), unplugged twice while it
  waits for a finger and plugged in again a moment later; the afternoon uses the `sim` scanner;
* the morning runs in a process of its own; at midday, with a worker's enrollment saved and its
  request on its way to a portal that hangs, that process is SIGKILLed (no quit handler runs,
  the claim stays in the store) and the afternoon's app starts on the same data folder: its
  sender must take the dead process's claim over and send what was left;
* one worker refuses consent, one has a finger missing (amputated) where the others give it,
  and Esc is pressed at seeded random steps (and used to go back to Trabajador after an acuse).

Workers come from the sandbox seed: the demo employer's enrollable roster, then synthetic
workers (valid NSS and CURP) added to that roster when the day needs more.  Each worker's
fingers are the sim's synthetic hand for that NSS (`siaptui.devices.sim.seed_for_nss`); the
emulator shows the same hand (`EmulatorScanner.present_worker`).

Afterwards the day is judged from the outside: the sandbox's own store (one enrollment per
consenting worker, each stored template matched against fresh impressions of that worker's
synthetic fingers and of every other worker's), each acuse (the one on screen and the one in
the outbox) naming its own worker, and the outbox left with nothing unsent.

Speed: one impression a finger, `captured` fingers a worker (one by default; the rest are
marked missing in the flow before Captura opens, as F would on each), the sim's brisk timing and
a brisk emulated finger; the extractor dominates (~1 s a finger on a loaded 2-core PC).  One
finger also keeps the day clear of the synthetic hands' own look-alike fingers (a person's
indexes can score ~30–40 against each other), which Revisión would rightly flag.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from siaptui.config import Settings

log = logging.getLogger(__name__)

FAULT_SWITCHES: Dict[str, Dict[str, Any]] = {
    "overload": {"overload-next": 1, "overload-retry-after": 1},  # 503 + Retry-After: 1
    "expire-session": {"expire-session": "access"},
    "drop-after-commit": {"drop-after-commit": 1},
    "latency": {"latency": 300},  # ms on every answer, until the worker is done
}
"""Fault kind -> the sandbox switches that turn it on (`RunningSandbox.set_faults`)."""
FAULT_KINDS = tuple(FAULT_SWITCHES)
ESC_STEPS = ("consent", "capture", "review", "submit")
EMULATOR_ON_S = 0.05
EMULATOR = f"emulator:uru4500:on={EMULATOR_ON_S}:hold=0.5:frame_ms=5:replug=0"
"""The morning's reader: brisk finger, fast frames, replugged by the scenario (not by itself)."""
SIZE = (80, 24)
SIM_TIMING = (0.1, 20.0, 0.1)
"""`Practice.timing` for the day: a brisk simulated finger (arrive s, capture ms, lift s)."""
REFERENCE_IMPRESSION = 90
"""Impression number of the fresh reference prints: never one the capture used."""
MIDDAY_LATENCY_MS = 5_000
"""The portal's delay at midday: the kill finds the midday item mid-send, yet every answer
still comes inside the client's timeout (so the login before the claim goes through)."""
MORNING_TIMEOUT_S = 900.0
"""How long the morning's process may take to reach midday before the day is called failed."""
OWN_FINGER_SCORE = 20.0
"""A stored template counts as the worker's own finger at or above this calibrated score (FMR 1 %)."""


class DayFailed(AssertionError):
    """The app did not reach where a clerk would have been by now (message has the screen)."""


@dataclass
class Worker:
    nss: str
    curp: str
    name: str
    refuses: bool = False
    missing_first: bool = False
    esc_at: str = ""
    faults: Dict[str, str] = field(default_factory=dict)
    """moment ("lookup" | "send") -> fault kind switched on just before it."""


@dataclass
class DayResult:
    workers: int = 0
    consented: int = 0
    acknowledged: int = 0
    duplicates_sent: int = 0
    wrong_fingers: int = 0
    wrong_acuses: int = 0
    outbox_left: int = 0
    restarts: int = 0
    unplugs: int = 0
    faults: int = 0
    seconds_per_worker: float = 0.0
    problems: List[str] = field(default_factory=list)
    """What went wrong, one sentence each (empty on a good day)."""

    def as_dict(self) -> Dict[str, Any]:
        return {"workers": self.workers, "consented": self.consented, "acknowledged": self.acknowledged,
                "duplicates_sent": self.duplicates_sent, "wrong_fingers": self.wrong_fingers,
                "wrong_acuses": self.wrong_acuses, "outbox_left": self.outbox_left,
                "restarts": self.restarts, "unplugs": self.unplugs, "faults": self.faults,
                "seconds_per_worker": self.seconds_per_worker}


# ------------------------------------------------------------------------------- the roster


def _extra_worker(index: int) -> Tuple[str, str, str]:
    """A synthetic worker with a valid NSS (Luhn) and CURP (check digit), unique per index."""
    from siaptui.identity import curp_check_digit, nss_check_digit

    first10 = f"{40 + index // 10000:02d}1590{index % 10000:04d}"
    nss = first10 + nss_check_digit(first10)
    first17 = f"OFID90{1 + index // 28 % 12:02d}{1 + index % 28:02d}HDFRRN0"
    return nss, first17 + curp_check_digit(first17), f"TRABAJADOR {index + 1:02d} DE OFICINA"


def roster(sandbox: Any, employer_rfc: str, count: int) -> List[Tuple[str, str, str]]:
    """The demo employer's enrollable workers, then synthetic ones added to its roster."""
    from siaptui.devices.sim import seed_for_nss
    from siaptui.portal.sandbox.seed import DEMO_WORKERS

    workers = [(str(w["nss"]), str(w["curp"]), str(w["name"])) for w in DEMO_WORKERS if w["case"] == "ok"]
    index = 0
    while len(workers) < count:
        nss, curp, name = _extra_worker(index)
        index += 1
        sandbox.store.add_worker(nss, curp, name, person_seed=seed_for_nss(nss))
        sandbox.store.add_alta(employer_rfc, nss, date.today())
        workers.append((nss, curp, name))
    return workers[:count]


def plan(people: List[Tuple[str, str, str]], rng: random.Random) -> List[Worker]:
    """Who refuses, who lacks a finger, where Esc is pressed and which faults fire when."""
    day = [Worker(*person) for person in people]
    n = len(day)
    if n >= 3:
        refuser, missing = rng.sample(range(1, n), 2)
        day[refuser].refuses = True
        day[missing].missing_first = True
    consenting = [w for w in day if not w.refuses]
    for worker, step in zip(rng.sample(consenting, min(len(ESC_STEPS), len(consenting))), ESC_STEPS):
        worker.esc_at = step  # every step gets its Esc at least once
    for worker in consenting:
        if not worker.esc_at and rng.random() < 0.3:
            worker.esc_at = rng.choice(ESC_STEPS)
    moments = [(i, m) for i in range(n) for m in ("lookup", "send") if not (day[i].refuses and m == "send")]
    chosen = rng.sample(moments, min(len(moments), max(len(FAULT_KINDS), n // 2)))
    kinds = list(FAULT_KINDS) + [rng.choice(FAULT_KINDS) for _ in range(len(chosen) - len(FAULT_KINDS))]
    rng.shuffle(kinds)
    for (i, moment), kind in zip(chosen, kinds):
        day[i].faults[moment] = kind
    return day


# ------------------------------------------------------------------------------- the app


def _screen_text(app: Any) -> str:
    """What the clerk reads on the screen right now, as plain text."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def _busy(app: Any, group: str) -> bool:
    """Is a worker of this group (a lookup, a send) still running?"""
    return any(w.group == group and not w.is_finished for w in app.workers)


def _screen_id(app: Any) -> str:
    return str(getattr(app.screen, "SCREEN_ID", type(app.screen).__name__))


def _left(app: Any, screen_id: str) -> Callable[[], bool]:
    return lambda: _screen_id(app) != screen_id


def _checked(screen: Any) -> Callable[[], bool]:
    """Revisión has finished its office-gallery check."""
    return lambda: bool(getattr(screen, "gallery_checked", True))


def _shows(app: Any, text: str) -> Callable[[], bool]:
    return lambda: bool(text) and text in _screen_text(app)


async def _until(pilot: Any, predicate: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise DayFailed(f"{what}: not reached in {timeout:.0f} s; screen:\n{_screen_text(pilot.app)}")
        await pilot.pause(0.05)
    await pilot.pause()


class RemoteSandbox:
    """The day's sandbox as the morning's process sees it: its address and its fault switches,
    reached through the sandbox's admin route (`PUT /sandbox/faults`)."""

    def __init__(self, url: str, admin_token: str, ca_bundle: Optional[str]) -> None:
        self.url, self.admin_token, self.ca_bundle = url, admin_token, ca_bundle

    def set_faults(self, changes: Dict[str, Any]) -> None:
        import httpx

        answer = httpx.put(f"{self.url}/sandbox/faults", json=dict(changes), timeout=10,
                           headers={"Sandbox-Admin-Token": self.admin_token}, verify=self.ca_bundle or True)
        answer.raise_for_status()


class Office:
    """One day: the sandbox, the data folder, the app instances and what was seen on screen."""

    def __init__(self, workers: int, seed: int, workdir: Path, captured: int = 1) -> None:
        from siaptui import demo
        from siaptui.portal.sandbox.seed import DEMO_EMPLOYERS

        self.rng = random.Random(seed)
        self.captured = max(1, min(captured, 9))
        self.sandbox, self.efirma, self.settings, _folder = demo.start(Settings(), workdir=workdir)
        self.midday_file = Path(workdir) / "midday.pickle"
        """Written by the morning's process when the midday worker is saved and sending."""
        self.settings.capture.impressions = 1
        self.settings.scanner.preview_fps = 30
        employer = str(DEMO_EMPLOYERS[0]["rfc"])  # the holder of the demo e.firma
        self.day = plan(roster(self.sandbox, employer, workers), self.rng)
        self.result = DayResult(workers=len(self.day))
        self.unplugs_left = 2
        self.on_emulator = False
        self.acuse_seen: Dict[str, str] = {}
        """NSS -> the text of the acuse screen shown for that worker."""

    def new_app(self, device: str) -> Any:
        from siaptui.app import build_app

        return build_app(self.settings, portal_url=self.sandbox.url, device=device,
                         credential_dir=Path(self.efirma.cer).parent, demo_password=self.efirma.password,
                         low_motion=True)

    def fault(self, kind: str) -> None:
        """Switch one fault on in the sandbox now (latency stays on until `calm`)."""
        self.sandbox.set_faults(FAULT_SWITCHES[kind])
        self.result.faults += 1

    def calm(self) -> None:
        self.sandbox.set_faults({"clear": True})

    # -------------------------------------------------------------------- screens

    async def sign_in(self, pilot: Any) -> None:
        from textual.widgets import Input

        app = pilot.app
        await _until(pilot, lambda: _screen_id(app) == "login", 30, "login screen")
        field_ = app.screen.query_one("#password", Input)
        field_.value = ""
        field_.focus()
        await pilot.press(*self.efirma.password, "enter")
        await _until(pilot, lambda: _screen_id(app) == "worker", 60, "signed in")

    async def look_up(self, pilot: Any, worker: Worker) -> None:
        """NSS, Enter, CURP, Enter in one burst; Enter again if the portal failed the lookup."""
        from textual.widgets import Input

        app = pilot.app
        screen = app.screen
        for name in ("nss", "curp"):
            screen.query_one(f"#{name}", Input).value = ""
        screen.query_one("#nss", Input).focus()
        await pilot.press(*worker.nss, "enter", *worker.curp, "enter")
        deadline = time.monotonic() + 60

        def confirmed() -> bool:
            return bool(app.flow.worker.confirmed and app.flow.worker.nss == worker.nss)

        while not confirmed():
            if time.monotonic() > deadline:
                raise DayFailed(f"worker {worker.nss} not confirmed; screen:\n{_screen_text(app)}")
            await pilot.pause(1.2)  # a 503 with Retry-After 1, an expired session: the clerk tries again
            if not confirmed() and not _busy(app, "worker"):
                screen.query_one("#curp", Input).focus()
                await pilot.press("enter")
        await _until(pilot, lambda: "receipt" not in app._instances, 15, "previous acuse dropped")
        flow = app.flow
        if flow.fingers or flow.receipt is not None or flow.outbox_id is not None or flow.consent.accepted:
            self.result.problems.append(f"{worker.nss} started with the previous worker's enrollment")

    def _given(self, worker: Worker) -> List[int]:
        """The fingers this worker gives: the first `captured`, after the one they lack."""
        from siaptui.enrollment.flow import FINGERS

        return [p for p in FINGERS if not (worker.missing_first and p == FINGERS[0])][: self.captured]

    def _set_aside(self, flow: Any, worker: Worker) -> None:
        """The fast setting: the fingers not given are marked missing before Captura opens (what
        F does on each), so the scanner is asked for the given ones only.  The finger the
        missing-finger worker lacks is left for the clerk to mark with F on the capture screen."""
        from siaptui.enrollment.flow import FINGERS, FingerCapture

        give = self._given(worker)
        for position in FINGERS:
            capture = flow.fingers.get(position)
            if position in give or (worker.missing_first and position == FINGERS[0]):
                continue
            if capture is None or (capture.best is None and not capture.missing_reason):
                flow.fingers[position] = FingerCapture(position=position, missing_reason="amputated")

    async def capture(self, pilot: Any, worker: Worker) -> None:
        """F on the finger the missing-finger worker lacks; the emulated reader unplugged while
        it waits for a finger (twice in the morning); then the given fingers are captured."""
        from siaptui.enrollment.flow import FINGERS

        app = pilot.app
        screen = app.screen
        await _until(pilot, lambda: screen.enrollment is not None, 10, "capture screen ready")
        first = app.flow.fingers.get(FINGERS[0])
        if worker.missing_first and (first is None or not first.missing_reason):
            await self._mark_missing(pilot, screen, FINGERS[0])
        bus = self._reader()
        if bus is not None:
            if self.unplugs_left and screen.enrollment.pending():  # the loop is reading the reader
                await self._unplug(pilot, screen, bus)
            bus.opts.on = EMULATOR_ON_S
            bus.place_finger(hold=bus.opts.hold)  # the held-back finger arrives now
        give = self._given(worker)
        await _until(pilot, lambda: not screen.enrollment.pending(), 120, f"fingers {give} captured")

    async def _mark_missing(self, pilot: Any, screen: Any, position: int) -> None:
        app = pilot.app
        while screen.enrollment.current != position:
            await pilot.press("right")
        await pilot.press("f")
        await _until(pilot, lambda: type(app.screen).__name__ == "MissingFingerScreen", 10, "missing-finger list")
        await pilot.press("enter")  # the first reason: amputated
        await _until(pilot, lambda: bool(app.flow.fingers[position].missing_reason), 10, f"finger {position} missing")

    def _reader(self) -> Any:
        """The emulated reader's bus while the morning's app runs; None on the sim scanner."""
        from siaptui.devices import emulator

        return emulator.bus_for(EMULATOR.split(":", 1)[1], EMULATOR) if self.on_emulator else None

    async def _unplug(self, pilot: Any, screen: Any, bus: Any) -> None:
        """Pull the emulated reader out while the screen waits for a finger, then plug it in."""
        await _until(pilot, lambda: screen.scanner_state == "ready", 30, "reader ready")
        bus.unplug()
        await _until(pilot, lambda: screen.scanner_state == "gone", 30, "reader gone")
        if "se desconectó" not in " ".join(_screen_text(pilot.app).split()):
            self.result.problems.append("unplugged reader: the screen did not say «se desconectó»")
        self.unplugs_left -= 1
        self.result.unplugs += 1
        bus.opts.on = EMULATOR_ON_S
        bus.plug()
        await _until(pilot, lambda: screen.scanner_state == "ready", 30, "reader back")

    async def send(self, pilot: Any, worker: Worker) -> bool:
        """Enter on Envío; Enter again when a fault kept the portal from acknowledging it.

        Returns True at the acuse.  A rejection (the portal refused the data) ends the day.
        """
        from siaptui.screens.sending import SEND_GROUP

        app = pilot.app
        store = app.services.store()
        await pilot.press("enter")
        deadline = time.monotonic() + 120
        while _screen_id(app) != "receipt":
            if time.monotonic() > deadline:
                raise DayFailed(f"no acuse for {worker.nss}; screen:\n{_screen_text(app)}")
            await pilot.pause(0.5)
            if _screen_id(app) != "submit" or app.flow.outbox_id is None:
                continue
            item = store.outbox.get(app.flow.outbox_id)
            if item.rejected:
                raise DayFailed(f"the portal rejected {worker.nss}: {item.reason} {item.detail}")
            busy = _busy(app, SEND_GROUP)
            if not busy and item.state != "sent":
                await pilot.pause(1.0)
                await pilot.press("enter")
            elif item.state == "sent" and not busy:
                await pilot.press("enter")  # sent by the background sender meanwhile: show it
        return True

    async def enroll(self, pilot: Any, worker: Worker, *, stop_before_acuse: bool = False) -> bool:
        """One worker from Trabajador to the acuse (or to a refusal, or to a saved unsent item
        when the app is about to be stopped).  Returns True when the worker's enrollment reached
        the outbox."""
        app = pilot.app
        if "lookup" in worker.faults:
            self.fault(worker.faults["lookup"])
        await self.look_up(pilot, worker)
        escaped = False
        while True:
            here = _screen_id(app)
            if here == worker.esc_at and not escaped:
                escaped = True
                if here == "capture":  # mid-capture: after the screen has started
                    await _until(pilot, lambda: app.screen.enrollment is not None, 10, "capture started")
                await pilot.press("escape")
                await _until(pilot, _left(app, here), 10, f"Esc on {here}")
                continue
            if here == "worker":
                if not (app.flow.worker.confirmed and app.flow.worker.nss == worker.nss):
                    await self.look_up(pilot, worker)
                await pilot.press("enter")
                await _until(pilot, lambda: _screen_id(app) != "worker", 15, "to Consentimiento")
            elif here == "consent":
                if worker.refuses:
                    await pilot.press("n")
                    await _until(pilot, lambda: _screen_id(app) == "worker"
                                 and not app.flow.worker.confirmed, 15, "refusal back to Trabajador")
                    return False
                self._set_aside(app.flow, worker)
                bus = self._reader()
                if bus is not None:
                    bus.opts.on = 60.0  # the finger stays off the glass until `capture` places it
                await pilot.press("a")
                await _until(pilot, lambda: _screen_id(app) != "consent", 15, "to Captura")
            elif here == "capture":
                await self.capture(pilot, worker)
                await pilot.press("enter")
                await _until(pilot, lambda: _screen_id(app) != "capture", 30, "to Foto")
            elif here == "photo":  # the sim camera takes it by itself; no camera: the step is skipped
                await _until(pilot, lambda: app.screen.state in ("taken", "skipped"), 60, "photo taken")
                await pilot.press("enter")
                await _until(pilot, lambda: _screen_id(app) != "photo", 15, "to Revisión")
            elif here == "review":
                await _until(pilot, _checked(app.screen), 60, "office check")
                if app.flow.review.needs_attention:
                    raise DayFailed(f"Revisión flags {worker.nss}; screen:\n{_screen_text(app)}")
                await pilot.press("c")
                await _until(pilot, lambda: _screen_id(app) != "review", 15, "to Envío")
            elif here == "submit":
                if "send" in worker.faults:
                    self.fault(worker.faults["send"])
                if stop_before_acuse:  # the portal hangs: the process is killed with the item claimed
                    self.sandbox.set_faults({"latency": MIDDAY_LATENCY_MS})
                    self.result.faults += 1
                    await pilot.press("enter")
                    await _until(pilot, lambda: app.flow.outbox_id is not None, 30, "saved in the outbox")
                    await _until(pilot, self._claimed(app), 90, "sending")
                    return True
                await self.send(pilot, worker)
            elif here == "receipt":
                folio = str((app.flow.receipt or {}).get("folio", ""))
                await _until(pilot, _shows(app, folio), 15, "acuse painted")
                self.acuse_seen[worker.nss] = _screen_text(app)
                return True
            else:
                raise DayFailed(f"unexpected screen {here!r} for {worker.nss}:\n{_screen_text(app)}")

    @staticmethod
    def _claimed(app: Any) -> Callable[[], bool]:
        """The worker's outbox item is claimed by a sender (its request on its way to the portal)."""
        store = app.services.store()
        return lambda: store.outbox.get(app.flow.outbox_id).state == "sending"

    async def next_worker(self, pilot: Any) -> None:
        """After an acuse: `n`, or Esc all the way back to Trabajador (seeded choice)."""
        app = pilot.app
        if self.rng.random() < 0.5:
            await pilot.press("n")
        else:
            for _ in range(6):
                if _screen_id(app) == "worker":
                    break
                before = _screen_id(app)
                await pilot.press("escape")
                await _until(pilot, _left(app, before), 10, f"Esc on {before}")
        await _until(pilot, lambda: _screen_id(app) == "worker", 15, "Trabajador")

    async def settle_outbox(self, pilot: Any) -> None:
        """End of the day: faults off, the background sender sends whatever is still due."""
        app = pilot.app
        self.calm()
        store = app.services.store()
        await _until(pilot, lambda: not store.outbox.pending(), 90, "outbox empty")

    # -------------------------------------------------------------------- the day

    async def run(self) -> DayResult:
        from siaptui.devices.sim import Practice

        started = time.perf_counter()
        timing = Practice.timing
        try:
            await self.kill_at_midday(self.run_morning_process())
            self.result.restarts += 1
            self.calm()
            self.on_emulator = False
            self._brisk()
            app = self.new_app("sim")
            async with app.run_test(size=SIZE) as pilot:
                await self.sign_in(pilot)
                for worker in self.afternoon():
                    log.info("worker %s at %.0f s", worker.nss, time.perf_counter() - started)
                    if await self.enroll(pilot, worker):
                        await self.next_worker(pilot)
                    self.calm()
                await self.settle_outbox(pilot)
                self.judge(app.services.store())
        finally:
            Practice.timing = timing
            self._reset_devices()
            self.sandbox.stop()
        self.result.seconds_per_worker = round((time.perf_counter() - started) / max(1, len(self.day)), 1)
        return self.result

    # -------------------------------------------------------------------- the morning, killed at midday

    def morning(self) -> List[Worker]:
        return self.day[:len(self.day) // 2 + 1]

    def afternoon(self) -> List[Worker]:
        return self.day[len(self.day) // 2 + 1:]

    def run_morning_process(self) -> subprocess.Popen[bytes]:
        """The morning in a process of its own (the same app, driven the same way), so that the
        midday stop is a real SIGKILL: no quit handler runs, the claim on the item being sent
        stays in the store, and the afternoon's process must take it over."""
        import pickle
        import sys

        folder = self.midday_file.parent
        state = dict(self.__dict__, sandbox=RemoteSandbox(self.sandbox.url, self.sandbox.admin_token,
                                                          self.sandbox.ca_bundle))
        (folder / "morning.pickle").write_bytes(pickle.dumps(state))
        log_file = (folder / "morning.log").open("wb")
        try:
            return subprocess.Popen([sys.executable, "-m", "siaptui.bench.office_day", str(folder)],
                                    stdout=log_file, stderr=subprocess.STDOUT)
        finally:
            log_file.close()

    async def kill_at_midday(self, child: subprocess.Popen[bytes]) -> None:
        """Wait until the morning's process has the midday worker saved and sending, then SIGKILL it
        and take over what it saw (acuses, faults, unplugs, problems)."""
        import pickle
        import signal

        deadline = time.monotonic() + MORNING_TIMEOUT_S
        try:
            while not self.midday_file.exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    log_text = (self.midday_file.parent / "morning.log").read_text("utf-8", "replace")
                    raise DayFailed(f"the morning's process ended (rc {child.returncode}) before midday:\n"
                                    f"{log_text[-4000:]}")
                await asyncio.sleep(0.2)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
            child.wait()
        seen = pickle.loads(self.midday_file.read_bytes())
        self.result, self.acuse_seen, self.rng = seen["result"], seen["acuse_seen"], seen["rng"]
        self.unplugs_left = seen["unplugs_left"]
        self._check_left_unsent()

    def _check_left_unsent(self) -> None:
        """The kill must have left the midday worker claimed by the dead process, or the restart
        proved nothing: the afternoon's sender has to take that claim over."""
        from siaptui.store.db import open_store

        store = open_store(settings=self.settings)
        try:
            left = [(item.state, item.claimed_by) for item in store.outbox.pending()]
        finally:
            store.close()
        log.info("left in the outbox at midday: %s", left)
        if not any(state == "sending" for state, _ in left):
            self.result.problems.append(f"the midday kill left no claimed item ({left}): the restart was not tested")

    async def run_morning(self) -> None:
        """In the morning's process: enroll the morning's workers; the last one is left mid-send
        (saved in the outbox, its request on its way to a portal answering late), and the process
        waits to be killed."""
        import pickle

        self._brisk()
        self.on_emulator = True
        app = self.new_app(EMULATOR)
        async with app.run_test(size=SIZE) as pilot:
            await self.sign_in(pilot)
            morning = self.morning()
            for i, worker in enumerate(morning):
                last = i == len(morning) - 1
                log.info("worker %d/%d", i + 1, len(self.day))
                queued = await self.enroll(pilot, worker, stop_before_acuse=last)
                if not last:
                    self.calm()
                if queued and not last:
                    await self.next_worker(pilot)
            seen = {"result": self.result, "acuse_seen": self.acuse_seen, "rng": self.rng,
                    "unplugs_left": self.unplugs_left}
            partial = self.midday_file.with_suffix(".part")
            partial.write_bytes(pickle.dumps(seen))
            partial.replace(self.midday_file)
            await asyncio.sleep(MORNING_TIMEOUT_S)  # the parent kills this process now

    def _brisk(self) -> None:
        """Fast simulated fingers and a clean emulated bus, in whichever process drives the app."""
        from siaptui.devices.sim import Practice

        self._reset_devices()
        Practice.timing = SIM_TIMING

    @staticmethod
    def _reset_devices() -> None:
        from siaptui.devices import emulator
        from siaptui.devices.sim import Practice

        Practice.reset()
        emulator.reset()

    # -------------------------------------------------------------------- judging

    def judge(self, store: Any) -> None:
        """Count from the outside what the day left: the portal's records, the outbox, the acuses."""
        result = self.result
        consenting = [w for w in self.day if not w.refuses]
        result.consented = len(consenting)
        for worker in self.day:
            count = self.sandbox.store.count_enrollments(worker.nss)
            expected = 0 if worker.refuses else 1
            result.acknowledged += min(count, 1) if not worker.refuses else 0
            result.duplicates_sent += max(0, count - 1) + (count if worker.refuses else 0)
            if count != expected:
                result.problems.append(f"{worker.nss}: {count} enrollments in the portal, expected {expected}")
        result.wrong_fingers = self._wrong_fingers(consenting)
        result.outbox_left = len(store.outbox.pending())
        names = {w.nss: w.name for w in self.day}
        sent = store.outbox.items("sent")
        for item in sent:
            acuse = str((item.receipt or {}).get("acuse", ""))
            others = [nss for nss in names if nss != item.worker_nss and nss in acuse]
            if item.worker_nss not in acuse or names.get(item.worker_nss, "?") not in acuse or others:
                result.wrong_acuses += 1
                result.problems.append(f"outbox acuse of {item.worker_nss} names {others or 'nobody'}")
        for nss, text in self.acuse_seen.items():
            flat = " ".join(text.replace("│", " ").split())
            others = [n for n, name in names.items() if n != nss and name in flat]
            if names[nss] not in flat or others:
                result.wrong_acuses += 1
                result.problems.append(f"acuse screen of {nss} names {others or 'nobody'}:\n{text}")
        if len(sent) != len(consenting):
            result.problems.append(f"{len(sent)} items sent from the outbox for {len(consenting)} consenting workers")
        if result.outbox_left:
            result.problems.append(f"{result.outbox_left} items left unsent in the outbox")

    def _wrong_fingers(self, workers: List[Worker]) -> int:
        """Stored templates that are not their worker's own finger: below the own-finger score
        against a fresh impression of it, or closer to another worker's same finger."""
        from siaptui import synth
        from siaptui.biometrics.extract import extract
        from siaptui.biometrics.match import match
        from siaptui.biometrics.template import from_iso19794_2
        from siaptui.devices.sim import seed_for_nss

        stored: List[Tuple[str, int, Any]] = []
        for worker in workers:
            for position in self.sandbox.store.fingers_on_record(worker.nss):
                _, data = self.sandbox.store.template(worker.nss, position)
                if data is not None:
                    stored.append((worker.nss, position, from_iso19794_2(bytes(data))[0][1]))
        references: Dict[Tuple[str, int], Any] = {}
        for position in sorted({position for _, position, _ in stored}):
            for other in workers:
                key = (other.nss, position)
                if key not in references:
                    image = synth.finger_image(seed_for_nss(other.nss), position, REFERENCE_IMPRESSION)
                    references[key] = extract(image, dpi=synth.DPI)
        wrong = 0
        for nss, position, template in stored:
            scores = {other: match(template, ref) for (other, pos), ref in references.items() if pos == position}
            best = max(scores, key=lambda other: scores[other])
            if best != nss or scores[nss] < OWN_FINGER_SCORE:
                wrong += 1
                self.result.problems.append(f"{nss} finger {position}: own score {scores[nss]:.0f}, best {best}")
        return wrong


async def run_day(workers: int = 20, *, seed: int = 18, workdir: Optional[Path] = None,
                  captured: int = 1) -> DayResult:
    """The scenario, in the running event loop (pytest's, or the bench's `asyncio.run`)."""
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="siaptui-office-day-"))
    try:
        return await Office(workers, seed, folder / "demo", captured).run()
    finally:
        if workdir is None:
            shutil.rmtree(folder, ignore_errors=True)


def main(args: Any, settings: Any) -> int:
    """Entry point of `siaptui bench office-day`: one JSON line (or one figure a line)."""
    from siaptui.bench import machine

    result = asyncio.run(run_day(args.workers, seed=args.seed))
    figures: Dict[str, Any] = {"bench": "office-day", **result.as_dict(), "problems": result.problems,
                               "machine": machine()}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        for key, value in figures.items():
            print(f"{key:20} {value}")
    return 0 if not result.problems else 1


def _morning_process(folder: str) -> int:
    """`python -m siaptui.bench.office_day FOLDER`: the morning of the day prepared in FOLDER."""
    import pickle

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    office = Office.__new__(Office)
    office.__dict__.update(pickle.loads((Path(folder) / "morning.pickle").read_bytes()))
    asyncio.run(office.run_morning())
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_morning_process(sys.argv[1]))
