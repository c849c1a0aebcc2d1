"""The pictures a generation starts from: runs of a clip's frames as job sources, read back by sha256, and
stills saved into the project.

    >>> span(tl, fps, item, first=0, count=25, role="video")           # a job source: media id, sha256, times
    >>> pictures(tl, source)                                           # its frames, (N, H, W, 3) uint8
    >>> still(project, s.frame(3.0), None)                             # (path, sha256) of a saved .png
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio

from .. import folder as disk
from .. import model
from ..errors import EditError, MediaError, ProjectError
from .derived import GENERATED


class Edge:
    """One frame of a clip at a timeline offset from its start: a retake's boundary picture."""

    def __init__(self, item: Any, offset: int):
        self.item = item
        self.offset = offset


def span(tl: otio.schema.Timeline, fps: Fraction, item: Any, first: int, count: int, role: str, **more: Any) -> dict:
    """A run of a clip's frames (timeline offsets ``first``.. from its start) as a source of a job."""
    mid = model.media_of(item)
    entry = model.media_entry(tl, mid)
    start = model.source_at(item, first) / fps
    step = model.time_scalar(item) / fps
    return {
        "role": role,
        "media": mid,
        "sha256": entry["sha256"],
        "start": str(start),
        "step": str(step),
        "count": int(count),
        **more,
    }


def boundary_sources(tl: otio.schema.Timeline, fps: Fraction, left: Any, right: Any, n: int) -> tuple[dict, ...]:
    """Keyframes for ``n`` frames between the last frame of ``left`` and the first of ``right``."""
    out = []
    if left is not None:
        offset = left.duration - 1 if not isinstance(left, Edge) else left.offset
        out.append(span(tl, fps, left.item, offset, 1, "keyframe", index=0, strength=1.0))
    if right is not None:
        offset = 0 if not isinstance(right, Edge) else right.offset
        index = n + (1 if left is not None else 0)
        out.append(span(tl, fps, right.item, offset, 1, "keyframe", index=index, strength=1.0))
    return tuple(out)


def pictures(tl: otio.schema.Timeline, src: dict) -> np.ndarray:
    """The frames a job source names, read from its media (checked against the recorded sha256)."""
    from .. import media as media_mod

    if "media" in src:
        entry = model.media_entry(tl, src["media"])
        if entry["sha256"] != src["sha256"]:
            raise MediaError(f"media {src['media']!r} is not the file this generation used (sha256 differs)")
        path, info = entry["path"], model.media_info(entry)
    else:
        path, info = src["path"], None
        if os.path.exists(path) and media_mod.sha256_file(path) != src["sha256"]:
            raise MediaError(f"{path} is not the picture this generation used (sha256 differs)")
    if not os.path.exists(path):
        raise MediaError(f"{path} is offline: cannot read the frames this generation starts from")
    start, step = Fraction(src["start"]), Fraction(src["step"])
    with media_mod.VideoReader(path, info=info) as reader:
        return np.stack([reader.frame_at(float(start + k * step)) for k in range(int(src["count"]))])


def still(project: Path, image: Any, image_sha256: str | None) -> tuple[str, str]:
    """A picture given as an array or an image file, as (absolute path, sha256) of a file."""
    from .. import media as media_mod

    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise EditError(f"image must be a (height, width, 3) uint8 array, not {image.dtype} {image.shape}")
        from ..render import to_png

        data = to_png(np.ascontiguousarray(image))
        import hashlib

        sha = hashlib.sha256(data).hexdigest()
        path = project / GENERATED / "stills" / f"{sha[:16]}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.partial")
            try:
                tmp.write_bytes(data)
                os.replace(tmp, path)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise ProjectError(f"cannot keep the picture in {path.parent}: {disk.why(e)}") from e
        return str(path), sha
    if not isinstance(image, str | os.PathLike):
        raise EditError(f"image must be a picture (numpy array) or an image file path, not {type(image).__name__}")
    path = os.path.abspath(os.fspath(image))
    if not os.path.isfile(path):
        raise MediaError(f"image file not found: {path}")
    sha = media_mod.sha256_file(path)
    if image_sha256 is not None and sha != image_sha256:
        raise MediaError(f"{path} is not the recorded picture: its sha256 is {sha}, expected {image_sha256}")
    return path, sha


def picture_size(path: str) -> tuple[int, int]:
    from .. import media as media_mod

    info = media_mod.probe(path)
    if not info.has_video:
        raise MediaError(f"{path} holds no picture")
    return int(info.width), int(info.height)
