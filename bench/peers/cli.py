"""nbedit against other video tools on one edit, side by side: ``python -m bench``.

    python -m bench                 # the default: a 10 s edit at 540p, 2 alternated rounds, small scaling curves
    python -m bench --full          # the issue's: a 60 s edit at 1080p, 3 rounds, curves 15/60/240 s, 540p-2160p
    python -m bench --quick         # a smoke run: a 2 s edit at 180p, 1 round, tiny curves
    python -m bench --only nbedit pyav-floor --no-curves --json out.json

The edit (bench/peers/edit.py): cuts of 2 to 4 s from three generated H.264 sources (GOP 60, B-frames, AAC),
two 0.5 s crossfades, a picture-in-picture at 1/3 size and opacity 0.8 over 35 % of the edit, and each cut's
sound; and a cuts-only variant. Every contender renders it with libx264 crf 18 veryfast (mbtree off), AAC 192k,
each in a process of its own, the contenders alternated round by round; the figures are medians. Peak RSS is
the contender's whole process tree (it and the ffmpeg processes it starts), sampled every 50 ms. Outputs are
checked against nbedit's by PSNR on sampled frames (the floor, which composites nothing, on plain frames only).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import agree, edit, encoder_work
from .child import CONTENDERS

MiB = 2**20
ROOT = Path(__file__).resolve().parents[2]

LABELS = {
    "nbedit": "nbedit s.render",
    "moviepy": "MoviePy 2",
    "movis": "movis",
    "ffmpeg": "ffmpeg CLI filter graph",
    "pyav-floor": "raw PyAV decode+encode (floor)",
    "pyav-numpy": "raw PyAV + numpy composite",
}
# what each contender needs installed, beyond the benchmark itself
NEEDS = {"nbedit": "nbedit", "moviepy": "moviepy", "movis": "movis", "ffmpeg": "imageio_ffmpeg"}


@dataclass(frozen=True)
class Mode:
    seconds: float
    height: int
    repeat: int
    lengths: tuple[float, ...]  # scaling curve: timeline lengths at curve_height
    curve_height: int
    heights: tuple[int, ...]  # scaling curve: resolutions for curve_seconds
    curve_seconds: float
    cuts_repeat: int  # rounds of the cuts-only variant
    cuts_contenders: tuple[str, ...] | None = None  # who renders the cuts-only variant (None: everyone)


# the default fits in ten minutes on two busy cores (load 15: about 8 minutes)
MODES = {
    "default": Mode(
        10, 540, 2, (5, 10, 20), 270, (270, 360, 540), 2, 1, ("nbedit", "ffmpeg", "pyav-floor", "pyav-numpy")
    ),
    "full": Mode(60, 1080, 3, (15, 60, 240), 540, (540, 1080, 2160), 10, 3),
    "quick": Mode(2, 180, 1, (2, 3), 180, (180, 270), 2, 1),
}


def size_of(height: int) -> tuple[int, int]:
    return (round(height * 16 / 9) // 2 * 2, height)


def installed(name: str) -> bool:
    need = NEEDS.get(name)
    return need is None or importlib.util.find_spec(need) is not None


def tree_rss(proc) -> int:
    import psutil

    try:
        parent = psutil.Process(proc.pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_one(name: str, spec_path: Path, out: Path, timeout: float) -> dict:
    """One contender in its own process; its result line, or the reason it gave none."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.setdefault("NBEDIT_CACHE", str(out.parent / "nbedit-cache"))  # not the user's identity cache
    cmd = [sys.executable, "-m", "bench.peers.child", name, str(spec_path), str(out)]
    err_path = out.with_suffix(".log")
    t0 = time.perf_counter()
    with open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, cwd=out.parent, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc))
            if time.perf_counter() - t0 > timeout:
                proc.kill()
                proc.wait()
                return {"error": f"ran past {timeout:g} s"}
            time.sleep(0.05)
        stdout = proc.stdout.read()
        proc.stdout.close()
    if proc.returncode:
        lines = [line for line in err_path.read_text().splitlines() if line.strip()]
        return {"error": f"exit {proc.returncode}: {lines[-1][:200] if lines else 'no message'}"}
    result = json.loads(stdout.strip().splitlines()[-1])
    return {**result, "peak_rss": max(peak, result.get("self_peak_rss", 0), result.get("tool_peak_rss", 0))}


