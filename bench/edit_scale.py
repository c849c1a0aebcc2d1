"""Edit scaling: how each edit operation's time grows with the timeline, and what a long project costs.

    python bench/edit_scale.py [--sizes 100,1000,5000] [--samples 50]
    python bench/edit_scale.py --quick                       # sizes 100,1000 and smaller counts, for a quick look
    python bench/edit_scale.py --sizes 100,500 --samples 10 --history 500 --journal 500 --recipe 200 --xml 300

Only the public Session API is used, so the numbers compare across rewrites of the internals. The source is one
generated 60 s clip (160x120, 24 fps, H.264 + AAC) made once into a temporary folder. Every timeline is made by
``build`` below: 0.5 s clips appended round-robin on V1..V4 and A1..A4, no gaps, each reading from well inside the
source so that it has handles for crossfades and slips.

Measured, for each size:
  - each edit (append, insert, overwrite, trim ripple / no ripple, split, move across tracks, slip, speed,
    crossfade, delete ripple / lift, undo, redo): median and p99 over --samples calls at random places (seeded),
    the ops alternated sample by sample so load hits them alike; only the call itself is timed, and each one is
    then undone, untimed, so the timeline keeps its size
  - how long building took, and the process RSS after it
Then, once:
  - history memory: RSS growth (after gc) over --history cheap edits (slips and no-ripple trims) at --history-clips
  - reopen: ``nbedit.Session(folder)`` on a project whose journal holds --journal operations, in a fresh process
  - recipe replay: running ``s.recipe()`` of a --recipe operation session as a script, in a fresh process
  - FCP 7 XML import: ``Session(new).import_timeline(xml)`` of an --xml clip export, in a fresh process
The child processes time only the call (not Python's start-up nor ``import nbedit``); --timeout bounds each.
A project of N operations (journal, recipe) is N/2 appends (``build``) then N/2 cheap edits (``cheap_edits``).

Reuse in other measurements:
  ``build(session, clips, media, rng) -> Layout`` appends ``clips`` clips of ``media`` (a Media handle or id) as
  above and returns the Layout: per track, the clips' ids, positions and source in points, in frames at 24 fps.
  ``cheap_edits(session, layout, count, rng)`` then makes ``count`` slips and trims that keep the Layout true.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

import nbedit
from nbedit import media as media_mod

FPS = 24  # the generated source's rate, which the first video clip makes the timeline's
CLIP = 12  # frames: 0.5 s clips
HEAD = 5 * FPS  # source in points stay this far from either end of the 60 s source: handles for every edit
SOURCE_SECONDS = 60
VIDEO = ("V1", "V2", "V3", "V4")
AUDIO = ("A1", "A2", "A3", "A4")
TRACKS = VIDEO + AUDIO

OP_MEDIAN_MS, OP_P99_MS, OP_TARGET_CLIPS = 5.0, 20.0, 5000
HISTORY_MIB, HISTORY_OPS = 200.0, 10_000
REOPEN_S, JOURNAL_OPS = 2.0, 10_000
RECIPE_S, RECIPE_OPS = 15.0, 1_000
XML_S, XML_CLIPS = 5.0, 3_000

FULL = {"sizes": "100,1000,5000", "samples": 50, "history": 10_000, "journal": 10_000, "recipe": 1_000, "xml": 3_000}
QUICK = {"sizes": "100,1000", "samples": 10, "history": 1_000, "journal": 1_000, "recipe": 200, "xml": 300}


# ---- building timelines -------------------------------------------------------------------------------------


@dataclass
class Shot:
    """What the bench knows of one clip, in frames, so that picking a place needs no query of the session."""

    id: str
    track: str
    start: int
    src_in: int
    length: int
    trimmed: bool = False  # cheap_edits' no-ripple trim: one frame in, then back out


Layout = dict[str, list[Shot]]


def sec(frames: int) -> float:
    return frames / FPS


def build(session: nbedit.Session, clips: int, media: nbedit.Media | str, rng: random.Random) -> Layout:
    """Append ``clips`` 0.5 s clips of ``media`` round-robin on V1..V4, A1..A4 (V1 first: it sets the format)."""
    layout: Layout = {t: [] for t in TRACKS}
    for k in range(clips):
        track = TRACKS[k % len(TRACKS)]
        shots = layout[track]
        start = shots[-1].start + CLIP if shots else 0
        src_in = rng.randrange(HEAD, (SOURCE_SECONDS - 1) * FPS - HEAD)
        clip = session.append(media, track=track, src_in=sec(src_in), src_out=sec(src_in + CLIP))
        shots.append(Shot(clip.id, track, start, src_in, CLIP))
    return layout


def cheap_edits(session: nbedit.Session, layout: Layout, count: int, rng: random.Random) -> None:
    """Alternate one-frame slips and one-frame no-ripple trims of src_in on random clips, keeping ``layout`` true."""
    shots = [s for track in layout.values() for s in track]
    for k in range(count):
        shot = rng.choice(shots)
        if k % 2 == 0:
            by = rng.choice((-1, 1))
            session.slip(shot.id, by=sec(by))
            shot.src_in += by
            continue
        step = -1 if shot.trimmed else 1  # back out again, so no clip wanders far from its build position
        session.trim(shot.id, src_in=sec(shot.src_in + step), ripple=False)
        shot.src_in, shot.start, shot.length, shot.trimmed = (
            shot.src_in + step,
            shot.start + step,
            shot.length - step,
            not shot.trimmed,
        )


def project(folder: Path, source: str, ops: int, rng: random.Random) -> nbedit.Session:
    """A session of ``ops`` operations after its import: half appends, half cheap edits."""
    s = nbedit.Session(folder)
    m = s.import_media(source)
    layout = build(s, ops // 2, m, rng)
    cheap_edits(s, layout, ops - ops // 2, rng)
    return s


def check_layout(session: nbedit.Session, layout: Layout, rng: random.Random, n: int = 8) -> None:
    """Compare a few clips with what the public handles say, so the bench's picture of the timeline is right."""
    handles = {c.id: c for c in session.clips}
    shots = [s for track in layout.values() for s in track]
    assert len(handles) == len(shots), f"the session has {len(handles)} clips, the bench placed {len(shots)}"
    for shot in rng.sample(shots, min(n, len(shots))):
        c = handles[shot.id]
        got = (c.track, round(c.start * FPS), round(c.duration * FPS), round(c.src_in * FPS), round(c.src_out * FPS))
        want = (shot.track, shot.start, shot.length, shot.src_in, shot.src_in + shot.length)
        if got != want:
            raise RuntimeError(f"clip {shot.id}: the session says {got}, the bench expected {want}")


