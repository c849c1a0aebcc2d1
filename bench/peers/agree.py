"""Do two renders of the edit show the same pictures? PSNR on sampled frames, and where they differ, why.

Samples: frames spread evenly over the edit, the middle of each crossfade and of the PiP, and the first frame
after each cut (where an off-by-one shows). A frame that matches the reference's neighbour better than the
reference frame itself is reported as early or late.
"""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np

from .edit import Spec

THRESHOLD_DB = 35.0
EVEN_SAMPLES = 12


def samples(spec: Spec, *, plain_only: bool = False) -> dict[int, str]:
    """Frame -> what it shows; ``plain_only``: leave out the crossfades' and the PiP's frames."""
    n = spec.frames
    where = {round((k + 0.5) * n / EVEN_SAMPLES): "plain" for k in range(EVEN_SAMPLES)}
    for seg in spec.segments[1:]:
        where[seg.start] = "first frame after a cut"
    for k in spec.crossfades:
        where[spec.segments[k + 1].start] = f"crossfade {spec.crossfades.index(k) + 1} (middle)"
    if spec.pip is not None:
        where[spec.pip.start + spec.pip.frames // 2] = "picture-in-picture (middle)"
    if plain_only:
        p = spec.pip
        where = {
            i: why
            for i, why in where.items()
            if spec.fading(i) is None and (p is None or not p.start <= i < p.start + p.frames)
        }
    return {i: why for i, why in sorted(where.items()) if 0 <= i < n}


def read(path: Path | str, wanted: set[int]) -> tuple[dict[int, np.ndarray], int]:
    """RGB frames at the wanted indices (decode order = display order after the decoder), and the frame count."""
    got, count = {}, 0
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        for count, frame in enumerate(c.decode(stream), 1):
            if count - 1 in wanted:
                got[count - 1] = frame.to_ndarray(format="rgb24")
    return got, count


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return 0.0
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def compare(spec: Spec, reference: Path | str, other: Path | str, *, plain_only: bool = False) -> dict:
    """PSNR of ``other`` against ``reference`` (nbedit's render) on the sampled frames; min, mean and notes.

    ``plain_only`` for a contender that composites nothing (the floor): only frames without a crossfade or PiP.
    """
    where = samples(spec, plain_only=plain_only)
    near = {i + d for i in where for d in (-2, -1, 0, 1, 2)}
    ref, ref_count = read(reference, near)
    got, count = read(other, set(where))
    rows, notes = [], []
    for i, why in where.items():
        if i not in got or i not in ref:
            notes.append(f"frame {i} ({why}) missing")
            rows.append(0.0)
            continue
        db = psnr(ref[i], got[i])
        rows.append(db)
        if db < THRESHOLD_DB:
            shifts = {d: psnr(ref[i + d], got[i]) for d in (-2, -1, 1, 2) if i + d in ref}
            best = max(shifts, key=shifts.get, default=None)
            if best is not None and shifts[best] > max(db, THRESHOLD_DB):
                side = "early" if best < 0 else "late"
                notes.append(f"frame {i} ({why}): {db:.1f} dB, shows frame {i + best} ({abs(best)} {side})")
            elif got[i].mean() < 20 <= ref[i].mean():
                notes.append(f"frame {i} ({why}): {db:.1f} dB, shows black")
            else:
                notes.append(f"frame {i} ({why}): {db:.1f} dB")
    if count != ref_count:
        notes.insert(0, f"{count} frames, nbedit has {ref_count}")
    finite = [min(r, 99.0) for r in rows]
    return {
        "psnr_min_db": min(finite),
        "psnr_mean_db": sum(finite) / len(finite),
        "frames": count,
        "samples": len(rows),
        "agrees": min(finite) >= THRESHOLD_DB and count == ref_count,
        "notes": notes,
        "plain_only": plain_only,
    }
