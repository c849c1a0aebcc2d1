"""nbedit: the edit built with Session verbs, as a user would in cells, and rendered with ``s.render``."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import nbedit

from .edit import Spec


def build(spec: Spec, folder: Path) -> nbedit.Session:
    s = nbedit.Session(folder / "project", name="bench", fresh=True)
    s.set_format(width=spec.width, height=spec.height, fps=spec.fps)
    media = [s.import_media(p) for p in spec.sources]

    def sec(frames: int) -> Fraction:
        return Fraction(frames, spec.fps)

    clips = [
        s.append(
            media[seg.source], track="V1", src_in=sec(seg.src_in), src_out=sec(seg.src_in + seg.frames), audio="A1"
        )
        for seg in spec.segments
    ]
    for k in spec.crossfades:
        s.crossfade(clips[k], clips[k + 1], duration=sec(spec.fade))
    if (p := spec.pip) is not None:
        pip = s.overwrite(
            media[p.source], track="V2", at=sec(p.start), src_in=sec(p.src_in), src_out=sec(p.src_in + p.frames)
        )
        # transform moves the centre: this puts the top-left corner at (p.x, p.y)
        s.transform(pip, x=p.x - (spec.width - p.width) / 2, y=p.y - (spec.height - p.height) / 2, scale=1 / 3)
        s.opacity(pip, p.opacity)
    return s


def render(spec: Spec, path: Path) -> dict:
    t0 = time.perf_counter()
    s = build(spec, path.parent / "nbedit-work")
    built = time.perf_counter() - t0
    s.render(path, crf=18, preset="veryfast", progress=False)
    return {"frames": spec.frames, "build_s": built, "render_s": time.perf_counter() - t0 - built}
