"""The formats nbedit reads and writes, the OTIO adapter of each, and what each keeps of a timeline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InterchangeError


@dataclass(frozen=True)
class Format:
    name: str
    adapter: str
    keeps: frozenset[str]


# What each format keeps of an nbedit timeline: the round-trip tests assert exactly these, and the table in
# docs/interchange.md is this one. "metadata" is nbedit's own (clip ids, opacity, transform, gain, generation
# provenance); formats without it get a sidecar .nbedit.otio that holds everything.
FEATURES = (
    "video tracks",
    "audio tracks",
    "clip names",
    "source ranges",
    "gaps",
    "crossfades",
    "speed",
    "clip markers",
    "timeline markers",
    "metadata",
)
_ALL = frozenset(FEATURES)
FORMATS: dict[str, Format] = {
    ".otio": Format("OTIO", "otio_json", _ALL),
    ".otioz": Format("OTIOZ (OTIO + media)", "otioz", _ALL),
    ".xml": Format("FCP 7 XML", "fcp_xml", _ALL - {"metadata"}),
    ".fcpxml": Format("FCPX XML", "fcpx_xml", _ALL - {"metadata", "crossfades", "speed", "timeline markers"}),
    ".aaf": Format("AAF", "AAF", _ALL - {"metadata", "speed", "clip markers", "timeline markers"}),
    # one track per file: V1 in the .edl, the others beside it (.V2.edl, .A1.edl, ...)
    ".edl": Format("CMX 3600 EDL", "cmx_3600", _ALL - {"metadata", "video tracks", "audio tracks", "timeline markers"}),
}
SIDECAR = ".nbedit.otio"


def format_of(path: str | os.PathLike) -> Format:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise InterchangeError(path, f"unknown timeline format {suffix or '(no extension)'!r}: use one of {known}")
    return FORMATS[suffix]