# ---- the edits measured -------------------------------------------------------------------------------------

# Each prepares one call at a random place (untimed) and returns it; "undo after" says whether to take it back.
Prepare = Callable[[nbedit.Session, Layout, nbedit.Media, random.Random], Callable[[], object]]


def _shot(layout: Layout, rng: random.Random, tracks: tuple[str, ...] = TRACKS) -> Shot:
    return rng.choice(layout[rng.choice(tracks)])


def _src(rng: random.Random) -> int:
    return rng.randrange(HEAD, (SOURCE_SECONDS - 1) * FPS - HEAD)


def op_append(s, layout, m, rng):
    track, src = rng.choice(TRACKS), _src(rng)
    return lambda: s.append(m, track=track, src_in=sec(src), src_out=sec(src + CLIP))


def op_insert(s, layout, m, rng):
    shot, src = _shot(layout, rng), _src(rng)
    at = shot.start + rng.randrange(shot.length)  # often inside a clip, which insert cuts
    return lambda: s.insert(m, shot.track, at=sec(at), src_in=sec(src), src_out=sec(src + CLIP))


def op_overwrite(s, layout, m, rng):
    shot, src = _shot(layout, rng), _src(rng)
    at = shot.start + rng.randrange(shot.length)
    return lambda: s.overwrite(m, shot.track, at=sec(at), src_in=sec(src), duration=sec(CLIP))


def op_trim_ripple(s, layout, m, rng):
    shot = _shot(layout, rng)
    return lambda: s.trim(shot.id, src_out=sec(shot.src_in + shot.length - 3), ripple=True)


def op_trim_no_ripple(s, layout, m, rng):
    shot = _shot(layout, rng)
    return lambda: s.trim(shot.id, src_in=sec(shot.src_in + 3), ripple=False)


def op_split(s, layout, m, rng):
    shot = _shot(layout, rng)
    at = shot.start + rng.randrange(1, shot.length)
    return lambda: s.split(shot.id, at=sec(at))


