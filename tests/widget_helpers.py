"""What a widget sends, caught as the front end would receive it."""

from __future__ import annotations

import io

import av
import numpy as np

from nbedit.widgets import POSITIONS


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


class Replica:
    """The timeline document as a view rebuilds it from the widget's messages (the rules of editor.js's bus): the
    whole doc once, then each "tracks" message on top of the one before."""

    def __init__(self, widget):
        self.doc: dict | None = None
        self.seq = -1
        self.gaps = 0
        original = widget.send

        def send(content, buffers=None):
            self.receive(content)
            return original(content, buffers)

        widget.send = send
        widget._on_message(widget, {"type": "hello"}, [])

    def receive(self, msg: dict) -> None:
        if msg.get("type") == "doc":
            self.doc, self.seq = msg["doc"], msg["seq"]
        elif msg.get("type") == "tracks":
            if self.doc is None or msg["seq"] != self.seq + 1:
                self.gaps += 1
                return
            tracks = {t["name"]: t for t in self.doc["tracks"]}
            for name in msg["removed"]:
                del tracks[name]
            tracks.update(msg["tracks"])
            for name, patch in msg["patches"].items():
                track = {**tracks[name], **{k: v for k, v in patch.items() if k != "splice"}}
                for field, (at, remove, items, shift) in patch["splice"].items():
                    old = track[field]
                    tail = [{**x, **{k: x[k] + shift for k in POSITIONS[field]}} for x in old[at + remove :]]
                    track[field] = old[:at] + items + tail
                tracks[name] = track
            self.doc = {**msg["header"], "tracks": [tracks[n] for n in msg["order"]]}
            self.seq = msg["seq"]
