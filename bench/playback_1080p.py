"""The kernel's side of scrubbing and playing camera-like footage: 1080p, 29.97 fps, GOP 250, with sound.

    python bench/playback_1080p.py [--seconds 8] [--rounds 5]

Two projects hold the same timeline of one generated file (picture on V1, its sound on A1): one whose all-intra
scrub proxy is built, one without (the preview decodes the long-GOP source itself). Each round times both, one after
the other, with fresh caches, and the figures are medians over the rounds (alternated runs, so a change in the
machine's load hits both alike):

  click     an editor widget's "seek" to a frame it never showed: decode, JPEG, send (12 random frames, median;
            no prefetch, so every one is a miss)
  drag      one seek per frame, 45 frames in a row (what a drag along the ruler asks for), per frame (no prefetch)
  play      a stream from frame 0 to the end, its batches acknowledged at once (the kernel's top speed), with the
            mixed sound, first with nothing cached, then again (every JPEG cached), in frames per second

The load average is printed before and after: the browser test (tests/test_browser_speed.py) measures what a view
shows on the same footage.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import nbedit
from nbedit import media, preview, widgets

FPS = Fraction(30000, 1001)


def project(folder: Path, src: str, seconds: float, proxy: bool) -> widgets.Editor:
    s = nbedit.Session(folder)
    s.append(s.import_media(src), track="V1", src_in=0, src_out=seconds)
    s.append(Path(src).stem, track="A1", src_in=0, src_out=seconds)
    ui = widgets.Editor(s)
    ui.preview.close()
    ui.preview = preview.Preview(s, proxies=proxy)
    if proxy:
        assert ui.preview.proxies.wait(600), "the proxy did not build"
    return ui


def fresh(ui: widgets.Editor, proxy: bool, ahead: int = 24) -> None:
    """Empty caches and new decoders: every frame a miss (and with ``ahead`` 0, no prefetch to make it a hit)."""
    ui.preview.close()
    ui.preview = preview.Preview(ui.session, proxies=proxy, ahead=ahead)
    ui.preview.proxies.wait(60)


def clicks(ui: widgets.Editor, frames: list[int]) -> float:
    times = []
    for k, n in enumerate(frames):
        t0 = time.perf_counter()
        ui._on_message(ui, {"type": "seek", "n": n, "id": k}, [])
        times.append(time.perf_counter() - t0)
        ui.playhead = n  # the trait follows, as the view's sync brings it
    return statistics.median(times)


def drag(ui: widgets.Editor, start: int, count: int = 45) -> float:
    t0 = time.perf_counter()
    for k in range(count):
        ui._on_message(ui, {"type": "seek", "n": start + k, "id": k}, [])
    return (time.perf_counter() - t0) / count


def play(ui: widgets.Editor) -> float:
    """Frames per second the kernel streams from 0 to the end when the view keeps up."""
    done = threading.Event()
    shown = []

    def send(msg: dict, buffers: list) -> None:
        if msg["type"] == "batch":
            shown.extend(msg["ks"])
            if msg["ks"]:
                p.ack(msg["ks"][-1])
        elif msg["type"] == "play_end":
            done.set()

    t0 = time.perf_counter()
    p = ui.preview.play(0, 1, send, "bench")
    assert done.wait(600) and p.error is None, p.error
    return len(shown) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nbedit-playback-1080p-"))
    try:
        t0 = time.perf_counter()
        src = media.testsrc(tmp / "hd.mp4", seconds=args.seconds, fps=FPS, size=(1920, 1080), gop=250)
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        uis = {"proxy": project(tmp / "with-proxy", src, args.seconds, True)}
        built = time.perf_counter() - t0
        uis["source"] = project(tmp / "without", src, args.seconds, False)
        length = uis["proxy"].doc["frames"]
        print(
            f"source: 1920x1080 H.264 at 29.97 fps, GOP 250, {args.seconds:g} s with sound ({length} frames; made in "
            f"{made:.1f} s, its proxy at {uis['proxy'].preview.size[0]} px wide built in {built:.1f} s)"
        )
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        figures: dict[str, dict[str, list[float]]] = {k: {} for k in uis}
        for r in range(args.rounds):
            rnd = random.Random(r)
            picks = rnd.sample(range(1, length), 12)
            start = rnd.randrange(0, length - 45)
            for name, ui in uis.items() if r % 2 == 0 else reversed(uis.items()):
                proxy = name == "proxy"
                out = figures[name]
                fresh(ui, proxy, ahead=0)
                out.setdefault("click", []).append(clicks(ui, picks))
                fresh(ui, proxy, ahead=0)
                out.setdefault("drag", []).append(drag(ui, start))
                fresh(ui, proxy)
                out.setdefault("play", []).append(play(ui))
                out.setdefault("again", []).append(play(ui))
        med = {name: {k: statistics.median(v) for k, v in f.items()} for name, f in figures.items()}
        p, s = med["proxy"], med["source"]
        print(f"\nmedians of {args.rounds} alternated rounds      with proxy    source only    ratio")
        print(
            f"click-to-frame (kernel)             {p['click'] * 1000:8.1f} ms  {s['click'] * 1000:9.1f} ms  "
            f"{s['click'] / p['click']:6.1f}x"
        )
        print(
            f"drag, per frame                     {p['drag'] * 1000:8.1f} ms  {s['drag'] * 1000:9.1f} ms  "
            f"{s['drag'] / p['drag']:6.1f}x"
        )
        print(f"drag, frames per second             {1 / p['drag']:8.1f}     {1 / s['drag']:9.1f}")
        print(
            f"play, nothing cached                {p['play']:8.1f} fps {s['play']:8.1f} fps  "
            f"{p['play'] / s['play']:6.1f}x   (the timeline needs {float(FPS):.2f})"
        )
        print(f"play again, every JPEG cached       {p['again']:8.1f} fps {s['again']:8.1f} fps")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for ui in uis.values():
            ui.close()
            ui.preview.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
