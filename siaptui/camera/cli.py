"""`siaptui photo --camera SPEC --out FILE.jpg [--json]`: one token photo from the command line.

A live camera is read until a frame passes every check or `--frames` frames went by; then the
frame that passed (or, failing that, the last one with a face) is cropped to the token image and
written atomically.  The exit code is 0 when a photo was written with every check holding, 3
when written although some check failed (they are listed), and 1 when no face was seen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

from siaptui.camera.face import Analysis

PARTIAL = 3


def take(camera: Any, frames: int) -> tuple[Any, Optional[Analysis]]:
    """(frame, analysis) of the first frame passing every check, else the last with a face."""
    from siaptui.camera.face import analyse

    kept: tuple[Any, Optional[Analysis]] = (None, None)
    for _ in range(max(int(frames), 1)):
        frame = camera.read()
        analysis = analyse(frame)
        if analysis.face is not None:
            kept = (frame, analysis)
            if analysis.ok:
                break
    return kept


def main(args: argparse.Namespace, settings: Any) -> int:
    from siaptui.camera.registry import open_camera, split
    from siaptui.camera.token import PhotoError, token_image
    from siaptui.files import atomic_write
    from siaptui.i18n import t

    spec = args.camera or (settings.camera.device if settings is not None else "auto")
    size = {"width": settings.camera.width, "height": settings.camera.height} if settings is not None else {}
    frames = 1 if split(spec)[0] == "image" else int(args.frames)
    with open_camera(spec, **size) as camera:
        frame, analysis = take(camera, frames)
    if analysis is None:
        raise PhotoError("no face", spec=spec)
    token = token_image(frame, analysis, spec=spec)
    out = Path(args.out).expanduser()
    atomic_write(out, token.jpeg)
    failing = analysis.failing()
    if args.json:
        record = analysis.to_dict()
        record.update(width=token.width, height=token.height, bytes=len(token.jpeg), file=str(out))
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(t("photo.cli.written", file=str(out), width=token.width, height=token.height, size=len(token.jpeg)))
        if failing:
            print(t("photo.cli.flags", checks=", ".join(t(f"photo.check.{name}") for name in failing)), file=sys.stderr)
    return PARTIAL if failing else 0
