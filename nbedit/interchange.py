"""Interchange: timelines out to and in from OTIO, FCP 7 XML, FCPX XML, AAF and EDL (filled in by its issue)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import EditError


class InterchangeOps:
    """Session operations for interchange; Session inherits them."""

    def export(self, path: str | os.PathLike) -> Path:
        """Write the timeline to an interchange file; the format follows the extension (``.otio`` here)."""
        path = Path(path)
        if path.suffix.lower() != ".otio":
            raise EditError(f"cannot export {path.name}: only .otio is supported so far")
        return self.save(path)
