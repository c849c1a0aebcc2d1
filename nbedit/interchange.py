"""Interchange: timelines out to and in from OTIO, FCP 7 XML, FCPX XML, AAF and CMX 3600 EDL.

Every format goes through an OpenTimelineIO adapter; this module prepares what the adapters are given, repairs
what they get wrong (each repair says what and why), and conforms what they read to nbedit's model: tracks V1..
and A1.., whole frames at one edit rate, a media pool entry for every clip, crossfades only between two clips.

    s.export("cut.fcpxml")                                    # + cut.nbedit.otio, the sidecar with everything
    report = s.import_timeline("from_resolve.xml", search_paths=["~/footage"])
    nbedit.convert("a.xml", "a.fcpxml")

What survives each format is in ``docs/interchange.md`` (``FORMATS`` below is the same table, as data).
"""

from __future__ import annotations

import copy
import logging
import math
import os
import re
import tempfile
import urllib.parse
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from . import media as media_mod
from .errors import EditError, MediaError, ProjectError
from .record import operation
from .timeline import Time, frames_of, item_id, layout, nb, rt, timeline_end, trange

Schema = otio.schema

# ---- errors and results -------------------------------------------------------------------------------


class InterchangeError(ProjectError):
    """A timeline file cannot be read or written in its format; says which file and, when known, where."""

    def __init__(self, path: str | os.PathLike, message: str, place: str | None = None):
        self.path = os.fspath(path)
        self.place = place
        where = f" ({place})" if place else ""
        super().__init__(f"{self.path}{where}: {message}")


class UnsupportedFeatureError(InterchangeError):
    """The file uses something nbedit cannot represent; ``feature`` names it."""

    def __init__(self, path: str | os.PathLike, feature: str, message: str, place: str | None = None):
        self.feature = feature
        super().__init__(path, f"{feature} is not supported: {message}", place)


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


class Exported(type(Path())):  # a Path of this platform's kind, so it works wherever a path does
    """The path ``export`` wrote, and what else it did: ``files`` (all it wrote), ``sidecar`` (the
    ``.nbedit.otio`` that keeps everything the format drops), ``lost`` (what the format could not keep).

        >>> out = s.export("cut.fcpxml")
        >>> out.lost, out.sidecar.name
        (('crossfades', 'speed changes'), 'cut.nbedit.otio')
    """

    format: str = ""
    files: tuple[Path, ...] = ()
    sidecar: Path | None = None
    lost: tuple[str, ...] = ()
    report: ImportReport | None = None  # convert(): what the import found, relinked and changed

    @classmethod
    def of(
        cls, path: Path, format: str, files: tuple[Path, ...], sidecar: Path | None = None, lost: tuple = ()
    ) -> Exported:
        out = cls(path)
        out.format, out.files, out.sidecar, out.lost = format, tuple(files), sidecar, tuple(lost)
        return out

    @property
    def path(self) -> Path:
        return Path(self)

    def __repr__(self) -> str:
        extra = [p.name for p in self.files if p not in (self.path, self.sidecar)]
        parts = [f"<Exported {self.format} {self.path}"]
        if extra:
            parts.append(f"; also {', '.join(extra)}")
        if self.lost:
            parts.append(f"; not kept in it: {'; '.join(self.lost)}")
        if self.sidecar:
            parts.append(f"; {self.sidecar.name} keeps everything")
        return "".join(parts) + ">"


@dataclass(frozen=True)
class Relink:
    """How one media item of an imported timeline was found: ``how`` is path, name, sha256, name+duration or
    offline (not found: its clips show the offline slate)."""

    media: str
    name: str
    how: str
    path: str
    clips: tuple[str, ...] = ()
    detail: str = ""


@dataclass
class ImportReport:
    """What ``import_timeline`` did: media relinked (and how), media offline, and everything it had to change."""

    path: str
    format: str
    rate: str
    tracks: dict[str, str] = field(default_factory=dict)  # nbedit track name -> the file's track name
    media: list[Relink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def offline(self) -> list[Relink]:
        return [m for m in self.media if m.how == "offline"]

    @property
    def relinked(self) -> list[Relink]:
        return [m for m in self.media if m.how != "offline"]

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "format": self.format,
            "rate": self.rate,
            "tracks": dict(self.tracks),
            "media": [vars(m) | {"clips": list(m.clips)} for m in self.media],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict) -> ImportReport:
        media = [Relink(**{**m, "clips": tuple(m["clips"])}) for m in d["media"]]
        return cls(d["path"], d["format"], d["rate"], dict(d["tracks"]), media, list(d["notes"]))

    def __repr__(self) -> str:
        lines = [
            f"<ImportReport {Path(self.path).name} ({self.format}, {self.rate} fps): "
            f"{len(self.relinked)} media found, {len(self.offline)} offline"
        ]
        lines += [f"  {m.media}: {m.how} {m.path or m.name}{' - ' + m.detail if m.detail else ''}" for m in self.media]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines) + ">"


# ---- rates and times -----------------------------------------------------------------------------------

_NTSC = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(48000, 1001), Fraction(60000, 1001))


def snap_rate(rate: float | Fraction) -> Fraction:
    """A file's rate as an exact fraction: 29.97 and 29.97002997 are both 30000/1001."""
    r = Fraction(rate).limit_denominator(1001)
    for ntsc in _NTSC:
        if abs(r - ntsc) < Fraction(1, 200):
            return ntsc
    return r if abs(r - round(r)) > Fraction(1, 1000) else Fraction(round(r))


def user_rate(rate: Any) -> Fraction:
    """The ``rate=`` a user gave: a number or a "30000/1001" string, above 0 and at most 1000."""
    try:
        if isinstance(rate, bool) or not isinstance(rate, int | float | str | Fraction):
            raise ValueError
        r = Fraction(rate)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise EditError(f"rate must be a number or a fraction like '30000/1001', not {rate!r}") from None
    if not 0 < r <= 1000:
        raise EditError(f"rate must be above 0 and at most 1000 frames per second, not {rate!r}")
    return snap_rate(r)


def _seconds(t: RationalTime) -> Fraction:
    if not (math.isfinite(t.value) and math.isfinite(t.rate)) or t.rate <= 0:
        raise ValueError(f"{t!r} is not a usable time")
    return Fraction(t.value).limit_denominator(10**6) / snap_rate(t.rate)


def _tc(frames: int, rate: Fraction) -> str:
    try:
        return otio.opentime.to_timecode(RationalTime(frames, float(rate)), float(rate))
    except Exception:  # rates OTIO has no timecode for
        return f"frame {frames}"


def _literal_rate(rate: Fraction) -> str | int:
    return rate.numerator if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


# ---- reading files --------------------------------------------------------------------------------------


# Rates tried, lowest first, for an EDL whose rate is not given: EDLs do not say, and the adapter refuses
# timecodes whose frame field does not fit the rate it is told.
EDL_RATES = (24, 25, 30, 50, 60)


@dataclass
class _Read:
    obj: Any
    format: Format
    rate: Fraction | None  # the rate the file was read at, when the reader needed one (EDL)
    note: str | None = None


def read_file(path: Path, rate: Fraction | None, extract_to: Path | None = None) -> _Read:
    """Read a timeline file with its adapter; any failure becomes an InterchangeError naming file and place."""
    fmt = format_of(path)
    if not path.is_file():
        raise InterchangeError(path, "no such file")
    if fmt.adapter == "cmx_3600":
        return _read_edl(path, fmt, rate)
    kwargs: dict[str, Any] = {}
    if fmt.adapter == "otioz" and extract_to is not None:
        kwargs["extract_to_directory"] = os.fspath(extract_to)
    try:
        with _quiet():
            obj = otio.adapters.read_from_file(os.fspath(path), adapter_name=fmt.adapter, **kwargs)
    except Exception as e:  # adapters raise anything from KeyError to pyaaf2's own errors for one cause
        raise _read_error(path, fmt, e) from e
    return _Read(obj, fmt, rate)


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


