"""`siaptui bench startup`: time to the first painted screen and peak memory, in a real terminal.

Each run starts a fresh `siaptui` process in a pseudo-terminal of the chosen size (so Textual's
real Linux driver paints, as over SSH), with `SIAPTUI_EXIT_AFTER_FIRST_PAINT=1`: the app prints
`first_paint_ms=N` (measured from the process's kernel start time, so interpreter start-up and
every import count) and exits.  Wall time and maximum RSS come from `/usr/bin/time -v` when it is
installed (what the issue asks for), else from the kernel's accounting of the child (`wait4`).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from siaptui.bench import machine

GNU_TIME = "/usr/bin/time"


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO once the child side of the pty closes
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_gnu_time(text: str) -> Dict[str, float]:
    found: Dict[str, float] = {}
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if rss:
        found["max_rss_mb"] = int(rss.group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    if wall:
        hours, minutes, seconds = wall.groups()
        found["wall_s"] = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return found


def run_once(command: Sequence[str], cols: int = 80, rows: int = 24, timeout: float = 30.0) -> Dict[str, Any]:
    """One fresh process in a cols×rows pty; returns first_paint_ms, wall_s, max_rss_mb."""
    with tempfile.TemporaryDirectory(prefix="siaptui-bench-startup-") as tmp:
        time_file = Path(tmp) / "time.txt"
        use_gnu_time = os.access(GNU_TIME, os.X_OK)
        argv = [sys.executable, "-m", "siaptui", *command]
        if use_gnu_time:
            argv = [GNU_TIME, "-v", "-o", str(time_file), *argv]
        env = dict(os.environ)
        if env.get("TERM") in (None, "", "dumb"):  # CI has no terminal type; paint as xterm does
            env["TERM"] = "xterm-256color"
        env.update({"SIAPTUI_EXIT_AFTER_FIRST_PAINT": "1",
                    "SIAPTUI_STORE_DATA_DIR": str(Path(tmp) / "data"),
                    "SIAPTUI_CONFIG": str(Path(tmp) / "siaptui.toml")})
        started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # child: size the terminal, then become siaptui
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvpe(argv[0], argv, env)
        deadline = started + timeout
        output = b""
        while True:
            output += _read_all(fd)
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() > deadline:
                os.kill(pid, 9)
                os.wait4(pid, 0)
                raise TimeoutError(f"siaptui {' '.join(command)} did not paint within {timeout:.0f} s")
            time.sleep(0.01)
        wall = time.perf_counter() - started
        output += _read_all(fd)
        os.close(fd)
        text = output.decode("utf-8", "replace")
        paint = re.search(r"first_paint_ms=(\d+)", text)
        result: Dict[str, Any] = {
            "first_paint_ms": int(paint.group(1)) if paint else None,
            "wall_s": round(wall, 3),
            "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit_status": os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status,
            "measured_with": "wait4",
        }
        if use_gnu_time and time_file.exists():
            result.update({k: round(v, 3) for k, v in _parse_gnu_time(time_file.read_text()).items()})
            result["measured_with"] = "/usr/bin/time -v"
        return result


def summarise(name: str, runs: List[Dict[str, Any]], cols: int, rows: int) -> Dict[str, Any]:
    paints = [r["first_paint_ms"] for r in runs if r["first_paint_ms"] is not None]
    return {
        "command": name,
        "cols": cols,
        "rows": rows,
        "runs": len(runs),
        "painted": len(paints),
        "first_paint_ms_median": statistics.median(paints) if paints else None,
        "first_paint_ms_all": paints,
        "wall_s_median": statistics.median(r["wall_s"] for r in runs),
        "max_rss_mb_max": max(r["max_rss_mb"] for r in runs),
        "measured_with": runs[0]["measured_with"],
    }


def main(args: argparse.Namespace, settings: Optional[object] = None) -> int:
    commands = {"demo": ["demo"], "tui": []}
    chosen = args.command_name or list(commands)
    lines = []
    for name in chosen:
        runs = [run_once(commands[name], cols=args.cols, rows=args.rows) for _ in range(args.runs)]
        lines.append(summarise(f"siaptui {' '.join(commands[name])}".strip(), runs, args.cols, args.rows))
    if args.json:
        for line in lines:
            print(json.dumps({**line, "machine": machine()}))
        return 0
    print(f"{'command':<14} {'paint ms (median)':>18} {'wall s':>8} {'max RSS MB':>11}  runs  tool")
    for line in lines:
        paint = line["first_paint_ms_median"]
        print(f"{line['command']:<14} {paint if paint is not None else '—':>18} {line['wall_s_median']:>8.2f} "
              f"{line['max_rss_mb_max']:>11.1f}  {line['painted']}/{line['runs']}  {line['measured_with']}")
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, Python {info['python']}")
    return 0
