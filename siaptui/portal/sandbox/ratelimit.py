"""Sliding-window rate limits of the sandbox (verification: per worker and per employer).

Why limit verification: a 1:1 answer, even reduced to match / no match and a coarse band, is
an oracle; a caller free to ask thousands of times could climb towards an enrolled template."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Optional


@dataclass
class RateLimit:
    """At most `limit` requests per `window_s` seconds for one key."""

    limit: int
    window_s: float
    clock: Callable[[], float] = time.monotonic
    _seen: Dict[str, Deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, key: str) -> Optional[int]:
        """Count one request for `key`; None when allowed, else the whole seconds to wait."""
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window_s:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1, math.ceil(seen[0] + self.window_s - now))
            seen.append(now)
            return None


@dataclass
class VerifyLimits:
    """The two limits of `POST /v1/verifications` (defaults as documented in portal-api.yaml)."""

    per_worker: RateLimit = field(default_factory=lambda: RateLimit(5, 60.0))
    per_employer: RateLimit = field(default_factory=lambda: RateLimit(30, 60.0))
