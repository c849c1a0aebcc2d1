"""A real photograph moved along a known path, so a detector's or a mask's error can be measured exactly.

The photo is scikit-image's ``astronaut`` (Eileen Collins, NASA, public domain; ``pip install scikit-image``).
Every frame is the photo (or only the person cut out of it) scaled by ``scale * (1 + zoom * t)`` and shifted to
``start + speed * t``, laid over another real photo (``rocket`` by default) as the background. The truth follows
from the path alone:

* ``face_box(t)``: the face, where :data:`FACE` (drawn by hand on the photo) lands;
* ``person(t)``: the person's mask. With ``cutout=True`` only the pixels inside :data:`PERSON` (a polygon drawn
  by hand around her hair, face, collar ring and suit, down to row 336, above the helmet she holds) are pasted:
  whatever that polygon holds is by construction the person of the new picture, so the mask is exact even where
  the polygon strays a pixel from her outline in the original.

    scene = PhotoScene(speed=(3, 0))
    scene.write("moving.avi", frames=24)
"""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np

FACE = (180, 80, 264, 180)
"""The astronaut's face (x0, y0, x1, y1) in the 512x512 photo: cheek to cheek, hairline to chin, by hand."""

PERSON = [
    (222, 14), (250, 18), (275, 30), (292, 50), (300, 75), (298, 105), (290, 128), (282, 142), (284, 152),
    (296, 163), (304, 182), (305, 205), (302, 225), (320, 240), (345, 262), (358, 290), (362, 336), (22, 336),
    (25, 300), (35, 270), (60, 245), (90, 225), (115, 205), (118, 185), (128, 165), (150, 150), (160, 130),
    (155, 100), (156, 70), (170, 40), (195, 20),
]  # fmt: skip
"""The astronaut's outline (x, y) in the photo, head and shoulders down to row 336."""


def photo(name: str = "astronaut") -> np.ndarray:
    """A scikit-image sample photo as RGB uint8."""
    try:
        from skimage import data
    except ImportError as e:
        raise ImportError("the photo scenes use scikit-image's sample photos: pip install scikit-image") from e
    img = getattr(data, name)()
    return np.ascontiguousarray(np.stack([img] * 3, -1) if img.ndim == 2 else img[..., :3])


def person_mask() -> np.ndarray:
    """:data:`PERSON` as a (512, 512) float32 mask of the astronaut photo."""
    import cv2

    m = np.zeros((512, 512), np.float32)
    cv2.fillPoly(m, [np.asarray(PERSON, np.int32)], 1.0)
    return m


class PhotoScene:
    """The astronaut along a path: ``frame(t)``, and the truth ``face_box(t)``, ``person(t)``."""

    def __init__(
        self,
        *,
        size: tuple[int, int] = (320, 240),
        scale: float = 0.45,
        start: tuple[float, float] = (20.0, 10.0),
        speed: tuple[float, float] = (0.0, 0.0),
        zoom: float = 0.0,
        cutout: bool = False,
        background: str = "rocket",
    ):
        import cv2

        self.size, self.scale, self.start, self.speed, self.zoom, self.cutout = size, scale, start, speed, zoom, cutout
        self.photo = photo("astronaut")
        self.mask = person_mask() if cutout else np.ones((512, 512), np.float32)
        self.background = cv2.resize(photo(background), size, interpolation=cv2.INTER_AREA)

    def affine(self, t: float) -> np.ndarray:
        """The 2x3 map from photo pixels to frame pixels at time t (in frames)."""
        s = self.scale * (1 + self.zoom * t)
        ox, oy = self.start[0] + self.speed[0] * t, self.start[1] + self.speed[1] * t
        return np.asarray([[s, 0, ox], [0, s, oy]], np.float64)

    def _warp(self, img: np.ndarray, t: float) -> np.ndarray:
        import cv2

        # pixel centres: photo pixel i spans [i, i + 1), so its centre i + 0.5 maps to s * (i + 0.5) + o
        a = self.affine(t).copy()
        a[:, 2] += 0.5 * a[0, 0] - 0.5
        return cv2.warpAffine(img, a, self.size, flags=cv2.INTER_LINEAR)

    def frame(self, t: float) -> np.ndarray:
        alpha = self._warp(self.mask, t)[..., None]
        pic = self._warp(self.photo.astype(np.float32), t)
        out = self.background.astype(np.float32) * (1 - alpha) + pic * alpha
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

    def face_box(self, t: float) -> tuple[float, float, float, float]:
        a = self.affine(t)
        x0, y0, x1, y1 = FACE
        return a[0, 0] * x0 + a[0, 2], a[1, 1] * y0 + a[1, 2], a[0, 0] * x1 + a[0, 2], a[1, 1] * y1 + a[1, 2]

    def face_centre(self, t: float) -> tuple[float, float]:
        x0, y0, x1, y1 = self.face_box(t)
        return (x0 + x1) / 2, (y0 + y1) / 2

    def person(self, t: float) -> np.ndarray:
        """The person's exact mask in frame t: True where the pasted cut-out covers more than half a pixel."""
        return self._warp(self.mask, t) > 0.5

    def write(self, path: str | os.PathLike, *, frames: int, fps: int | Fraction = 24) -> str:
        """Write frames 0..frames-1 as lossless video; returns the absolute path."""
        from .video import write_lossless

        write_lossless(path, (self.frame(k) for k in range(frames)), Fraction(fps))
        return os.path.abspath(os.fspath(path))


def box_iou(a: tuple, b: tuple) -> float:
    """IoU of two boxes (x0, y0, x1, y1)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def mask_iou(found: np.ndarray, truth: np.ndarray) -> float:
    """IoU of two masks (anything above half of 255, or True, is inside)."""
    f = found > 127 if found.dtype == np.uint8 else found.astype(bool)
    t = truth.astype(bool)
    union = np.logical_or(f, t).sum()
    return float(np.logical_and(f, t).sum() / union) if union else 1.0
