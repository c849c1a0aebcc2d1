"""What a widget sends, caught as the front end would receive it."""

from __future__ import annotations

import io

import av
import numpy as np


class Sent:
    """Every message a widget sends from now on, with its binary buffers."""

    def __init__(self, widget):
        self.got: list[tuple[dict, list]] = []
        original = widget.send

        def send(content, buffers=None):
            self.got.append((content, list(buffers or [])))
            return original(content, buffers)

        widget.send = send

    def last(self, kind: str) -> tuple[dict, list]:
        return next(m for m in reversed(self.got) if m[0].get("type") == kind)


def picture(data: bytes, fmt: str = "rgb24") -> np.ndarray:
    """The picture in JPEG or PNG bytes."""
    with av.open(io.BytesIO(data)) as c:
        return next(c.decode(video=0)).to_ndarray(format=fmt)
