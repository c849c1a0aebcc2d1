"""Reading a timeline file with its adapter: any failure as an ``InterchangeError`` naming file and place, the
timeline picked out of what the adapter returns, and the edit rate the file was made at."""

from __future__ import annotations

import copy
import math
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..model import read_otio
from . import edl, fcpx
from .adapters import quiet
from .errors import InterchangeError, UnsupportedFeatureError
from .formats import Format, format_of
from .rates import snap_rate

Schema = otio.schema


@dataclass
class Read:
    obj: Any
    format: Format
    rate: Fraction | None  # the rate the file was read at, when the reader needed one (EDL)
    note: str | None = None


def read_file(path: Path, rate: Fraction | None, extract_to: Path | None = None, options: dict | None = None) -> Read:
    """Read a timeline file with its adapter (given ``options``); any failure becomes an InterchangeError naming
    file and place."""
    fmt = format_of(path)
    if not path.is_file():
        raise InterchangeError(path, "no such file")
    if fmt.adapter == "cmx_3600":
        obj, edl_rate, note = edl.read(path, rate, options or {})
        return Read(obj, fmt, edl_rate, note)
    if fmt.adapter in ("fcp_xml", "fcpx_xml"):
        _refuse_entities(path)
    kwargs: dict[str, Any] = dict(options or {})
    if fmt.adapter == "otioz" and extract_to is not None:
        kwargs["extract_to_directory"] = os.fspath(extract_to)
    try:
        with quiet():
            if fmt.adapter == "otio_json" and not kwargs:  # through the depth check: OTIO's reader can crash
                obj = read_otio(path.read_bytes(), str(path))
            else:
                obj = otio.adapters.read_from_file(os.fspath(path), adapter_name=fmt.adapter, **kwargs)
    except Exception as e:  # adapters raise anything from KeyError to pyaaf2's own errors for one cause
        raise _read_error(path, fmt, e) from e
    return Read(obj, fmt, rate)


class _Prolog(Exception):
    """The root element began: the prolog, the only place entities can be declared, is over."""


def _refuse_entities(path: Path) -> None:
    """No editor declares XML entities; a file that does may be an entity bomb (a few kB expanding to gigabytes)
    or reach for other files (external entities): refused before the adapter parses it. Only the prolog is read."""
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def entity(name: str, *_: Any) -> None:
        raise InterchangeError(path, f"the file declares the XML entity {name!r}: editors' files never do, refused")

    def root(*_: Any) -> None:
        raise _Prolog

    parser.EntityDeclHandler = entity
    parser.StartElementHandler = root
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Prolog:
        return
    except expat.ExpatError:
        return  # the adapter's parse names the place


def _read_error(path: Path, fmt: Format, e: Exception) -> InterchangeError:
    import xml.etree.ElementTree as ET

    if isinstance(e, ET.ParseError):
        line, col = getattr(e, "position", (None, None))
        return InterchangeError(path, f"not well-formed XML: {e}", f"line {line}, column {col}")
    if fmt.adapter == "AAF":
        return InterchangeError(path, f"not an AAF file that pyaaf2 can read ({type(e).__name__}: {e})")
    if fmt.adapter == "otioz" and isinstance(e, zipfile.BadZipFile | otio.exceptions.OTIOError):
        return InterchangeError(path, f"not an OTIOZ bundle ({e})")
    return InterchangeError(path, f"the {fmt.name} reader failed: {type(e).__name__}: {e}")


def pick_timeline(obj: Any, path: Path, notes: list[str]) -> Schema.Timeline:
    """The timeline in what an adapter read: a Timeline, the first of a collection's, or a compound clip."""
    if isinstance(obj, Schema.Timeline):
        return obj
    if isinstance(obj, Schema.SerializableCollection):
        timelines = list(obj.find_children(descended_from_type=Schema.Timeline, shallow_search=False))
        if timelines:
            if len(timelines) > 1:
                names = ", ".join(repr(t.name) for t in timelines)
                notes.append(f"the file holds {len(timelines)} timelines ({names}): imported the first")
            return timelines[0]
        stacks = [c for c in obj if isinstance(c, Schema.Stack)]
        if stacks:
            notes.append(f"the file holds no timeline: imported its compound clip {stacks[0].name!r} as one")
            tl = Schema.Timeline(name=stacks[0].name or path.stem)
            tl.tracks = copy.deepcopy(stacks[0])
            tl.tracks.source_range = None
            return tl
        raise UnsupportedFeatureError(
            path, "a file without a timeline", f"it holds {len(obj)} loose clips and no timeline or compound clip"
        )
    raise UnsupportedFeatureError(path, f"a {type(obj).__name__}", "nbedit imports timelines")


def file_rate(tl: Schema.Timeline, path: Path) -> Fraction:
    """The edit rate a file was made at: its start time's rate, else its first track item's."""
    rates: list[float] = []
    if tl.global_start_time is not None:
        rates.append(tl.global_start_time.rate)
    for item in _first_items(tl):
        rates.append(item.trimmed_range().duration.rate)
    for r in rates:
        if not math.isfinite(r) or not 0 < r <= 1000:
            raise InterchangeError(path, f"frame rate {r!r} is not a usable rate (above 0, at most 1000)")
    rate = snap_rate(rates[0]) if rates else Fraction(24)
    if format_of(path).adapter == "fcpx_xml":
        rate = fcpx.true_rate(rate)
    return rate


def _first_items(tl: Schema.Timeline) -> Iterator[Any]:
    for track in tl.tracks:
        for item in track:
            if not isinstance(item, Schema.Transition):
                yield item
                break
