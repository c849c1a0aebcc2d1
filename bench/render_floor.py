"""A full render against the floors under it, side by side in one run: nbedit, raw PyAV, numpy-composited PyAV.

    python bench/render_floor.py [--seconds 20] [--height 720] [--repeat 3] [--preset veryfast]
                                 [--lengths 10 30] [--full] [--media DIR]

The edit (the one issue 13 measures): three generated H.264 sources (30 fps, GOP 60, AAC sound), six cuts on V1
with two 0.5 s crossfades, a picture-in-picture of the first source at 1/3 size and opacity 0.8 over the middle
of the edit (it shows the same file as a V1 clip for a while), and the V1 clips' sound on A1. x264 crf 18, the
given preset, ``mbtree=0`` on every side; AAC 192k.

  nbedit   ``s.render`` of the edit
  raw      PyAV decodes every source frame the edit shows (each stream read forward once, as a hand-written
           transcode would) and encodes the bottom picture of each frame as decoded, with the sound: the floor
  numpy    the raw floor plus the crossfades and the inset composited in numpy/cv2 (RGB, float mix)

Each run is its own process (peak RSS is its VmHWM; CPU is every thread's user + system time, steadier than
wall time on a loaded machine); the sides alternate and the figures are medians. Then the
render time and peak RSS of nbedit (and the raw floor) against the timeline's length at 540p: ``--lengths``
(default 10 30 s), or 15 60 240 s with ``--full``, to show that memory stays flat as the edit grows.
Frames of the floors are compared with nbedit's (PSNR on sampled frames) so the sides are seen to do one job.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

MiB = 2**20
FPS = 30
SAMPLE_RATE = 48000


def cpu() -> float:
    """CPU seconds of this process, every thread (the encoders' and decoders' too)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak() -> int:
    """The process's peak RSS (VmHWM: ru_maxrss would carry the forked parent's over exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


# ---- the edit ---------------------------------------------------------------------------------------------


def sources(media: Path, height: int, seconds: float) -> list[str]:
    """Three generated sources (kept between runs in ``media``: generating 720p takes a while)."""
    from nbedit import media as m

    width = round(height * 16 / 9) // 2 * 2
    media.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(3):
        path = media / f"src{k}-{height}p-{seconds:g}s.mp4"
        if not path.exists():
            tmp = path.with_suffix(".partial.mp4")
            m.testsrc(tmp, seconds=seconds, fps=FPS, size=(width, height), variant=k, gop=60, tone_hz=330 + 110 * k)
            os.replace(tmp, path)
        out.append(str(path))
    return out


def build(folder: Path, media: Path, seconds: float, height: int, *, cuts: bool = False) -> Path:
    """The edit as a saved project: cuts of ~3.3 s cycling the sources, a 0.5 s crossfade at the first and
    fourth cut of every six, and a 1/3-size inset of source 0 at opacity 0.8 over the middle 60 % of each 20 s
    (``cuts``: the cuts alone)."""
    import nbedit

    src_len = max(13.0, min(seconds, 40.0))
    paths = sources(media, height, src_len)
    s = nbedit.Session(folder, name="floor", fresh=True)
    ids = [s.import_media(p) for p in paths]
    width = round(height * 16 / 9) // 2 * 2
    durations = [3.5, 3.5, 3.0, 3.5, 3.0, 3.5]  # 20 s
    t, k, clips = 0.0, 0, []
    while t < seconds - 1e-6:
        dur = min(durations[k % 6], seconds - t)
        src_in = 0.5 + (k * 1.7) % (src_len - dur - 1.0)
        clips.append(s.append(ids[k % 3], track="V1", src_in=src_in, src_out=src_in + dur, audio="A1"))
        t += dur
        k += 1
    for j in range(len(clips) - 1 if not cuts else 0):
        if j % 6 in (0, 3):
            s.crossfade(clips[j], clips[j + 1], duration=0.5)
    for start in range(0, int(seconds) if not cuts else 0, 20):
        span = min(20.0, seconds - start)
        if span < 2:
            break
        at, length = start + 0.2 * span, 0.6 * span
        pip = s.overwrite(ids[0], track="V2", at=at, src_in=0.0, src_out=min(length, src_len - 0.5))
        s.transform(pip, x=width / 3, y=-height / 3 + height / 24, scale=1 / 3)
        s.opacity(pip, 0.8)
    s.close()  # the renders open it in their own processes
    return folder


def plan(folder: Path) -> dict:
    """What each output frame is made of, from nbedit's own frame plans, so the floors decode the same frames."""
    import nbedit
    from nbedit.model import media_entry, nb, source_in
    from nbedit.render import Compositor, Layer, Sources, geometry
    from nbedit.timeline import audio_tracks, layout

    s = nbedit.Session(folder, read_only=True)
    tl = s.timeline
    comp = Compositor(tl, Sources())
    W, H = comp.width, comp.height

    def layer(slot: int, ly: Layer) -> dict:
        e = ly.entry
        x, y, scale, crop = ly.transform
        g = geometry(int(e["width"]), int(e["height"]), W, H, {"x": x, "y": y, "scale": scale, "crop": crop})
        return {
            "key": f"{e['path']}#{slot}",
            "path": e["path"],
            "i": int(ly.index),
            "g": [g.x, g.y, g.width, g.height],
            "opacity": ly.opacity,
        }

    frames = []
    for n in range(comp.length):
        out = []
        for slot, ly in enumerate(comp.plan(n)):
            if isinstance(ly, Layer):
                out.append(layer(slot, ly))
            else:
                out.append({"mix": [layer(slot, ly.a), layer(slot, ly.b)], "w": ly.w})
        frames.append(out)
    rate = comp.rate
    sound = []  # (path, first source sample, samples) of each A1 clip, in order
    for track in audio_tracks(tl):
        for p in layout(track)[0]:
            if hasattr(p.item, "media_reference") and "media" in nb(p.item):
                e = media_entry(tl, nb(p.item)["media"])
                first = round(Fraction(source_in(p.item)) / rate * SAMPLE_RATE)
                sound.append((e["path"], first, round(Fraction(p.duration) / rate * SAMPLE_RATE)))
        break
    s.close()
    return {"width": W, "height": H, "fps": FPS, "frames": frames, "sound": sound}


