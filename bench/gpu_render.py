"""A 1080p render on the CPU against the hardware paths (NVENC, torch compositing on CUDA, NVDEC), in one run.

    python bench/gpu_render.py [--seconds 6] [--repeat 2] [--size 1920x1080] [--out report.json]

Self-contained: it writes 1080p test sources in a temp folder and edits them (a dissolve and an inset at 90%
opacity, so every frame of the middle is composited), then reports, each side alternated with the other and
the medians kept (so load on the machine hits both alike) after an untimed round that warms each side up, with
the load average before and after:

1. what nbedit.hardware() finds;
2. the render (video only, crf 18, x264 preset medium) with hardware="cpu" and hardware="auto": wall time,
   frames/s, and the PSNR between the two files' decoded pictures (auto is the CPU's bytes where nothing is
   found, then the PSNR is infinite);
3. compositing alone, per composited frame: the numpy backend against the torch one (on CUDA where there is
   one, else on torch's CPU device), and how far apart their frames are;
4. decoding a 1080p H.264 source: NVDEC (``hwaccel="cuda"``) against FFmpeg's software decoder.

On a machine without them it says what is missing and runs the CPU side and the torch-on-CPU comparison. On the
GPU machine it was sized to take under 5 minutes with the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def build(folder: Path, seconds: float, size: tuple[int, int]):
    import nbedit
    from nbedit import media

    half = seconds / 2
    a = media.testsrc(folder / "a.mp4", seconds=half + 2, fps=24, size=size, variant=0, audio=False)
    b = media.testsrc(folder / "b.mp4", seconds=half + 2, fps=24, size=size, variant=1, audio=False)
    inset = media.testsrc(folder / "inset.mp4", seconds=half, fps=24, size=size, variant=2, audio=False)
    s = nbedit.Session(folder / "project", fresh=True)
    for path in (a, b, inset):
        s.import_media(path)
    c1 = s.append("a", track="V1", src_in=0.5, src_out=0.5 + half)
    c2 = s.append("b", track="V1", src_in=1.0, src_out=1.0 + half)
    s.crossfade(c1, c2, duration=1.0)
    pip = s.overwrite("inset", track="V2", at=seconds / 4, src_in=0.0, src_out=half)
    s.transform(pip, x=size[0] * 0.3, y=-size[1] * 0.3, scale=0.35)
    s.opacity(pip, 0.9)
    return s, a


def psnrs(one: Path, other: Path) -> list[float]:
    """PSNR of each frame of one file against the other's, decoded side by side (1080p frames are not kept)."""
    with av.open(str(one)) as a, av.open(str(other)) as b:
        return [psnr(_planes(x), _planes(y)) for x, y in zip(a.decode(video=0), b.decode(video=0), strict=True)]


def _planes(frame: av.VideoFrame) -> np.ndarray:
    from nbedit.render import yuv_planes

    return np.concatenate([p.ravel() for p in yuv_planes(frame.reformat(format="yuv420p"))])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def renders(s, tmp: Path, repeat: int, size: tuple[int, int]) -> dict:
    from nbedit.render import RenderSettings, engines, render

    base = RenderSettings(*size, Fraction(24), 0, s.end_frame(), audio=False)
    sides = {"cpu": RenderSettings(**{**base.__dict__, "hardware": "cpu"}), "auto": base}
    run = engines(base)
    print(f"auto renders with {run.codec}, compositing on {run.backend.name}", end="")
    print(f" ({getattr(run.backend, 'device', 'cpu')})" if run.backend.name == "torch" else "")
    if not run.hardware:
        print("  (nothing to accelerate here: auto is the CPU render, timed once more as a check of the noise)")
    times: dict[str, list[float]] = {k: [] for k in sides}
    for k in range(repeat + 1):  # the first round warms up (CUDA contexts, NVENC sessions, torch's kernels)
        for name, st in sides.items():
            t0 = time.perf_counter()
            render(s.timeline, tmp / f"{name}.mp4", st, progress=False)
            if k:
                times[name].append(time.perf_counter() - t0)
    frames = s.end_frame()
    out: dict = {"frames": frames, "codec_auto": run.codec, "backend_auto": run.backend.name}
    for name in sides:
        wall = statistics.median(times[name])
        out[name] = {"seconds": wall, "fps": frames / wall, "runs": times[name]}
        print(f"  render {name:4s}: {wall:7.2f} s  {frames / wall:6.1f} frames/s  (runs {fmt(times[name])})")
    print(f"  speed-up auto / cpu: {out['cpu']['seconds'] / out['auto']['seconds']:.2f}x")
    q = psnrs(tmp / "auto.mp4", tmp / "cpu.mp4")
    out["psnr_auto_vs_cpu"] = {"min": min(q), "median": statistics.median(q), "frames": len(q)}
    sizes = {k: (tmp / f"{k}.mp4").stat().st_size for k in sides}
    out["bytes"] = sizes
    print(f"  PSNR auto vs cpu over {len(q)} frames: min {min(q):.1f} dB, median {statistics.median(q):.1f} dB")
    print(f"  file sizes: cpu {sizes['cpu'] / 1e6:.2f} MB, auto {sizes['auto'] / 1e6:.2f} MB")
    return out


