"""What every call into OTIO's adapters needs: their logging silenced, their output written atomically, their
failures turned into ``InterchangeError``, and their metadata read as plain Python."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from .. import folder as disk
from ..errors import EditError
from ..model import plain  # noqa: F401 - re-exported for the format modules
from .errors import InterchangeError


class quiet:
    """Silence the adapters' logging chatter (pyaaf2 warns about every odd Fraction) while they run."""

    def __enter__(self) -> None:
        self.level = logging.root.manager.disable
        logging.disable(logging.WARNING)

    def __exit__(self, *exc: Any) -> None:
        logging.disable(self.level)


def atomic(path: Path, write_tmp: Any) -> None:
    """Write through a temporary file in the same folder, then rename: the file appears only when complete."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # some writers (otioz) refuse to overwrite a file, even an empty one
    try:
        write_tmp(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise InterchangeError(path, f"cannot write it: {disk.why(e)}") from e
    finally:
        tmp.unlink(missing_ok=True)


def write_with(path: Path, writer: str, write_tmp: Any, place: str | None = None) -> None:
    """Run an adapter's writer (``write_tmp``) quietly and atomically; any failure names the file and ``place``."""
    try:
        with quiet():
            atomic(path, write_tmp)
    except (InterchangeError, EditError):
        raise
    except Exception as e:  # the writers raise anything for what they cannot write
        raise InterchangeError(path, f"the {writer} writer failed: {type(e).__name__}: {e}", place) from e
