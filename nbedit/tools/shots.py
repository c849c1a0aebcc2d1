"""Hard cuts between shots, found in a run of frames fed one at a time.

    finder = shot_finder()                  # PySceneDetect's ContentDetector when installed, else frame_difference
    cuts = [c for k, img in enumerate(frames) for c in finder.feed(k, img)] + finder.end(len(frames))
    finder.method                           # "scenedetect: content" or "classic: frame difference"

A cut at ``k`` means frame k is the first of a new shot. Both detectors see the same frames and ignore a new cut
closer than ``min_shot`` frames to the last one (a flash is not two shots).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

METHODS = ("auto", "scenedetect", "classic")


class FrameDifference:
    """The classic detector: the mean absolute change of a small grey picture from the frame before, a cut where
    it is both above ``threshold`` (of 255) and ``ratio`` times the median change of the frames before it (so a
    fast pan, changing a lot every frame, is not cut)."""

    method = "classic: frame difference"

    def __init__(self, threshold: float = 30.0, ratio: float = 2.0, min_shot: int = 8, history: int = 12):
        self.threshold, self.ratio, self.min_shot, self.history = threshold, ratio, min_shot, history
        self._last: np.ndarray | None = None
        self._diffs: list[float] = []
        self._cut = 0  # the first frame starts a shot: no cut closer than min_shot to it

    def feed(self, k: int, rgb: np.ndarray) -> list[int]:
        grey = _small_grey(rgb)
        if self._last is None:
            self._last = grey
            return []
        d = float(np.mean(np.abs(grey - self._last)))
        self._last = grey
        recent = self._diffs[-self.history :]
        self._diffs.append(d)
        usual = float(np.median(recent)) if recent else 0.0
        if d >= self.threshold and d >= self.ratio * usual and k - self._cut >= self.min_shot:
            self._cut = k
            return [k]
        return []

    def end(self, count: int) -> list[int]:
        return []


class SceneDetect:
    """PySceneDetect's ContentDetector (changes of hue, saturation, brightness and edges) over frames we decode."""

    method = "scenedetect: content"

    def __init__(self, fps: Fraction, threshold: float = 27.0, min_shot: int = 8):
        from scenedetect import FrameTimecode
        from scenedetect.detectors import ContentDetector

        self._timecode = FrameTimecode
        self.fps = Fraction(fps)
        self.detector = ContentDetector(threshold=threshold, min_scene_len=min_shot)

    def feed(self, k: int, rgb: np.ndarray) -> list[int]:
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        return [t.frame_num for t in self.detector.process_frame(self._timecode(k, self.fps), bgr)]

    def end(self, count: int) -> list[int]:
        return [t.frame_num for t in self.detector.post_process(self._timecode(max(count - 1, 0), self.fps))]


def scenedetect_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("scenedetect") is not None


def shot_finder(method: str = "auto", *, fps: Fraction = Fraction(24), threshold: float | None = None) -> Any:
    """A cut finder: "scenedetect" (ContentDetector), "classic" (frame difference) or "auto" (the first when
    PySceneDetect is installed). ``threshold``: the detector's own scale (27 and 30 by default)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "scenedetect" or (method == "auto" and scenedetect_installed()):
        return SceneDetect(fps) if threshold is None else SceneDetect(fps, threshold)
    return FrameDifference() if threshold is None else FrameDifference(threshold)


def _small_grey(rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    k = max(1, w // 160)
    small = cv2.resize(rgb, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA) if k > 1 else rgb
    return cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY).astype(np.float32)
