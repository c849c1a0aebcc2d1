"""Where a YUV 4:2:0 part lands on a canvas: the one clipping rule that numpy and torch compositing share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def overlaps(canvas: list, part: list, x: int, y: int) -> Iterator[tuple[Any, Any, tuple[tuple, tuple]]]:
    """For each plane of ``part`` put at (x, y) on ``canvas``: the canvas plane, the part's plane, and the
    (rows, columns) slices of each where they overlap. Chroma goes at half the offsets (an odd offset shifts it by
    half a chroma pixel, as an overlay does); a plane the part misses is left out."""
    for k, (dst, src) in enumerate(zip(canvas, part, strict=True)):
        px, py = (x, y) if k == 0 else (x // 2, y // 2)
        x0, y0 = max(px, 0), max(py, 0)
        x1, y1 = min(px + src.shape[1], dst.shape[1]), min(py + src.shape[0], dst.shape[0])
        if x1 > x0 and y1 > y0:
            yield dst, src, ((slice(y0, y1), slice(x0, x1)), (slice(y0 - py, y1 - py), slice(x0 - px, x1 - px)))
