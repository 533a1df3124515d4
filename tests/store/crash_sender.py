"""A pre-loaded sender "zygote" for the crash test: forks a fresh submission process per command.

Why fork: importing httpx, cryptography and the app takes most of a second on a slow shared
PC; paying it 50 times would make the test slow and would put most kills during imports,
not during submission.  The zygote imports once; each `go` forks a child that opens the store
(nothing is open before the fork), logs in to the sandbox and sends the due outbox items —
the same `OutboxSender.run_once()` the app runs — and the test SIGKILLs that child at random
moments.

Protocol (stdin/stdout lines): `go` -> prints `pid <n>`; the child prints `sending <n>` once it
has logged in and starts submitting; the zygote prints `exit <status>` when the child ends
(killed or finished); `quit` ends the zygote.

    python tests/store/crash_sender.py DB PORTAL_URL CER KEY   (password in SIAPTUI_EFIRMA_PASSWORD)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Loaded before forking, on purpose.
import siaptui.efirma
import siaptui.portal.client
import siaptui.portal.models  # noqa: F401 - loaded before forking, on purpose
from siaptui.store.db import open_store
from siaptui.store.sender import OutboxSender, portal_client_factory


def child(db: str, url: str, cer: str, key: str, password: str) -> int:
    """One submission process: open the store, log in, announce `sending`, send what is due."""
    import asyncio

    store = open_store(Path(db))
    sender = OutboxSender(store, portal_client_factory(url, cer, key, password, timeout=10.0))

    async def run() -> int:
        try:
            await sender.connect()
            print(f"sending {os.getpid()}", flush=True)
            result = await sender.run_once_async()
            return 0 if result.error is None else 3
        finally:
            await sender.close()

    code = asyncio.run(run())
    store.close()
    return code


def main() -> int:
    import gc

    db, url, cer, key = sys.argv[1:5]
    password = os.environ.get("SIAPTUI_EFIRMA_PASSWORD", "")
    gc.freeze()  # keep the pre-loaded objects out of the children's GC: fewer copy-on-write pages
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            return 0
        if command != "go":
            continue
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the submission process
            try:
                code = child(db, url, cer, key, password)
            except BaseException:  # noqa: BLE001 - the forked child reports anything, never hangs the test
                import traceback

                traceback.print_exc()
                code = 4
            os._exit(code)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {status}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