# ---- the floors -------------------------------------------------------------------------------------------


class Stream:
    """One source read forward, frame by frame; a jump back or far ahead seeks to the keyframe before."""

    def __init__(self, path: str):
        import av

        self.container = av.open(path)
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.frames = None
        self.pos = None
        self.last = None

    def get(self, i: int):
        if self.last is not None and self.pos == i:
            return self.last
        if self.pos is None or i < self.pos or i > self.pos + 90:
            ts = int(Fraction(i, FPS) / self.stream.time_base)
            self.container.seek(ts, stream=self.stream, backward=True)
            self.frames = self.container.decode(self.stream)
        for frame in self.frames:
            self.pos = round(frame.time * FPS)
            if self.pos >= i:
                self.last = frame
                return frame
        raise RuntimeError(f"frame {i} not found")


def encode_sound(out, sound: list) -> None:
    import av
    import numpy as np

    a = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
    a.bit_rate = 192_000
    return a, lambda: _sound(out, a, sound, av, np)


def _sound(out, a, sound, av, np) -> None:
    pts = 0
    pending = np.zeros((2, 0), np.float32)
    for path, first, count in sound:
        with av.open(path) as src:
            st = src.streams.audio[0]
            src.seek(int(Fraction(first, SAMPLE_RATE) / st.time_base), stream=st, backward=True)
            rs = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            got, parts = 0, []
            start = None
            for frame in src.decode(st):
                if start is None:
                    start = round(frame.time * SAMPLE_RATE)
                for f in rs.resample(frame):
                    parts.append(f.to_ndarray())
                got = sum(p.shape[1] for p in parts)
                if start + got >= first + count:
                    break
            pcm = np.concatenate(parts, axis=1)[:, first - start : first - start + count]
        pending = np.concatenate([pending, pcm], axis=1)
        while pending.shape[1] >= 1024:
            f = av.AudioFrame.from_ndarray(np.ascontiguousarray(pending[:, :1024]), format="fltp", layout="stereo")
            f.sample_rate, f.pts = SAMPLE_RATE, pts
            out.mux(a.encode(f))
            pts += 1024
            pending = pending[:, 1024:]
    out.mux(a.encode(None))


