"""The office-day acceptance: Pilot enrolls worker after worker on the real app against the
real sandbox on loopback, while the portal fails at seeded moments (503 + Retry-After, session
expiry, the connection dropped after the commit, latency), the emulated U.are.U 4500 is
unplugged twice, the morning's app process is SIGKILLed mid-send and a new one started on the
same data folder, one worker refuses consent, one lacks a finger, and Esc is pressed at seeded
steps.  The scenario is `siaptui.bench.office_day` (`siaptui bench office-day` runs the same).

Fast settings, to stay inside the suite's budget on a 2-core machine: 12 workers, one impression
a finger, ONE finger captured per worker and the other nine marked missing (the extractor costs
~1 s a finger there), the sim scanner's brisk timing and a brisk emulated finger.  Afterwards,
judged from outside the app: exactly one enrollment per consenting worker in the sandbox's
store, each stored template that worker's own synthetic finger, each acuse (screen and outbox)
naming its own worker, and nothing left unsent in the outbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from siaptui.bench.office_day import run_day

WORKERS = 12


@pytest.mark.slow
async def test_a_day_at_the_office_enrolls_every_consenting_worker_once_with_their_own_fingers(
        tmp_path: Path) -> None:
    result = await run_day(WORKERS, seed=18, workdir=tmp_path, captured=1)
    assert result.problems == []
    assert result.workers == WORKERS and result.consented == WORKERS - 1
    assert result.acknowledged == result.consented
    assert result.duplicates_sent == 0 and result.wrong_fingers == 0 and result.wrong_acuses == 0
    assert result.outbox_left == 0
    assert result.restarts == 1 and result.unplugs == 2 and result.faults >= 4
