"""Learned face detection and person segmentation from the models the mediapipe 0.10.21 wheel ships (Apache-2.0).

Two bundled folders (``nbedit models install-bundled``), each one ``.tflite`` file run by LiteRT on the CPU:

    face-detector      face_detection_short_range.tflite   BlazeFace: 128x128 RGB in -1..1 -> 896 boxes + scores
    person-segmenter   selfie_segmentation.tflite          256x256 RGB in 0..1 -> a person probability map

The wheel itself is never installed (it pins a protobuf and an OpenCV we cannot take): only these files are read
from it. The pre- and post-processing around the two networks is ours: the SSD anchor grid BlazeFace was trained
on, the decoding of its box and keypoint offsets, sigmoid scores and a score-weighted non-maximum suppression; and
for the segmenter a stretch to its input and back. Both run with one thread, so a frame gives the same numbers
every time::

    runner, nbytes = load_face_detector(folder, "cpu")
    runner.faces(rgb)            # [Face(box=(x0, y0, x1, y1), score, keypoints), ...], best first
    seg, _ = load_person_segmenter(folder, "cpu")
    seg.probability(rgb)         # (H, W) float32 in 0..1
    seg.mask(rgb, box)           # the person inside box (x0, y0, x1, y1): bool (H, W)

The tools reach them through ``ModelPool.bundled`` (resident, sha256-checked) and fall back to the classic Haar
cascade, saliency and GrabCut when the folders are not installed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bundled import BUNDLED, Bundled, Installed

PACKAGE, VERSION, LICENCE = "mediapipe", "0.10.21", "Apache-2.0"
FACE_FILE = "face_detection_short_range.tflite"
PERSON_FILE = "selfie_segmentation.tflite"

BUNDLED.append(
    Bundled(
        name="face-detector",
        task="face-detection",
        runtime="tflite",
        package=PACKAGE,
        version=VERSION,
        licence=LICENCE,
        files={f"mediapipe/modules/face_detection/{FACE_FILE}": FACE_FILE},
        weights=FACE_FILE,
        inputs="RGB 128x128 float32 in -1..1 (square tiles of the frame)",
        outputs="regressors (896, 16): box and 6 keypoints per anchor; classificators (896, 1): face logits",
    )
)
BUNDLED.append(
    Bundled(
        name="person-segmenter",
        task="person-segmentation",
        runtime="tflite",
        package=PACKAGE,
        version=VERSION,
        licence=LICENCE,
        files={f"mediapipe/modules/selfie_segmentation/{PERSON_FILE}": PERSON_FILE},
        weights=PERSON_FILE,
        inputs="RGB 256x256 float32 in 0..1 (the frame stretched)",
        outputs="(256, 256, 1) float32: the probability that a pixel shows a person",
    )
)


def interpreter(path: os.PathLike | str) -> Any:
    """A LiteRT interpreter on one CPU thread (threads would only split work, but one keeps runs identical)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        from .errors import ModelError

        raise ModelError(
            "the bundled vision models run on LiteRT, which is not installed: pip install ai-edge-litert "
            "(or pip install -e '.[models]')"
        ) from e
    it = Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    return it


# ---- face detection (BlazeFace, short range) -----------------------------------------------------------------

SIDE = 128  # the detector's input
MIN_SCORE = 0.5
OVERLAP = 0.3  # detections overlapping more than this (IoU) are one face
KEYPOINTS = ("right eye", "left eye", "nose tip", "mouth", "right ear", "left ear")  # as the subject sees them


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the frame's pixels
    score: float
    keypoints: tuple[tuple[float, float], ...]  # in KEYPOINTS order, in pixels

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


def anchors() -> np.ndarray:
    """Centres (896, 2) of the SSD anchors BlazeFace's outputs are offsets from, in 0..1 of its input.

    Four feature layers with strides 8, 16, 16, 16 over the 128-pixel input: a 16x16 grid and an 8x8 grid. Each
    layer puts two anchors on every cell (its scale and the interpolated scale, aspect 1); layers that share a
    stride share a grid, so the 8x8 cells carry six. The anchors' sizes are fixed at 1, so only centres matter.
    """
    strides = [8, 16, 16, 16]
    out = []
    layer = 0
    while layer < len(strides):
        same = 1
        while layer + same < len(strides) and strides[layer + same] == strides[layer]:
            same += 1
        grid = math.ceil(SIDE / strides[layer])
        ys, xs = np.mgrid[0:grid, 0:grid]
        centres = np.stack([(xs.ravel() + 0.5) / grid, (ys.ravel() + 0.5) / grid], axis=1)
        out.append(np.repeat(centres, 2 * same, axis=0))
        layer += same
    return np.concatenate(out)


ANCHORS = anchors()


