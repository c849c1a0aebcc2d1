"""The demo edit: generated media, several cuts, a crossfade, a picture-in-picture and two audio tracks.

Everything it needs is made here, so ``nbedit demo`` runs on a fresh machine with no footage and no weights.
"""

from __future__ import annotations

from pathlib import Path

from . import media
from .session import Session


def make_media(folder: Path) -> dict[str, str]:
    """Write the demo's source files (deterministic bytes) into ``folder``; returns their paths by role."""
    folder.mkdir(parents=True, exist_ok=True)
    size = (640, 360)
    return {
        "street": media.testsrc(folder / "street.mp4", seconds=8, fps=24, size=size, variant=0, tone_hz=330),
        "harbour": media.testsrc(folder / "harbour.mp4", seconds=6, fps=24, size=size, variant=1, tone_hz=550),
        "inset": media.testsrc(folder / "inset.mp4", seconds=4, fps=24, size=(320, 240), variant=2, audio=False),
        "music": media.tone(folder / "music.wav", seconds=12, hz=220, gain=0.25),
    }


def build(folder: Path) -> Session:
    """The demo project in ``folder / "project"``, edited the way a user would in cells."""
    files = make_media(folder / "media")
    s = Session(folder / "project", name="demo", fresh=True)
    street = s.import_media(files["street"])
    harbour = s.import_media(files["harbour"])
    inset = s.import_media(files["inset"])
    music = s.import_media(files["music"])
    c1 = s.append(street, track="V1", src_in=0.5, src_out=4.5)
    c2 = s.append(harbour, track="V1", src_in=1.0, src_out=5.0)
    c3 = s.append(street, track="V1", src_in=5.0, src_out=7.5)
    s.crossfade(c1, c2, duration=1.0)
    s.split(c2, at=6.0)
    pip = s.overwrite(inset, track="V2", at=1.5, src_in=0.0, src_out=3.0)
    s.transform(pip, x=190, y=-95, scale=0.35)
    s.opacity(pip, 0.9)
    s.append(street, track="A1", src_in=0.5, src_out=4.5)
    s.append(harbour, track="A1", src_in=1.0, src_out=5.0)
    bed = s.append(music, track="A2", src_in=0.0, src_out=c3.end)
    s.gain(bed, -9.0)
    return s


def run(out: Path, *, progress: bool = True) -> dict[str, Path]:
    """Build and render the demo; write its recipe notebook, its .otio file and exports for other editors."""
    out = Path(out).absolute()
    out.mkdir(parents=True, exist_ok=True)
    s = build(out)
    return {
        "video": s.render(out / "demo.mp4", progress=progress),
        "recipe": s.to_notebook(out / "recipe.ipynb", render_to="demo-from-recipe.mp4"),
        "timeline": s.save(out / "timeline.otio"),
        "fcpxml": s.export(out / "cut.fcpxml"),
        "fcp7_xml": s.export(out / "cut.xml"),
        "aaf": s.export(out / "cut.aaf"),
        "project": s.path,
    }
