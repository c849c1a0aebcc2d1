"""Every shared sample through every format, compared frame by frame and marker by marker.

Each sample (files other editors wrote, read in place from ``../shared/interchange-samples/``) is imported, exported
to each format, imported back, and the two timelines compared at every frame (which media, which source frame,
switched on or off, a crossfade's weight) and marker (``nbedit.interchange.fidelity``). What differs must be
listed in the export's ``lost`` (never silent), and the per-sample table in docs/interchange.md must be what these
round trips find: ``python docs/interchange_table.py`` writes it from ``trip`` below.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import nbedit
from nbedit.interchange import FORMATS
from nbedit.interchange.fidelity import Trip, compare, markers

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "interchange-samples"
FILES = sorted(p for p in SAMPLES.glob("*/*") if p.suffix.lower() in FORMATS)
# .otioz is .otio with the media files in the bundle: the samples' media is absent, so it would be .otio again
EXTS = [".otio", ".xml", ".fcpxml", ".aaf", ".edl"]
DOC = Path(__file__).resolve().parents[1] / "docs" / "interchange.md"

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared interchange samples are not here")


def name_of(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def trip(s: nbedit.Session, ext: str, folder: Path) -> tuple[nbedit.interchange.Exported, Trip]:
    """Export ``s`` to ``ext`` in ``folder``, import what it wrote into fresh sessions, compare with ``s``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = s.export(folder / f"cut{ext}")
    search = [str(SAMPLES / "media")]
    if ext != ".edl":
        back = nbedit.Session(folder / "back")
        back.import_timeline(out, search_paths=search)
        return out, compare(s, back)
    # an EDL holds one track: each track went to a file of its own (cut.edl is V1, cut.V2.edl V2, ...)
    frames = differ = 0
    first, found = None, []
    for path in [f for f in out.files if f != out.sidecar]:
        track = re.fullmatch(r"cut(?:\.(\w+))?\.edl", path.name).group(1) or "V1"
        back = nbedit.Session(folder / f"back-{track}")
        back.import_timeline(path, search_paths=search)
        found += markers(back)
        if track not in s.tracks or not back.tracks:
            continue
        t = compare(s, back, {track: back.tracks[0]}, marked=False)
        frames, differ, first = frames + t.frames, differ + t.differ, first or t.first
    theirs = markers(s)
    lost = tuple(m for m in theirs if m not in found)
    added = tuple(m for m in found if m not in theirs)
    return out, Trip(frames, differ, first, lost, added)


def cell(t: Trip) -> str:
    """A table cell: "same", or how many frames and markers differ."""
    if t.same:
        return "same"
    parts = []
    if t.differ:
        parts.append(f"{t.differ} of {t.frames} track frames")
    if t.markers_lost:
        parts.append(f"-{len(t.markers_lost)} markers")
    if t.markers_added:
        parts.append(f"+{len(t.markers_added)} markers")
    return ", ".join(parts)


_imported: dict[Path, nbedit.Session] = {}


def imported(path: Path, folder: Path) -> nbedit.Session:
    if path not in _imported:
        s = nbedit.Session(folder / "original")
        s.import_timeline(path, search_paths=[str(SAMPLES / "media")])
        _imported[path] = s
    return _imported[path]


def documented() -> dict[tuple[str, str], str]:
    """The round-trip table in docs/interchange.md: (sample, extension) -> cell."""
    out = {}
    lines = DOC.read_text().split("<!-- round trips -->")[1].splitlines()
    rows = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| ---")]
    header, *body = rows
    exts = [c.strip(" `") for c in header.strip("|").split("|")[1:]]
    for row in body:
        sample, *cells = (c.strip() for c in row.strip("|").split("|"))
        out.update({(sample.strip("`"), ext): c for ext, c in zip(exts, cells, strict=True)})
    return out


CASES = [(p, ext) for p in FILES for ext in EXTS]


@pytest.mark.parametrize(("path", "ext"), CASES, ids=[f"{name_of(p)}-{e.strip('.')}" for p, e in CASES])
def test_a_round_trip_changes_nothing_it_does_not_list_and_is_as_documented(path, ext, tmp_path_factory):
    s = imported(path, tmp_path_factory.mktemp("sample"))
    out, t = trip(s, ext, tmp_path_factory.mktemp(ext.strip(".")))
    if t.differ:
        assert out.lost, f"{t.differ} frames differ (first at {t.first}) and the export lists nothing as lost"
    if t.markers_lost or t.markers_added:
        assert any("marker" in x for x in out.lost), f"markers {t.markers_lost} lost and not listed"
    # a marker may move (to its clip's edge, listed), never appear twice or from nowhere
    assert {name for name, _ in t.markers_added} <= {name for name, _ in t.markers_lost}
    assert documented()[(name_of(path), ext)] == cell(t)
