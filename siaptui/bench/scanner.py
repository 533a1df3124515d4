"""`siaptui bench scanner [--json]`: how fast the U.are.U 4500 path and `siaptui doctor` are.

Targets: decoding + assembling one 4500 frame ≤ 20 ms; `siaptui doctor` ≤ 2 s with no
scanner.  Measured:

* `decode_ms` — `decode_frame` on the real recorded frame (../shared usb-traces, when present;
  else a frame made by the emulator): header, noise test, descramble, block assembly, invert,
  rotate — the full driver-side cost per frame (median / p95 / max over `--repeat` runs);
* `lfsr_table_ms` — the one-time cost of the LFSR mask table (paid by the first frame);
* `keystream_ms` — the keystream alone for a full frame (111,360 bytes);
* `emulator_capture_ms` — one `capture()` through pyusb + the emulator backend with no
  simulated transfer time (driver overhead around the decode);
* `replay_capture_ms` — the acceptance path: open, power-up, finger, capture, close, in-process;
* `doctor_ms` — `diagnose()` on this machine's real USB bus, in-process;
  `doctor_cli_ms` — `siaptui doctor --json` as a new process (interpreter start included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from siaptui.bench import machine, shared_dir


def _stats(samples: list[float]) -> Dict[str, Any]:
    ordered = sorted(samples)
    return {"median": round(statistics.median(ordered), 3), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
            "min": round(ordered[0], 3), "max": round(ordered[-1], 3), "n": len(ordered)}


def _time(fn: Callable[[], Any], repeat: int) -> Dict[str, Any]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return _stats(samples)


def _trace_folder() -> Optional[Path]:
    """The recorded U.are.U 4500 session in the shared data, or None when it is absent."""
    shared = shared_dir()
    folder = shared / "data" / "usb-traces" / "uru4000-4500" if shared is not None else None
    return folder if folder is not None and folder.is_dir() else None


def _frame() -> tuple[bytes, int, str]:
    """(payload, key, source): the recorded 4500 frame, or an emulator frame as a fallback."""
    folder = _trace_folder()
    if folder is not None:
        from siaptui.devices.recording import read_pcapng

        rec = read_pcapng(folder / "capture.pcapng")
        payload = next(t.data for t in rec.transfers if t.endpoint == 0x82 and t.data)
        writes = [t for t in rec.transfers if t.request[:3] == (0x40, 4, 0x33)]
        reads = [t for t in rec.transfers if t.request[:3] == (0xC0, 4, 0x34)]
        seed = int.from_bytes(writes[0].data[1:5], "little")
        key = int.from_bytes(reads[0].data, "little") ^ seed
        return payload, key, f"recorded ({folder})"
    import numpy as np

    from siaptui.devices.emulator import EmulatorBackend, EmulatorOptions

    rng = np.random.default_rng(1)
    backend = EmulatorBackend(EmulatorOptions(image=rng.integers(0, 256, (290, 384), dtype=np.uint8)))
    dev = backend.device
    if dev is None:
        raise RuntimeError("the emulator starts with its 4500 plugged in")
    payload = backend.encode_frame(backend.images.image(0), dev)
    return payload, backend._key(dev.key_number), "emulator"


def measure(repeat: int = 200) -> Dict[str, Any]:
    from siaptui.devices.drivers import uru4000 as u

    results: dict[str, Any] = {"machine": machine(), "command": "siaptui bench scanner", "repeat": repeat}
    payload, key, source = _frame()
    results["frame_source"] = source
    started = time.perf_counter()
    u._masks = None
    u._table(u.WIDTH * u.HEIGHT + 64)
    results["lfsr_table_ms"] = round((time.perf_counter() - started) * 1000, 3)
    results["decode_ms"] = _time(lambda: u.decode_frame(payload, lambda n: key, rotate180=True), repeat)
    results["keystream_ms"] = _time(lambda: u.keystream(key, 0, u.WIDTH * 290), repeat)
    results["emulator_capture_ms"] = _emulator_capture(max(10, repeat // 10))
    folder = _trace_folder()
    if folder is not None:
        results["replay_capture_ms"] = _time(lambda: _replay(folder), max(3, repeat // 40))
    from siaptui.devices.doctor import diagnose

    results["doctor_ms"] = _time(lambda: diagnose(), max(5, repeat // 20))
    results["doctor_codes"] = diagnose().codes()
    results["doctor_cli_ms"] = _time(_doctor_cli, 3)
    return results


def _emulator_capture(repeat: int) -> Dict[str, Any]:
    import numpy as np

    from siaptui.devices.registry import open_scanner

    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (290, 384), dtype=np.uint8)
    with open_scanner("emulator:uru4500:on=0:frame_ms=0:hold=3600", image=image) as scanner:
        scanner.wait_finger(timeout=5)
        scanner.capture(timeout=5)
        return _time(lambda: scanner.capture(timeout=5), repeat)


def _replay(folder: Path) -> None:
    import contextlib
    import io

    from siaptui.devices.capture_cli import capture_one

    with contextlib.redirect_stderr(io.StringIO()):  # the CLI's "place your finger" prompts
        capture_one(f"replay:{folder}", 5.0)


def _doctor_cli() -> None:
    subprocess.run([sys.executable, "-m", "siaptui", "doctor", "--json"], capture_output=True, check=False)


def render(results: Dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"siaptui bench scanner — {m['cpu']} ({m['nproc']} núcleos), Python {m['python']}, {m['os']}",
             f"cuadro: {results['frame_source']}", ""]
    for key in ("decode_ms", "keystream_ms", "emulator_capture_ms", "replay_capture_ms", "doctor_ms", "doctor_cli_ms"):
        if key in results:
            s = results[key]
            lines.append(f"{key:22s} mediana {s['median']:9.3f}  p95 {s['p95']:9.3f}  máx {s['max']:9.3f}  "
                         f"(n={s['n']})")
    lines.append(f"{'lfsr_table_ms':22s} {results['lfsr_table_ms']:.3f} (una vez por proceso)")
    lines.append(f"doctor: {', '.join(results['doctor_codes'])}")
    return "\n".join(lines)


def main(args: argparse.Namespace, settings: Any) -> int:
    results = measure()
    if getattr(args, "json", False):
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print(render(results))
    return 0
