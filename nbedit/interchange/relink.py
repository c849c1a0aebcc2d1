"""Finding media: what an imported timeline says of each media item (``Want``), and the search for the file
(``Relinker``): at its path, by file name under search paths, by sha256, or by name and duration."""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from .. import media as media_mod
from ..errors import MediaError
from .rates import seconds, snap_rate

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


def basename(text: str) -> str:
    return os.path.basename(text.replace("\\", "/"))


def url_name(url: str | None) -> str:
    """The file name a URL ends in, decoded ("Frame%20Debugger.mov" is "Frame Debugger.mov")."""
    if not url:
        return ""
    return basename(urllib.parse.unquote(urllib.parse.urlparse(url).path) or url)


@dataclass
class Want:
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
        """Why a file cannot be this media (None: it can): not the recorded file, no picture (sound) where the
        clips show (play) it, or clips that start before its first frame."""
        if self.sha256 and info.sha256 != self.sha256:
            return "a different file (sha256 differs from the recorded one)"
        if self.video and not info.has_video:
            return "it has no picture"
        if self.audio and not self.video and not info.has_audio:
            return "it has no sound"
        if self.lo - (self.origin or Fraction(0)) < -self.slack / 3:  # timecodes that do not fit it
            return "the clips start before its first frame"
        return None

    def same_length(self, info: media_mod.MediaInfo) -> bool:
        """Whether the file lasts as long as the timeline file says the media does (True when it does not say)."""
        if self.duration is None or info.duration is None:
            return True
        return abs(Fraction(info.duration) - self.duration) <= self.slack

    def short(self, info: media_mod.MediaInfo) -> str | None:
        """Why a file that is this media does not hold all the clips read of it (None: it does)."""
        origin = self.origin or Fraction(0)
        if info.duration is not None and self.hi - origin > Fraction(info.duration) + self.slack / 3:
            return f"the clips read {float(self.hi - origin):.3f} s of it, it lasts {info.duration:.3f} s"
        return None


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
                for folder, dirs, names in os.walk(root):
                    dirs.sort()  # the same file wins on every run and every file system
                    self._files += [Path(folder, n) for n in sorted(names) if not n.startswith(".")]
        return self._files

    def probe(self, path: str) -> media_mod.MediaInfo | None:
        if path not in self._probes:
            try:
                self._probes[path] = media_mod.probe(path)
            except MediaError:
                self._probes[path] = None
        return self._probes[path]

    def find(self, want: Want) -> tuple[media_mod.MediaInfo, str, str] | None:
        """(info, how, detail) of the first candidate that is the media and covers what the clips read; else the
        first that is the media (a clip reading past its end, say where a format dropped a speed change, is cut
        to it by the import: it does not take the media offline), with why in ``detail``."""
        rejected: list[str] = []
        short: list[tuple[media_mod.MediaInfo, str, str]] = []

        def fits(path: str, how: str) -> tuple[media_mod.MediaInfo, str, str] | None:
            info = self.probe(path)
            if info is None:
                return None
            why = want.mismatch(info)
            if why:
                rejected.append(f"{path}: {why}")
                return None
            if why := want.short(info):
                if not want.same_length(info):  # not this media's length either: another file of that name
                    rejected.append(f"{path}: {why}")
                elif not any(info.path == other.path for other, _, _ in short):
                    short.append((info, how, f"{why}: clips reading past its end are cut to it"))
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
        if short:
            return short[0]
        if rejected:
            want.rejected = rejected
        return None


def file_timecode(path: str) -> Fraction:
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
            return seconds(otio.opentime.from_timecode(tc, float(rate)))
    except Exception:
        return Fraction(0)
