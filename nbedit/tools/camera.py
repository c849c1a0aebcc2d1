"""A virtual camera for reframing: shot boundaries, a smoothed path that follows the subject, and its crop.

The path is worked out shot by shot (a cut is never panned across) from per-frame subject centres:

1. missing detections are filled in from their neighbours, and a running median drops one-frame outliers;
2. stretches where the subject stays inside a dead zone (``hold`` of the crop's size) become one still shot,
   so a subject that barely moves gives a camera that does not move at all;
3. the rest follows the subject, and a Gaussian (edges mirrored, so steady motion is not bent) takes out jitter;
4. the crop is kept inside the picture.

The result is stored as keys of the crop's centre (``keyframes``), simplified so that a still stretch is two keys
and a steady pan a few: the keys are data, edited like any other (``s.keyframe(clip, "reframe", ...)``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .keyframes import value_at


def aspect_ratio(aspect: str | float | int) -> Fraction:
    """ "9:16" (or 0.5625) as a Fraction width / height; ValueError for anything else."""
    if isinstance(aspect, str):
        parts = aspect.replace("/", ":").split(":")
        try:
            w, h = (Fraction(p.strip()) for p in parts) if len(parts) == 2 else (None, None)
        except ValueError:
            w = h = None
        if w is None or h is None or w <= 0 or h <= 0:
            raise ValueError(f'aspect must look like "9:16" or be a positive number, not {aspect!r}')
        return w / h
    if isinstance(aspect, bool) or not isinstance(aspect, int | float) or not 0 < aspect < float("inf"):
        raise ValueError(f'aspect must look like "9:16" or be a positive number, not {aspect!r}')
    return Fraction(aspect).limit_denominator(10**4)


def crop_size(width: int, height: int, ratio: Fraction) -> tuple[int, int]:
    """The largest crop of aspect ``ratio`` inside a width x height picture (whole pixels)."""
    if Fraction(width, height) > ratio:
        return max(1, round(height * ratio)), height
    return width, max(1, round(width / ratio))


def reframe_crop(reframe: dict, pos: float | Fraction, width: int, height: int) -> tuple[int, int, int, int]:
    """The crop (left, top, right, bottom, in source pixels) a reframed clip uses at source position ``pos``."""
    w, h = (int(v) for v in reframe["size"])
    cx, cy = value_at(reframe["center"], pos)
    left = min(max(round(cx - w / 2), 0), max(width - w, 0))
    top = min(max(round(cy - h / 2), 0), max(height - h, 0))
    return left, top, max(width - left - w, 0), max(height - top - h, 0)


# ---- shots ------------------------------------------------------------------------------------------------


def shot_cuts(frames: list[np.ndarray], *, threshold: float = 0.35) -> list[int]:
    """Indices of frames that start a new shot (a hard cut), from small RGB frames.

    The measure is the colour histograms' distance (Hellinger, 0..1) from one frame to the next; a cut is a
    jump above ``threshold`` that also stands well above the clip's usual frame-to-frame change.
    """
    import cv2

    if len(frames) < 2:
        return []
    hists = []
    for f in frames:
        hsv = cv2.cvtColor(f, cv2.COLOR_RGB2HSV)
        h = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
        hists.append(cv2.normalize(h, None).flatten())
    d = np.asarray([cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA) for a, b in zip(hists, hists[1:], strict=False)])
    usual = float(np.median(d))
    return [k + 1 for k, v in enumerate(d) if v > threshold and v > 4 * usual]


# ---- the path ---------------------------------------------------------------------------------------------


def camera_path(
    centres: np.ndarray,
    cuts: list[int],
    frame: tuple[int, int],
    crop: tuple[int, int],
    fps: float,
    *,
    hold: float = 0.05,
    smooth: float = 0.2,
) -> np.ndarray:
    """The crop centre for each frame (N, 2), from subject centres (N, 2; NaN where none was found).

    ``hold``: the dead zone, as a fraction of the crop's size; ``smooth``: the Gaussian's sigma in seconds.
    """
    n = len(centres)
    out = np.empty((n, 2), np.float64)
    bounds = [0, *[c for c in cuts if 0 < c < n], n]
    for a, b in zip(bounds, bounds[1:], strict=False):
        out[a:b] = _shot_path(centres[a:b], frame, crop, fps, hold, smooth)
    half = np.asarray(crop, np.float64) / 2
    limit = np.asarray(frame, np.float64) - half
    return np.clip(out, half, np.maximum(limit, half))


def _shot_path(c: np.ndarray, frame, crop, fps: float, hold: float, smooth: float) -> np.ndarray:
    n = len(c)
    target = _filled(c, np.asarray(frame, np.float64) / 2)
    k = max(1, int(round(0.12 * fps))) | 1  # a short running median: one-frame misdetections go
    target = _running_median(target, k)
    zone = hold * np.asarray(crop, np.float64)
    still = _still_spans(target, zone, min_len=max(2, int(round(0.4 * fps))))
    path = target.copy()
    for a, b in still:
        path[a:b] = (target[a:b].max(axis=0) + target[a:b].min(axis=0)) / 2
    sigma = smooth * fps
    if sigma > 0 and n > 2:
        moving = np.ones(n, bool)
        for a, b in still:
            moving[a:b] = False
        smoothed = np.stack([_gaussian(path[:, i], sigma) for i in range(2)], axis=1)
        # still stretches stay exactly still; moving ones (and the easing into them) are smoothed
        inner = np.zeros(n, bool)
        for a, b in still:
            pad = int(np.ceil(2 * sigma))
            inner[min(b, a + pad) : max(a, b - pad)] = True
        path = np.where(inner[:, None], path, smoothed)
    return path


def _filled(c: np.ndarray, default: np.ndarray) -> np.ndarray:
    out = np.asarray(c, np.float64).copy()
    idx = np.arange(len(out))
    for i in range(2):
        ok = np.isfinite(out[:, i])
        out[:, i] = np.interp(idx, idx[ok], out[ok, i]) if ok.any() else default[i]
    return out


def _running_median(x: np.ndarray, k: int) -> np.ndarray:
    if k <= 1 or len(x) < 3:
        return x
    r = k // 2
    padded = np.concatenate([np.repeat(x[:1], r, 0), x, np.repeat(x[-1:], r, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, k, axis=0)
    return np.median(windows, axis=-1)


def _still_spans(x: np.ndarray, zone: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """Maximal runs of at least ``min_len`` frames whose spread stays within 2 * zone on both axes."""
    spans = []
    a, n = 0, len(x)
    while a < n:
        lo, hi = x[a].copy(), x[a].copy()
        b = a + 1
        while b < n:
            lo2, hi2 = np.minimum(lo, x[b]), np.maximum(hi, x[b])
            if np.any(hi2 - lo2 > 2 * zone):
                break
            lo, hi, b = lo2, hi2, b + 1
        if b - a >= min_len:
            spans.append((a, b))
            a = b
        else:
            a += 1
    return spans


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing with odd-mirrored ends: a steady pan stays a steady pan up to the cut."""
    r = int(np.ceil(3 * sigma))
    if r == 0 or len(x) < 2:
        return x
    w = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    w /= w.sum()
    m = min(r, len(x) - 1)
    head = 2 * x[0] - x[1 : m + 1][::-1]
    tail = 2 * x[-1] - x[-m - 1 : -1][::-1]
    padded = np.concatenate([np.full(r - m, head[0]), head, x, tail, np.full(r - m, tail[-1])])
    return np.convolve(padded, w, mode="valid")


