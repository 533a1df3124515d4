"""Benchmarks (`siaptui bench …`): the only source of the figures in docs/benchmarks.md.

Shared helpers: where the reference data lives, what machine ran the bench (a figure without
its machine means nothing on a 2-core office PC), and the process's peak memory.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Dict, Optional

_REPO = Path(__file__).resolve().parent.parent.parent


def shared_dir() -> Optional[Path]:
    """The reference folder (../shared beside the checkout, or $SIAPTUI_SHARED); None when absent."""
    candidates = []
    if os.environ.get("SIAPTUI_SHARED"):
        candidates.append(Path(os.environ["SIAPTUI_SHARED"]))
    candidates.append(_REPO.parent / "shared")
    for base in candidates:
        if (base / "data").is_dir():
            return base
    return None


def shared_fingerprints() -> Optional[Path]:
    """../shared/data/fingerprints/fvc2002 (or under $SIAPTUI_SHARED); None when absent."""
    base = shared_dir()
    folder = base / "data" / "fingerprints" / "fvc2002" if base else None
    return folder if folder is not None and folder.is_dir() else None


def machine() -> Dict[str, object]:
    """nproc, CPU model, Python version and platform, for the record."""
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count() or 1,
        "cpu": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no getrusage
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
