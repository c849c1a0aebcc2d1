"""The effect stack of a clip and the blend modes of layers: data in, pixels out.

A clip's stack is a list of nodes in ``metadata["nbedit"]["effects"]``, applied in order to the clip's source
picture (before its placement crop and transform), each node one of the KINDS below::

    {"id": "e1", "kind": "blur", "params": {"radius": {"keys": [[0, 0.0], [24, 12.0]]}}, "mask": "m1",
     "invert": false, "feather": 4.0}

``mask`` (a mask media id), ``invert`` and ``feather`` limit a node to the inside (or outside) of a mask; the
"mask" kind itself makes the picture transparent outside its mask. The "blend" kind paints nothing: it says how
the clip is laid over what lies below it (mode and opacity), and is read by the compositor.

The compositor calls :func:`resolve` to get every parameter's value at one frame (a hashable tuple: it is part of
the frame's content key, so a preview cache entry changes exactly when the picture does) and :func:`apply` to
paint. Pixel parameters (blur radius, crop edges, moves, feather) are in source pixels and are scaled to the
picture actually decoded (a preview proxy is smaller), so previews and renders show the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import KINDS, MODES, Param, check_value  # noqa: F401  (the schema's table, read here by ops.graph)
from .keyframes import plain, value_at

PARAMS = {name for params in KINDS.values() for name in params}  # every kind's parameters, by name

# kinds that can make part of a picture transparent: a layer with one no longer hides what is below it
ALPHA_KINDS = {"transform", "crop", "key", "mask"}


# ---- values at one frame ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One node of a stack with every parameter resolved at one frame (hashable: part of a frame's content key)."""

    kind: str
    params: tuple  # ((name, value), ...) in KINDS order
    mask: tuple | None = None  # (mask sha256, mask frame index, invert, feather) when a mask limits the node

    def get(self, name: str) -> Any:
        return dict(self.params)[name]


def resolve(node: Any, pos: float) -> tuple[str, tuple]:
    """(kind, ((name, value at pos), ...)) of a stored node; left-out parameters take their defaults."""
    kind = node["kind"]
    stored = node.get("params", {})
    values = []
    for name, spec in KINDS[kind].items():
        v = value_at(stored[name], pos) if name in stored else plain(spec.default)
        values.append((name, _clamped(v, spec)))
    return kind, tuple(values)


def _clamped(v: Any, spec: Param) -> Any:
    # a value outside its documented range never reaches a painter (a blur of radius 1e5 would run for hours);
    # opening a project refuses such values already, this holds for any other way in
    if spec.kind != "number" or not isinstance(v, float):
        return v
    lo = -np.inf if spec.lo is None else spec.lo
    hi = np.inf if spec.hi is None else spec.hi
    return min(max(v, lo), hi)


def blend_of(nodes: tuple[Node, ...]) -> tuple[str | None, float]:
    """The clip's own blend mode (None: the track's) and opacity, from its last "blend" node."""
    mode, opacity = None, 1.0
    for n in nodes:
        if n.kind == "blend":
            mode, opacity = n.get("mode"), n.get("opacity")
    return mode, opacity


# ---- painting -----------------------------------------------------------------------------------------------


def apply(img: np.ndarray, nodes: tuple[Node, ...], masks: list[np.ndarray | None], px: float) -> tuple:
    """Paint a stack over a source picture: (RGB float32 0-255, alpha float32 0-1), both of the picture's size.

    ``masks[i]`` is node i's mask as float32 0-1 at the picture's size (None: no mask); ``px`` is the picture's
    pixels per source pixel (1 for the media itself, less for a proxy).
    """
    import cv2

    rgb = img.astype(np.float32)
    alpha = np.ones(img.shape[:2], np.float32)
    for node, m in zip(nodes, masks, strict=True):
        if node.kind == "blend":
            continue
        if m is not None and node.mask is not None:
            m = _limit(m, invert=node.mask[2], feather=node.mask[3] * px)
        if node.kind == "mask":
            alpha = alpha * (m if m is not None else 1.0)
            continue
        new_rgb, new_alpha = PAINTERS[node.kind](rgb, alpha, dict(node.params), px, cv2)
        if m is None:
            rgb, alpha = new_rgb, new_alpha
        else:  # only inside the mask
            rgb = rgb + (new_rgb - rgb) * m[..., None]
            alpha = alpha + (new_alpha - alpha) * m
    return rgb, alpha


