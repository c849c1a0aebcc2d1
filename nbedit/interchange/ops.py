"""The operations of interchange: ``import_timeline`` (recorded), ``export`` and ``last_import_report``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import opentimelineio as otio

from .. import folder as disk
from .. import media as media_mod
from .. import model
from ..errors import EditError, ProjectError
from ..ops.context import Edit
from . import fcp7, fcpx, tracks
from .adapters import plain
from .conform import Conform
from .errors import InterchangeError
from .export import write
from .formats import format_of
from .rates import literal_rate, user_rate
from .read import file_rate, pick_timeline, read_file
from .relink import Relinker
from .results import Exported, ImportReport

Schema = otio.schema


def export(timeline: Schema.Timeline, path: str | os.PathLike) -> Exported:
    """Write the timeline for another tool; the format follows the extension. ``s.export("cut.fcpxml")``

    ``.otio`` and ``.otioz`` (OTIO with the media files) keep everything; ``.xml`` (FCP 7), ``.fcpxml``,
    ``.aaf`` and ``.edl`` keep what they can (``Exported.lost`` says what they could not) and get a sidecar
    ``<name>.nbedit.otio`` beside them with everything. Not an edit: nothing is recorded.
    """
    return write(timeline, Path(path).expanduser().absolute())


def import_timeline(
    e: Edit,
    path: str | os.PathLike,
    *,
    search_paths: tuple[str, ...] | list[str] | None = None,
    rate: int | float | str | None = None,
    sha256: str | None = None,
    adapter_options: dict | None = None,
) -> ImportReport:
    """Make a timeline from another tool (or an nbedit export) the session's timeline, relinking its media.

    ``s.import_timeline("/cuts/from_resolve.xml", search_paths=("~/footage",))`` is the cell it records
    (with the file's sha256, so a recipe checks it is the same file). Media is found at its path, by file
    name under ``search_paths``, by sha256 or by name and duration; what is not found stays offline (the
    offline slate). The imported timeline replaces the current one (undo brings that back); the media pool
    keeps its items. ``rate`` reads an EDL at that frame rate (EDLs do not say; by default the lowest common
    rate it reads at) or conforms any file to it. Returns (and ``s.last_import_report`` keeps) the
    report of what was relinked, what is offline and what had to change. ``adapter_options`` go to the OTIO
    adapter as they are (``{"ignore_timecode_mismatch": True}`` for an EDL whose durations disagree, say).
    """
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    saved = e.saved if e.replaying else {}
    if saved.get("timeline"):
        e.replace_timeline(model.read_otio(saved["timeline"], "the timeline kept in the journal"))
        e.keep(timeline=saved["timeline"], report=saved["report"])
        return ImportReport.from_dict(saved["report"])
    roots = _search_paths(search_paths)
    asked = None if rate is None else user_rate(rate)
    if os.path.isdir(path):
        raise InterchangeError(path, "is a folder, not a timeline file: name the file in it")
    try:
        digest = media_mod.sha256_file(path)
    except OSError as err:
        raise InterchangeError(path, f"cannot read it: {err}") from err
    if sha256 is not None and digest != sha256:
        raise InterchangeError(path, f"not the recorded file: its sha256 is {digest}, expected {sha256}")
    src, base, extract = Path(path), Path(path).parent, None
    if adapter_options is not None and not isinstance(adapter_options, dict):
        raise EditError(f"adapter_options is a dictionary of the adapter's keyword arguments, not {adapter_options!r}")
    if format_of(src).adapter == "otioz":  # the bundle's media is unpacked into the project folder
        base = e.folder / "imports" / f"{src.stem}-{digest[:12]}"
        if not (base / "media").exists():
            # unpacked beside it under a name with our pid, renamed when whole: a full disk or a kill leaves no
            # half of the media where a later import would take it for all of it
            extract = base.with_name(f".{base.name}.{os.getpid()}-{digest[12:20]}.partial")
    try:
        if extract is not None:
            shutil.rmtree(extract, ignore_errors=True)
            extract.mkdir(parents=True)
        read = read_file(src, asked, extract, dict(adapter_options or {}))
        if extract is not None:
            shutil.rmtree(base, ignore_errors=True)  # an empty or half folder an older version left
            os.replace(extract, base)
    except OSError as err:
        raise InterchangeError(path, f"cannot unpack its media into {base.parent}: {disk.why(err)}") from err
    except InterchangeError as err:
        cause = err.__cause__
        if isinstance(cause, OSError) and extract is not None:
            raise InterchangeError(path, f"cannot unpack its media into {base.parent}: {disk.why(cause)}") from err
        raise
    finally:
        if extract is not None:
            shutil.rmtree(extract, ignore_errors=True)
    notes = [read.note] if read.note else []
    foreign = pick_timeline(read.obj, src, notes)
    model.check_nesting(foreign, path)
    model.check_foreign(foreign, path)
    tl_rate = asked or read.rate or file_rate(foreign, src)
    if read.format.adapter == "fcp_xml":
        off = fcp7.read_enabled(foreign)
        if off:
            notes.append(f"switched off in the file (kept disabled, not shown, not heard): {', '.join(off)}")
    if read.format.adapter == "fcpx_xml" and (n := fcpx.drop_lane_markers(foreign)):
        notes.append(
            f"the FCPX reader copied {n} marker{'s' * (n > 1)} of connected clips onto their spine clip: "
            "taken off again"
        )
    if read.format.adapter == "fcpx_xml" and tl_rate.denominator == 1001:
        notes.append("the FCPX reader counts NTSC time in whole frames per second: positions may be a frame off")
    conform = Conform(foreign, src, base, tl_rate, Relinker(roots, notes), plain(model.pool(e.timeline)))
    conform.notes = notes
    size = _import_size(foreign, e.format)
    new, report = conform.build(foreign.name or src.stem, size, model.next_id(e.timeline))
    if read.format.adapter not in ("otio_json", "otioz", "cmx_3600"):  # an EDL holds one track
        report.tracks = tracks.restore(new, src, report.tracks, report.notes)
        report.counts["tracks"] = (report.counts.get("tracks", (0, 0))[0], len(new.tracks))
    report.format = format_of(src).name
    text = new.to_json_string()
    # the timeline as the journal gives it back (OTIO's JSON keeps 16 digits), so a reopen is identical
    try:
        e.replace_timeline(otio.adapters.read_from_string(text, "otio_json"))
    except InterchangeError:
        raise
    except ProjectError as err:  # the schema's checks: say which file they refused
        raise InterchangeError(path, str(err).removeprefix("cannot open this timeline: ")) from err
    e.pin(path=path, sha256=digest)
    if rate is None and read.rate is not None:
        e.pin(rate=literal_rate(read.rate))  # the rate an EDL was read at: the recipe reads it so again
    e.keep(timeline=text, report=report.to_dict())
    return report


def _import_size(foreign: Schema.Timeline, ours: dict | None) -> tuple[int, int] | None:
    """Picture size: nbedit's own (a file it wrote), the file's sequence format, else the session's."""
    theirs = (model.data(foreign) or {}).get("format") or {}
    if theirs.get("width") and theirs.get("height"):
        return int(theirs["width"]), int(theirs["height"])
    size = fcp7.frame_size(foreign)
    if size is None and ours:
        size = ours["width"], ours["height"]
    return size


def last_import_report(history: list) -> ImportReport | None:
    """The report of the latest ``import_timeline`` in a history (None if there is none)."""
    for rec in reversed(history):
        if rec.op == "import_timeline" and "report" in rec.extra:
            return ImportReport.from_dict(rec.extra["report"])
    return None


def _search_paths(search_paths: Any) -> tuple[str, ...]:
    if search_paths is None:
        return ()
    if isinstance(search_paths, str | os.PathLike):
        search_paths = (search_paths,)
    if not isinstance(search_paths, tuple | list) or not all(isinstance(p, str | os.PathLike) for p in search_paths):
        raise EditError(f"search_paths must be a list of folders, not {search_paths!r}")
    return tuple(os.fspath(p) for p in search_paths)
