"""What every route of the sandbox shares: the store, the CA, the fault switches, the session
rules and the biometrics adapter.  One instance per app (`build_app`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from siaptui.portal.sandbox.biometrics import Biometrics
from siaptui.portal.sandbox.ca import SandboxCA
from siaptui.portal.sandbox.faults import Faults
from siaptui.portal.sandbox.sessions import Sessions
from siaptui.portal.sandbox.store import SandboxStore


@dataclass
class PortalState:
    store: SandboxStore
    ca: SandboxCA
    faults: Faults
    sessions: Sessions
    biometrics: Biometrics = field(default_factory=Biometrics)
