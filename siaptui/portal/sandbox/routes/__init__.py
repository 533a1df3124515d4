"""The sandbox's routes, one module per resource of the contract: `auth` (challenge, login,
refresh, logout, info, the document), `workers`, `enrollments`, `transfers`, `verifications`,
and `control` (the sandbox's own switches, outside the contract).  Each module's `routes(state)`
returns its Starlette routes."""

from __future__ import annotations
