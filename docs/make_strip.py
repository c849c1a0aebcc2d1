"""Make docs/strip.png: frames of the rendered demo edit at its cut points, with their timecodes.

    python docs/make_strip.py            # builds the demo in a scratch folder, renders it, tiles the frames

It runs the same edit as ``nbedit demo`` (nbedit.demo.build), renders it with ``s.render``, and reads the frames
back from the MP4, so the strip shows what the file holds, not what the compositor was asked for. One frame at
the start and one at each place a clip begins or a crossfade is half way, over every video track.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from nbedit import demo
from nbedit.interchange.rates import timecode
from nbedit.media import VideoReader
from nbedit.timeline import layout

TILE = 240  # width of each frame in the strip, pixels
COLUMNS = 5


def cut_frames(s) -> list[int]:
    """The frames (edit rate) where something new shows: every clip's start, every crossfade's middle."""
    frames = {0}
    for track in s.timeline.video_tracks():
        placed, cuts = layout(track)
        frames.update(p.start for p in placed if p.item.schema_name() == "Clip")
        frames.update(c.at for c in cuts)
    end = max(p.end for t in s.timeline.video_tracks() for p in layout(t)[0])
    return sorted(f for f in frames if f < end)


def tile(pictures: list[tuple[np.ndarray, str]]) -> Image.Image:
    h = round(TILE * pictures[0][0].shape[0] / pictures[0][0].shape[1])
    label = 18
    rows = -(-len(pictures) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * TILE, rows * (h + label)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for k, (img, text) in enumerate(pictures):
        x, y = (k % COLUMNS) * TILE, (k // COLUMNS) * (h + label)
        sheet.paste(Image.fromarray(img).resize((TILE, h), Image.LANCZOS), (x, y))
        draw.text((x + 4, y + h + 3), text, fill=(230, 230, 230))
    return sheet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default=str(Path(__file__).parent / "strip.png"))
    out = Path(ap.parse_args().out)
    with tempfile.TemporaryDirectory() as d:
        s = demo.build(Path(d))
        video = s.render(Path(d) / "demo.mp4", progress=False)
        frames = cut_frames(s)
        with VideoReader(str(video)) as r:
            pictures = [(r.frame(n), f"{timecode(n, s.fps)}  frame {n}") for n in frames]
    tile(pictures).save(out, optimize=True)
    print(f"{out}: {len(frames)} frames at {', '.join(str(n) for n in frames)} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
