"""Lossless media for the tools' outputs (interpolated frames, masks): FFV1 in AVI, written whole or not at all.

FFV1 keeps every pixel; AVI keeps frame times at exact multiples of 1/fps (Matroska's millisecond clock does not,
and a frame-exact reader then finds the frame before the one asked for). Same frames, same bytes.

    >>> write_lossless("slow.avi", frames, Fraction(96))            # frames: iterable of (H, W, 3) uint8
    >>> write_lossless("mask.avi", masks, Fraction(24), gray=True)  # masks: iterable of (H, W) uint8
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..folder import atomic_write

TOOLS = "tools"  # the project sub-folder that holds the tools' media


def write_lossless(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: Fraction, *, gray: bool = False) -> Path:
    """Write frames to ``path`` (a temporary file renamed into place at the end); returns the path."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    fps = Fraction(fps)
    try:
        with av.open(str(tmp), "w", format="avi", options={"fflags": "+bitexact"}) as out:
            stream = None
            for k, img in enumerate(frames):
                if stream is None:
                    stream = out.add_stream("ffv1", rate=fps)
                    stream.width, stream.height = img.shape[1], img.shape[0]
                    stream.pix_fmt = "gray" if gray else "bgr0"
                    stream.codec_context.time_base = 1 / fps
                    stream.codec_context.thread_count = 1  # one slice layout whatever the machine: same bytes
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="gray" if gray else "rgb24")
                if not gray:
                    frame = frame.reformat(format="bgr0")
                frame.pts, frame.time_base = k, 1 / fps
                out.mux(stream.encode(frame))
            if stream is None:
                raise ValueError("no frames to write")
            out.mux(stream.encode(None))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def job_key(job: dict) -> str:
    """The sha256 naming a tool's output: everything its frames depend on, as sorted JSON."""
    return hashlib.sha256(json.dumps(job, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def cached(path: Path, key: str) -> bool:
    """Is ``path`` the output of the job ``key``, whole (its sidecar names the key and the file's size)?"""
    side = path.with_suffix(".json")
    if not path.exists() or not side.exists():
        return False
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return data.get("key") == key and data.get("bytes") == path.stat().st_size


def write_sidecar(path: Path, key: str, provenance: dict) -> None:
    """``<name>.json`` beside a tool's output: how it was made, for people and for reuse."""
    data = {"key": key, "bytes": path.stat().st_size, "provenance": provenance}
    atomic_write(path.with_suffix(".json"), json.dumps(data, indent=1, sort_keys=True))  # whole, or none and said
