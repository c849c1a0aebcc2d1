"""In-between frames: optical flow with occlusion-aware blending (the default), or a learned interpolator.

For a time t between pictures a (t = 0) and b (t = 1):

1. flows both ways (DIS), and which pixels of each picture the other one hides (a round trip that misses);
2. every pixel of a is carried to where it is at t (p + t f_ab), every pixel of b likewise (q + (1 - t) f_ba);
   where several land on one pixel, the one seen in both pictures wins over one about to be hidden, so a
   moving object covers the background it moves over and uncovers the background behind it;
3. each pixel of the new picture then knows where to look in a and in b: it blends both when it is seen in both,
   weighted by closeness in time, and takes only the picture that sees it otherwise (no ghosts at edges).

Plain frame blending (:func:`blend`) is what this improves on; ``docs/ai-tools.md`` has the measured figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import flow as fl


@dataclass
class Pair:
    """Two neighbouring pictures and the flows between them, worked out once for all the times between."""

    a: np.ndarray
    b: np.ndarray
    f_ab: np.ndarray
    f_ba: np.ndarray
    hidden_a: np.ndarray  # pixels of a not seen in b
    hidden_b: np.ndarray

    @classmethod
    def of(cls, a: np.ndarray, b: np.ndarray) -> Pair:
        f_ab, f_ba = fl.flow(a, b), fl.flow(b, a)
        return cls(a, b, f_ab, f_ba, fl.occluded(f_ab, f_ba), fl.occluded(f_ba, f_ab))


def blend(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Plain cross-fade of two pictures: the baseline."""
    return np.rint(a.astype(np.float32) * (1 - t) + b.astype(np.float32) * t).astype(np.uint8)


def between(pair: Pair, t: float) -> np.ndarray:
    """The picture at time t (0 < t < 1) between ``pair.a`` and ``pair.b``, as (H, W, 3) uint8."""
    h, w = pair.a.shape[:2]
    x, y = fl.grid(h, w)
    # candidates from a: where each pixel is at t, and from there where to look in a and in b
    ta = (x + t * pair.f_ab[..., 0], y + t * pair.f_ab[..., 1])
    to_a_from_a = -t * pair.f_ab
    to_b_from_a = (1 - t) * pair.f_ab
    tb = (x + (1 - t) * pair.f_ba[..., 0], y + (1 - t) * pair.f_ba[..., 1])
    to_a_from_b = t * pair.f_ba
    to_b_from_b = -(1 - t) * pair.f_ba
    seen_a, seen_b = ~pair.hidden_a, ~pair.hidden_b
    # weights of a and of b for each candidate: both when seen in both, else only the picture that sees it
    wa_a = np.where(seen_a, 1 - t, 1.0)
    wb_a = np.where(seen_a, t, 0.0)
    wa_b = np.where(seen_b, 1 - t, 0.0)
    wb_b = np.where(seen_b, t, 1.0)
    cand = np.concatenate(
        [
            _pack(ta, to_a_from_a, to_b_from_a, wa_a, wb_a, seen_a),
            _pack(tb, to_a_from_b, to_b_from_b, wa_b, wb_b, seen_b),
        ]
    )
    tx, ty = np.rint(cand[:, 0]).astype(np.int64), np.rint(cand[:, 1]).astype(np.int64)
    inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
    cand, target = cand[inside], (ty * w + tx)[inside]
    # one candidate per pixel: seen in both pictures first, then the smaller move (ties broken by order: exact)
    order = np.lexsort((np.hypot(cand[:, 2], cand[:, 3]), -cand[:, 8], target))
    target, cand = target[order], cand[order]
    first = np.ones(len(target), bool)
    first[1:] = target[1:] != target[:-1]
    fields = np.zeros((h * w, 6), np.float32)  # to a (2), to b (2), weight of a, weight of b
    have = np.zeros(h * w, bool)
    fields[target[first]] = cand[first][:, 2:8]
    have[target[first]] = True
    fields = _fill(fields.reshape(h, w, 6), have.reshape(h, w))
    from_a = fl.warp(pair.a.astype(np.float32), fields[..., 0:2])
    from_b = fl.warp(pair.b.astype(np.float32), fields[..., 2:4])
    wa, wb = fields[..., 4:5], fields[..., 5:6]
    out = (from_a * wa + from_b * wb) / np.maximum(wa + wb, 1e-6)
    return np.rint(np.clip(out, 0, 255)).astype(np.uint8)