def op_move(s, layout, m, rng):
    kind = rng.choice((VIDEO, AUDIO))
    shot = _shot(layout, rng, kind)
    to_track = rng.choice([t for t in kind if t != shot.track])
    to = _shot(layout, rng, (to_track,)).start + rng.randrange(CLIP)  # over what is there
    return lambda: s.move(shot.id, to=sec(to), track=to_track)


def op_slip(s, layout, m, rng):
    shot, by = _shot(layout, rng), rng.choice((-6, -2, 2, 6))
    return lambda: s.slip(shot.id, by=sec(by))


def op_speed(s, layout, m, rng):
    shot, factor = _shot(layout, rng), rng.choice((1.5, 0.75))
    return lambda: s.speed(shot.id, factor)


def op_crossfade(s, layout, m, rng):
    shots = layout[rng.choice(TRACKS)]
    i = rng.randrange(len(shots) - 1)
    a, b = shots[i].id, shots[i + 1].id
    return lambda: s.crossfade(a, b, duration=sec(CLIP))


def op_delete_ripple(s, layout, m, rng):
    shot = _shot(layout, rng)
    return lambda: s.delete(shot.id, ripple=True)


def op_delete_lift(s, layout, m, rng):
    shot = _shot(layout, rng)
    return lambda: s.delete(shot.id, ripple=False)


def op_undo(s, layout, m, rng):
    op_slip(s, layout, m, rng)()
    return s.undo


def op_redo(s, layout, m, rng):
    op_slip(s, layout, m, rng)()
    s.undo()
    return s.redo


OPS: list[tuple[str, Prepare, bool]] = [
    ("append", op_append, True),
    ("insert", op_insert, True),
    ("overwrite", op_overwrite, True),
    ("trim ripple", op_trim_ripple, True),
    ("trim no-ripple", op_trim_no_ripple, True),
    ("split", op_split, True),
    ("move across tracks", op_move, True),
    ("slip", op_slip, True),
    ("speed", op_speed, True),
    ("crossfade", op_crossfade, True),
    ("delete ripple", op_delete_ripple, True),
    ("delete lift", op_delete_lift, True),
    ("undo", op_undo, False),  # the timed undo already restored the timeline
    ("redo", op_redo, True),
]


@dataclass
class OpTimes:
    samples: list[float]
    error: str | None = None


def measure_ops(s: nbedit.Session, layout: Layout, m: nbedit.Media, samples: int, rng: random.Random) -> dict:
    times = {name: OpTimes([]) for name, _, _ in OPS}
    for _ in range(samples):
        for name, prepare, undo_after in OPS:  # alternated, so a load spike hits every op alike
            got = times[name]
            if got.error:
                continue
            try:
                call = prepare(s, layout, m, rng)
                t0 = time.perf_counter()
                call()
                got.samples.append(time.perf_counter() - t0)
            except Exception as e:  # one op broken (say, mid-rewrite) must not hide the others' numbers
                got.error = f"{type(e).__name__}: {e}"
                continue  # a failed operation leaves the session as it was: nothing to undo
            if undo_after:
                s.undo()
    return times


# ---- memory and child processes -------------------------------------------------------------------------------


