"""How much of a gap to the floor is x264's own work on the picture: a composited edit (crossfades, an inset) is
harder to encode than the plain cuts the floor writes, and any tool that makes the edit pays that.

Each output is decoded and encoded again with the bench's x264 settings, streaming (memory stays flat at any
length), alternated round by round; the medians' ratio is the extra encoder work of the edit's own frames. Both
sides decode one file of the same size and length, so what differs is x264's work.
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
    t0 = time.perf_counter()
    with av.open(str(path)) as src, av.open(str(path.with_suffix(".again.mp4")), "w") as out:
        v = video_stream(out, spec)
        for k, frame in enumerate(src.decode(video=0)):
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = k, Fraction(1, spec.fps)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    took = time.perf_counter() - t0
    path.with_suffix(".again.mp4").unlink()
    return took


def compare(spec, edit_mp4: Path, floor_mp4: Path, repeat: int) -> dict:
    """Re-encoding times of the edit's output and the floor's, alternated; their medians and ratio."""
    ours, floors = [], []
    for r in range(max(1, repeat)):
        pair = [(ours, edit_mp4), (floors, floor_mp4)]
        for into, path in pair if r % 2 == 0 else pair[::-1]:
            into.append(reencode_s(path, spec))
    a, b = statistics.median(ours), statistics.median(floors)
    return {"edit_s": a, "floor_s": b, "ratio": a / b, "edit_runs_s": ours, "floor_runs_s": floors}