def _limit(m: np.ndarray, *, invert: bool, feather: float) -> np.ndarray:
    import cv2

    if feather > 0:  # no wider than the picture: a larger sigma changes nothing more but runs for minutes
        m = cv2.GaussianBlur(m, (0, 0), sigmaX=min(feather, max(m.shape)) / 2)
    return 1.0 - m if invert else m


def _transform(rgb, alpha, p, px, cv2):
    h, w = alpha.shape
    turn = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), -p["rotation"], p["scale"])
    turn[:, 2] += (p["x"] * px, p["y"] * px)
    out = cv2.warpAffine(rgb, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    a = cv2.warpAffine(alpha, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return out, a


def _crop(rgb, alpha, p, px, cv2):
    h, w = alpha.shape
    y, x = np.arange(h, dtype=np.float32) + 0.5, np.arange(w, dtype=np.float32) + 0.5
    soft = max(p["softness"] * px, 1e-3)
    # distance inside each edge, ramped over ``softness`` pixels
    ramp_x = np.clip(np.minimum(x - p["left"] * px, w - p["right"] * px - x) / soft + 0.5, 0, 1)
    ramp_y = np.clip(np.minimum(y - p["top"] * px, h - p["bottom"] * px - y) / soft + 0.5, 0, 1)
    return rgb, alpha * (ramp_y[:, None] * ramp_x[None, :])


def _color(rgb, alpha, p, px, cv2):
    out = rgb
    if p["saturation"] != 1:
        luma = out @ np.asarray([0.2126, 0.7152, 0.0722], np.float32)
        out = luma[..., None] + (out - luma[..., None]) * np.float32(p["saturation"])
    if p["contrast"] != 1:
        out = (out - 127.5) * np.float32(p["contrast"]) + 127.5
    if p["brightness"]:
        out = out + np.float32(255 * p["brightness"])
    out = np.clip(out, 0, 255)
    if p["gamma"] != 1:
        out = 255 * (out / 255) ** np.float32(1 / p["gamma"])
    return out.astype(np.float32), alpha


def _blur(rgb, alpha, p, px, cv2):
    sigma = p["radius"] * px / 2  # the radius is about two standard deviations: most of the spread
    if sigma < 0.05:
        return rgb, alpha
    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma), cv2.GaussianBlur(alpha, (0, 0), sigmaX=sigma)


def _key(rgb, alpha, p, px, cv2):
    dist = np.linalg.norm(rgb - np.asarray(p["color"], np.float32), axis=2)
    soft = max(p["softness"], 1e-3)
    keep = np.clip((dist - p["tolerance"]) / soft, 0, 1)
    return rgb, alpha * keep.astype(np.float32)


PAINTERS = {"transform": _transform, "crop": _crop, "color": _color, "blur": _blur, "key": _key}


def blend_onto(
    canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int, mode: str, opacity: float
) -> np.ndarray:
    """Lay a picture with alpha over ``canvas`` (uint8, changed in place) at x, y in a blend mode."""
    H, W = canvas.shape[:2]
    h, w = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0 or opacity <= 0:
        return canvas
    top = rgb[y0 - y : y1 - y, x0 - x : x1 - x]
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x, None] * np.float32(opacity)
    below = canvas[y0:y1, x0:x1].astype(np.float32)
    if mode == "add":
        top = np.minimum(below + top, 255)
    elif mode == "multiply":
        top = below * top / 255
    elif mode == "screen":
        top = 255 - (255 - below) * (255 - top) / 255
    canvas[y0:y1, x0:x1] = np.rint(np.clip(below + (top - below) * a, 0, 255)).astype(np.uint8)
    return canvas