def rss_mib() -> float:
    """Process RSS after a full gc, with freed heap handed back to the OS so earlier sizes do not linger in it."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the reading just includes free heap
        pass
    return psutil.Process().memory_info().rss / 2**20


CHILD = """
import sys, time
import nbedit
t0 = time.perf_counter()
{call}
seconds = time.perf_counter() - t0
print(seconds, len(result.clips))
"""


def child_seconds(call: str, args: list[str], cwd: Path, timeout: float, clips: int) -> tuple[float | None, str]:
    """Run ``call`` (Python setting ``result`` to a Session; sys.argv[1:] = args) in a fresh interpreter.

    Returns the child's own timing of the call, or None, and a note: why it failed, or that the session it made
    does not hold the ``clips`` expected (a number that measured the wrong thing).
    """
    env = dict(os.environ)
    # the child must import the same nbedit as this process, whatever its working directory
    root = str(Path(nbedit.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(call=call), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:g} s"
    if out.returncode != 0:
        return None, "failed: " + (out.stderr.strip().splitlines() or ["(no output)"])[-1]
    seconds, got = out.stdout.split()[-2:]
    return float(seconds), "" if int(got) == clips else f"made {int(got):,} clips, expected {clips:,}"


# ---- reporting ------------------------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def p99(values: list[float]) -> float:
    """Nearest-rank p99: with fewer than 100 samples, the slowest one."""
    ranked = sorted(values)
    return ranked[max(0, -(-len(ranked) * 99 // 100) - 1)]


def median(values: list[float]) -> float:
    ranked = sorted(values)
    mid = len(ranked) // 2
    return ranked[mid] if len(ranked) % 2 else (ranked[mid - 1] + ranked[mid]) / 2


def cell(text: str) -> str:
    """Text that keeps a markdown table row whole."""
    return " ".join(text.split()).replace("|", "\\|")


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def ops_table(results: dict[int, dict[str, OpTimes]]) -> list[str]:
    sizes = sorted(results)
    top = sizes[-1]
    scope = f"judged at {top:,} clips" + ("" if top >= OP_TARGET_CLIPS else f", meant for {OP_TARGET_CLIPS:,}")
    head = ["op", *(f"{n:,} clips median / p99 ms" for n in sizes), f"target ({scope})", "median", "p99"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, _, _ in OPS:
        cells, ok_med, ok_p99 = [name], None, None
        for n in sizes:
            got = results[n][name]
            if got.error or not got.samples:
                cells.append(f"error: {cell(got.error)}" if got.error else "no samples")
                continue
            med, tail = median(got.samples) * 1000, p99(got.samples) * 1000
            cells.append(f"{med:.1f} / {tail:.1f}")
            if n == top:
                ok_med, ok_p99 = med < OP_MEDIAN_MS, tail < OP_P99_MS
        if results[top][name].error:
            ok_med = ok_p99 = False
        cells += [f"< {OP_MEDIAN_MS:g} / < {OP_P99_MS:g}", verdict(ok_med), verdict(ok_p99)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


@dataclass
class Row:
    what: str
    value: float | None
    unit: str
    target: float | None = None
    note: str = ""

    def cells(self) -> list[str]:
        value = cell(self.note or "n/a") if self.value is None else f"{self.value:.2f} {self.unit}"
        if self.value is not None and self.note:
            value += f" ({cell(self.note)})"
        target = "—" if self.target is None else f"< {self.target:g} {self.unit}"
        ok = None if self.target is None else self.value is not None and self.value < self.target
        return [self.what, value, target, verdict(ok)]


def rows_table(rows: list[Row]) -> list[str]:
    lines = ["| measurement | value | target | |", "|---|---|---|---|"]
    return lines + ["| " + " | ".join(r.cells()) + " |" for r in rows]


def scaled(what: str, count: int, full: int) -> str:
    return what if count == full else f"{what} (target is for {full:,})"


# ---- the measurements ---------------------------------------------------------------------------------------


def per_size(args, tmp: Path, source: str, rows: list[Row]) -> dict[int, dict[str, OpTimes]]:
    results = {}
    for n in sorted(set(args.sizes) | {args.history_clips}):
        rng = random.Random(args.seed + n)
        s = nbedit.Session(tmp / f"size-{n}")
        m = s.import_media(source)
        log(f"building {n:,} clips")
        empty = rss_mib()
        t0 = time.perf_counter()
        layout = build(s, n, m, rng)
        built = time.perf_counter() - t0
        rows.append(Row(f"build {n:,} clips ({n:,} appends)", built, "s"))
        full = rss_mib()
        rows.append(Row(f"RSS after building {n:,} clips", full, "MiB", note=f"+{full - empty:.1f} MiB for the build"))
        check_layout(s, layout, rng)
        if n in args.sizes:
            log(f"{n:,} clips built in {built:.1f} s; timing {len(OPS)} ops x {args.samples} samples")
            results[n] = measure_ops(s, layout, m, args.samples, rng)
            if len(s.clips) != n:
                log(f"warning: {len(s.clips)} clips after the op measurements, expected {n}")
        if n == args.history_clips:
            log(f"history: {args.history:,} cheap edits at {n:,} clips")
            before = rss_mib()
            cheap_edits(s, layout, args.history, rng)
            grown = rss_mib() - before
            what = f"history memory: {args.history:,} ops at {n:,} clips, RSS growth after gc"
            what = scaled(what, args.history, HISTORY_OPS)
            rows.append(Row(what, grown, "MiB", HISTORY_MIB))
        del s, m, layout
    return results


def reopen(args, tmp: Path, source: str, rows: list[Row]) -> None:
    log(f"reopen: making a project of {args.journal:,} operations")
    folder = tmp / "journal"
    project(folder, source, args.journal, random.Random(args.seed + 1)).close()  # the child is the next writer
    call = "result = nbedit.Session(sys.argv[1])"
    secs, why = child_seconds(call, [str(folder)], tmp, args.timeout, args.journal // 2)
    what = scaled(f"reopen with a {args.journal:,}-op journal", args.journal, JOURNAL_OPS)
    rows.append(Row(what, secs, "s", REOPEN_S, why))


def recipe(args, tmp: Path, source: str, rows: list[Row]) -> None:
    log(f"recipe: making a session of {args.recipe:,} operations")
    s = project(tmp / "recipe-src", source, args.recipe, random.Random(args.seed + 2))
    script = tmp / "recipe.py"
    script.write_text(s.recipe())
    cwd = tmp / "replay"  # the recipe makes its own <name>.recipe folder here
    cwd.mkdir()
    call = "import runpy; result = runpy.run_path(sys.argv[1], run_name='__main__')['s']"
    secs, why = child_seconds(call, [str(script)], cwd, args.timeout, args.recipe // 2)
    what = scaled(f"recipe replay, {args.recipe:,} ops", args.recipe, RECIPE_OPS)
    rows.append(Row(what, secs, "s", RECIPE_S, why))


def fcp7(args, tmp: Path, source: str, rows: list[Row]) -> None:
    log(f"FCP 7 XML: exporting {args.xml:,} clips")
    s = nbedit.Session(tmp / "xml-src")
    build(s, args.xml, s.import_media(source), random.Random(args.seed + 3))
    xml = tmp / "cut.xml"
    s.export(xml)
    call = "result = nbedit.Session(sys.argv[1]); result.import_timeline(sys.argv[2])"
    secs, why = child_seconds(call, [str(tmp / "xml-dst"), str(xml)], tmp, args.timeout, args.xml)
    what = scaled(f"FCP 7 XML import, {args.xml:,} clips", args.xml, XML_CLIPS)
    rows.append(Row(what, secs, "s", XML_S, why))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller defaults: {QUICK}")
    parser.add_argument("--sizes", help=f"timeline sizes in clips, comma-separated (default {FULL['sizes']})")
    parser.add_argument("--samples", type=int, help=f"calls timed per op and size (default {FULL['samples']})")
    parser.add_argument("--history", type=int, help=f"cheap edits for the history memory (default {HISTORY_OPS})")
    parser.add_argument("--history-clips", type=int, help="timeline size for the history memory (default: largest)")
    parser.add_argument("--journal", type=int, help=f"operations in the reopened journal (default {JOURNAL_OPS})")
    parser.add_argument("--recipe", type=int, help=f"operations in the replayed recipe (default {RECIPE_OPS})")
    parser.add_argument("--xml", type=int, help=f"clips in the imported FCP 7 XML (default {XML_CLIPS})")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed each child process")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.sizes = sorted({int(n) for n in str(args.sizes).split(",")})
    if args.history_clips is None:
        args.history_clips = args.sizes[-1]
    if min(args.sizes) < 2 * len(TRACKS):
        parser.error(f"sizes must be at least {2 * len(TRACKS)} clips (two per track, for crossfades)")
    return args


def main() -> None:
    args = parse()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at start: {load}  ({os.cpu_count()} CPUs)", flush=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="nbedit-edit-scale-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        source = media_mod.testsrc(tmp / "source.mp4", seconds=SOURCE_SECONDS, fps=FPS, size=(160, 120))
        log(f"source: {SOURCE_SECONDS} s 160x120 {FPS} fps with audio, made in {time.perf_counter() - t0:.1f} s")
        results = per_size(args, tmp, source, rows)
        reopen(args, tmp, source, rows)
        recipe(args, tmp, source, rows)
        fcp7(args, tmp, source, rows)
    print(f"\nEdit ops: {args.samples} samples each, seed {args.seed}; p99 is nearest-rank (below 100: the slowest)\n")
    print("\n".join(ops_table(results)))
    print("\nProject-level:\n")
    print("\n".join(rows_table(rows)))
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