def _read_edl(path: Path, fmt: Format, rate: Fraction | None) -> _Read:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise InterchangeError(path, f"cannot read it: {e}") from e
    # drop-frame timecode (FCM: DROP FRAME, or ';' before the frames) is 29.97 or 59.94 fps
    drop = re.search(r"^FCM:\s*DROP FRAME|\d\d:\d\d:\d\d;\d\d", text, re.M) is not None
    ntsc = [Fraction(30000, 1001), Fraction(60000, 1001)]
    rates = [rate] if rate is not None else (ntsc if drop else [Fraction(r) for r in EDL_RATES])
    errors: list[Exception] = []
    for r in rates:
        try:
            with _quiet():
                obj = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=float(r))
        except Exception as e:  # timecodes that do not fit this rate, durations that disagree at it, or worse
            errors.append(e)
            continue
        note = None
        if rate is None:
            note = f"EDLs do not state a frame rate: read at {r} fps, the lowest common rate it reads at"
        _repair_edl_dissolves(obj)
        return _Read(obj, fmt, r, note)
    if rate is None and all("Frame rate mismatch" in str(e) for e in errors):
        raise InterchangeError(
            path, f"no common frame rate fits its timecodes ({errors[-1]}): pass rate=... to import_timeline"
        )
    # a fault of the file itself, not of a rate: what the reading at the lowest rate found
    fault = next(e for e in errors if rate is not None or "Frame rate mismatch" not in str(e))
    raise InterchangeError(path, f"the EDL reader failed: {fault}", _edl_place(text, fault)) from fault


def _repair_edl_dissolves(tl: Schema.Timeline) -> None:
    """The EDL reader gives a dissolve's incoming clip the outgoing clip's media (its FROM CLIP line) and its
    markers (the LOC lines the writer repeats there); the incoming clip's own media is in a TO CLIP comment."""
    for track in tl.tracks:
        before = None
        for clip in track:
            if not isinstance(clip, Schema.Clip):
                continue
            for comment in clip.metadata.get("cmx_3600", {}).get("comments", []):
                m = re.match(r"TO CLIP:\s*(.+)$", comment)
                if m and isinstance(clip.media_reference, Schema.ExternalReference):
                    clip.media_reference.target_url = m.group(1).strip()
                    if before is not None:
                        theirs = [(x.name, x.marked_range) for x in before.markers]
                        clip.markers[:] = [x for x in clip.markers if (x.name, x.marked_range) not in theirs]
            before = clip


def _edl_place(text: str, e: Exception) -> str | None:
    """The line of an EDL an adapter error is about: the line it quotes, or the first line no reader knows."""
    lines = text.splitlines()
    message = str(e)
    for n, line in enumerate(lines, 1):
        if line.strip() and line.strip() in message:
            return f"line {n}"
    if "Unknown event type" in message:
        for n, line in enumerate(lines, 1):
            s = line.strip()
            if not s or s.startswith(("TITLE:", "FCM", "SPLIT")):
                continue
            return None if s[0].isdigit() else f"line {n}: {s[:60]!r}"
    return None


class _quiet:
    """Silence the adapters' logging chatter (pyaaf2 warns about every odd Fraction) while they run."""

    def __enter__(self) -> None:
        self.level = logging.root.manager.disable
        logging.disable(logging.WARNING)

    def __exit__(self, *exc: Any) -> None:
        logging.disable(self.level)


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


# ---- flattening: nested sequences and compound clips become plain clips -------------------------------------


def _flat_items(track: Schema.Track, notes: list[str], path: Path) -> list[Any]:
    """The track's items with nested tracks and stacks (sequences, compound clips) flattened into them."""
    track = _trimmed(track, notes)
    out: list[Any] = []
    for child in track:
        if isinstance(child, Schema.Stack | Schema.Track):
            out.extend(_flatten_nested(child, track.kind, notes, path))
        elif isinstance(child, Schema.Clip | Schema.Gap | Schema.Transition):
            out.append(child.deepcopy())
        else:
            notes.append(f"{type(child).__name__} {child.name!r} is not supported: kept as a gap")
            out.append(Schema.Gap(source_range=child.trimmed_range()))
    return out


def _trimmed(track: Schema.Track, notes: list[str]) -> Schema.Track:
    """The part of a track its source range selects. The EDL reader sets a negative start (minus the first
    record timecode), which selects nothing of the track's own time: that is only an offset, so it is ignored."""
    sr = track.source_range
    if sr is None or sr.start_time.value < 0:
        return track
    avail = track.available_range()
    if sr.start_time <= avail.start_time and sr.end_time_exclusive() >= avail.end_time_exclusive():
        return track
    try:
        return otio.algorithms.track_trimmed_to_range(track, sr)
    except otio.exceptions.CannotTrimTransitionsError:
        notes.append(f"track {track.name!r} is trimmed inside a transition: imported whole")
        return track


def _flatten_nested(child: Any, kind: str, notes: list[str], path: Path) -> list[Any]:
    what = "nested sequence" if isinstance(child, Schema.Track) else "compound clip"
    rng = child.trimmed_range()
    try:
        if isinstance(child, Schema.Track):
            inner = child.deepcopy()
        else:
            layers = [t.deepcopy() for t in child if isinstance(t, Schema.Track) and t.kind == kind]
            if not layers:
                return [Schema.Gap(source_range=TimeRange(RationalTime(0, rng.duration.rate), rng.duration))]
            inner = layers[0] if len(layers) == 1 else otio.algorithms.flatten_stack(layers)
            if len(layers) > 1:
                notes.append(f"{what} {child.name!r}: its {len(layers)} {kind.lower()} layers flattened into one")
        inner.source_range = None
        inner = otio.algorithms.track_trimmed_to_range(inner, rng)
        inner.kind = kind
        notes.append(f"{what} {child.name!r} flattened into its track")
        return _flat_items(inner, notes, path)
    except Exception as e:  # OTIO cannot cut inside a transition of the nested track, among others
        notes.append(f"{what} {child.name!r} could not be flattened ({e}): kept as a gap")
        return [Schema.Gap(source_range=TimeRange(RationalTime(0, rng.duration.rate), rng.duration))]


# ---- media: relinking -------------------------------------------------------------------------------------

MEDIA_SUFFIXES = {
    ".mov", ".mp4", ".m4v", ".mxf", ".mkv", ".avi", ".webm", ".mts", ".m2ts", ".mpg", ".mpeg", ".wav", ".aif",
    ".aiff", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".exr", ".dpx",
}  # fmt: skip


def url_path(url: str, base: Path) -> str | None:
    """A media reference's URL as a local path (relative ones against the timeline file's folder)."""
    parsed = urllib.parse.urlparse(url)
    if len(parsed.scheme) == 1:  # a Windows drive letter, "C:\..."
        return url.replace("\\", "/")
    if parsed.scheme not in ("", "file"):
        return None
    p = urllib.parse.unquote(parsed.path)
    if parsed.netloc and parsed.netloc != "localhost":
        return f"//{parsed.netloc}{p}"  # a network share: found by name under search paths, if at all
    if not os.path.isabs(p):
        p = os.path.join(base, p)
    return os.path.normpath(p)


def _basename(text: str) -> str:
    return os.path.basename(text.replace("\\", "/"))


def _url_name(url: str | None) -> str:
    """The file name a URL ends in, decoded ("Frame%20Debugger.mov" is "Frame Debugger.mov")."""
    if not url:
        return ""
    return _basename(urllib.parse.unquote(urllib.parse.urlparse(url).path) or url)