def _pack(pos, to_a, to_b, wa, wb, seen) -> np.ndarray:
    cols = [pos[0], pos[1], to_a[..., 0], to_a[..., 1], to_b[..., 0], to_b[..., 1], wa, wb, seen]
    return np.stack([np.asarray(c, np.float32).ravel() for c in cols], axis=1)


def _fill(fields: np.ndarray, have: np.ndarray, rounds: int = 64) -> np.ndarray:
    """Pixels no candidate landed on take the mean of their filled neighbours (holes are thin: a few rounds)."""
    import cv2

    if have.all():
        return fields
    known = have.astype(np.float32)
    vals = fields * known[..., None]
    for _ in range(rounds):
        if known.min() > 0:
            break
        s = np.stack([cv2.blur(vals[..., i], (3, 3)) for i in range(vals.shape[2])], axis=2)
        n = cv2.blur(known, (3, 3))
        grow = (known == 0) & (n > 0)
        vals[grow] = s[grow] / n[grow][:, None]
        known = np.where(grow, 1.0, known).astype(np.float32)
    vals[known == 0] = 0
    vals[known == 0, 4:6] = 0.5  # nothing near at all: a plain blend
    return vals


class FlowInterpolator:
    """The built-in interpolator: ``pair`` works out the flows of two frames once, ``between`` makes any time."""

    name = "flow"

    def pair(self, a: np.ndarray, b: np.ndarray) -> Pair:
        return Pair.of(a, b)

    def between(self, pair: Pair, t: float) -> np.ndarray:
        return between(pair, t)


# ---- learned interpolators ----------------------------------------------------------------------------------


class OnnxInterpolator:
    """A learned interpolator as an ONNX Runtime session (a RIFE-style model folder).

    The model takes two pictures and a time: inputs ``(img0, img1, timestep)`` with pictures as (1, 3, H, W)
    float32 in 0..1 (sides padded to a multiple of 32, as RIFE needs) and the time as float32 of the shape the
    model declares; its first output is the picture at that time.
    """

    MULTIPLE = 32
    name = "onnx model"

    def __init__(self, session: Any):
        inputs = session.get_inputs()
        if len(inputs) != 3:
            names = ", ".join(i.name for i in inputs)
            raise ValueError(f"an interpolation model takes (img0, img1, timestep); this one takes ({names})")
        self.session = session
        self.names = [i.name for i in inputs]
        rank = len(inputs[2].shape) if inputs[2].shape is not None else 1
        self.t_shape = (1,) * max(rank, 1)

    def pair(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return a, b

    def between(self, pair: tuple[np.ndarray, np.ndarray], t: float) -> np.ndarray:
        a, b = pair
        h, w = a.shape[:2]
        ph, pw = -h % self.MULTIPLE, -w % self.MULTIPLE

        def tensor(img: np.ndarray) -> np.ndarray:
            img = np.pad(img, ((0, ph), (0, pw), (0, 0)), mode="edge")
            return np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32) / 255

        feed = {
            self.names[0]: tensor(a),
            self.names[1]: tensor(b),
            self.names[2]: np.full(self.t_shape, t, np.float32),
        }
        out = self.session.run(None, feed)[0][0, :, :h, :w]
        return np.rint(np.clip(out.transpose(1, 2, 0), 0, 1) * 255).astype(np.uint8)