def bench_edit(spec: edit.Spec, names: list[str], repeat: int, folder: Path, timeout: float, label: str) -> dict:
    """Every contender on one edit, alternated round by round; medians; PSNR against nbedit's output."""
    folder.mkdir(parents=True, exist_ok=True)
    spec_path = folder / "spec.json"
    spec_path.write_text(spec.to_json())
    runs: dict[str, list[dict]] = {n: [] for n in names if installed(n)}
    errors: dict[str, str] = {}
    for r in range(repeat):
        order = list(runs)
        if order:  # who goes first changes each round
            order = order[r % len(order) :] + order[: r % len(order)]
        for name in order:
            if name in errors:
                continue
            print(f"  {label}: round {r + 1}/{repeat}, {LABELS[name]} ...", flush=True)
            got = run_one(name, spec_path, folder / f"{name}.mp4", timeout)
            if "error" in got:
                errors[name] = got["error"]
            else:
                runs[name].append(got)
    rows = {}
    for name in names:
        if not installed(name):
            rows[name] = {"status": "not installed"}
            continue
        if name in errors:
            rows[name] = {"status": f"failed: {errors[name]}"}
            continue
        wall = statistics.median(g["wall_s"] for g in runs[name])
        rows[name] = {
            "status": "ok",
            "wall_s": wall,
            "walls_s": [g["wall_s"] for g in runs[name]],
            "fps": spec.frames / wall,
            "peak_rss_bytes": statistics.median(g["peak_rss"] for g in runs[name]),
        }
        if name == "nbedit":
            rows[name]["render_s"] = statistics.median(g["render_s"] for g in runs[name])
            rows[name]["build_s"] = statistics.median(g["build_s"] for g in runs[name])
    ref = rows.get("nbedit", {})
    for name, row in rows.items():
        if row["status"] != "ok" or name == "nbedit" or ref.get("status") != "ok":
            continue
        row["time_vs_nbedit"] = row["wall_s"] / ref["wall_s"]
        row["rss_vs_nbedit"] = row["peak_rss_bytes"] / ref["peak_rss_bytes"]
        row["agreement"] = agree.compare(
            spec, folder / "nbedit.mp4", folder / f"{name}.mp4", plain_only=name == "pyav-floor" and bool(spec.pip)
        )
    return {"frames": spec.frames, "size": [spec.width, spec.height], "cuts": len(spec.segments), "rows": rows}


def print_table(title: str, result: dict) -> None:
    print(f"\n{title}: {result['frames']} frames at {result['size'][0]}x{result['size'][1]}, {result['cuts']} cuts")
    # "/ nbedit": the contender's figure over nbedit's (time 2.00x: it takes twice as long as nbedit)
    head = f"| {'contender':32} | {'wall time':>9} | {'fps':>6} | {'/ nbedit':>8} | {'peak RSS':>9} | {'/ nbedit':>8} |"
    head += f" {'PSNR min/mean against nbedit':32} |"
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    notes = []
    for name, row in result["rows"].items():
        if row["status"] != "ok":
            print(f"| {LABELS[name]:32} | {row['status']}")
            continue
        times = f"{row['time_vs_nbedit']:.2f}x" if "time_vs_nbedit" in row else "1.00x"
        mem = f"{row['rss_vs_nbedit']:.2f}x" if "rss_vs_nbedit" in row else "1.00x"
        a = row.get("agreement")
        if a is None:
            check = "reference"
        else:
            what = " (plain frames)" if a["plain_only"] else ""
            check = f"{a['psnr_min_db']:.1f}/{a['psnr_mean_db']:.1f} dB {'ok' if a['agrees'] else 'DIFFERS'}{what}"
            notes += [f"{LABELS[name]}: {n}" for n in a["notes"]]
        rss = f"{row['peak_rss_bytes'] / MiB:.0f} MiB"
        print(
            f"| {LABELS[name]:32} | {row['wall_s']:7.2f} s | {row['fps']:6.1f} | {times:>8} | {rss:>9} | {mem:>8} |"
            f" {check:32} |"
        )
    nb = result["rows"].get("nbedit", {})
    if nb.get("status") == "ok":
        print(f"nbedit's wall time: build {nb['build_s']:.2f} s (imports, probes), s.render {nb['render_s']:.2f} s")
    for n in notes:
        print(f"  differs: {n}")
    if result["rows"].get("pyav-floor", {}).get("agreement", {}).get("plain_only"):
        print("  the floor composites nothing: it is checked on the frames without a crossfade or the PiP")
    if (w := result.get("encoder_work")) is not None:
        floor, ours = result["rows"]["pyav-floor"]["wall_s"], nb["wall_s"]
        same = floor + w["edit_s"] - w["floor_s"]  # the floor, had its encoder had the edit's frames to encode
        print(
            f"  x264 alone on nbedit's output takes {w['ratio']:.2f}x its time on the floor's ({w['edit_s']:.2f} s vs "
            f"{w['floor_s']:.2f} s: re-encoded less decoded, medians): with that work the floor would take "
            f"{same:.2f} s, {same / ours:.2f}x nbedit's time"
        )