class Relinker:
    """Finds media: at its path, by file name under search paths, by sha256, or by name and duration.

    Search folders are walked once, and each candidate is probed (and hashed) at most once.
    """

    def __init__(self, search_paths: tuple[str, ...], notes: list[str]):
        self.roots = []
        for p in search_paths:
            root = Path(os.path.expanduser(p)).absolute()
            if root.is_dir():
                self.roots.append(root)
            else:
                notes.append(f"search path {p!r} is not a folder: not searched")
        self._files: list[Path] | None = None
        self._probes: dict[str, media_mod.MediaInfo | None] = {}

    def files(self) -> list[Path]:
        if self._files is None:
            self._files = []
            for root in self.roots:
                for folder, _, names in os.walk(root):
                    self._files += [Path(folder, n) for n in sorted(names) if not n.startswith(".")]
        return self._files

    def probe(self, path: str) -> media_mod.MediaInfo | None:
        if path not in self._probes:
            try:
                self._probes[path] = media_mod.probe(path)
            except MediaError:
                self._probes[path] = None
        return self._probes[path]

    def find(self, want: _Want) -> tuple[media_mod.MediaInfo, str, str] | None:
        """(info, how, detail) of the first candidate that is the media and covers what the clips read."""
        rejected: list[str] = []

        def fits(path: str, how: str) -> tuple[media_mod.MediaInfo, str, str] | None:
            info = self.probe(path)
            if info is None:
                return None
            why = want.mismatch(info)
            if why:
                rejected.append(f"{path}: {why}")
                return None
            return info, how, ""

        if want.path and os.path.isfile(want.path) and (hit := fits(want.path, "path")):
            return hit
        names = {n.lower() for n in want.file_names if n}
        for f in self.files():
            if f.name.lower() in names and (hit := fits(str(f), "name")):
                return hit
        if want.sha256:
            for f in self.files():
                if f.suffix.lower() in MEDIA_SUFFIXES and (info := self.probe(str(f))) and info.sha256 == want.sha256:
                    if hit := fits(str(f), "sha256"):
                        return hit
        if want.duration is not None:
            stems = {Path(n).stem.lower() for n in (*want.file_names, want.name) if n}
            for f in self.files():
                if f.suffix.lower() in MEDIA_SUFFIXES and f.stem.lower() in stems:
                    info = self.probe(str(f))
                    if (
                        info
                        and info.duration is not None
                        and abs(Fraction(info.duration) - want.duration) <= want.slack
                    ):
                        if hit := fits(str(f), "name+duration"):
                            return hit
        if rejected:
            want.rejected = rejected
        return None


@dataclass
class _Want:
    """What an imported timeline says about one media item, and the stretch of it the clips read."""

    key: tuple
    name: str
    url: str | None
    path: str | None
    file_names: tuple[str, ...]
    kind: str  # "video", "audio" or "generator"/"missing"
    origin: Fraction | None  # seconds: the media's first frame in the file's source times (its timecode)
    duration: Fraction | None  # seconds, when the file says
    rate: Fraction
    lo: Fraction = Fraction(10**9)  # seconds the clips read, in the file's source times
    hi: Fraction = Fraction(-(10**9))
    lo_h: Fraction = Fraction(10**9)  # the same with crossfade handles
    hi_h: Fraction = Fraction(-(10**9))
    audio: bool = False  # used on an audio track
    video: bool = False
    sha256: str | None = None
    nbedit: dict | None = None  # the pool entry, when the file was written by nbedit
    their_id: str | None = None  # and its id there
    rejected: list[str] = field(default_factory=list)

    @property
    def slack(self) -> Fraction:
        return Fraction(3, 2) / self.rate

    def mismatch(self, info: media_mod.MediaInfo) -> str | None:
        """Why a file cannot be this media (None: it can)."""
        if self.sha256 and info.sha256 != self.sha256:
            return "a different file (sha256 differs from the recorded one)"
        if self.video and not info.has_video:
            return "it has no picture"
        if self.audio and not self.video and not info.has_audio:
            return "it has no sound"
        origin = self.origin or Fraction(0)
        if self.lo - origin < -self.slack / 3:
            return "the clips start before its first frame"
        if info.duration is not None and self.hi - origin > Fraction(info.duration) + self.slack / 3:
            return f"the clips read {float(self.hi - origin):.3f} s of it, it lasts {info.duration:.3f} s"
        return None


# ---- conforming a foreign timeline to nbedit's model ---------------------------------------------------------


@dataclass
class _Piece:
    """A clip of the file placed on a flat track, in edit-rate frames."""

    clip: Schema.Clip
    start: int
    dur: int
    src: Fraction  # source seconds (the file's source times) shown at the first frame
    scalar: Fraction
    want: _Want | None = None


@dataclass
class _Track:
    name: str
    kind: str
    foreign: str
    enabled: bool
    items: list[Any]  # _Piece, int (a gap of that many frames) or Schema.Transition (offsets in frames)
    markers: list[Schema.Marker]


