"""What every route of the sandbox shares: the store, the CA, the fault switches, the session
rules, the admin token of the control routes, the verification limits and the biometrics
adapter.  One instance per app (`build_app`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from siaptui.portal.sandbox.biometrics import Biometrics
from siaptui.portal.sandbox.ca import SandboxCA
from siaptui.portal.sandbox.faults import Faults
from siaptui.portal.sandbox.ratelimit import VerifyLimits
from siaptui.portal.sandbox.sessions import Sessions
from siaptui.portal.sandbox.store import SandboxStore


@dataclass
class PortalState:
    store: SandboxStore
    ca: SandboxCA
    faults: Faults
    sessions: Sessions
    admin_token: str
    verify_limits: VerifyLimits = field(default_factory=VerifyLimits)
    biometrics: Biometrics = field(default_factory=Biometrics)
