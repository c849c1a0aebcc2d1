"""The benchmark's edit as plain data (frames, not seconds), and the generated sources it cuts from.

Every contender reads the same :class:`Spec`: V1 is a run of cuts from three sources (a different source on
each side of every cut), two of the cuts are crossfades centred on the cut, V2 holds a picture-in-picture at a
third of the frame size and opacity 0.8 over part of the edit, and A1 carries each V1 cut's own sound with hard
cuts. The cuts-only variant drops the crossfades and the PiP.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

FPS = 30
GOP = 60  # sources: a keyframe every two seconds
FADE = 15  # frames of a crossfade (0.5 s)
CUT_SECONDS = 3.0  # mean length of a cut: 60 s gives the 20 cuts
PIP_SCALE = 1 / 3
PIP_OPACITY = 0.8


@dataclass(frozen=True)
class Segment:
    source: int  # index into Spec.sources
    src_in: int  # first source frame
    frames: int  # length on the timeline
    start: int  # first timeline frame


@dataclass(frozen=True)
class Pip:
    source: int
    src_in: int
    frames: int
    start: int
    x: int  # top-left corner on the canvas
    y: int
    width: int
    height: int
    opacity: float = PIP_OPACITY


@dataclass(frozen=True)
class Spec:
    width: int
    height: int
    fps: int
    sources: list[str]
    segments: list[Segment]
    crossfades: list[int] = field(default_factory=list)  # k: a crossfade on the cut between segment k and k + 1
    pip: Pip | None = None
    fade: int = FADE

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.segments)

    @property
    def before(self) -> int:
        """Frames of a crossfade before its cut (the rest lie after it), as nbedit centres it."""
        return self.fade // 2

    def head(self, k: int) -> int:
        """Frames segment k shows before its start: the incoming side of a crossfade."""
        return self.before if k - 1 in self.crossfades else 0

    def tail(self, k: int) -> int:
        """Frames segment k shows after its end: the outgoing side of a crossfade."""
        return self.fade - self.before if k in self.crossfades else 0

    def fading(self, n: int) -> tuple[int, float] | None:
        """(k, weight of segment k + 1) when timeline frame n lies in the crossfade after segment k."""
        for k in self.crossfades:
            first = self.segments[k + 1].start - self.before
            if first <= n < first + self.fade:
                return k, (n - first + 0.5) / self.fade
        return None

    def segment_at(self, n: int) -> int:
        for k, s in enumerate(self.segments):
            if s.start <= n < s.start + s.frames:
                return k
        raise IndexError(n)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Spec:
        d = json.loads(text)
        d["segments"] = [Segment(**s) for s in d["segments"]]
        d["pip"] = Pip(**d["pip"]) if d["pip"] else None
        return cls(**d)


def source_seconds(seconds: float) -> float:
    """Length of each generated source: room for every cut's source range with handles."""
    return max(5.0, seconds / 2 + 4)


def design(sources: list[str], seconds: float, size: tuple[int, int], *, cuts_only: bool = False) -> Spec:
    """The edit of ``seconds`` at ``size``: cuts of 2 to 4 s (fewer, shorter ones for short edits)."""
    width, height = size
    total = round(seconds * FPS)
    if total < 3 * (FADE + 2):
        raise ValueError(
            f"the edit needs at least {3 * (FADE + 2) / FPS:g} s: three cuts, each longer than a crossfade"
        )
    count = max(3, round(seconds / CUT_SECONDS))
    rng = random.Random(13)
    weights = [rng.uniform(0.67, 1.33) for _ in range(count)]
    lengths = [max(FADE + 2, round(total * w / sum(weights))) for w in weights]
    lengths[-1] += total - sum(lengths)
    room = round(source_seconds(seconds) * FPS)
    segments, start = [], 0
    for k, n in enumerate(lengths):
        margin = FADE  # handles for a crossfade on either side
        src_in = rng.randrange(margin, max(margin + 1, room - n - margin))
        segments.append(Segment(source=k % 3, src_in=src_in, frames=n, start=start))
        start += n
    if cuts_only:
        return Spec(width, height, FPS, sources, segments)
    crossfades = sorted({max(0, count // 3 - 1), min(count - 2, 2 * count // 3)})
    pw, ph = round(width * PIP_SCALE), round(height * PIP_SCALE)
    margin = height // 40 * 2
    first, last = round(total * 0.25), round(total * 0.6)
    pip = Pip(
        source=2,
        src_in=rng.randrange(0, room - (last - first)),
        frames=last - first,
        start=first,
        x=(width - pw - margin) // 2 * 2,
        y=margin,
        width=pw,
        height=ph,
    )  # even: 4:2:0 overlays round odd places
    return Spec(width, height, FPS, sources, segments, crossfades, pip)


def make_sources(folder: Path, seconds: float, size: tuple[int, int]) -> list[str]:
    """Three moving H.264 + AAC test pictures (GOP 60, B-frames), each long enough for the edit's cuts."""
    from concurrent.futures import ProcessPoolExecutor

    from nbedit import media

    folder.mkdir(parents=True, exist_ok=True)
    length = source_seconds(seconds)
    paths = [folder / f"source{k}-{size[0]}x{size[1]}-{length:g}s.mp4" for k in range(3)]
    todo = [(k, p) for k, p in enumerate(paths) if not p.exists()]  # kept between runs of the same size
    with ProcessPoolExecutor(max_workers=2) as pool:
        jobs = {
            p: pool.submit(
                media.testsrc,
                p.with_suffix(".partial.mp4"),
                seconds=length,
                fps=FPS,
                size=size,
                variant=k,
                tone_hz=330 + 110 * k,
                gop=GOP,
            )
            for k, p in todo
        }
        for p, job in jobs.items():
            os.replace(job.result(), p)  # whole files only: an interrupted run leaves no source half written
    return [str(p) for p in paths]
