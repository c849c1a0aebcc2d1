"""Real photos (scikit-image's data module) moved along a known path, so the true in-between frame is exact."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

import nbedit
from nbedit.media import VideoReader
from nbedit.tools.video import write_lossless


def photo(name: str = "astronaut") -> np.ndarray:
    from skimage import data

    return getattr(data, name)()


def moved(img: np.ndarray, t: float, size: tuple[int, int] = (128, 96), shift=(5.0, 3.0), zoom=0.01) -> np.ndarray:
    """The photo at time t of a steady pan (``shift`` pixels a frame) and zoom, cut to ``size`` (w, h)."""
    k = 1 + zoom * t
    m = np.float32([[k, 0, shift[0] * t - 60], [0, k, shift[1] * t - 40]])
    return cv2.warpAffine(img, m, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def photo_session(folder: Path, frames: list[np.ndarray], fps: int = 24) -> tuple[nbedit.Session, str]:
    """A fresh session in ``folder`` with the frames written losslessly and placed on V1 as clip c1."""
    folder.mkdir(parents=True, exist_ok=True)
    path = write_lossless(folder / "photo.avi", frames, Fraction(fps))
    s = nbedit.Session(folder / "project")
    s.import_media(str(path))
    return s, s.append("photo", track="V1").id


def decoded(media: nbedit.Media) -> list[np.ndarray]:
    with VideoReader(media.path) as r:
        return [r.frame(i) for i in range(len(r))]


def hashes(media: nbedit.Media) -> list[str]:
    return [hashlib.sha256(f.tobytes()).hexdigest() for f in decoded(media)]


def generation(s: nbedit.Session, media: nbedit.Media) -> dict:
    """The provenance the made media's pool entry records, as plain Python values."""
    from nbedit.model import plain

    return plain(s.timeline.metadata["nbedit"]["media"][media.id]["generation"])


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)