def compositing(s, repeat: int, device: str) -> dict:
    """Per-frame time of Compositor.yuv_frame with each backend, over the frames it composites."""
    from nbedit.composite_torch import TorchBackend
    from nbedit.render import Compositor, Sources

    torch_be = TorchBackend(device)
    comp = Compositor(s.timeline, Sources(pool=3))
    frames = [n for n in range(s.end_frame()) if comp.untouched(n) is None and comp.yuv_frame(n) is not None]
    sync = torch_be.torch.cuda.synchronize if device == "cuda" else (lambda: None)
    times: dict[str, list[float]] = {"numpy": [], "torch": []}
    worst_diff, worst_psnr = 0, float("inf")
    for k in range(repeat + 1):  # the first round warms up
        for name, be in (("numpy", None), ("torch", torch_be)):
            t0 = time.perf_counter()
            for n in frames:
                comp.yuv_frame(n, backend=be)
            sync()
            if k:
                times[name].append((time.perf_counter() - t0) / len(frames))
        if k == 0:
            for n in frames:
                x, y = _planes(comp.yuv_frame(n)), _planes(comp.yuv_frame(n, backend=torch_be))
                worst_diff = max(worst_diff, int(np.abs(x.astype(np.int16) - y).max()))
                worst_psnr = min(worst_psnr, psnr(x, y))
    comp.sources.close()
    np_ms, t_ms = (statistics.median(times[k]) * 1e3 for k in ("numpy", "torch"))
    print(f"  {len(frames)} composited frames (decode included), median of {repeat}:")
    print(f"  numpy backend : {np_ms:7.2f} ms/frame")
    print(f"  torch ({device:4s}) : {t_ms:7.2f} ms/frame   ratio torch / numpy {t_ms / np_ms:.2f}x")
    print(f"  torch vs numpy frames: max abs diff {worst_diff} levels, min PSNR {worst_psnr:.1f} dB")
    out = {"frames": len(frames), "numpy_ms": np_ms, "torch_ms": t_ms, "device": device}
    return {**out, "max_diff": worst_diff, "min_psnr": worst_psnr}


def decoding(path: str, repeat: int, nvdec: bool) -> dict:
    from nbedit import media

    sides = {"cpu": None, **({"nvdec": "cuda"} if nvdec else {})}
    times: dict[str, list[float]] = {k: [] for k in sides}
    count = 0
    for k in range(repeat + 1):  # the first round warms up
        for name, hw in sides.items():
            with media.VideoReader(path, hwaccel=hw) as r:
                count = len(r)
                t0 = time.perf_counter()
                for i in range(count):
                    r.video_frame(i).reformat(format="yuv420p")  # as a render takes it
                if k:
                    times[name].append(time.perf_counter() - t0)
    out = {}
    for name in sides:
        wall = statistics.median(times[name])
        out[name] = {"fps": count / wall, "runs": times[name]}
        print(f"  decode {name:5s}: {count / wall:7.1f} frames/s  ({count} frames, runs {fmt(times[name])})")
    if nvdec:
        print(f"  ratio nvdec / cpu: {out['nvdec']['fps'] / out['cpu']['fps']:.2f}x")
    return out


def fmt(xs: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the edit")
    parser.add_argument("--repeat", type=int, default=2, help="alternate the sides this many times; medians")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--out", default=None, help="also write the report as JSON here")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))

    import nbedit
    from nbedit import machine

    report: dict = {"start": load(), "hardware": nbedit.hardware(), "av": av.__version__}
    print(f"nbedit {nbedit.__version__}, PyAV {av.__version__}, {os.cpu_count()} CPUs, {report['start']}")
    print("1. hardware:")
    for name, said in report["hardware"].items():
        print(f"  {name:10s} {said}")
    missing = [name for name, said in report["hardware"].items() if said != "present"]
    if missing:
        print(f"  missing: {', '.join(missing)}: those sides are left out below")
    with tempfile.TemporaryDirectory(prefix="nbedit-gpu-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        s, source = build(tmp, args.seconds, size)
        print(f"sources and edit made in {time.perf_counter() - t0:.1f} s: {s.end_frame()} frames at {args.size}")
        print("2. render:")
        report["render"] = renders(s, tmp, args.repeat, size)
        print("3. compositing:")
        device = "cuda" if machine.cuda_torch().present else "cpu"
        report["compositing"] = compositing(s, args.repeat, device)
        print("4. decoding:")
        report["decoding"] = decoding(source, args.repeat, machine.nvdec().present)
    report["end"] = load()
    print(report["end"])
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=str))
        print(f"report written to {args.out}")


if __name__ == "__main__":
    main()