def floor(plan_path: str, out_path: str, preset: str, composite: bool) -> dict:
    import av
    import cv2
    import numpy as np

    with open(plan_path) as f:
        p = json.load(f)
    W, H = p["width"], p["height"]
    streams: dict[str, Stream] = {}

    def pic(ly: dict):
        s = streams.get(ly["key"])
        if s is None:
            s = streams[ly["key"]] = Stream(ly["path"])
        return s.get(ly["i"])

    def rgb(ly: dict) -> np.ndarray:
        return pic(ly).to_ndarray(format="rgb24")

    t0, c0 = time.perf_counter(), cpu()
    with av.open(out_path, "w") as out:
        v = out.add_stream("libx264", rate=p["fps"])
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        v.options = {"crf": "18", "preset": preset, "x264-params": "mbtree=0"}
        v.codec_context.gop_size = 2 * p["fps"]
        a, sound = encode_sound(out, p["sound"])
        for k, layers in enumerate(p["frames"]):
            if not composite:  # decode everything shown, send the bottom picture as it is
                frames = [pic(ly) for x in layers for ly in (x["mix"] if "mix" in x else [x])]
                frame = frames[0]
            elif len(layers) == 1 and "mix" not in layers[0]:
                frame = pic(layers[0])
            else:
                canvas = np.zeros((H, W, 3), np.uint8)
                for ly in layers:
                    if "mix" in ly:
                        lo, hi = (rgb(x).astype(np.float32) for x in ly["mix"])
                        canvas = np.rint(lo + (hi - lo) * np.float32(ly["w"])).astype(np.uint8)
                        continue
                    x, y, w, h = ly["g"]
                    img = rgb(ly)
                    if (w, h) != (W, H):
                        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
                    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
                    part = img[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
                    below = canvas[y0:y1, x0:x1].astype(np.float32)
                    canvas[y0:y1, x0:x1] = np.rint(below + (part - below) * np.float32(ly["opacity"]))
                frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = k, Fraction(1, p["fps"])
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        sound()
    return {"seconds": time.perf_counter() - t0, "cpu": cpu() - c0, "peak": peak(), "frames": len(p["frames"])}


def nbedit_render(folder: str, out_path: str, preset: str) -> dict:
    import nbedit

    s = nbedit.Session(folder, read_only=True)
    t0, c0 = time.perf_counter(), cpu()
    s.render(out_path, preset=preset, progress=False)
    return {"seconds": time.perf_counter() - t0, "cpu": cpu() - c0, "peak": peak()}


# ---- the runs ---------------------------------------------------------------------------------------------


def run(*args: object, code: str | None = None) -> dict:
    """One side in a process of its own; ``code``: a folder holding another nbedit to run instead of this one."""
    cmd = [sys.executable, __file__, "--child", *map(str, args)]
    env = {**os.environ, "PYTHONPATH": code} if code else None
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode:
        raise SystemExit(f"{args[0]} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def psnr(a_path: str, b_path: str, every: int = 15) -> float:
    """The lowest PSNR (dB) between sampled frames of two files of the same frames."""
    import av
    import numpy as np

    def frames(path):
        with av.open(path) as c:
            for k, f in enumerate(c.decode(video=0)):
                if k % every == 0:
                    yield f.to_ndarray(format="rgb24").astype(np.float64)

    worst = float("inf")
    for x, y in zip(frames(a_path), frames(b_path), strict=False):
        mse = float(np.mean((x - y) ** 2))
        worst = min(worst, 99.0 if mse == 0 else 10 * np.log10(255**2 / mse))
    return worst


def side_by_side(
    tmp: Path,
    media: Path,
    seconds: float,
    height: int,
    preset: str,
    repeat: int,
    *,
    numpy: bool = True,
    cuts: bool = False,
    before: str | None = None,
) -> dict:
    name = f"{seconds:g}-{height}{'-cuts' if cuts else ''}"
    project = build(tmp / f"edit-{name}", media, seconds, height, cuts=cuts)
    plan_path = tmp / f"plan-{name}.json"
    plan_path.write_text(json.dumps(plan(project)))
    outs = {k: str(tmp / f"{k}-{name}.mp4") for k in ("nbedit", "before", "raw", "numpy")}
    runs: dict[str, list[dict]] = {k: [] for k in outs}
    for _ in range(repeat):  # alternated, so load on the machine hits every side alike
        runs["nbedit"].append(run("nbedit", project, outs["nbedit"], preset))
        if before:
            runs["before"].append(run("nbedit", project, outs["before"], preset, code=before))
        runs["raw"].append(run("raw", plan_path, outs["raw"], preset))
        if numpy:
            runs["numpy"].append(run("numpy", plan_path, outs["numpy"], preset))
    med = {
        k: {key: statistics.median(r[key] for r in v) for key in ("seconds", "cpu", "peak")}
        for k, v in runs.items()
        if v
    }
    med["frames"] = runs["raw"][0]["frames"]
    med["psnr_numpy"] = psnr(outs["nbedit"], outs["numpy"]) if numpy else None
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the side-by-side edit")
    parser.add_argument("--height", type=int, default=720, help="picture height of the side-by-side edit")
    parser.add_argument("--repeat", type=int, default=3, help="alternated rounds; figures are medians")
    parser.add_argument("--preset", default="veryfast", help="x264 preset of every side")
    parser.add_argument("--lengths", type=float, nargs="*", default=[10, 30], help="timeline lengths at 540p")
    parser.add_argument("--full", action="store_true", help="lengths 15 60 240 s (minutes on a loaded machine)")
    parser.add_argument(
        "--media",
        default=str(Path(tempfile.gettempdir()) / "nbedit-render-floor"),
        help="where the generated sources are kept between runs",
    )
    parser.add_argument("--cuts-only", action="store_true", help="the edit's cuts alone: no crossfade, no inset")
    parser.add_argument(
        "--before",
        help="a folder holding an earlier nbedit to render beside this one (git archive COMMIT nbedit | tar -x -C DIR)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.child:
        kind, *rest = a.child
        if kind == "nbedit":
            result = nbedit_render(*rest)
        else:
            result = floor(*rest, composite=kind == "numpy")
        print(json.dumps(result))
        return
    lengths = [15, 60, 240] if a.full else a.lengths
    media = Path(a.media)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        load0 = os.getloadavg()
        m = side_by_side(
            tmp,
            media,
            a.seconds,
            a.height,
            a.preset,
            a.repeat,
            cuts=a.cuts_only,
            numpy=not a.cuts_only,
            before=a.before,
        )
        print(
            f"{a.seconds:g} s {a.height}p {'cuts-only ' * a.cuts_only}edit, {m['frames']} frames at {FPS} fps, "
            f"x264 {a.preset} crf 18, "
            f"medians of {a.repeat} alternated rounds; load average {load0[0]:.2f} at start, "
            f"{os.getloadavg()[0]:.2f} at end"
        )
        print(f"{'':28} {'wall':>8} {'fps':>7} {'floor/it':>9} {'CPU':>8} {'peak RSS':>10} {'RSS/floor':>10}")
        raw = m["raw"]
        for name, key in (
            ("nbedit s.render", "nbedit"),
            ("nbedit before (--before)", "before"),
            ("raw PyAV floor", "raw"),
            ("numpy-composited floor", "numpy"),
        ):
            if key not in m:
                continue
            r = m[key]
            print(
                f"{name:28} {r['seconds']:7.2f}s {m['frames'] / r['seconds']:7.1f} "
                f"{raw['seconds'] / r['seconds']:8.2f}x {r['cpu']:7.1f}s {r['peak'] / MiB:7.0f} MiB "
                f"{r['peak'] / raw['peak']:9.2f}x"
            )
        if "numpy" in m:
            print(
                "nbedit speed against the numpy-composited floor: "
                f"{m['numpy']['seconds'] / m['nbedit']['seconds']:.2f}x;"
                f" lowest PSNR nbedit vs numpy floor on sampled frames {m['psnr_numpy']:.1f} dB"
            )
        if "before" in m:
            print(f"nbedit now against before: {m['before']['seconds'] / m['nbedit']['seconds']:.2f}x as fast")
        if lengths:
            print(
                f"\nlength scaling at 540p ({a.preset}, medians of {a.repeat}): load average {os.getloadavg()[0]:.2f}"
            )
            print(
                f"{'length':>8} {'frames':>7} {'nbedit ms/frame':>16} {'floor ms/frame':>15} "
                f"{'nbedit peak':>12} {'floor peak':>11}"
            )
            for seconds in lengths:
                r = side_by_side(tmp, media, seconds, 540, a.preset, a.repeat, numpy=False)
                f = r["frames"]
                print(
                    f"{seconds:7g}s {f:7d} {1000 * r['nbedit']['seconds'] / f:16.1f} "
                    f"{1000 * r['raw']['seconds'] / f:15.1f} {r['nbedit']['peak'] / MiB:8.0f} MiB "
                    f"{r['raw']['peak'] / MiB:7.0f} MiB"
                )
        print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
