"""One capture station for the multi-station test: enrolls its workers and sends the office's outbox.

Each station is its own process with its own key folder, station name and sender, all against
one PostgreSQL database: it joins the office with the office passphrase (from the environment),
puts each of its workers in the shared gallery and outbox, and after every enrollment runs a
sender round — which sends whatever is due, whichever station captured it.  When its own
workers are in, it keeps sending until the whole outbox is acknowledged.  The test SIGKILLs
stations at random and starts them again; a restarted station skips the workers already in
the outbox (the sandbox would refuse a second enrollment of the same worker).

Lines on stdout: `enqueued <idempotency key>` once an enqueue has committed, `done` at the end.

    python tests/store/station_worker.py CONFIG.json   (e.firma password in SIAPTUI_EFIRMA_PASSWORD,
                                                         office passphrase in SIAPTUI_OFFICE_PASSPHRASE)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from siaptui.biometrics.template import views_to_bytes  # noqa: E402 - after the sys.path set-up above
from siaptui.store.db import open_store  # noqa: E402 - after the sys.path set-up above
from siaptui.store.sender import OutboxSender, portal_client_factory  # noqa: E402 - after the sys.path set-up above
from tests.biometrics.engine_helpers import random_template  # noqa: E402
from tests.store.sandbox_support import enrollment  # noqa: E402

FINGERS = (1, 2, 6, 7)
DRAIN_LIMIT_S = 60.0


def person_fingers(seed: int) -> dict:
    """The worker's enrolled fingers: one view per position, the same for a given seed everywhere."""
    return {position: views_to_bytes([random_template(seed * 100 + position)]) for position in FINGERS}


async def station(config: dict) -> None:
    store = open_store(url=config["url"], key_dir=Path(config["key_dir"]), station=config["station"])
    sender = OutboxSender(store, portal_client_factory(config["portal"], config["cer"], config["key"],
                                                      os.environ["SIAPTUI_EFIRMA_PASSWORD"], timeout=10.0,
                                                      max_attempts=1))
    try:
        await sender.connect()
        present = {item.worker_nss for item in store.outbox.items()}
        for worker in config["workers"]:
            if worker["nss"] not in present:
                store.gallery.enroll_worker(worker["nss"], person_fingers(worker["seed"]))
                request = enrollment(worker["nss"], worker["curp"], seed=worker["seed"])
                item = store.outbox.enqueue(request, worker_nss=worker["nss"], employer_rfc=config["rfc"],
                                            training=True)
                print(f"enqueued {item.idempotency_key}", flush=True)
            await sender.run_once_async()
        deadline = time.monotonic() + DRAIN_LIMIT_S
        while time.monotonic() < deadline and any(i.state != "sent" for i in store.outbox.items()):
            result = await sender.run_once_async()
            if not result.ids:  # another station holds the rest right now
                await asyncio.sleep(0.05)
        print("done", flush=True)
    finally:
        await sender.close()
        store.close()


if __name__ == "__main__":
    asyncio.run(station(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
