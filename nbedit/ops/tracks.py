"""Track switches as recorded operations: mute, solo, lock. ``s.mute("A2")``, ``s.solo("A1")``, ``s.lock("V1")``

Mute is OTIO's ``enabled`` (so other editors see a disabled track); solo and lock live in the track's nbedit data.
A locked track refuses every edit of its clips (``ops.context.Edit`` checks it where tracks change), while its
switches stay free to change, as in other editors.
"""

from __future__ import annotations

import opentimelineio as otio

from ..errors import EditError
from .context import MISSING, Edit


def mute(e: Edit, track: str, on: bool = True) -> None:
    """Silence an audio track or hide a video track in the preview and the render. ``s.mute("A2")``;
    ``s.mute("A2", False)`` brings it back."""
    e.set_enabled(e.track(_name(track)), not _flag(on, "on"))


def solo(e: Edit, track: str, on: bool = True) -> None:
    """Hear only the soloed audio tracks (several may be soloed). ``s.solo("A1")``; ``s.solo("A1", False)``"""
    ti = e.track(_name(track))
    if ti.kind != otio.schema.TrackKind.Audio:
        raise EditError(f"solo is for audio tracks; to see only some video tracks, mute the others ({ti.name})")
    e.set_track_data(ti.name, "solo", True if _flag(on, "on") else MISSING)


def lock(e: Edit, track: str, on: bool = True) -> None:
    """Lock a track against edits of its clips (its switches still change). ``s.lock("V1")``;
    ``s.lock("V1", False)`` unlocks it."""
    # off is the default: the key goes, so a track switched back reads as one never switched
    e.set_track_data(e.track(_name(track)).name, "lock", True if _flag(on, "on") else MISSING)


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise EditError(f"{what} must be True or False, not {value!r}")
    return value


def _name(track: object) -> str:
    if not isinstance(track, str):
        raise EditError(f"a track is named like 'V1' or 'A2', not {track!r}")
    return track
