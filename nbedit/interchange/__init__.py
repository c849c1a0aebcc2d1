"""Interchange: timelines out to and in from OTIO, FCP 7 XML, FCPX XML, AAF and CMX 3600 EDL.

Every format goes through an OpenTimelineIO adapter; this package prepares what the adapters are given, repairs
what they get wrong (each repair says what and why), and conforms what they read to nbedit's model: tracks V1..
and A1.., whole frames at one edit rate, a media pool entry for every clip, crossfades only between two clips.

    s.export("cut.fcpxml")                                    # + cut.nbedit.otio, the sidecar with everything
    report = s.import_timeline("from_resolve.xml", search_paths=["~/footage"])
    nbedit.convert("a.xml", "a.fcpxml")

What survives each format is in ``docs/interchange.md`` (``FORMATS`` is the same table, as data).

The modules, in the order data flows through them:

    errors.py    InterchangeError, UnsupportedFeatureError
    formats.py   FORMATS: each format's adapter and what it keeps; format_of(path)
    rates.py     exact frame rates (29.97 is 30000/1001), OTIO times as seconds
    results.py   Exported (what export wrote and lost), ImportReport and Relink (what an import did)
    adapters.py  what every adapter call needs: quiet logging, atomic writes, failures as InterchangeError

    fcp7.py      FCP 7 XML repairs: sequence size, speed as the Time Remap filter (written and read)
    fcpx.py      FCPX XML repairs: spine to the end, NTSC frame durations, format names, truncated rates
    aaf.py       AAF repairs: Avid dissolve metadata on transitions
    edl.py       CMX 3600: reading at a guessed rate, dissolve repairs, one file per track

    read.py      reading a file with its adapter; the timeline in it and the rate it was made at
    flatten.py   nested sequences and compound clips flattened into their track
    relink.py    finding media: at its path, by name under search paths, by sha256, by name and duration
    pool.py      media pool entries for found and offline media, their ids, their OTIO references
    conform.py   Conform: a foreign timeline turned into an nbedit timeline, with notes on what changed
    export.py    write(): an nbedit timeline out through the adapters, with the .nbedit.otio sidecar
    ops.py       the import_timeline operation, export() and convert()
"""

from __future__ import annotations

from .conform import Conform
from .edl import EDL_RATES
from .errors import InterchangeError, UnsupportedFeatureError
from .export import foreign_copy, lost, write
from .formats import FEATURES, FORMATS, SIDECAR, Format, format_of
from .ops import export, import_timeline, last_import_report
from .rates import snap_rate, user_rate
from .read import pick_timeline, read_file
from .relink import MEDIA_SUFFIXES, Relinker, url_path
from .results import Exported, ImportReport, Relink

__all__ = [
    "EDL_RATES",
    "FEATURES",
    "FORMATS",
    "MEDIA_SUFFIXES",
    "SIDECAR",
    "Conform",
    "Exported",
    "Format",
    "ImportReport",
    "InterchangeError",
    "export",
    "import_timeline",
    "last_import_report",
    "Relink",
    "Relinker",
    "UnsupportedFeatureError",
    "foreign_copy",
    "format_of",
    "lost",
    "pick_timeline",
    "read_file",
    "snap_rate",
    "url_path",
    "user_rate",
    "write",
]
