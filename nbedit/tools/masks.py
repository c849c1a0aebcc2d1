"""Object masks: picked out on one frame from a box or points, then carried through the clip.

The classic way needs no weights: GrabCut (colour models of object and background, cut along edges) on the
chosen frame; then, frame by frame in both directions, the last mask is pulled along the optical flow and GrabCut
refines it in a band around its edge (what is well inside stays object, what is well outside stays background).
A segmentation model folder, when one is named, takes the place of GrabCut: it is given the box of the mask
carried from the frame before. The bundled person segmenter (``nbedit.models.vision.PersonSegmenter``) fits the
same place (``mask(img, box)``), and prompt-free it masks the person of each frame on its own; its classic
stand-in is :func:`person_below_face`.

Masks are (H, W) uint8, 255 inside. Work happens at most ``WORK_WIDTH`` wide; masks come back at full size with
soft (interpolated) edges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import flow as fl

WORK_WIDTH = 640
SEED = 1234  # GrabCut's k-means starts from OpenCV's random generator: seeded on every call, masks are exact


def grabcut(img: np.ndarray, init: np.ndarray | None = None, rect: tuple | None = None, iters: int = 4) -> np.ndarray:
    """GrabCut from a rectangle (x, y, w, h) or from an initial label map; True where it finds the object."""
    import cv2

    cv2.setRNGSeed(SEED)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(img[..., ::-1])
    if rect is not None:
        labels = np.zeros(img.shape[:2], np.uint8)
        mode = cv2.GC_INIT_WITH_RECT
        if init is not None:  # a rectangle plus some pixels known to be object
            cv2.grabCut(bgr, labels, rect, bgd, fgd, 1, cv2.GC_INIT_WITH_RECT)
            labels[init == cv2.GC_FGD] = cv2.GC_FGD
            mode, iters = cv2.GC_INIT_WITH_MASK, iters - 1
    else:
        labels, mode = init.copy(), cv2.GC_INIT_WITH_MASK
    if iters > 0:
        try:
            cv2.grabCut(bgr, labels, rect or (0, 0, 1, 1), bgd, fgd, iters, mode)
        except cv2.error:  # one side has no pixels to learn from: keep the labels as they are
            pass
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


def from_box(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The object inside ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    h, w = img.shape[:2]
    if x0 <= 0 and y0 <= 0 and x1 >= w and y1 >= h:  # the whole picture: nothing outside to learn from
        return np.ones((h, w), bool)
    return grabcut(img, rect=(x0, y0, x1 - x0, y1 - y0))


def from_points(img: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    """The object under the points: GrabCut in a box around them, grown until the object sits inside it."""
    import cv2

    h, w = img.shape[:2]
    seeds = np.zeros((h, w), np.uint8)
    r = max(2, min(h, w) // 60)
    for x, y in points:
        cv2.circle(seeds, (int(x), int(y)), r, cv2.GC_FGD, -1)
    pts = np.asarray(points, np.float64)
    half = max(min(h, w) / 8, (pts.max(0) - pts.min(0)).max() / 2 + r)
    cx, cy = pts.mean(0)
    mask = seeds == cv2.GC_FGD
    for _ in range(6):
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        x1, y1 = min(w, int(cx + half) + 1), min(h, int(cy + half) + 1)
        mask = grabcut(img, init=seeds, rect=(x0, y0, x1 - x0, y1 - y0))
        touching = _edge_share(mask, (x0, y0, x1, y1), (w, h))
        if touching < 0.05 or (x0 == 0 and y0 == 0 and x1 == w and y1 == h):
            break
        half *= 1.6
    return mask


def person_below_face(img: np.ndarray) -> np.ndarray | None:
    """The classic person mask, for when no segmenter is installed: GrabCut in the box a body takes below the
    largest face OpenCV's cascade finds (three faces wide, from just above the head down to the picture's
    bottom). None when no face is found."""
    from . import detect

    cascade = detect.face_cascade()
    found = detect.faces(img, cascade) if cascade is not None else []
    if not found:
        return None
    x, y, fw, fh = found[0]
    h, w = img.shape[:2]
    cx = x + fw / 2
    box = (max(0, round(cx - 1.6 * fw)), max(0, round(y - 0.35 * fh)), min(w, round(cx + 1.6 * fw)), h)
    return from_box(img, box)


def _edge_share(mask: np.ndarray, box: tuple, size: tuple) -> float:
    """How much of the box's inner border (not lying on the picture's edge) the mask touches."""
    x0, y0, x1, y1 = box
    w, h = size
    sides = []
    if x0 > 0:
        sides.append(mask[y0:y1, x0])
    if x1 < w:
        sides.append(mask[y0:y1, x1 - 1])
    if y0 > 0:
        sides.append(mask[y0, x0:x1])
    if y1 < h:
        sides.append(mask[y1 - 1, x0:x1])
    if not sides:
        return 0.0
    edge = np.concatenate(sides)
    return float(edge.mean()) if len(edge) else 0.0


def refine(img: np.ndarray, carried: np.ndarray, band: int) -> np.ndarray:
    """GrabCut around a carried mask's edge: ``band`` pixels either side are left for it to decide."""
    import cv2

    if not carried.any():
        return carried
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    m = carried.astype(np.uint8)
    inner, outer = cv2.erode(m, kernel), cv2.dilate(m, kernel)
    labels = np.full(m.shape, cv2.GC_BGD, np.uint8)
    labels[outer > 0] = cv2.GC_PR_BGD
    labels[m > 0] = cv2.GC_PR_FGD
    labels[inner > 0] = cv2.GC_FGD
    # only the neighbourhood of the object: faster, and the colour models stay local
    ys, xs = np.nonzero(outer)
    pad = 3 * band
    y0, y1 = max(0, ys.min() - pad), min(m.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(m.shape[1], xs.max() + pad + 1)
    out = carried.copy()
    out[y0:y1, x0:x1] = grabcut(img[y0:y1, x0:x1], init=labels[y0:y1, x0:x1], iters=2)
    area, before = out.sum(), carried.sum()
    if not 0.5 * before <= area <= 2 * before:  # GrabCut lost its way: keep what the flow carried
        return carried
    return out


def carry(prev_img: np.ndarray, img: np.ndarray, prev_mask: np.ndarray) -> np.ndarray:
    """The previous frame's mask pulled along the flow to this frame."""
    back = fl.flow(img, prev_img)  # for each pixel here, where it was in the frame before
    return fl.warp(prev_mask.astype(np.float32), back, outside=0.0) > 0.5


class SegmentModel:
    """A segmentation model folder as an ONNX Runtime session: inputs ``(image, box)``, the picture as (1, 3, H, W)
    float32 in 0..1 and the box as (1, 4) float32 x0, y0, x1, y1 in pixels; first output (1, 1, H, W), the
    probability of the object (a SAM-style prompt-by-box model, exported with those two inputs)."""

    def __init__(self, session: Any):
        inputs = session.get_inputs()
        if len(inputs) != 2:
            names = ", ".join(i.name for i in inputs)
            raise ValueError(f"a segmentation model takes (image, box); this one takes ({names})")
        self.session = session
        self.names = [i.name for i in inputs]

    def mask(self, img: np.ndarray, box: tuple) -> np.ndarray:
        import cv2

        x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32) / 255
        b = np.asarray([box], np.float32)
        prob = np.asarray(self.session.run(None, {self.names[0]: x, self.names[1]: b})[0], np.float32)
        prob = prob.reshape(prob.shape[-2:])
        if prob.shape != img.shape[:2]:
            prob = cv2.resize(prob, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
        return prob > 0.5


def box_of(mask: np.ndarray, grow: float = 0.1) -> tuple[int, int, int, int] | None:
    """The box around a mask, a little larger (None for an empty mask)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    h, w = mask.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    gx, gy = round((x1 - x0) * grow), round((y1 - y0) * grow)
    return max(0, x0 - gx), max(0, y0 - gy), min(w, x1 + gx), min(h, y1 + gy)


def track(
    frames: list[np.ndarray],
    start: int,
    first: np.ndarray,
    *,
    model: SegmentModel | None = None,
    step: Callable[[], None] | None = None,
) -> list[np.ndarray]:
    """Masks for every frame, from the mask ``first`` of frame ``start``: carried forwards, then backwards."""
    band = max(2, round(max(frames[0].shape[:2]) / 80))
    masks: list[np.ndarray | None] = [None] * len(frames)
    masks[start] = first
    for order in (range(start + 1, len(frames)), range(start - 1, -1, -1)):
        for k in order:
            prev = k - 1 if k > start else k + 1
            carried = carry(frames[prev], frames[k], masks[prev])
            if model is not None:
                box = box_of(carried)
                masks[k] = model.mask(frames[k], box) if box is not None else carried
            else:
                masks[k] = refine(frames[k], carried, band)
            if step is not None:
                step()
    return masks  # type: ignore[return-value]


def work_size(width: int, height: int) -> tuple[int, int]:
    if width <= WORK_WIDTH:
        return width, height
    return WORK_WIDTH, max(2, round(height * WORK_WIDTH / width))


def full_size(mask: np.ndarray, width: int, height: int, invert: bool) -> np.ndarray:
    """A working mask as the stored uint8 picture: full size, soft edges where it was scaled up."""
    import cv2

    m = mask.astype(np.float32)
    if m.shape != (height, width):
        m = cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR)
    if invert:
        m = 1 - m
    return np.rint(m * 255).astype(np.uint8)