def decode(raw: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (N, 4: x0, y0, x1, y1), keypoints (N, 6, 2) and scores (N,) in 0..1 of the input, from the outputs.

    Each row is (dx, dy, w, h, then six keypoint dx, dy) in input pixels from its anchor's centre.
    """
    raw = raw.reshape(-1, 16).astype(np.float64) / SIDE
    centre = raw[:, :2] + ANCHORS
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:].reshape(-1, 6, 2) + ANCHORS[:, None, :]
    scores = 1 / (1 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -100, 100)))
    return boxes, keypoints, scores


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box a (4,) with each of boxes b (N, 4)."""
    w = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, overlap: float = OVERLAP) -> list:
    """One (box, keypoints, score) per face: each cluster of overlapping detections averaged by score.

    Averaging, rather than keeping only the best box, is what BlazeFace was tuned with: its neighbouring anchors
    all fire on a face, and their mean is steadier from frame to frame than any one of them.
    """
    order = np.argsort(-scores, kind="stable")
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    left = np.ones(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if not left[i]:
            continue
        group = left & (iou(boxes[i], boxes) > overlap)
        group[i] = True
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(0) / w.sum()
        kp = (keypoints[group] * w[:, :, None]).sum(0) / w.sum()
        out.append((box, kp, float(scores[i])))
        left &= ~group
    return out


class FaceDetector:
    """BlazeFace over a whole frame: square tiles across a wide frame, so faces keep the size it was trained on."""

    def __init__(self, it: Any):
        self.it = it
        self.input = it.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in it.get_output_details()}
        self.regressors, self.classificators = outs["regressors"], outs["classificators"]

    def _run(self, square: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import cv2

        x = cv2.resize(square, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1
        self.it.set_tensor(self.input, x[None])
        self.it.invoke()
        return decode(self.it.get_tensor(self.regressors), self.it.get_tensor(self.classificators))

    def faces(self, img: np.ndarray, min_score: float = MIN_SCORE) -> list[Face]:
        """The faces in an RGB uint8 frame (H, W, 3), best first.

        The frame is looked at in overlapping squares as tall as it is (as wide, if it stands), so a face keeps
        the share of the input the short-range model was trained on; where those find none, in squares half
        that size, for faces too small to be seen at the first scale.
        """
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 8:
            raise ValueError(f"a face detector looks at RGB uint8 pictures (H, W, 3), not {img.dtype} {img.shape}")
        h, w = img.shape[:2]
        for side in (min(h, w), min(h, w) // 2):
            if side < 16:
                break
            boxes, kps, scores = [], [], []
            for x0, y0 in _tiles(w, h, side):
                b, k, sc = self._run(img[y0 : y0 + side, x0 : x0 + side])
                keep = sc >= min_score
                shift = np.asarray([x0, y0], np.float64)
                boxes.append(b[keep] * side + np.tile(shift, 2))
                kps.append(k[keep] * side + shift)
                scores.append(sc[keep])
            found = weighted_nms(np.concatenate(boxes), np.concatenate(kps), np.concatenate(scores))
            if found:
                break
        return [
            Face(tuple(float(v) for v in box), score, tuple((float(x), float(y)) for x, y in kp))
            for box, kp, score in found
        ]

    def boxes(self, img: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Face boxes (x0, y0, x1, y1), the surest first: a large false face scores near the threshold, so
        size (what the cascade sorts by) would pick it over the real one."""
        return [f.box for f in self.faces(img)]


def _tiles(w: int, h: int, side: int) -> list[tuple[int, int]]:
    """Corners of squares of ``side`` covering a w x h frame, overlapping by at least a third: a face smaller
    than that lies whole in one of them."""

    def starts(length: int) -> np.ndarray:
        if length <= side:
            return np.zeros(1, int)
        n = math.ceil((length - side) / (side * 2 / 3)) + 1
        return np.linspace(0, length - side, n).round().astype(int)

    return [(int(x), int(y)) for y in starts(h) for x in starts(w)]


# ---- person segmentation (selfie segmentation) ---------------------------------------------------------------


class PersonSegmenter:
    """The probability that each pixel shows a person, from the frame stretched to the model's input."""

    def __init__(self, it: Any):
        self.it = it
        d = it.get_input_details()[0]
        self.input = d["index"]
        self.height, self.width = (int(v) for v in d["shape"][1:3])
        self.output = it.get_output_details()[0]["index"]

    def probability(self, img: np.ndarray) -> np.ndarray:
        """(H, W) float32 in 0..1 for an RGB uint8 frame (H, W, 3)."""
        import cv2

        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 8:
            raise ValueError(f"a person segmenter looks at RGB uint8 pictures (H, W, 3), not {img.dtype} {img.shape}")
        x = cv2.resize(img, (self.width, self.height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        self.it.set_tensor(self.input, x[None])
        self.it.invoke()
        prob = np.asarray(self.it.get_tensor(self.output), np.float32).reshape(self.height, self.width)
        prob = cv2.resize(prob, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
        return np.clip(prob, 0, 1)

    def mask(self, img: np.ndarray, box: tuple | None = None) -> np.ndarray:
        """The person (True) in the frame, or only inside ``box`` (x0, y0, x1, y1).

        With a box the model looks at the box and a margin around it, so a person small in the frame fills more
        of its input; what it finds outside the box is dropped (the box says where the subject is).
        """
        if box is None:
            return self.probability(img) > 0.5
        h, w = img.shape[:2]
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        mx, my = (x1 - x0) // 4, (y1 - y0) // 4
        cx0, cy0, cx1, cy1 = max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)
        out = np.zeros((h, w), bool)
        if cx1 - cx0 < 8 or cy1 - cy0 < 8:
            return out
        inside = self.probability(np.ascontiguousarray(img[cy0:cy1, cx0:cx1])) > 0.5
        out[cy0:cy1, cx0:cx1] = inside
        keep = np.zeros((h, w), bool)
        keep[max(0, y0) : y1, max(0, x0) : x1] = True
        return out & keep


# ---- loading (what ModelPool.bundled calls) -----------------------------------------------------------------


def load_face_detector(folder: Installed, device: str) -> tuple[FaceDetector, int]:
    """The face detector of an installed folder; LiteRT runs it on the CPU whatever ``device`` computes on."""
    return FaceDetector(interpreter(folder.weights)), _bytes(folder)


def load_person_segmenter(folder: Installed, device: str) -> tuple[PersonSegmenter, int]:
    return PersonSegmenter(interpreter(folder.weights)), _bytes(folder)


def _bytes(folder: Installed) -> int:
    # the weights plus LiteRT's tensor arena, which for these small networks is a few times the file
    return 4 * os.path.getsize(folder.weights)
