"""Footage whose truth is known: a textured square (or a drawn face) moving over a still background.

The subject's box is known at every time, also between frames, so the tools can be measured against it: the
reframe camera's distance from the subject, a mask's overlap with the true box (IoU), and an interpolated frame's
error against the true in-between picture. The tests, ``bench/tools_accuracy.py`` and the teaching notebook use it.

    >>> scene = Scene(size=(320, 240), side=48, speed=(6, 2))
    >>> path = scene.write("square.avi", frames=48, fps=24)      # lossless, so the truth is exact
    >>> scene.box(10.5)                                            # (x0, y0, x1, y1) half way to frame 11
    (103, 81, 151, 129)
    >>> mid = scene.frame(10.5)                                    # the true picture there

Speeds are whole pixels per frame and even, so the subject sits on whole pixels at every half frame too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class Scene:
    size: tuple[int, int] = (320, 240)  # width, height
    side: int = 48  # the square's side (a face's width)
    speed: tuple[int, int] = (6, 2)  # pixels per frame; the subject bounces off the picture's edges
    start: tuple[int, int] = (40, 60)  # top-left corner at frame 0
    subject: str = "square"  # or "face"
    cut_at: int | None = None  # from this frame on, another shot: other background, subject elsewhere
    jitter: int = 0  # the subject shakes this many pixels around ``start`` instead of moving
    decoy: bool = False  # a still, strongly coloured patch in a corner (a face test's distraction)
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    # ---- truth -------------------------------------------------------------------------------------------

    def box(self, t: float) -> tuple[int, int, int, int]:
        """The subject's box (x0, y0, x1, y1) at time t, in frames (fractions allowed)."""
        x0, y0 = self._corner(t)
        h = round(self.side * 1.24) if self.subject == "face" else self.side
        return x0, y0, x0 + self.side, y0 + h

    def centre(self, t: float) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box(t)
        return (x0 + x1) / 2, (y0 + y1) / 2

    def shot(self, t: float) -> int:
        return int(self.cut_at is not None and t >= self.cut_at)

    def _corner(self, t: float) -> tuple[int, int]:
        w, h = self.size
        span_x = w - self.side
        span_y = h - (round(self.side * 1.24) if self.subject == "face" else self.side)
        if self.jitter:
            k = int(np.floor(t))
            rng = np.random.default_rng(k)
            dx, dy = rng.integers(-self.jitter, self.jitter + 1, size=2)
            return self.start[0] + int(dx), self.start[1] + int(dy)
        sx, sy = self.start
        if self.shot(t):
            t = t - self.cut_at
            sx, sy = span_x - sx, span_y - sy  # the other shot starts across the picture
        return _bounce(sx + self.speed[0] * t, span_x), _bounce(sy + self.speed[1] * t, span_y)

    # ---- pictures ----------------------------------------------------------------------------------------

    def frame(self, t: float) -> np.ndarray:
        """The picture at time t (frames): background of its shot, the subject on top."""
        img = self._background(self.shot(t)).copy()
        if self.decoy:
            w, h = self.size
            img[h - 50 : h - 14, w - 50 : w - 14] = (250, 240, 20)
        x0, y0, x1, y1 = self.box(t)
        if self.subject == "face":
            _draw_face(img, x0, y0, x1 - x0)
        else:
            img[y0:y1, x0:x1] = self._texture()
        return img

    def write(self, path: str | os.PathLike, *, frames: int, fps: int | Fraction = 24) -> str:
        """Write ``frames`` frames (times 0, 1, 2...) as lossless video; returns the absolute path."""
        from .video import write_lossless

        write_lossless(path, (self.frame(k) for k in range(frames)), Fraction(fps))
        return os.path.abspath(os.fspath(path))

    def _background(self, shot: int) -> np.ndarray:
        key = ("bg", shot)
        if key not in self._cache:
            w, h = self.size
            y, x = np.mgrid[0:h, 0:w].astype(np.float64)
            rng = np.random.default_rng(100 + shot)
            waves = sum(
                np.sin(x * fx + y * fy + ph)
                for fx, fy, ph in rng.uniform([-0.08, -0.08, 0], [0.08, 0.08, 6.28], size=(6, 3))
            )
            base = np.asarray([(40, 110, 150), (60, 140, 70)][shot % 2], np.float64)
            img = base + 18 * waves[..., None] * np.asarray([0.6, 1.0, 0.8]) + 30 * (x / w)[..., None]
            self._cache[key] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        return self._cache[key]

    def _texture(self) -> np.ndarray:
        if "tex" not in self._cache:
            s = self.side
            y, x = np.mgrid[0:s, 0:s]
            check = ((x // 8 + y // 8) % 2).astype(np.float64)
            rng = np.random.default_rng(7)
            noise = rng.uniform(-20, 20, size=(s, s))
            tex = np.stack([200 + 40 * check + noise, 90 + 50 * check + noise, 30 + 20 * check + noise / 2], axis=2)
            self._cache["tex"] = np.clip(np.rint(tex), 0, 255).astype(np.uint8)
        return self._cache["tex"]


def _bounce(p: float, span: int) -> int:
    """Position p folded into 0..span (a ball bouncing off two walls)."""
    if span <= 0:
        return 0
    q = p % (2 * span)
    return int(round(q if q <= span else 2 * span - q))


def _draw_face(img: np.ndarray, x0: int, y0: int, s: int) -> None:
    """A drawn face (skin oval, hair, brows, eyes, nose, mouth) that OpenCV's frontal-face cascade finds."""
    import cv2

    cx, cy = x0 + s // 2, y0 + round(s * 0.62)
    cv2.ellipse(img, (cx, cy), (s // 2, int(s * 0.62)), 0, 0, 360, (200, 170, 150), -1)
    ey, dx = cy - s // 8, s // 5
    for sign in (-1, 1):
        cv2.ellipse(img, (cx + sign * dx, ey), (s // 10, s // 20), 0, 0, 360, (40, 30, 30), -1)
        brow = ey - s // 8
        cv2.line(img, (cx + sign * dx - s // 8, brow), (cx + sign * dx + s // 8, brow), (60, 40, 30), max(1, s // 25))
    cv2.line(img, (cx, ey + s // 20), (cx, cy + s // 8), (150, 120, 110), max(1, s // 30))
    cv2.ellipse(img, (cx, cy + s // 4), (s // 6, s // 20), 0, 0, 360, (120, 50, 50), -1)
    cv2.ellipse(img, (cx, cy - int(s * 0.55)), (int(s * 0.55), s // 4), 0, 180, 360, (50, 35, 20), -1)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 pictures, in dB (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def iou(mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Intersection over union of a mask (nonzero = inside) and a box."""
    truth = np.zeros(mask.shape[:2], bool)
    x0, y0, x1, y1 = box
    truth[max(y0, 0) : y1, max(x0, 0) : x1] = True
    m = mask > 127 if mask.dtype == np.uint8 else mask > 0.5
    union = np.logical_or(m, truth).sum()
    return float(np.logical_and(m, truth).sum() / union) if union else 1.0
