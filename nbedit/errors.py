"""Typed errors: every failure a user can cause raises a subclass of NbeditError.

A failing operation leaves the session exactly as it was, so callers can catch these, fix the input and retry.
"""

from __future__ import annotations


class NbeditError(Exception):
    """Base class of every error nbedit raises on purpose."""


class MediaError(NbeditError):
    """A media file is missing, unreadable, of an unsupported kind, or not the file that was recorded."""


class TimeRangeError(NbeditError):
    """A time or range falls outside the media or the timeline, or is empty or negative."""


class ClipNotFoundError(NbeditError, KeyError):
    """No clip, media or track has the given id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EditError(NbeditError):
    """An edit cannot be made as asked (no handles for a transition, clips not adjacent, bad parameter...)."""


class ProjectError(NbeditError):
    """A project folder, journal or recipe cannot be opened, read or written."""


class ProjectLockedError(ProjectError):
    """Another process is editing the project (open it with ``read_only=True`` to look, play or render)."""


class RenderError(NbeditError):
    """Rendering or encoding failed; the output path was not touched."""


class ProxyError(NbeditError):
    """A scrub proxy could not be built; the message says why in a sentence (the preview reads the media itself)."""