def curve_points(mode: Mode) -> list[tuple[str, float, int]]:
    points = [("length", s, mode.curve_height) for s in mode.lengths]
    return points + [("resolution", mode.curve_seconds, h) for h in mode.heights]


def curves(mode: Mode, names: list[str], folder: Path, timeout: float, sources: dict) -> dict:
    """Render time and peak RSS of nbedit and the floor against timeline length and against resolution."""
    names = [n for n in ("nbedit", "pyav-floor") if n in names and installed(n)]
    out = []
    for kind, seconds, height in curve_points(mode):
        size = size_of(height)
        spec = edit.design(sources[size], seconds, size)
        where = folder / f"curve-{seconds:g}s-{height}p"
        where.mkdir(parents=True, exist_ok=True)
        spec_path = where / "spec.json"
        spec_path.write_text(spec.to_json())
        point = {"kind": kind, "seconds": seconds, "height": height, "frames": spec.frames}
        for name in names:
            print(f"  curve: {seconds:g} s at {height}p, {LABELS[name]} ...", flush=True)
            got = run_one(name, spec_path, where / f"{name}.mp4", timeout)
            point[name] = got if "error" in got else {
                "wall_s": got["wall_s"], "ms_per_frame": 1000 * got["wall_s"] / spec.frames,
                "peak_rss_bytes": got["peak_rss"],
            }  # fmt: skip
        out.append(point)
    return {"contenders": names, "points": out}


def print_curves(c: dict) -> None:
    names = c["contenders"]
    for kind in ("length", "resolution"):
        print(f"\nscaling with {kind} (one run each):")
        print(f"{'':14}" + "".join(f"{LABELS[n][:22]:>26} {'':>10}" for n in names))
        print(f"{'':14}" + "".join(f"{'ms/frame':>26} {'peak RSS':>10}" for _ in names))
        for p in c["points"]:
            if p["kind"] != kind:
                continue
            line = f"{p['seconds']:5g} s {p['height']:5d}p"
            for n in names:
                g = p[n]
                line += f"{'error':>26} {'':>10}" if "error" in g else (
                    f"{g['ms_per_frame']:26.1f} {g['peak_rss_bytes'] / MiB:6.0f} MiB"
                )  # fmt: skip
            print(line)


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    got = {}
    for pkg in ("nbedit", "av", "numpy", "moviepy", "movis", "imageio-ffmpeg", "psutil"):
        try:
            got[pkg] = version(pkg)
        except PackageNotFoundError:
            got[pkg] = None
    if installed("ffmpeg"):
        import imageio_ffmpeg

        got["ffmpeg"] = imageio_ffmpeg.get_ffmpeg_version()
    return got


def machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    import psutil

    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "python": platform.python_version(),
        "versions": versions(),
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)  # whole or not at all


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--full", action="store_true", help="the issue's sizes: 60 s at 1080p, 3 rounds (long)")
    which.add_argument("--quick", action="store_true", help="a smoke run: 2 s at 180p, 1 round")
    parser.add_argument("--seconds", type=float, help="length of the edit (overrides the mode)")
    parser.add_argument("--height", type=int, help="picture height, 16:9 (overrides the mode)")
    parser.add_argument("--repeat", type=int, help="alternated rounds (overrides the mode)")
    parser.add_argument("--only", nargs="+", choices=list(CONTENDERS), help="run only these contenders")
    parser.add_argument("--no-cuts-only", action="store_true", help="skip the cuts-only variant")
    parser.add_argument("--no-curves", action="store_true", help="skip the scaling curves")
    parser.add_argument("--json", type=Path, default=Path("bench-peers.json"), help="where the results go")
    parser.add_argument("--work", type=Path, help="folder for sources and outputs (default: a temporary one)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one contender's run may take")
    a = parser.parse_args(argv)
    name = "full" if a.full else "quick" if a.quick else "default"
    mode = MODES[name]
    seconds, height = a.seconds or mode.seconds, a.height or mode.height
    repeat = a.repeat or mode.repeat
    names = a.only or list(CONTENDERS)
    if "nbedit" not in names:
        names = ["nbedit", *names]  # the reference every other output is checked against
    size = size_of(height)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    print(
        f"python -m bench ({name} mode): a {seconds:g} s edit at {size[0]}x{size[1]}, {edit.FPS} fps, "
        f"{repeat} alternated round(s) (cuts only: {a.repeat or mode.cuts_repeat}); libx264 crf 18 veryfast, "
        "AAC 192k"
    )
    if mode.cuts_contenders and not a.only:
        print(f"cuts-only variant: {', '.join(LABELS[n] for n in mode.cuts_contenders)} (--full: everyone)")
    if not a.no_curves:
        print(
            f"scaling curves: {', '.join(f'{s:g}' for s in mode.lengths)} s at {mode.curve_height}p; "
            f"{', '.join(f'{h}p' for h in mode.heights)} for {mode.curve_seconds:g} s (--full: the issue's sizes)"
        )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)} on {os.cpu_count()} cores")
    missing = [LABELS[n] for n in names if not installed(n)]
    if missing:
        print(f"not installed (pip install -e '.[bench]'): {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="nbedit-bench-") as tmp:
        work = (a.work or Path(tmp)).absolute()
        t0 = time.perf_counter()
        longest = {size: seconds}  # one set of sources for each picture size, long enough for every edit of it
        for _, s, h in [] if a.no_curves else curve_points(mode):
            longest[size_of(h)] = max(s, longest.get(size_of(h), 0))
        sources = {z: edit.make_sources(work / "sources", s, z) for z, s in longest.items()}
        print(
            f"sources: 3 H.264 files (GOP {edit.GOP}, B-frames, AAC) for each of {len(sources)} sizes "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        results = {}
        full_edit = edit.design(sources[size], seconds, size)
        results["edit"] = bench_edit(full_edit, names, repeat, work / "edit", a.timeout, "edit")
        rows = results["edit"]["rows"]
        if all(rows.get(n, {}).get("status") == "ok" for n in ("nbedit", "pyav-floor")) and full_edit.pip:
            print("  x264 on each output again, to weigh the encoder's own work ...", flush=True)
            results["edit"]["encoder_work"] = encoder_work.compare(
                full_edit, work / "edit" / "nbedit.mp4", work / "edit" / "pyav-floor.mp4", repeat
            )
        print_table("the edit (cuts, 2 crossfades, PiP, sound)", results["edit"])
        if not a.no_cuts_only:
            cuts = edit.design(sources[size], seconds, size, cuts_only=True)
            rounds = a.repeat or mode.cuts_repeat
            who = [n for n in names if a.only or mode.cuts_contenders is None or n in mode.cuts_contenders]
            results["cuts_only"] = bench_edit(cuts, who, rounds, work / "cuts", a.timeout, "cuts only")
            print_table("cuts only", results["cuts_only"])
        if not a.no_curves:
            results["curves"] = curves(mode, names, work, a.timeout, sources)
            print_curves(results["curves"])
    load_after = os.getloadavg()
    took = time.perf_counter() - t0
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in load_after)}; the whole run took {took / 60:.1f} min")
    data = {
        "mode": name,
        "date": started.isoformat(timespec="seconds"),
        "settings": {"seconds": seconds, "size": list(size), "fps": edit.FPS, "repeat": repeat,
                     "video": "libx264 crf 18 veryfast mbtree=0 gop 60", "audio": "aac 192k"},
        "load_before": load_before,
        "load_after": load_after,
        "run_s": took,
        "machine": machine(),
        **results,
    }  # fmt: skip
    write_json(a.json, data)
    print(f"results: {a.json}")
    return data
