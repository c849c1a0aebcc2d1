"""What interchange hands back: ``Exported`` (the path ``export`` wrote, and what it lost) and ``ImportReport``
(what ``import_timeline`` relinked, left offline and changed), with a ``Relink`` per media item."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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


CATEGORIES = ("clips", "transitions", "markers", "effects", "speed", "disabled", "tracks", "media")

# a note's category, by the first of these words it holds (checked in this order)
_WORDS = (
    ("markers", ("marker",)),
    ("transitions", ("transition", "crossfade", "dissolve")),
    ("speed", ("speed", "reverse", "freeze", "retimed")),
    ("disabled", ("disabled", "switched off")),
    ("effects", ("effect",)),
    ("media", ("media", "offline", "search path", "generator", "image sequence", "picture size", "relink")),
    ("tracks", ("track '", "tracks", "layer")),
)


def category_of(note: str) -> str:
    """The category an import note is about (``CATEGORIES``); "clips" for notes about anything else."""
    low = note.lower()
    return next((cat for cat, words in _WORDS if any(w in low for w in words)), "clips")


@dataclass(frozen=True)
class Category:
    """One category of an import: how many came in from the file, how many are in the timeline, and the notes
    saying what changed and why."""

    came_in: int
    kept: int
    notes: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """What ``import_timeline`` did: media relinked (and how), media offline, and everything it had to change."""

    path: str
    format: str
    rate: str
    tracks: dict[str, str] = field(default_factory=dict)  # nbedit track name -> the file's track name
    media: list[Relink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # category -> (in the file, in the timeline)

    @property
    def categories(self) -> dict[str, Category]:
        """Per category (clips, transitions, markers, effects, speed, disabled, tracks, media): what came in, what
        the timeline holds, and the notes on what changed. ``report.categories["markers"].notes``"""
        out = {}
        for cat in CATEGORIES:
            came_in, kept = self.counts.get(cat, (0, 0))
            out[cat] = Category(came_in, kept, tuple(n for n in self.notes if category_of(n) == cat))
        return out

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
            "counts": {k: list(v) for k, v in self.counts.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> ImportReport:
        media = [Relink(**{**m, "clips": tuple(m["clips"])}) for m in d["media"]]
        counts = {k: (int(v[0]), int(v[1])) for k, v in d.get("counts", {}).items()}  # none in older journals
        return cls(d["path"], d["format"], d["rate"], dict(d["tracks"]), media, list(d["notes"]), counts)

    def __repr__(self) -> str:
        lines = [
            f"<ImportReport {Path(self.path).name} ({self.format}, {self.rate} fps): "
            f"{len(self.relinked)} media found, {len(self.offline)} offline"
        ]
        lines += [f"  {m.media}: {m.how} {m.path or m.name}{' - ' + m.detail if m.detail else ''}" for m in self.media]
        for cat, c in self.categories.items():
            if c.came_in or c.kept or c.notes:
                held = "found" if cat == "media" else "in the timeline"
                lines.append(f"  {cat}: {c.came_in} in the file, {c.kept} {held}")
                lines += [f"    note: {n}" for n in c.notes]
        return "\n".join(lines) + ">"
