"""Where the subject is: faces (a learned detector, or OpenCV's Haar cascade), a person (a learned segmenter), a
saliency fallback, or a model's heat map.

Each finder maps a small RGB frame to the subject's centre (x, y) in that frame's pixels, or None. Reframing asks
one per frame and leaves the rest (gaps, jitter, cuts) to ``camera``. The learned finders come in as plain
callables (``nbedit.models.vision`` runs the networks; this module only turns what they see into centres).

Saliency is the spectral residual of the picture (Hou and Zhang, 2007): what stands out from the picture's usual
texture. The face cascade ships with the ``opencv-python-headless`` 4.x wheels (``cv2.data.haarcascades``); the
5.x wheels no longer carry it, and then ``subject="face"`` says so and ``"auto"`` uses saliency alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

FACE_CASCADE = "haarcascade_frontalface_default.xml"
ANALYSIS_WIDTH = 320  # frames are looked at this wide: enough for faces a tenth of the picture high


def face_cascade() -> Any | None:
    """OpenCV's frontal-face cascade, or None when this OpenCV build has none."""
    import cv2

    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not hasattr(cv2, "CascadeClassifier") or not folder or not os.path.exists(os.path.join(folder, FACE_CASCADE)):
        return None
    cascade = cv2.CascadeClassifier(os.path.join(folder, FACE_CASCADE))
    return None if cascade.empty() else cascade


def faces(img: np.ndarray, cascade: Any) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h), largest first."""
    import cv2

    gray = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    side = max(12, img.shape[0] // 12)
    found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(side, side))
    return sorted((tuple(int(v) for v in f) for f in found), key=lambda f: -f[2] * f[3])


def face_centre(img: np.ndarray, cascade: Any) -> tuple[float, float] | None:
    found = faces(img, cascade)
    if not found:
        return None
    x, y, w, h = found[0]
    return x + w / 2, y + h / 2


def saliency(img: np.ndarray) -> np.ndarray:
    """A saliency map (H, W) float32 in 0..1, from the spectral residual of a 64-pixel-wide copy."""
    import cv2

    h, w = img.shape[:2]
    sw = 64
    sh = max(8, round(h * sw / w))
    small = cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (sw, sh), interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small.astype(np.float64))
    log_amp = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amp - cv2.blur(log_amp, (3, 3), borderType=cv2.BORDER_REPLICATE)
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), sigmaX=2.5)
    sal = cv2.resize(sal, (w, h), interpolation=cv2.INTER_LINEAR)
    top = float(sal.max())
    return sal / top if top > 0 else sal


def peak_centre(heat: np.ndarray, *, level: float = 0.5) -> tuple[float, float] | None:
    """The weighted centre of the strongest blob of a heat map (the connected part above level x its peak)."""
    import cv2

    top = float(heat.max())
    if not top > 0:
        return None
    hot = (heat >= level * top).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hot, connectivity=8)
    if count < 2:
        return None
    # the blob holding the most heat, not just the most pixels
    mass = np.bincount(labels.ravel(), weights=heat.ravel(), minlength=count)
    best = int(np.argmax(mass[1:])) + 1
    ys, xs = np.nonzero(labels == best)
    wts = heat[ys, xs].astype(np.float64)
    return float((xs * wts).sum() / wts.sum()) + 0.5, float((ys * wts).sum() / wts.sum()) + 0.5


class HeatmapModel:
    """A subject model folder as an ONNX Runtime session: a (1, 3, H, W) float picture in 0..1 to a heat map
    (1, 1, h, w) of any size (the first channel is used), whose hottest blob is the subject."""

    def __init__(self, session: Any):
        self.session = session
        self.name = session.get_inputs()[0].name

    def centre(self, img: np.ndarray) -> tuple[float, float] | None:
        import cv2

        x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32) / 255
        heat = np.asarray(self.session.run(None, {self.name: x})[0], np.float32)
        heat = heat.reshape(heat.shape[-2:]) if heat.ndim == 2 else heat[0, 0]
        if heat.shape != img.shape[:2]:
            heat = cv2.resize(heat, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
        return peak_centre(np.maximum(heat, 0))


Finder = Callable[[np.ndarray], "tuple[float, float] | None"]
"""A frame (H, W, 3) uint8 to the subject's centre in its pixels, or None where it sees none."""


def face_finder(boxes: Callable[[np.ndarray], list] | None = None) -> Finder | None:
    """The centre of the main face: the first of ``boxes`` (a learned detector: frame -> [(x0, y0, x1, y1), ...],
    surest first) or, without one, the largest OpenCV's cascade finds (None when this OpenCV has none)."""
    if boxes is not None:

        def learned(img: np.ndarray) -> tuple[float, float] | None:
            found = boxes(img)
            if not found:
                return None
            x0, y0, x1, y1 = found[0]
            return (x0 + x1) / 2, (y0 + y1) / 2

        return learned
    cascade = face_cascade()
    return None if cascade is None else (lambda img: face_centre(img, cascade))


def person_finder(probability: Callable[[np.ndarray], np.ndarray]) -> Finder:
    """The centre of the person a segmenter finds (frame -> probability map), None where no pixel is likely one."""

    def find(img: np.ndarray) -> tuple[float, float] | None:
        prob = probability(img)
        return peak_centre(prob) if float(prob.max()) > 0.5 else None

    return find


def centres(
    frames: list[np.ndarray],
    subject: str,
    cuts: list[int],
    model: HeatmapModel | None = None,
    *,
    face: Finder | None = None,
    person: Finder | None = None,
    step: Callable[[], None] | None = None,
) -> tuple:
    """The subject's centre in each frame (N, 2; NaN where none) and what found it in each shot.

    ``subject``: "face" (faces only), "person" (``person`` only), "saliency", "auto" (faces in shots where a
    quarter of the frames show one, else the person where ``person`` is given and finds one as often, else
    saliency) or "model" (``model``'s heat map). ``face`` defaults to OpenCV's cascade. ``step`` is called
    once per frame looked at (a progress bar).
    """
    step = step or (lambda: None)
    n = len(frames)
    out = np.full((n, 2), np.nan)
    if model is not None:
        for k, f in enumerate(frames):
            c = model.centre(f)
            if c is not None:
                out[k] = c
            step()
        return out, ["model"] * (len(cuts) + 1)
    if face is None and subject in ("face", "auto"):
        face = face_finder()
    finders = {"face": face if subject in ("face", "auto") else None}
    finders["person"] = person if subject in ("person", "auto") else None
    seen: dict[str, list] = {name: [] for name in finders}
    for img in frames:
        for name, f in finders.items():
            seen[name].append(f(img) if f is not None else None)
        step()
    used = []
    bounds = [0, *cuts, n]
    for a, b in zip(bounds, bounds[1:], strict=False):
        often = max(1, 0.25 * (b - a))
        if subject in ("face", "person"):
            pick = subject
        else:
            pick = next((k for k in ("face", "person") if sum(c is not None for c in seen[k][a:b]) >= often), None)
        used.append(pick or "saliency")
        for k in range(a, b):
            c = seen[pick][k] if pick else peak_centre(saliency(frames[k]))
            if c is not None:
                out[k] = c
    return out, used
