"""Clip and Media: handles on a clip of the timeline and an item of the media pool, by id.

A handle follows its clip through edits and undo (it looks the id up each time), and records as its id.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import opentimelineio as otio

from . import identity, model
from .errors import NbeditError
from .media import MediaInfo
from .timeline import seconds

if TYPE_CHECKING:
    from .session import Session


class Clip:
    """A handle on a clip of the session's timeline, by id; it follows the clip through edits and undo."""

    handle = "clip"  # what operations read to tell a Clip from a Media without importing this module

    def __init__(self, session: Session, clip_id: str):
        self.session = session
        self.id = clip_id

    def _nbedit_literal(self) -> str:
        return self.id

    def _placed(self):
        return self.session.locate(self.id)

    @property
    def otio(self) -> otio.schema.Clip:
        return self._placed()[1].item

    @property
    def track(self) -> str:
        return self._placed()[0].name

    @property
    def media(self) -> str:
        return model.media_of(self.otio)

    @property
    def name(self) -> str:
        return self.otio.name

    @property
    def start(self) -> float:
        """Timeline position in seconds."""
        return seconds(self._placed()[1].start, self.session.fps)

    @property
    def duration(self) -> float:
        return seconds(self._placed()[1].duration, self.session.fps)

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def src_in(self) -> float:
        return float(model.source_in(self.otio) / self.session.fps)

    @property
    def src_out(self) -> float:
        _, p = self._placed()
        return float(model.source_at(p.item, p.duration) / self.session.fps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Clip) and other.session is self.session and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        try:
            return (
                f"<Clip {self.id} {self.name!r} on {self.track} at {self.start:.3f}s for {self.duration:.3f}s, "
                f"source {self.src_in:.3f}-{self.src_out:.3f}s>"
            )
        except NbeditError:
            return f"<Clip {self.id} (not on the timeline)>"


class Media:
    """A handle on an item of the media pool."""

    handle = "media"

    def __init__(self, session: Session, media_id: str):
        self.session = session
        self.id = media_id

    def _nbedit_literal(self) -> str:
        return self.id

    @property
    def info(self) -> MediaInfo:
        return model.media_info(model.media_entry(self.session.timeline, self.id))

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def duration(self) -> float | None:
        """Seconds of media (None: a still, which lasts as long as a clip of it)."""
        return self.info.duration

    @property
    def fps(self) -> Fraction | None:
        return self.info.fps

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) as displayed (after rotation); None for sound only."""
        i = self.info
        return None if i.width is None else (i.width, i.height)

    @property
    def has_audio(self) -> bool:
        return self.info.has_audio

    @property
    def has_video(self) -> bool:
        return self.info.has_video

    @property
    def online(self) -> bool:
        """The file is there and is the one imported (a file replaced since is offline: relink it)."""
        i = self.info
        return os.path.exists(i.path) and identity.same(i.path, i.sha256)

    def __repr__(self) -> str:
        i = self.info
        what = f"{i.width}x{i.height} {float(i.fps or 0):.3f} fps" if i.has_video else "audio"
        dur = "still" if i.duration is None else f"{i.duration:.3f}s"
        return f"<Media {self.id} {i.kind} {what} {dur} {Path(i.path).name}{'' if self.online else ' OFFLINE'}>"


def handle(session: Any, value: Any) -> Any:
    """An operation's result as users get it: clip ids as Clips, media ids as Media, tuples of them likewise."""
    if isinstance(value, model.ClipId):
        return Clip(session, str(value))
    if isinstance(value, model.MediaId):
        return Media(session, str(value))
    if isinstance(value, tuple):
        return tuple(handle(session, v) for v in value)
    if isinstance(value, list):
        return [handle(session, v) for v in value]
    return value
