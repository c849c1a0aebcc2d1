"""How much of a gap to the floor is x264's own work on the picture: a composited edit (crossfades, an inset) is
harder to encode than the plain cuts the floor writes, and any tool that makes the edit pays that.

Each output is decoded and encoded again with the bench's x264 settings, streaming (memory stays flat at any
length), and decoded alone, alternated round by round; re-encoding less decoding is x264's time, and the medians'
ratio is the extra encoder work of the edit's own frames (the composited output also decodes a little slower: that
part is taken out).
"""

from __future__ import annotations

import statistics
import time
from fractions import Fraction
from pathlib import Path

import av

from .pyav_side import video_stream


def reencode_s(path: Path, spec) -> float:
    """Seconds to decode ``path`` and encode its frames again as the bench's contenders do (into nothing kept)."""
    again = path.with_suffix(".again.mp4")
    t0 = time.perf_counter()
    try:
        with av.open(str(path)) as src, av.open(str(again), "w") as out:
            v = video_stream(out, spec)
            for k, frame in enumerate(src.decode(video=0)):
                frame = frame.reformat(format="yuv420p")
                frame.pts, frame.time_base = k, Fraction(1, spec.fps)
                out.mux(v.encode(frame))
            out.mux(v.encode(None))
        return time.perf_counter() - t0
    finally:
        again.unlink(missing_ok=True)


def decode_s(path: Path) -> float:
    """Seconds to decode ``path``'s pictures as :func:`reencode_s` does, encoding nothing."""
    t0 = time.perf_counter()
    with av.open(str(path)) as src:
        for frame in src.decode(video=0):
            frame.reformat(format="yuv420p")
    return time.perf_counter() - t0


def compare(spec, edit_mp4: Path, floor_mp4: Path, repeat: int) -> dict:
    """x264's time on the edit's output and on the floor's (re-encode less decode, alternated); medians, ratio."""
    ours, floors = [], []
    for r in range(max(1, repeat)):
        pair = [(ours, edit_mp4), (floors, floor_mp4)]
        for into, path in pair if r % 2 == 0 else pair[::-1]:
            into.append(reencode_s(path, spec) - decode_s(path))
    a, b = statistics.median(ours), statistics.median(floors)
    return {"edit_s": a, "floor_s": b, "ratio": a / b, "edit_runs_s": ours, "floor_runs_s": floors}
