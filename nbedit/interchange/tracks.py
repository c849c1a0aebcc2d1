"""Track names and order from the sidecar: FCPX XML and AAF leave empty tracks out, and every foreign format's
tracks are renumbered on import (V1, V2, ... by kind), so a timeline with V1 and V3, or an empty V2, would come
back as V1 and V2. The sidecar ``<name>.nbedit.otio`` an export writes beside the file holds the tracks as nbedit
had them; an import of that file puts their names, their order and the empty ones back, when the file still holds
the same tracks (as many of each kind, each with as many clips)."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from ..model import read_otio
from .formats import SIDECAR

Schema = otio.schema


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name[: -len(path.suffix)] + SIDECAR)


def restore(tl: Schema.Timeline, path: Path, tracks: dict[str, str], notes: list[str]) -> dict[str, str]:
    """Give ``tl`` (just imported from ``path``) the track names, order and empty tracks of the sidecar beside
    ``path``, when there is one and its tracks that hold clips match ``tl``'s. Returns the report's track map
    (nbedit track name -> the file's track name) under the new names."""
    sidecar = sidecar_of(path)
    if not sidecar.is_file():
        return tracks
    try:
        theirs = read_otio(sidecar.read_bytes(), str(sidecar))
    except Exception:  # a sidecar that is not one (damaged, another tool's): the file's own tracks stand
        notes.append(f"{sidecar.name} beside it is not a timeline nbedit can read: track names as the file has them")
        return tracks
    mine = list(tl.tracks)

    def shape(ts: list) -> list[tuple[str, int]]:
        kinds = [(t.kind, sum(isinstance(x, Schema.Clip) for x in t)) for t in ts]
        return sorted(kinds, key=lambda k: k[0] != Schema.TrackKind.Video)  # stable: each kind in its order

    # the file holds every track (FCP 7 XML), or those that hold clips (FCPX XML and AAF drop empty ones)
    full = [t for t in theirs.tracks if any(isinstance(x, Schema.Clip) for x in t)]
    held = next(({id(t) for t in ts} for ts in (list(theirs.tracks), full) if shape(ts) == shape(mine)), None)
    if held is None:
        notes.append(f"the tracks differ from those of {sidecar.name} beside it: track names as the file has them")
        return tracks
    by_kind = {k: [t for t in mine if t.kind == k] for k in (Schema.TrackKind.Video, Schema.TrackKind.Audio)}
    out, renamed, empty, mapping = [], [], [], {}
    for t in theirs.tracks:
        if id(t) in held:
            track = by_kind[t.kind].pop(0)
            if track.name != t.name:
                renamed.append(f"{track.name} as {t.name}")
            mapping[t.name] = tracks.get(track.name, track.name)
            track.name = t.name
        else:
            track = Schema.Track(name=t.name, kind=t.kind)
            track.enabled = t.enabled
            empty.append(t.name)
        out.append(track)
    if not renamed and not empty and [t.name for t in out] == [t.name for t in mine]:
        return tracks
    del tl.tracks[:]
    tl.tracks.extend(out)
    said = [f"{', '.join(renamed)}" if renamed else "", f"empty {', '.join(empty)} put back" if empty else ""]
    notes.append(f"tracks named and ordered as in {sidecar.name} beside it: {'; '.join(x for x in said if x)}")
    return mapping
