"""``nbedit.convert``: a timeline file to another format, through a scratch project (import, then export)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .interchange import Exported, format_of
from .session import Session


def convert(
    source: str | os.PathLike,
    target: str | os.PathLike,
    *,
    search_paths: tuple[str, ...] | list[str] | None = None,
    rate: int | float | str | None = None,
) -> Exported:
    """Convert a timeline file to another format through nbedit's model. ``nbedit.convert("a.xml", "a.fcpxml")``

    The file is imported into a scratch project (media relinked as by ``import_timeline``) and exported; the
    import's report is ``Exported.report``. From an ``.otioz``, the unpacked media stays in ``<target>-media/``.
    """
    out = Path(target).expanduser().absolute()
    format_of(out)
    bundle = format_of(source).adapter == "otioz"
    # an .otioz bundle's media is unpacked into the project, which then stays beside the target for it to use
    folder = out.with_name(f"{out.stem}-media") if bundle else Path(tempfile.mkdtemp(prefix="nbedit-convert-"))
    s = None
    try:
        s = Session(folder / "project", name=Path(source).stem, fresh=bundle)
        report = s.import_timeline(source, search_paths=search_paths, rate=rate)
        exported = s.export(out)
        exported.report = report
        return exported
    finally:
        try:
            if s is not None:
                s.close()  # before its folder goes: the background snapshot writer must not write into a removed one
        finally:
            if not bundle:
                shutil.rmtree(folder, ignore_errors=True)