class Conform:
    """Turns a timeline read from any format into an nbedit timeline; notes what it had to change."""

    def __init__(self, tl: Schema.Timeline, path: Path, base: Path, rate: Fraction, relinker: Relinker, pool: dict):
        self.src = tl
        self.path = path
        self.base = base  # the folder relative media URLs start from
        self.rate = rate
        self.relinker = relinker
        self.old_pool = pool
        self.notes: list[str] = []
        self.effects: dict[str, int] = {}  # effects nbedit keeps but does not render: name -> clips
        self.dropped: dict[tuple[str, str], int] = {}  # (track, what happened to its transitions) -> how many
        self.wants: dict[tuple, _Want] = {}
        self.theirs = _plain(nb(tl)) if "nbedit" in tl.metadata else {}  # a file nbedit wrote: its pool, its ids

    # ---- structure ----

    def tracks(self) -> list[_Track]:
        out, counts = [], {Schema.TrackKind.Video: 0, Schema.TrackKind.Audio: 0}
        for track in self.src.tracks:
            if track.kind not in counts:
                self.notes.append(f"track {track.name!r} of kind {track.kind!r} is not supported: left out")
                continue
            counts[track.kind] += 1
            name = ("V" if track.kind == Schema.TrackKind.Video else "A") + str(counts[track.kind])
            items = self._place(_flat_items(track, self.notes, self.path), name, track.kind)
            markers = [self._marker(m, Fraction(0)) for m in track.markers]
            out.append(_Track(name, track.kind, track.name, track.enabled, items, markers))
        return sorted(out, key=lambda t: t.kind != Schema.TrackKind.Video)  # V1.. then A1.., as nbedit keeps them

    def _place(self, items: list[Any], track: str, kind: str) -> list[Any]:
        """Frames for every item: positions are rounded once, so durations add up to the rounded end."""
        out: list[Any] = []
        pos = Fraction(0)
        for item in items:
            if isinstance(item, Schema.Transition):
                out.append(item)
                continue
            try:
                dur = _seconds(item.trimmed_range().duration)
            except Exception as e:
                raise InterchangeError(self.path, f"item {item.name!r} has no usable duration ({e})", track) from e
            at = _tc(round(pos * self.rate), self.rate)
            where = f"track {track}, {type(item).__name__.lower()} {item.name!r} at {at}"
            if dur < 0:
                raise InterchangeError(self.path, f"negative duration {float(dur):.3f} s", where)
            first, last = round(pos * self.rate), round((pos + dur) * self.rate)
            pos += dur
            if last <= first:
                continue  # shorter than half a frame at the edit rate: nothing to show
            if isinstance(item, Schema.Clip) and item.enabled and not _is_black(item):
                out.append(self._piece(item, first, last - first, kind, where))
            else:
                if isinstance(item, Schema.Clip) and not item.enabled:
                    self.notes.append(f"{where}: disabled in the file, kept as a gap")
                out.append(last - first)
        return self._transitions(out, track)

    def _piece(self, clip: Schema.Clip, start: int, dur: int, kind: str, where: str) -> _Piece:
        src = _seconds(clip.trimmed_range().start_time)
        scalar, src = self._speed(clip, src, where)
        piece = _Piece(clip, start, dur, src, scalar)
        piece.want = self._want(clip, kind)
        return piece

    def _speed(self, clip: Schema.Clip, src: Fraction, where: str) -> tuple[Fraction, Fraction]:
        scalar = Fraction(1)
        for e in clip.effects:
            if isinstance(e, Schema.LinearTimeWarp):
                scalar *= Fraction(e.time_scalar).limit_denominator(10**6)
            elif (fx := e.metadata.get("fcp_xml", {})) and fx.get("effectid") == "timeremap":
                # FCP 7 XML speed (the adapter reads it as a plain effect): the clip's in/out count frames of
                # the retimed clip, so the source in point is the in point times the speed
                params = _plain(fx).get("parameter", [])
                params = [params] if isinstance(params, dict) else params  # one <parameter> reads as a dict
                value = {p.get("parameterid"): p.get("value") for p in params if isinstance(p, dict)}
                if str(value.get("variablespeed", "0")) not in ("0", "FALSE", "None"):
                    self.notes.append(f"{where}: variable speed is not supported: played at its base speed")
                try:
                    speed = Fraction(str(value.get("speed", "100"))) / 100
                except ValueError:
                    speed = Fraction(1)
                if str(value.get("reverse", "FALSE")).upper() == "TRUE":
                    self.notes.append(f"{where}: reverse playback is not supported: plays forward")
                origin = _origin(clip) or Fraction(0)
                src = origin + (src - origin) * speed
                scalar *= speed
            else:
                name = (e.effect_name or e.name or type(e).__name__).splitlines()[0]
                self.effects[name] = self.effects.get(name, 0) + 1
        if scalar < 0:
            self.notes.append(f"{where}: reverse playback is not supported: plays forward")
            scalar = -scalar
        if scalar > 100:
            raise UnsupportedFeatureError(self.path, "a speed above 100x", f"speed {float(scalar):g}", where)
        return scalar, src

    def _transitions(self, items: list[Any], track: str) -> list[Any]:
        """Keep a transition only between two clips with room for it; the rest become notes."""
        out: list[Any] = []
        for i, item in enumerate(items):
            if not isinstance(item, Schema.Transition):
                out.append(item)
                continue
            before = out[-1] if out else None
            after = items[i + 1] if i + 1 < len(items) else None
            cin = round(_seconds(item.in_offset) * self.rate)
            cout = round(_seconds(item.out_offset) * self.rate)
            if not (isinstance(before, _Piece) and isinstance(after, _Piece)):
                self._drop(track, "do not sit between two clips (fades from or to black): left out")
                continue
            if cin + cout < 1 or cin > before.dur or cout > after.dur:
                self._drop(track, "are empty or longer than the clips they join: left out")
                continue
            if item.transition_type != Schema.TransitionTypes.SMPTE_Dissolve:
                self._drop(track, f"of type {item.transition_type!r} are kept as dissolves")
            t = Schema.Transition(
                name=item.name or "dissolve",
                transition_type=Schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=rt(cin, self.rate),
                out_offset=rt(cout, self.rate),
            )
            out.append(t)
        # two transitions on one clip must not overlap
        for i in range(1, len(out) - 1):
            a, clip, b = out[i - 1], out[i], out[i + 1]
            if isinstance(a, Schema.Transition) and isinstance(b, Schema.Transition) and isinstance(clip, _Piece):
                if frames_of(a.out_offset) + frames_of(b.in_offset) > clip.dur:
                    self.notes.append(
                        f"track {track}: transitions {a.name!r} and {b.name!r} overlap: left out the second"
                    )
                    out[i + 1] = None
        return [x for x in out if x is not None]

    def _drop(self, track: str, what: str) -> None:
        self.dropped[(track, what)] = self.dropped.get((track, what), 0) + 1

    def _marker(self, m: Schema.Marker, origin: Fraction) -> Schema.Marker:
        start = round((_seconds(m.marked_range.start_time) - origin) * self.rate)
        dur = max(0, round(_seconds(m.marked_range.duration) * self.rate))
        return Schema.Marker(name=m.name, marked_range=trange(start, dur, self.rate), color=m.color, comment=m.comment)

    # ---- media ----

    def _want(self, clip: Schema.Clip, kind: str) -> _Want:
        ref = clip.media_reference
        mine = (clip.metadata.get("nbedit") or {}).get("media")
        entry = dict(self.theirs.get("media", {}).get(mine, {})) if mine else {}
        avail = ref.available_range if ref is not None else None
        url = getattr(ref, "target_url", None) if isinstance(ref, Schema.ExternalReference) else None
        if isinstance(ref, Schema.ExternalReference) and url:
            key: tuple = ("url", url)
        elif isinstance(ref, Schema.GeneratorReference):
            key = ("generator", ref.generator_kind, clip.name)
        elif isinstance(ref, Schema.ImageSequenceReference):
            key = ("sequence", ref.target_url_base, ref.name_prefix)
        else:
            key = ("missing", clip.name)
        want = self.wants.get(key)
        if want is None:
            path = url_path(url, self.base) if url else None
            names = tuple(n for n in dict.fromkeys((_url_name(url), _basename(entry.get("path", "")))) if n)
            origin = _origin(clip)
            want = _Want(
                key=key,
                name=entry.get("name") or (names[0] if names else None) or clip.name or ref.name or "media",
                url=url,
                path=path,
                file_names=names,
                kind="file" if isinstance(ref, Schema.ExternalReference) else key[0],
                origin=origin,
                duration=_seconds(avail.duration) if avail is not None else None,
                rate=snap_rate(avail.duration.rate) if avail is not None else self.rate,
                sha256=entry.get("sha256") or None,
                nbedit=entry or None,
                their_id=mine if entry else None,
            )
            if entry.get("duration") is not None:
                want.duration = Fraction(entry["duration"])
            if isinstance(ref, Schema.ImageSequenceReference):
                self.notes.append(f"image sequence {clip.name!r} is not supported: shown offline")
            self.wants[key] = want
        want.audio |= kind == Schema.TrackKind.Audio
        want.video |= kind == Schema.TrackKind.Video
        return want

    def resolve(self, tracks: list[_Track]) -> dict[tuple, _Media]:
        """A pool entry (new or reused) for every media item, found or offline."""
        for t in tracks:
            for i, p in enumerate(t.items):
                if isinstance(p, _Piece):
                    lo, hi = self._reads(t.items, i, handles=False)
                    p.want.lo, p.want.hi = min(p.want.lo, lo), max(p.want.hi, hi)
                    lo, hi = self._reads(t.items, i, handles=True)
                    p.want.lo_h, p.want.hi_h = min(p.want.lo_h, lo), max(p.want.hi_h, hi)
        out: dict[tuple, _Media] = {}
        for key, want in self.wants.items():
            found = self.relinker.find(want) if want.kind == "file" else None
            if found is not None:
                info, how, detail = found
                entry = {**(want.nbedit or {}), **info.to_dict(), "name": want.name}
                entry.pop("offline", None)
                origin = want.origin if want.origin is not None else _file_timecode(info.path)
                if origin:
                    entry["source_timecode"] = str(origin)
                where = info.path
            else:
                entry, origin = self._offline(want)
                how, where = "offline", entry["path"] or want.url or ""
                detail = "; ".join(want.rejected) if want.rejected else self._why_offline(want)
            mid = self._media_id(want, entry, self.old_pool)
            self.old_pool[mid] = entry
            out[key] = _Media(mid, entry, origin, Relink(mid, want.name, how, where, (), detail))
        return out

    def _why_offline(self, want: _Want) -> str:
        if want.kind == "generator":
            return f"a {want.key[1]!r} generator: nbedit has no generators"
        if want.kind in ("missing", "sequence"):
            return "the file names no media file"
        return "not found at its path" + (" or under the search paths" if self.relinker.roots else "")

    def _reads(self, items: list[Any], i: int, *, handles: bool) -> tuple[Fraction, Fraction]:
        """Source seconds (file times) clip ``items[i]`` reads; with ``handles``, its crossfades' too."""
        p = items[i]
        before = items[i - 1] if handles and i > 0 and isinstance(items[i - 1], Schema.Transition) else None
        after = items[i + 1] if handles and i + 1 < len(items) and isinstance(items[i + 1], Schema.Transition) else None
        head = frames_of(before.in_offset) if before else 0
        tail = frames_of(after.out_offset) if after else 0
        # as ops.edit.check counts: from the first frame shown to the last one, plus that frame itself
        last = p.src * self.rate + (p.dur + tail - 1) * p.scalar
        return p.src - head * p.scalar / self.rate, (last + 1) / self.rate

    def _offline(self, want: _Want) -> tuple[dict, Fraction]:
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
            "fps": _literal_fraction(want.rate),
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

    def _media_id(self, want: _Want, entry: dict, pool: dict) -> str:
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

    # ---- the result ----

    def build(self, name: str, size: tuple[int, int] | None, next_id: int) -> tuple[Schema.Timeline, ImportReport]:
        """The nbedit timeline (its pool: the session's media plus this file's) and the report.

        ``size`` is the picture size when the file (or the session) says; else the first found video's.
        """
        tracks = self.tracks()
        if not tracks:
            self.notes.append("the file has no video or audio tracks: the timeline is empty")
        for (track, what), n in self.dropped.items():
            self.notes.append(f"track {track}: {n} transition{'s' * (n > 1)} {what}")
        for name, n in self.effects.items():
            self.notes.append(f"effect {name!r} ({n} clip{'s' * (n > 1)}) is kept in the clips but not rendered")
        media = self.resolve(tracks)
        if size is None:
            found = [m.entry for t in tracks for p in t.items if isinstance(p, _Piece) for m in [media[p.want.key]]]
            size = next(((e["width"], e["height"]) for e in found if not e.get("offline") and e.get("width")), None)
        if size is None:
            size = (1920, 1080)
            self.notes.append("the file gives no picture size and no video was found: the timeline is 1920x1080")
        for m in media.values():
            if m.entry.get("offline") and m.entry["kind"] == "video" and not m.entry.get("width"):
                m.entry["width"], m.entry["height"] = size
        fmt = {"width": int(size[0]) // 2 * 2, "height": int(size[1]) // 2 * 2, "fps": str(self.rate)}
        for t in tracks:
            self._fit_transitions(t, media)
        tl = Schema.Timeline(name=name)
        tl.metadata["nbedit"] = {"format": dict(fmt), "media": self.old_pool, "next_id": next_id}
        # a file nbedit wrote keeps its clip ids (the ids a notebook's handles use)
        theirs = [cid for c in self.src.find_clips() if (cid := item_id(c)) and re.fullmatch(r"c\d+", cid)]
        if self.theirs and theirs:
            nb(tl)["next_id"] = max(next_id, *(int(c[1:]) + 1 for c in theirs))
        taken: set[str] = set()
        for t in tracks:
            track = Schema.Track(name=t.name, kind=t.kind)
            track.enabled = t.enabled
            track.markers.extend(t.markers)
            for item in t.items:
                if isinstance(item, int):
                    track.append(Schema.Gap(source_range=trange(0, item, self.rate)))
                elif isinstance(item, Schema.Transition):
                    track.append(item)
                else:
                    m = media[item.want.key]
                    clip = self._clip(item, m, tl, taken)
                    m.clips.append(item_id(clip))
                    track.append(clip)
            _drop_trailing_gaps(track)
            tl.tracks.append(track)
        tl.tracks.markers.extend(self._marker(m, Fraction(0)) for m in self.src.tracks.markers)
        relinks = [
            Relink(m.relink.media, m.relink.name, m.relink.how, m.relink.path, tuple(m.clips), m.relink.detail)
            for m in media.values()
        ]
        tracks_map = {t.name: t.foreign for t in tracks}
        report = ImportReport(os.fspath(self.path), "", str(self.rate), tracks_map, relinks, self.notes)
        return tl, report

    def _fit_transitions(self, t: _Track, media: dict[tuple, _Media]) -> None:
        """Drop crossfades whose clips' media (found files) lack the handles the mix reads."""
        from .ops.edit import available_frames

        for i, item in enumerate(t.items):
            if not isinstance(item, Schema.Transition):
                continue
            a, b = t.items[i - 1], t.items[i + 1]
            ok = True
            for p, j in ((a, i - 1), (b, i + 1)):
                m = media[p.want.key]
                lo, hi = self._reads(t.items, j, handles=True)
                avail = available_frames(m.entry, self.rate)
                first, last = (lo - m.origin) * self.rate, (hi - m.origin) * self.rate
                ok &= first >= -Fraction(1, 1000) and (avail is None or last <= avail + Fraction(1, 1000))
            if not ok:
                self.notes.append(
                    f"track {t.name}: transition {item.name!r} needs more media than the files hold: left out"
                )
                t.items[i] = None
        t.items = [x for x in t.items if x is not None]

    def _clip(self, p: _Piece, m: _Media, tl: Schema.Timeline, taken: set[str]) -> Schema.Clip:
        from .ops.edit import new_id, set_source

        ref = _reference(m.entry, self.rate, p.clip.media_reference)
        clip = Schema.Clip(name=p.clip.name or m.entry["name"], media_reference=ref)
        set_source(clip, ((p.src - m.origin) * self.rate).limit_denominator(10**6), p.dur, self.rate)
        if p.scalar != 1:
            clip.effects.append(Schema.LinearTimeWarp(name="speed", time_scalar=float(p.scalar)))
        clip.effects.extend(
            e.deepcopy()
            for e in p.clip.effects
            if not isinstance(e, Schema.LinearTimeWarp) and e.metadata.get("fcp_xml", {}).get("effectid") != "timeremap"
        )
        clip.markers.extend(self._marker(x, m.origin) for x in p.clip.markers)
        data = dict(p.clip.metadata.get("nbedit") or {}) if self.theirs else {}
        cid = data.pop("id", None)
        data.pop("media", None)
        if not cid or cid in taken:
            cid = new_id(tl)
        taken.add(cid)
        clip.metadata["nbedit"] = {"id": cid, "media": m.id, **data}
        if "generation" in m.entry and "generation" not in data:
            clip.metadata["nbedit"]["generation"] = m.entry["generation"]
        return clip


@dataclass
class _Media:
    id: str
    entry: dict
    origin: Fraction  # source seconds of the file's times at the media's first frame
    relink: Relink
    clips: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """OTIO metadata as plain dicts and lists (OTIO's own containers are slow to read item by item)."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return value
    return [_plain(v) for v in value]


def _is_black(clip: Schema.Clip) -> bool:
    """An EDL's black (BL) event: nothing to show, so a gap (export writes a leading gap as one)."""
    ref = clip.media_reference
    return isinstance(ref, Schema.GeneratorReference) and ref.generator_kind == "black"


def _origin(clip: Schema.Clip) -> Fraction | None:
    ref = clip.media_reference
    avail = ref.available_range if ref is not None else None
    return _seconds(avail.start_time) if avail is not None else None


def _file_timecode(path: str) -> Fraction:
    """The start timecode a media file carries (QuickTime/MXF ``timecode`` tag) in seconds; 0 without one."""
    import av

    try:
        with av.open(path) as c:
            streams = [s for s in c.streams if s.type == "video"]
            tags = [c.metadata, *(s.metadata for s in c.streams)]
            tc = next((t["timecode"] for t in tags if "timecode" in t), None)
            if tc is None or not streams or not streams[0].average_rate:
                return Fraction(0)
            rate = snap_rate(Fraction(streams[0].average_rate))
            return _seconds(otio.opentime.from_timecode(tc, float(rate)))
    except Exception:
        return Fraction(0)


def _drop_trailing_gaps(track: Schema.Track) -> None:
    while len(track) and isinstance(track[len(track) - 1], Schema.Gap):
        del track[len(track) - 1]


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-")
    return out or "media"


def _literal_fraction(r: Fraction) -> str:
    return f"{r.numerator}/{r.denominator}"


def _reference(entry: dict, rate: Fraction, theirs: Any = None) -> Any:
    """The OTIO media reference for a pool entry (the file's own reference kept for offline generators)."""
    from .ops.edit import available_frames

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


# ---- writing ---------------------------------------------------------------------------------------------


def write(tl: Schema.Timeline, path: Path) -> Exported:
    """Write an nbedit timeline to ``path`` in the format its extension names, atomically; see ``export``."""
    fmt = format_of(path)
    if not path.parent.is_dir():
        raise InterchangeError(path, "its folder does not exist")
    if fmt.adapter == "otio_json":
        _atomic(path, lambda tmp: tmp.write_text(tl.to_json_string(), encoding="utf-8"))
        return Exported.of(path, fmt.name, (path,))
    if not nb(tl).get("format"):
        raise EditError(f"cannot export {path.name}: the timeline is empty (no format yet)")
    if fmt.adapter == "otioz":
        return _write_otioz(tl, path, fmt)
    foreign = foreign_copy(tl)
    files = [path]
    if fmt.adapter == "cmx_3600":
        files += _write_edls(foreign, path)
    elif fmt.adapter == "fcp_xml":
        _for_fcp_xml(foreign, nb(tl)["format"])
        _write_adapter(path, fmt, lambda tmp: otio.adapters.write_to_file(foreign, os.fspath(tmp), "fcp_xml"))
    elif fmt.adapter == "fcpx_xml":
        _for_fcpx(foreign, timeline_end(tl))
        _write_adapter(path, fmt, lambda tmp: tmp.write_text(_fcpx_text(foreign, nb(tl)["format"]), encoding="utf-8"))
    else:
        _for_aaf(foreign)
        _write_adapter(
            path, fmt, lambda tmp: otio.adapters.write_to_file(foreign, os.fspath(tmp), "AAF", use_empty_mob_ids=True)
        )
    sidecar = path.with_name(path.name[: -len(path.suffix)] + SIDECAR)
    _atomic(sidecar, lambda tmp: tmp.write_text(tl.to_json_string(), encoding="utf-8"))
    return Exported.of(path, fmt.name, (*files, sidecar), sidecar, lost(tl, fmt))


def lost(tl: Schema.Timeline, fmt: Format) -> tuple[str, ...]:
    """What of this timeline the format does not keep, in words."""
    out = []
    tracks = list(tl.tracks)
    clips = [c for t in tracks for c in t if isinstance(c, Schema.Clip)]
    if "crossfades" not in fmt.keeps and any(isinstance(c, Schema.Transition) for t in tracks for c in t):
        out.append("crossfades")
    if "speed" not in fmt.keeps and any(isinstance(e, Schema.LinearTimeWarp) for c in clips for e in c.effects):
        out.append("speed changes")
    if "clip markers" not in fmt.keeps and any(c.markers for c in clips):
        out.append("clip markers")
    if "timeline markers" not in fmt.keeps and (tl.tracks.markers or any(t.markers for t in tracks)):
        out.append("timeline markers")
    extras = {k for c in clips for k in c.metadata.get("nbedit", {}) if k not in ("id", "media")}
    if "metadata" not in fmt.keeps and extras:
        out.append(f"nbedit clip data ({', '.join(sorted(extras))})")
    if fmt.adapter == "cmx_3600" and len(tracks) > 1:
        out.append("tracks other than V1 (written to their own .edl files)")
    return tuple(out)


def foreign_copy(tl: Schema.Timeline) -> Schema.Timeline:
    """The timeline as other tools want it: plain media references (offline media at its original URL) and
    source times in the media's own timecode."""
    from .ops.edit import edit_rate, media_entry

    rate = edit_rate(tl)
    out = Schema.Timeline(name=tl.name)
    out.global_start_time = rt(0, rate)
    reach = _media_reach(tl)
    for track in tl.tracks:
        t = Schema.Track(name=track.name, kind=track.kind)
        t.enabled = track.enabled
        for item in track:
            if isinstance(item, Schema.Clip):
                entry = media_entry(tl, item.metadata["nbedit"]["media"])
                tc = round(Fraction(entry.get("source_timecode", 0)) * rate)
                ref = _reference(entry, rate)
                if ref.available_range is None:  # a still: the formats want a length, so the part in use
                    ref.available_range = trange(0, reach.get(item.metadata["nbedit"]["media"], 1), rate)
                if tc:
                    ar = ref.available_range
                    ref.available_range = TimeRange(rt(frames_of(ar.start_time) + tc, rate), ar.duration)
                clip = Schema.Clip(name=item.name, media_reference=ref)
                # only adapter namespaces are written out; the ids keep equal clips on two tracks apart (the FCP 7
                # XML writer hashes each clip's JSON and writes a repeat as a reference to the first, timing and all)
                clip.metadata["nbedit"] = {k: item.metadata["nbedit"][k] for k in ("id", "media")}
                sr = item.source_range
                clip.source_range = TimeRange(RationalTime(sr.start_time.value + tc, sr.start_time.rate), sr.duration)
                clip.effects.extend(e.deepcopy() for e in item.effects)
                for m in item.markers:
                    mr = m.marked_range
                    marker = Schema.Marker(name=m.name, color=m.color, comment=m.comment)
                    marker.marked_range = TimeRange(
                        RationalTime(mr.start_time.value + tc, mr.start_time.rate), mr.duration
                    )
                    clip.markers.append(marker)
                t.append(clip)
            else:
                t.append(item.deepcopy())
        t.markers.extend(m.deepcopy() for m in track.markers)
        out.tracks.append(t)
    out.tracks.markers.extend(m.deepcopy() for m in tl.tracks.markers)
    return out


def _media_reach(tl: Schema.Timeline) -> dict[str, int]:
    """For each media id, the edit-rate frame just past the last one any clip reads (handles included)."""
    from .ops.edit import source_at

    reach: dict[str, int] = {}
    for track in tl.tracks:
        placed, cuts = layout(track)
        tail = {c.before.index: c.out_offset for c in cuts}
        for p in placed:
            if isinstance(p.item, Schema.Clip):
                mid = p.item.metadata["nbedit"]["media"]
                end = math.ceil(source_at(p.item, p.duration + tail.get(p.index, 0)))
                reach[mid] = max(reach.get(mid, 0), end)
    return reach


def _write_adapter(path: Path, fmt: Format, write_tmp: Any) -> None:
    try:
        with _quiet():
            _atomic(path, write_tmp)
    except (InterchangeError, EditError):
        raise
    except Exception as e:  # the writers raise anything for what they cannot write
        raise InterchangeError(path, f"the {fmt.name} writer failed: {type(e).__name__}: {e}") from e


def _atomic(path: Path, write_tmp: Any) -> None:
    """Write through a temporary file in the same folder, then rename: the file appears only when complete."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # some writers (otioz) refuse to overwrite a file, even an empty one
    try:
        write_tmp(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise InterchangeError(path, f"cannot write it: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)


def _write_otioz(tl: Schema.Timeline, path: Path, fmt: Format) -> Exported:
    from opentimelineio.adapters.file_bundle_utils import MediaReferencePolicy

    # the bundle holds the media files; offline media travels as a missing reference (the nbedit pool in the
    # metadata still names it), since the adapter refuses references that are not files on disk
    def run(tmp: Path) -> None:
        otio.adapters.write_to_file(
            tl, os.fspath(tmp), adapter_name="otioz", media_policy=MediaReferencePolicy.MissingIfNotFile
        )

    try:
        with _quiet():
            _atomic(path, run)
    except InterchangeError:
        raise
    except Exception as e:  # e.g. two media files with one name: the bundle keeps base names only
        raise InterchangeError(path, f"the OTIOZ writer failed: {e}") from e
    return Exported.of(path, fmt.name, (path,))


# -- per-format repairs: each says what the adapter gets wrong --


def _for_fcp_xml(tl: Schema.Timeline, fmt: dict) -> None:
    """FCP 7 XML: the adapter writes an empty sequence <format> and no speed changes. It writes an item's
    metadata["fcp_xml"] entries as XML children of the item's element, so the sequence's picture size goes in
    the timeline's, and a clip's speed in its own as the Time Remap filter FCP 7 keeps constant speed in (the
    clip's in/out points then count frames of the retimed clip, so the in point is scaled)."""
    size = {"width": str(fmt["width"]), "height": str(fmt["height"])}
    tl.metadata["fcp_xml"] = {"media": {"video": {"format": {"samplecharacteristics": size}}}}
    for clip in tl.find_clips():
        scalar = next((Fraction(e.time_scalar) for e in clip.effects if isinstance(e, Schema.LinearTimeWarp)), None)
        if scalar is None or scalar == 1 or scalar <= 0:
            continue
        clip.effects[:] = [e for e in clip.effects if not isinstance(e, Schema.LinearTimeWarp)]
        ref = clip.media_reference
        origin = ref.available_range.start_time.value if ref.available_range else 0
        sr = clip.source_range
        start = origin + (sr.start_time.value - origin) / float(scalar)
        clip.source_range = TimeRange(RationalTime(start, sr.start_time.rate), sr.duration)
        params = [
            {"parameterid": "variablespeed", "name": "variablespeed", "value": "0"},
            {"parameterid": "speed", "name": "speed", "value": f"{float(scalar) * 100:g}"},
            {"parameterid": "reverse", "name": "reverse", "value": "FALSE"},
        ]
        effect = {
            "name": "Time Remap",
            "effectid": "timeremap",
            "effectcategory": "motion",
            "effecttype": "motion",
            "mediatype": "video",
            "parameter": params,
        }
        clip.metadata["fcp_xml"] = {"filter": {"effect": effect}}


def _for_fcpx(tl: Schema.Timeline, end: int) -> None:
    """FCPX XML: clips on V2.. and audio become lanes connected to a clip or gap of the spine (V1); the adapter
    crashes when V1 ends before them, so V1 gets a gap to the end. It writes no transitions (the clips keep their
    cut points) and no speed changes."""
    rate = snap_rate(tl.global_start_time.rate)
    video = [t for t in tl.tracks if t.kind == Schema.TrackKind.Video]
    if not video:
        spine = Schema.Track(name="V1", kind=Schema.TrackKind.Video)
        tl.tracks.insert(0, spine)
        video = [spine]
    spine = video[0]
    have = sum(frames_of(c.source_range.duration) for c in spine if not isinstance(c, Schema.Transition))
    if end > have:
        spine.append(Schema.Gap(source_range=trange(0, end - have, rate)))
    for track in tl.tracks:
        track[:] = [c for c in track if not isinstance(c, Schema.Transition)]
        for c in track:
            if isinstance(c, Schema.Clip):
                c.effects[:] = [e for e in c.effects if not isinstance(e, Schema.LinearTimeWarp)]


def _fcpx_text(tl: Schema.Timeline, fmt: dict) -> str:
    """FCPX XML text. The writer looks frame durations up in a table keyed by int(rate) or by rate (29.97 and
    23.98 as typed, not 30000/1001), so NTSC rates find none and it fails: the exact rate is added to the table
    while it writes. It still counts connected clips' offsets at the whole rate (29, not 29.97), so at NTSC rates
    V2.. and audio may land a frame off; and it names formats by running ffprobe (no name when that is absent),
    so each format element gets the timeline's size instead."""
    rate = Fraction(fmt["fps"])
    table = otio.adapters.from_name("fcpx_xml").module().FRAMERATE_FRAMEDURATION  # the module OTIO runs
    added = float(rate) not in table
    if added:
        table[float(rate)] = f"{rate.denominator}/{rate.numerator}s"
    try:
        return _fix_fcpx_formats(otio.adapters.write_to_string(tl, "fcpx_xml"), fmt)
    finally:
        if added:
            del table[float(rate)]


def _fix_fcpx_formats(text: str, fmt: dict) -> str:
    import xml.etree.ElementTree as ET

    rate = Fraction(fmt["fps"])
    head, _, body = text.partition("<fcpxml")
    root = ET.fromstring("<fcpxml" + body)
    for f in root.iter("format"):
        f.set("frameDuration", f"{rate.denominator}/{rate.numerator}s")
        f.set("width", str(fmt["width"]))
        f.set("height", str(fmt["height"]))
        if not f.get("name"):
            del f.attrib["name"]
    return head + ET.tostring(root, encoding="unicode")


_DISSOLVE = {
    # the AAF writer needs an Avid dissolve's operation definition in each transition's metadata (what its
    # reader leaves there); these are the values Media Composer writes for a picture and a sound dissolve
    Schema.TrackKind.Video: ("89d9b67e-5584-302d-9abd-8bd330c46841", "VideoDissolve_2", "Picture"),
    Schema.TrackKind.Audio: ("0c3bea41-fc05-11d2-8a29-0050040ef7d2", "Audio Dissolve", "Sound"),
}


def _for_aaf(tl: Schema.Timeline) -> None:
    """AAF: the writer refuses transitions without Avid metadata (supplied here) and clips without mob ids
    (``use_empty_mob_ids`` at write time makes new ones). It writes no speed changes and no markers."""
    for track in tl.tracks:
        uid, name, kind = _DISSOLVE[track.kind]
        for item in track:
            if isinstance(item, Schema.Transition):
                item.metadata["AAF"] = {
                    "CutPoint": frames_of(item.in_offset),
                    "PointList": [{"Time": 0.0, "Value": 0.0}, {"Time": 1.0, "Value": 100.0}],
                    "OperationGroup": {
                        "Operation": {
                            "Identification": uid,
                            "Name": name,
                            "Description": "",
                            "IsTimeWarp": False,
                            "Bypass": 1,
                            "NumberInputs": 2,
                            "OperationCategory": "OperationCategory_Effect",
                            "DataDefinition": {"Name": kind},
                        }
                    },
                }
            elif isinstance(item, Schema.Clip):
                item.effects[:] = [e for e in item.effects if not isinstance(e, Schema.LinearTimeWarp)]


def _write_edls(tl: Schema.Timeline, path: Path) -> list[Path]:
    """CMX 3600: one track per file (the adapter writes only one video track). V1 goes to ``path``, other tracks
    to ``<name>.V2.edl``, ``<name>.A1.edl``... A gap at the start of a track becomes a black (BL) event, since
    readers start a track at its first event."""
    EDLWriter = otio.adapters.from_name("cmx_3600").module().EDLWriter  # noqa: N806 - the adapter's class

    rate = snap_rate(tl.tracks[0].duration().rate) if len(tl.tracks) else Fraction(24)
    written = []
    for track in tl.tracks:
        if not len(track):
            continue
        target = path if track.name == "V1" else path.with_name(f"{path.stem}.{track.name}{path.suffix}")
        t = track.deepcopy()
        for clip in t.find_clips():
            # the writer makes reel names from clip names, keeping spaces (which split the event line when it
            # is read) and leaving them empty for some names: a reel is up to 8 letters and digits
            reel = re.sub(r"[^A-Za-z0-9]", "", Path(clip.name or "").stem)[:8] or "AX"
            clip.metadata["cmx_3600"] = {"reel": reel}
            speed = next((e for e in clip.effects if isinstance(e, Schema.LinearTimeWarp)), None)
            if speed is not None and speed.time_scalar == 0:  # the writer divides by it; a freeze it knows
                clip.effects[:] = [Schema.FreezeFrame()]
        if isinstance(t[0], Schema.Gap):
            black = Schema.Clip(name="BL", media_reference=Schema.GeneratorReference(generator_kind="black"))
            black.source_range = TimeRange(rt(0, rate), t[0].source_range.duration)
            black.metadata["cmx_3600"] = {"reel": "BL"}
            t[0] = black
        holder = Schema.Timeline(name=tl.name)
        holder.tracks.append(t)

        def run(tmp: Path, holder: Schema.Timeline = holder, t: Schema.Track = t) -> None:
            if t.kind == Schema.TrackKind.Video:
                text = otio.adapters.write_to_string(holder, adapter_name="cmx_3600", rate=float(rate))
            else:  # write_to_string refuses a timeline without a video track; its writer class does not
                text = EDLWriter(holder.tracks, float(rate), "avid").get_content_for_track_at_index(0, holder.name)
            tmp.write_text(text, encoding="utf-8")

        try:
            with _quiet():
                _atomic(target, run)
        except InterchangeError:
            raise
        except Exception as e:
            raise InterchangeError(target, f"the EDL writer failed: {type(e).__name__}: {e}", track.name) from e
        written.append(target)
    if path not in written:  # no V1 content: still write the file the user asked for, with its title only
        _atomic(path, lambda tmp: tmp.write_text(f"TITLE: {tl.name}\n\n", encoding="utf-8"))
        written.insert(0, path)
    return [p for p in written if p != path]


# ---- the session operations ---------------------------------------------------------------------------------


class InterchangeOps:
    """Session operations for interchange and analysis; Session inherits them."""

    def export(self, path: str | os.PathLike) -> Exported:
        """Write the timeline for another tool; the format follows the extension. ``s.export("cut.fcpxml")``

        ``.otio`` and ``.otioz`` (OTIO with the media files) keep everything; ``.xml`` (FCP 7), ``.fcpxml``,
        ``.aaf`` and ``.edl`` keep what they can (``Exported.lost`` says what they could not) and get a sidecar
        ``<name>.nbedit.otio`` beside them with everything. Not an edit: nothing is recorded.
        """
        path = Path(path).expanduser().absolute()
        fmt = format_of(path)
        if fmt.adapter == "otio_json":
            return Exported.of(self.save(path), fmt.name, (path,))
        return write(self._tl, path)

    @operation
    def import_timeline(
        self,
        path: str | os.PathLike,
        *,
        search_paths: tuple[str, ...] | list[str] | None = None,
        rate: int | float | str | None = None,
        sha256: str | None = None,
    ) -> ImportReport:
        """Make a timeline from another tool (or an nbedit export) the session's timeline, relinking its media.

        ``s.import_timeline("/cuts/from_resolve.xml", search_paths=("~/footage",))`` is the cell it records
        (with the file's sha256, so a recipe checks it is the same file). Media is found at its path, by file
        name under ``search_paths``, by sha256 or by name and duration; what is not found stays offline (the
        offline slate). The imported timeline replaces the current one (undo brings that back); the media pool
        keeps its items. ``rate`` reads an EDL at that frame rate (EDLs do not say; by default the lowest common
        rate it reads at) or conforms any file to it. Returns (and ``s.last_import_report`` keeps) the
        report of what was relinked, what is offline and what had to change.
        """
        path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        saved = self._extra.pop("import_timeline", {}) if self._replaying else {}
        if saved.get("timeline"):
            self._tl = otio.adapters.read_from_string(saved["timeline"], "otio_json")
            self._extra["import_timeline"] = {"timeline": saved["timeline"], "report": saved["report"]}  # kept
            return ImportReport.from_dict(saved["report"])
        roots = _search_paths(search_paths)
        asked = None if rate is None else user_rate(rate)
        try:
            digest = media_mod.sha256_file(path)
        except OSError as e:
            raise InterchangeError(path, f"cannot read it: {e}") from e
        if sha256 is not None and digest != sha256:
            raise InterchangeError(path, f"not the recorded file: its sha256 is {digest}, expected {sha256}")
        src, base, extract = Path(path), Path(path).parent, None
        if format_of(src).adapter == "otioz":  # the bundle's media is unpacked into the project folder
            base = self.path / "imports" / f"{src.stem}-{digest[:12]}"
            if not (base / "media").exists():
                base.mkdir(parents=True, exist_ok=True)
                extract = base
        read = read_file(src, asked, extract)
        notes = [read.note] if read.note else []
        foreign = pick_timeline(read.obj, src, notes)
        tl_rate = asked or read.rate or _file_rate(foreign, src)
        if read.format.adapter == "fcpx_xml" and tl_rate.denominator == 1001:
            notes.append("the FCPX reader counts NTSC time in whole frames per second: positions may be a frame off")
        pool = _plain(nb(self._tl).get("media", {}))
        conform = Conform(foreign, src, base, tl_rate, Relinker(roots, notes), pool)
        conform.notes = notes
        size = self._import_size(foreign)
        new, report = conform.build(foreign.name or src.stem, size, int(nb(self._tl).get("next_id", 1)))
        report.format = format_of(src).name
        text = new.to_json_string()
        # the timeline as the journal gives it back (OTIO's JSON keeps 16 digits), so a reopen is identical
        self._tl = otio.adapters.read_from_string(text, "otio_json")
        pin: dict[str, Any] = {"path": path, "sha256": digest}
        if rate is None and read.rate is not None:
            pin["rate"] = _literal_rate(read.rate)  # the rate an EDL was read at: the recipe reads it so again
        self._extra["import_timeline"] = {"timeline": text, "report": report.to_dict(), "pin": pin}
        return report

    def _import_size(self, foreign: Schema.Timeline) -> tuple[int, int] | None:
        """Picture size: nbedit's own (a file it wrote), the file's sequence format, else the session's."""
        theirs = (foreign.metadata.get("nbedit") or {}).get("format") or {}
        if theirs.get("width") and theirs.get("height"):
            return int(theirs["width"]), int(theirs["height"])
        size = _xml_size(foreign)
        if size is None and self.format:
            size = self.format["width"], self.format["height"]
        return size

    @property
    def last_import_report(self) -> ImportReport | None:
        """The report of the latest ``import_timeline`` in the history (None if there is none)."""
        for rec in reversed(self.history):
            if rec.op == "import_timeline" and "report" in rec.extra:
                return ImportReport.from_dict(rec.extra["report"])
        return None

    def to_xarray(self, fps: int | float | str | None = None) -> Any:
        """The edit as an ``xarray.Dataset`` indexed by timeline frame: per track, the clip and media ids, the source
        frame shown, speed, opacity, gain and generation seed. ``ds = s.to_xarray()``; ``fps`` samples at another
        rate. See ``nbedit.analysis.to_xarray``."""
        from .analysis import to_xarray

        return to_xarray(self._tl, fps=fps)

    def frames(self, start: Time | None = None, end: Time | None = None, *, chunk: int = 16) -> Any:
        """The composited frames from ``start`` to ``end`` seconds as a lazy ``xarray.DataArray`` (time, y, x,
        channel), ``chunk`` frames per dask chunk. ``s.frames(0, 2).mean(("y", "x")).compute()``"""
        from .analysis import frames

        return frames(self._tl, start, end, chunk=chunk)


def _search_paths(search_paths: Any) -> tuple[str, ...]:
    if search_paths is None:
        return ()
    if isinstance(search_paths, str | os.PathLike):
        search_paths = (search_paths,)
    if not isinstance(search_paths, tuple | list) or not all(isinstance(p, str | os.PathLike) for p in search_paths):
        raise EditError(f"search_paths must be a list of folders, not {search_paths!r}")
    return tuple(os.fspath(p) for p in search_paths)


def _file_rate(tl: Schema.Timeline, path: Path) -> Fraction:
    """The edit rate a file was made at: its start time's rate, else its first track item's.

    The FCPX reader truncates rates to whole numbers (29.97 reads as 29): those are NTSC rates.
    """
    rates: list[float] = []
    if tl.global_start_time is not None:
        rates.append(tl.global_start_time.rate)
    for item in _first_items(tl):
        rates.append(item.trimmed_range().duration.rate)
    for r in rates:
        if not math.isfinite(r) or not 0 < r <= 1000:
            raise InterchangeError(path, f"frame rate {r!r} is not a usable rate (above 0, at most 1000)")
    rate = snap_rate(rates[0]) if rates else Fraction(24)
    if format_of(path).adapter == "fcpx_xml" and rate in (23, 29, 59):
        rate = Fraction((int(rate) + 1) * 1000, 1001)
    return rate


def _first_items(tl: Schema.Timeline) -> Iterator[Any]:
    for track in tl.tracks:
        for item in track:
            if not isinstance(item, Schema.Transition):
                yield item
                break


def _xml_size(tl: Schema.Timeline) -> tuple[int, int] | None:
    """The sequence size an FCP 7 XML file states (the adapter leaves it in the timeline's metadata)."""
    try:
        sc = tl.metadata["fcp_xml"]["media"]["video"]["format"]["samplecharacteristics"]
        return int(sc["width"]), int(sc["height"])
    except (KeyError, TypeError, ValueError):
        return None


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
    import shutil

    from .session import Session

    out = Path(target).expanduser().absolute()
    format_of(out)
    bundle = format_of(source).adapter == "otioz"
    # an .otioz bundle's media is unpacked into the project, which then stays beside the target for it to use
    folder = out.with_name(f"{out.stem}-media") if bundle else Path(tempfile.mkdtemp(prefix="nbedit-convert-"))
    try:
        s = Session(folder / "project", name=Path(source).stem, fresh=bundle)
        report = s.import_timeline(source, search_paths=search_paths, rate=rate)
        exported = s.export(out)
        exported.report = report
        return exported
    finally:
        if not bundle:
            shutil.rmtree(folder, ignore_errors=True)
