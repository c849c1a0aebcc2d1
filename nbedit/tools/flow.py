"""Optical flow with OpenCV's DIS, and what the tools do with it: warping and forward-backward consistency.

DIS (dense inverse search) is fast and keeps motion edges sharp. Farneback, the other flow OpenCV ships, was
measured too: better on smooth textures, far worse on flat areas with hard edges (colour bars), so DIS it is.

A flow ``f`` from picture a to picture b says, for each pixel x of a, where it went: ``b(x + f(x)) ~ a(x)``.
Large pictures are measured at most ``MAX_WIDTH`` wide (flow is smooth; the pictures are warped at full size).
"""

from __future__ import annotations

import numpy as np

MAX_WIDTH = 640


def gray(img: np.ndarray) -> np.ndarray:
    import cv2

    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense flow (H, W, 2) float32 from picture a to picture b (RGB or gray, same size)."""
    import cv2

    ga, gb = gray(a), gray(b)
    h, w = ga.shape
    k = min(1.0, MAX_WIDTH / w)
    if k < 1:
        size = (max(8, round(w * k)), max(8, round(h * k)))
        ga = cv2.resize(ga, size, interpolation=cv2.INTER_AREA)
        gb = cv2.resize(gb, size, interpolation=cv2.INTER_AREA)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    # down to whole-pixel patches, and no variational smoothing: sharp motion edges are what in-between frames
    # and carried masks need (on the measured footage: +9 dB over the preset, and faster; see docs/ai-tools.md)
    dis.setFinestScale(0)
    dis.setVariationalRefinementIterations(0)
    f = dis.calc(ga, gb, None)
    if k < 1:
        f = cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(w / ga.shape[1])
    return f


def grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return x, y


def warp(img: np.ndarray, f: np.ndarray, *, outside: float | None = None) -> np.ndarray:
    """``img`` sampled at x + f(x): pulls a picture along a flow. Beyond the picture's edges its edge pixels
    repeat, or the value ``outside`` is read (a mask: nothing is the object out there)."""
    import cv2

    x, y = grid(*f.shape[:2])
    if outside is None:
        return cv2.remap(img, x + f[..., 0], y + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.remap(
        img, x + f[..., 0], y + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=outside
    )


def occluded(f_ab: np.ndarray, f_ba: np.ndarray) -> np.ndarray:
    """Pixels of a not seen in b: the round trip misses by more than the flows' own size allows."""
    back = warp(f_ba, f_ab)
    miss = np.sum((f_ab + back) ** 2, axis=2)
    scale = np.sum(f_ab**2, axis=2) + np.sum(back**2, axis=2)
    return miss > 0.01 * scale + 0.5
