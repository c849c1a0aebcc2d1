"""Media pool entries for imported media: ``Media`` (an entry and where its clips read it), the entry of media
that was not found, the id an entry gets in the pool, and the OTIO media reference of any pool entry."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..timeline import trange
from .rates import literal_fraction
from .relink import Want
from .results import Relink

Schema = otio.schema


@dataclass
class Media:
    id: str
    entry: dict
    origin: Fraction  # source seconds of the file's times at the media's first frame
    relink: Relink
    clips: list[str] = field(default_factory=list)


def offline_entry(want: Want) -> tuple[dict, Fraction]:
    """A pool entry for media that was not found: what the file says of it, sized to what the clips read."""
    origin = want.origin if want.origin is not None else Fraction(0)
    if want.lo_h < origin:
        origin = want.lo_h
    end = max(want.hi_h, origin + (want.duration or 0))
    local = want.path if want.path and not os.path.exists(want.path) else ""
    entry = {
        "path": local,
        "kind": "video" if want.video else "audio",
        "sha256": want.sha256 or "",
        "duration": float(end - origin) + 1e-9,  # float rounding must not cut off the last frame read
        "fps": literal_fraction(want.rate),
        "width": None,  # the timeline's size, once it is known
        "height": None,
        "pix_fmt": None,
        "rotation": 0,
        "frame_count": None,
        "vfr": False,
        "start_time": 0.0,
        "audio_rate": 48000 if want.audio else None,
        "audio_channels": 2 if want.audio else None,
        "audio_layout": "stereo" if want.audio else None,
        **{k: v for k, v in (want.nbedit or {}).items() if k not in ("path", "duration")},
        "name": want.name,
        "offline": True,
    }
    if want.url:
        entry["url"] = want.url
    if want.kind == "generator":
        entry["generator"] = want.key[1]
    if origin:
        entry["source_timecode"] = str(origin)
    return entry, origin


def media_id(want: Want, entry: dict, pool: dict) -> str:
    """Reuse the pool entry of the same file; else an id from the file name (or nbedit's own id)."""
    for mid, old in pool.items():
        same_file = entry.get("sha256") and old.get("sha256") == entry["sha256"] and old["path"] == entry["path"]
        same_offline = entry.get("offline") and old.get("offline") and old.get("url") == entry.get("url")
        if (same_file or same_offline) and old.get("name") == entry.get("name"):
            return mid
    base = _slug(want.their_id or Path(want.name).stem)
    mid, k = base, 2
    while mid in pool:
        mid, k = f"{base}-{k}", k + 1
    return mid


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-")
    return out or "media"


def reference(entry: dict, rate: Fraction, theirs: Any = None) -> Any:
    """The OTIO media reference for a pool entry (the file's own reference kept for offline generators)."""
    from ..model import available_frames

    avail = available_frames(entry, rate)
    rng = None if avail is None else trange(0, avail, rate)
    if entry.get("offline"):
        if entry.get("url"):
            return Schema.ExternalReference(target_url=entry["url"], available_range=rng)
        if entry.get("path"):
            return Schema.ExternalReference(target_url=Path(entry["path"]).as_uri(), available_range=rng)
        if isinstance(theirs, Schema.GeneratorReference):
            return Schema.GeneratorReference(name=entry["name"], generator_kind=theirs.generator_kind)
        return Schema.MissingReference(name=entry["name"], available_range=rng)
    return Schema.ExternalReference(target_url=Path(entry["path"]).as_uri(), available_range=rng)