# ---- keys -------------------------------------------------------------------------------------------------


def keyframes(path: np.ndarray, positions: list[float], cuts: list[int], *, tolerance: float = 0.5) -> dict:
    """The path as keys ``{"keys": [[pos, [cx, cy]], ...]}``: only the keys needed to stay within ``tolerance``
    pixels of it (Douglas-Peucker per shot), with "hold" keys at cuts so no frame pans across one."""
    keys: list[list] = []
    bounds = [0, *[c for c in cuts if 0 < c < len(path)], len(path)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        picked = _simplify(path[a:b], np.asarray(positions[a:b], np.float64), tolerance)
        for j, i in enumerate(picked):
            key = [key_position(positions[a + i]), [round(float(v), 2) for v in path[a + i]]]
            if j == len(picked) - 1 and b < len(path):
                key.append("hold")  # the last key of a shot holds until the first key of the next
            keys.append(key)
    return {"keys": keys}


def key_position(p: float) -> float | int:
    """A position as stored in a key: whole positions as ints (they read better in the .otio file)."""
    return int(p) if float(p).is_integer() else round(float(p), 6)


def _simplify(p: np.ndarray, t: np.ndarray, tol: float) -> list[int]:
    if len(p) <= 2:
        return list(range(len(p)))
    keep = {0, len(p) - 1}
    stack = [(0, len(p) - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        u = (t[a + 1 : b] - t[a]) / (t[b] - t[a])
        line = p[a] + (p[b] - p[a]) * u[:, None]
        err = np.abs(p[a + 1 : b] - line).max(axis=1)
        i = int(np.argmax(err))
        if err[i] > tol:
            keep.add(a + 1 + i)
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return sorted(keep)
