"""Training scenarios: the failures offices meet, set up on demand for practice (no Textual).

Why data, not code paths: each scenario only *configures* the real pieces — the sandbox
portal's fault switches (over its `PUT /sandbox/faults` API), the simulated scanner's practice
script (`siaptui.devices.sim.Practice`), a demo e.firma issued by the sandbox's CA, which demo
worker to type — and then the trainee walks the ordinary screens and meets the ordinary message
and fix.  Nothing here fakes a message: if the app stopped showing the right text, the Pilot
tests of this module would fail.

Safety: scenarios run only in training mode and only against a portal that says it is a
sandbox (`GET /v1/info` → `sandbox: true`); every e.firma, worker and gallery entry they create
is demo data under the training data dir, and the sender never delivers training items to a
real portal.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from siaptui.errors import SiaptuiError

#: Fingers pre-enrolled for the duplicate-worker practice: both index fingers — enough for the
#: 1:N search to find the other worker, and quick to prepare on an old PC (~0.5 s a finger).
DUPLICATE_FINGERS = (2, 7)

#: Latency of the slow portal in the expired-session practice: long enough for the watch below
#: to expire the session while the enrollment's POST is held at the portal.
SLOW_PORTAL_MS = 1000

#: The saturated portal's answers: as many 503s as the client tries in one call (4), twice —
#: the Envío's own attempt and the app's background sender may sign in at the same time and
#: both must meet the overload — each asking to wait a few seconds (not two minutes).
OVERLOADED_ANSWERS = 8
OVERLOAD_RETRY_AFTER_S = 2


class TrainingError(SiaptuiError):
    """A scenario that cannot be set up (not in training mode, not a sandbox, sandbox down)."""

    code = "training_error"


@dataclass(frozen=True)
class Scenario:
    """One practice scenario, as data.

    `screen` is where the trainee continues after it is applied; `expected` is the catalog key
    of the message the clerk must end up seeing (an `error.<code>` key has its `.fix` too).
    `worker` names which demo worker to type: a `case` of `DEMO_WORKERS`, `"mismatch"` (a
    real NSS with another worker's CURP) or a `person_seed`.
    """

    id: str
    screen: str
    expected: str
    faults: Mapping[str, Any] = field(default_factory=dict)
    sim: Mapping[str, Any] = field(default_factory=dict)
    efirma: Optional[Tuple[str, bool]] = None  # (kind "fiel"|"csd", expired)
    worker: Optional[Any] = None
    duplicate_of: Optional[int] = None  # person_seed whose fingers are already in the gallery
    needs_login: bool = True
    #: Sandbox faults switched on only once the clerk submits (the latency in `faults` holds
    #: each request at the portal long enough): when the enrollment is `queued` in the outbox
    #: (the sender is about to sign in) or `sending` (signed in, its POST in flight).
    mid_submit: Mapping[str, Any] = field(default_factory=dict)
    mid_submit_at: str = "sending"
    #: Catalog key of the message shown once the watched enrollment is acknowledged.
    submitted: Optional[str] = None

    @property
    def title_key(self) -> str:
        return f"training.scenario.{self.id}.title"

    @property
    def description_key(self) -> str:
        return f"training.scenario.{self.id}.description"

    @property
    def steps_key(self) -> str:
        return f"training.scenario.{self.id}.steps"

    @property
    def expected_fix(self) -> Optional[str]:
        return f"{self.expected}.fix" if self.expected.startswith("error.") else None


SCENARIOS: Tuple[Scenario, ...] = (
    Scenario("device_not_found", screen="capture", expected="error.device_not_found",
             sim={"missing": True}, worker=1023),
    Scenario("dry_finger", screen="capture", expected="capture.guide.too_light",
             sim={"trouble": "dry"}, worker=1015),
    Scenario("curp_not_eligible", screen="worker", expected="error.portal_curp_not_eligible",
             worker="curp_not_eligible"),
    Scenario("identity_mismatch", screen="worker", expected="error.portal_identity_mismatch",
             worker="mismatch"),
    # A slow month-end portal (1 s a request) so the submission is visibly in flight; while it
    # is, every session (refresh tokens too) expires: the client must log in again with the
    # e.firma it holds and repeat the POST under the same Idempotency-Key.
    Scenario("session_expired", screen="worker", expected="training.session_renewed",
             faults={"latency": SLOW_PORTAL_MS}, mid_submit={"expire-session": "all"}, worker=1025,
             submitted="training.session_renewed"),
    # Once the enrollment is committed to the outbox, 503s on the senders' sign-in: the client
    # retries after each Retry-After, gives up, Envío says so and the item stays in the outbox;
    # the overload then passes and the app's background sender (or R in the Bandeja) gets the
    # acuse.  The worker lookup before it is not affected.
    Scenario("portal_overloaded", screen="worker", expected="error.portal_overloaded",
             faults={"latency": SLOW_PORTAL_MS // 2},
             mid_submit={"overload-next": OVERLOADED_ANSWERS, "overload-retry-after": OVERLOAD_RETRY_AFTER_S},
             mid_submit_at="queued", worker=1011, submitted="training.overload_passed"),
    Scenario("efirma_expired", screen="login", expected="error.efirma_expired",
             efirma=("fiel", True), needs_login=False),
    Scenario("efirma_csd", screen="login", expected="error.efirma_csd",
             efirma=("csd", False), needs_login=False),
    Scenario("duplicate_worker", screen="worker", expected="capture.review.gallery_hits",
             worker=1002, duplicate_of=1001),
    Scenario("all_clear", screen="login", expected="training.all_clear", needs_login=False),
)


def scenario(scenario_id: str) -> Scenario:
    """The scenario with this id (KeyError for an unknown id: a programming error)."""
    for item in SCENARIOS:
        if item.id == scenario_id:
            return item
    raise KeyError(scenario_id)


@dataclass
class Applied:
    """What applying a scenario prepared, for the screen to show and pre-fill."""

    scenario: Scenario
    efirma: Any = None  # DemoEfirma(cer, key, password, rfc, curp)
    worker: Optional[Dict[str, str]] = None  # nss, curp, name to type
    gallery_nss: Optional[str] = None  # the worker whose fingers were pre-enrolled
    faults: Dict[str, Any] = field(default_factory=dict)


def demo_worker(choice: Any) -> Dict[str, str]:
    """NSS, CURP and name of the demo worker a scenario names (see `Scenario.worker`)."""
    from siaptui.portal.sandbox import seed

    if choice == "mismatch":
        nss, curp = seed.DEMO_MISMATCHED_PAIRS[0]
        owner = next(w for w in seed.DEMO_WORKERS if w["nss"] == nss)
        return {"nss": nss, "curp": curp, "name": str(owner["name"])}
    for worker in seed.DEMO_WORKERS:
        if choice in (worker.get("case"), worker.get("person_seed")):
            return {"nss": str(worker["nss"]), "curp": str(worker["curp"]), "name": str(worker["name"])}
    raise KeyError(choice)


ADMIN_HEADER = "Sandbox-Admin-Token"
"""Header of the sandbox's admin token (its control routes refuse requests without it)."""


def set_faults(portal_url: str, changes: Mapping[str, Any], *, ca_bundle: Optional[str] = None,
               timeout: float = 10.0, admin_token: str = "") -> Dict[str, Any]:
    """Clear the sandbox's faults, then switch on `changes`, through its HTTP fault API.

    Refuses (TrainingError) a portal that does not say it is a sandbox: practice faults are
    never sent anywhere else.  `admin_token` is the sandbox's control token.
    """
    import httpx

    base = portal_url.rstrip("/")
    try:
        with httpx.Client(timeout=timeout, verify=ca_bundle or True,
                          headers={ADMIN_HEADER: admin_token}) as client:
            info = client.get(f"{base}/v1/info")
            if info.status_code != 200 or not bool(info.json().get("sandbox")):
                raise TrainingError("not a sandbox", code="training_not_sandbox", url=base)
            body: Dict[str, Any] = {"clear": True}
            body.update(changes)
            answer = client.put(f"{base}/sandbox/faults", json=body)
            if answer.status_code == 401:
                raise TrainingError(answer.text[:200], code="training_sandbox_token", url=base)
            if answer.status_code != 200:
                raise TrainingError(answer.text[:200], code="training_sandbox_refused", url=base)
            return dict(answer.json()) if answer.content else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise TrainingError(str(exc)[:200], code="training_sandbox_unreachable", url=base) from None


def enroll_in_gallery(store: Any, nss: str, person_seed: int, fingers: Tuple[int, ...] = DUPLICATE_FINGERS) -> int:
    """Put a demo worker's synthetic fingers into the office gallery ("already enrolled here")."""
    from siaptui.enrollment import demo_fingers

    for finger in fingers:
        store.gallery.enroll(nss, finger, demo_fingers.template(person_seed, finger).to_bytes())
    return len(fingers)


def apply(
    chosen: Scenario,
    *,
    training: bool,
    portal_url: str,
    workdir: Path,
    store: Any = None,
    ca_bundle: Optional[str] = None,
    admin_token: str = "",
) -> Applied:
    """Set the practice world up for `chosen`; blocking (HTTP, key generation, extraction).

    `workdir` receives the scenario's demo e.firma; `store` (the app's local store) receives
    pre-enrolled gallery templates when the scenario needs them.
    """
    if not training:
        raise TrainingError("training mode is off", code="training_off")
    from siaptui.devices.sim import Practice

    done = Applied(chosen)
    done.faults = set_faults(portal_url, dict(chosen.faults), ca_bundle=ca_bundle, admin_token=admin_token)
    impersonate = None
    if chosen.duplicate_of is not None:
        if store is None:
            raise TrainingError("no store", code="training_no_store")
        owner = demo_worker(chosen.duplicate_of)
        enroll_in_gallery(store, owner["nss"], chosen.duplicate_of)
        done.gallery_nss = owner["nss"]
        impersonate = chosen.duplicate_of
    Practice.set(trouble=chosen.sim.get("trouble"), missing=bool(chosen.sim.get("missing", False)),
                 impersonate=impersonate)
    if chosen.efirma is not None:
        from siaptui.portal.sandbox.ca import issue_demo_efirma

        kind, expired = chosen.efirma
        folder = Path(workdir) / "training-efirma" / chosen.id
        for old in folder.glob("*") if folder.is_dir() else ():
            old.unlink()
        done.efirma = issue_demo_efirma(folder, kind=kind, expired=expired)
    if chosen.worker is not None:
        done.worker = demo_worker(chosen.worker)
    return done


@dataclass
class SubmitReport:
    """What happened to the enrollment a `SubmissionWatch` followed."""

    item_id: int
    state: str
    folio: Optional[str]
    renewed: bool  # the portal client logged in again (or refreshed) after the fault
    copies_at_portal: int  # enrollments the portal holds under the item's Idempotency-Key


class _RenewalSeen(logging.Handler):
    """Notices the portal client's own "session renewed/refreshed" records (no secrets in them)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(("session renewed", "session refreshed")):
            self.seen.set()


class SubmissionWatch:
    """Switch sandbox faults on at the moment an enrollment is submitted, then report.

    Why watch the outbox: the sender claims an item (state `sending`) only after it signed in,
    right before the POST, so "expire the session now" lands in the middle of the submission —
    not before it (a fresh sign-in would hide it) and not after; a new item in any state
    (`at="queued"`) means it was just committed and the sender is about to sign in, so an
    overload then hits the submission and not the worker lookup before.  Blocking: run it in a
    thread.
    The report says whether the client renewed the session and how many enrollments the portal
    holds under the item's key (exactly one when nothing was sent twice).
    """

    CLIENT_LOG = "siaptui.portal.client"

    def __init__(self, portal_url: str, store: Any, changes: Mapping[str, Any], *, at: str = "sending",
                 ca_bundle: Optional[str] = None, poll_s: float = 0.05, limit_s: float = 1800.0,
                 admin_token: str = "") -> None:
        self.portal_url = portal_url
        self.admin_token = admin_token
        self.store = store
        self.changes = dict(changes)
        self.at = at
        self.ca_bundle = ca_bundle
        self.poll_s = poll_s
        self.limit_s = limit_s
        self.stopped = threading.Event()
        self.known = {item.id for item in store.outbox.items()}

    def stop(self) -> None:
        self.stopped.set()

    def _wait(self, predicate: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.limit_s
        while not self.stopped.is_set() and time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            self.stopped.wait(self.poll_s)
        return None

    def _sandbox(self) -> Any:
        import httpx

        return httpx.Client(timeout=10.0, verify=self.ca_bundle or True,
                            headers={ADMIN_HEADER: self.admin_token})

    def _finished(self, item_id: Any) -> Any:
        item = self.store.outbox.get(item_id)
        return item if item.state in ("sent", "failed") else None

    def _in_flight(self) -> Any:
        items = self.store.outbox.items("sending") if self.at == "sending" else self.store.outbox.items()
        return next((i for i in items if i.id not in self.known), None)

    def run(self) -> Optional[SubmitReport]:
        """Wait for a new item in flight, fire the faults, follow it to sent/failed."""
        import httpx

        logger = logging.getLogger(self.CLIENT_LOG)
        seen, level = _RenewalSeen(), logger.level
        logger.addHandler(seen)
        if not logger.isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)
        try:
            item = self._wait(self._in_flight)
            if item is None:
                return None
            base = self.portal_url.rstrip("/")
            try:
                with self._sandbox() as client:
                    client.put(f"{base}/sandbox/faults", json=self.changes).raise_for_status()
            except httpx.HTTPError as exc:
                raise TrainingError(str(exc)[:200], code="training_sandbox_unreachable", url=base) from None
            seen.seen.clear()  # only renewals after the fault count
            done = self._wait(lambda: self._finished(item.id))
            if done is None:
                return None
            copies = 0
            try:
                with self._sandbox() as client:
                    keys = client.get(f"{base}/sandbox/enrollments").json().get("idempotency_keys", [])
                    copies = sum(1 for key in keys if key == item.idempotency_key)
                    client.put(f"{base}/sandbox/faults", json={"clear": True})  # the slow portal ends
            except (httpx.HTTPError, ValueError, AttributeError):
                copies = 0
            return SubmitReport(item.id, done.state, done.folio, seen.seen.is_set(), copies)
        finally:
            logger.removeHandler(seen)
            logger.setLevel(level)


def catalog_keys() -> List[str]:
    """Every catalog key the scenarios use (the i18n test checks they exist in es and en)."""
    keys: List[str] = []
    for item in SCENARIOS:
        keys += [item.title_key, item.description_key, item.steps_key, item.expected]
        if item.submitted:
            keys.append(item.submitted)
        if item.expected_fix:
            keys.append(item.expected_fix)
    return keys
