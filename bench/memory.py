"""Memory of a long scrub and of renders, each run in a fresh process and measured as the system sees it (RSS).

    python bench/memory.py [--scrub 2000] [--seconds 10 20] [--preset medium] [--repeat 1]

Sources are generated 1080p 24 fps H.264 files with 2 s GOPs and B-frames (long GOP), with AAC sound.
  scrub    ``s.frame(t)`` at random times with the cache at its default budget; RSS at the half and at the end,
           with nbedit trimming the heap after evictions and with freed memory left to glibc (NBEDIT_MALLOC_TRIM=off,
           "before"); and with a fixed 128 KiB mmap threshold instead (MALLOC_MMAP_THRESHOLD_=131072), the other cure
  render   peak RSS of ``s.render`` against a raw PyAV decode + encode of the same frames (video only, same x264
           settings), at each timeline length: "plain" is the clip as it is (frames go to the encoder as decoded),
           "composited" is the clip scaled by 1.05 (every frame scaled and laid on the canvas: in YUV
           since the render composites there, see bench/render_floor.py for the whole edit against its floors)
Each figure is the median of ``--repeat`` runs, the sides alternated so load on the machine hits them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 2**20
MAPPED = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak() -> int:
    """The process's peak RSS. Not getrusage's ru_maxrss: Linux carries that over exec from the forked parent."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def child_scrub(src: str, folder: str, count: int) -> dict:
    import nbedit

    s = nbedit.Session(folder)
    s.append(s.import_media(src))
    rng = random.Random(1)
    half = 0
    t0 = time.perf_counter()
    for k in range(count):
        s.frame(rng.uniform(0, s.duration - 0.05))
        if k == count // 2:
            half = rss()
    took = time.perf_counter() - t0
    return {"half": half, "end": rss(), "peak": peak(), "cache": s.cache.nbytes, "seconds": took}


def child_render(src: str, folder: str, seconds: float, preset: str, composited: bool) -> dict:
    import nbedit

    s = nbedit.Session(folder)
    s.append(s.import_media(src), src_in=0, src_out=seconds)
    if composited:
        s.transform(s.clips[0], scale=1.05)
    s.render(Path(folder) / "out.mp4", preset=preset, progress=False)
    return {"peak": peak()}


def child_raw(src: str, folder: str, seconds: float, preset: str) -> dict:
    import av

    with av.open(src) as inp, av.open(str(Path(folder) / "raw.mp4"), "w") as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        v = out.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        v.options = {"crf": "18", "preset": preset, "x264-params": "mbtree=0"}  # as nbedit renders
        v.codec_context.gop_size = 48
        for k, frame in enumerate(inp.decode(vin)):
            if k >= round(seconds * 24):
                break
            frame = frame.reformat(format="yuv420p")
            frame.pts = k
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    return {"peak": peak()}


def run(kind: str, *args: object, env: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        cmd = [sys.executable, __file__, "--child", kind, folder, *map(str, args)]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False)
        if out.returncode:
            raise SystemExit(f"{kind} failed:\n{out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs) / MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scrub", type=int, default=2000, help="random frames in the scrub (0: no scrub)")
    parser.add_argument("--seconds", type=float, nargs="*", default=[10, 20], help="timeline lengths to render")
    parser.add_argument("--preset", default="medium", help="x264 preset of both sides (nbedit's default: medium)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.child:
        kind, folder, *rest = a.child
        if kind == "scrub":
            result = child_scrub(rest[0], folder, int(rest[1]))
        elif kind == "render":
            result = child_render(rest[0], folder, float(rest[1]), rest[2], rest[3] == "composited")
        else:
            result = child_raw(rest[0], folder, float(rest[1]), rest[2])
        print(json.dumps(result))
        return

    from nbedit import media

    with tempfile.TemporaryDirectory() as tmp:
        longest = max([*a.seconds, 20])
        src = media.testsrc(Path(tmp) / "hd.mp4", seconds=longest, fps=24, size=(1920, 1080), gop=48)
        print(f"1080p 24 fps H.264, 2 s GOPs; load average at start {os.getloadavg()[0]:.2f}")
        if a.scrub:
            fixed, moving, mapped = [], [], []
            for _ in range(a.repeat):
                fixed.append(run("scrub", src, a.scrub))
                moving.append(run("scrub", src, a.scrub, env={"NBEDIT_MALLOC_TRIM": "off"}))
                mapped.append(run("scrub", src, a.scrub, env={"NBEDIT_MALLOC_TRIM": "off", **MAPPED}))
            print(f"\nscrub of {a.scrub} random frames of a {longest:g} s file, frame cache at its default budget")
            print(f"{'':30} {'RSS at half':>12} {'RSS at end':>12} {'growth':>10} {'time':>8}")
            sides = (("left to glibc", moving), ("fixed mmap threshold", mapped), ("nbedit (trim on evict)", fixed))
            for name, runs in sides:
                half, end = median(runs, "half"), median(runs, "end")
                took = statistics.median(r["seconds"] for r in runs)
                print(f"{name:30} {half:9.0f} MiB {end:9.0f} MiB {end - half:7.0f} MiB {took:7.1f}s")
            print(f"ratio of end RSS, left to glibc / nbedit: {median(moving, 'end') / median(fixed, 'end'):.2f}x")
            took = [statistics.median(r["seconds"] for r in runs) for runs in (fixed, mapped, moving)]
            print(f"scrub time against left to glibc: nbedit {took[0] / took[2]:.2f}x, mmap {took[1] / took[2]:.2f}x")
        for seconds in a.seconds:
            raw, plain, comp = [], [], []
            for _ in range(a.repeat):
                raw.append(run("raw", src, seconds, a.preset))
                plain.append(run("render", src, seconds, a.preset, "plain"))
                comp.append(run("render", src, seconds, a.preset, "composited"))
            r = median(raw, "peak")
            print(f"\nrender of {seconds:g} s ({round(seconds * 24)} frames), preset {a.preset}: peak RSS")
            print(f"raw PyAV decode+encode : {r:6.0f} MiB")
            for name, runs in (("nbedit plain", plain), ("nbedit composited", comp)):
                p = median(runs, "peak")
                print(f"{name:23}: {p:6.0f} MiB  ({p / r:.2f}x raw)")
        print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
