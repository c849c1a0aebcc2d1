"""The errors of interchange: every failure names the file and, when known, the place in it."""

from __future__ import annotations

import os

from ..errors import ProjectError


class InterchangeError(ProjectError):
    """A timeline file cannot be read or written in its format; says which file and, when known, where."""

    def __init__(self, path: str | os.PathLike, message: str, place: str | None = None):
        self.path = os.fspath(path)
        self.place = place
        where = f" ({place})" if place else ""
        super().__init__(f"{self.path}{where}: {message}")


class UnsupportedFeatureError(InterchangeError):
    """The file uses something nbedit cannot represent; ``feature`` names it."""

    def __init__(self, path: str | os.PathLike, feature: str, message: str, place: str | None = None):
        self.feature = feature
        super().__init__(path, f"{feature} is not supported: {message}", place)
