"""Bytes the editor widget sends per edit on a long timeline, against the whole timeline document.

    python bench/widget_bytes.py [--clips 5000]

The timeline (clips spread over V1, V2, A1, A2, one second each, a crossfade at every 25th cut) is written as an
.otio file and opened in one operation. Each gesture runs the way the widget runs it (``Editor.edit``), on clips in
the middle of the tracks; for each it prints the size of the "tracks" message (what changed), the frame message
that follows every change, how many track documents the widget brought up to date (all of them when the session's
changed_tracks is None, as the stand-in core says for the first change a widget sees) and how long that took, what
building those tracks' documents afresh takes (what each change cost before the widget patched them, timed right
after, so both see the same load) and the whole operation's time. The whole doc is what a view gets once, when it
first renders. The load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import nbedit
from nbedit import media
from nbedit.demo import long_timeline
from nbedit.widgets import Editor, timeline_doc, track_doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=5000)
    args = ap.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="nbedit-widget-bytes-"))
    video = media.testsrc(tmp / "src.mp4", seconds=4, fps=24, size=(320, 240), variant=0, tone_hz=440)
    t0 = time.perf_counter()
    path = long_timeline(tmp / "long.otio", str(video), clips=args.clips)
    s = nbedit.Session.from_otio(path, tmp / "project")
    print(
        f"{args.clips} clips on {len(s.tracks)} tracks, {s.duration:.0f} s: built and opened in "
        f"{time.perf_counter() - t0:.1f} s"
    )

    ui = Editor(s)
    rebuilt: list[tuple[float, int, float]] = []  # (seconds, tracks brought up to date, seconds afresh) per change
    rebuild = ui._rebuild

    def timed(changed):
        t = time.perf_counter()
        out = rebuild(changed)
        spent = time.perf_counter() - t
        names = [tr.name for tr in s.timeline.tracks if changed is None or tr.name in changed]
        t = time.perf_counter()
        online = {mid: True for mid in s.media}
        for tr in s.timeline.tracks:
            if tr.name in names:
                track_doc(tr, float(s.fps), online, s.index.track(tr.name))
        rebuilt.append((spent, len(names), time.perf_counter() - t))
        return out

    ui._rebuild = timed
    t = time.perf_counter()
    fresh = timeline_doc(s)
    fresh_ms = (time.perf_counter() - t) * 1000
    ui.send_doc()
    full = ui.traffic[-1][1]
    per_track = {tr["name"]: len(json.dumps(tr, separators=(",", ":"))) for tr in fresh["tracks"]}
    print(
        f"whole doc: {full:,} bytes (built afresh in {fresh_ms:.0f} ms); per track: "
        + ", ".join(f"{n} {b:,}" for n, b in per_track.items())
    )

    fps = float(s.fps)
    tracks = {tr["name"]: tr["items"] for tr in ui.doc["tracks"]}
    mid = len(tracks["V2"]) // 2
    v1, v2 = tracks["V1"][mid + 2], tracks["V2"][mid]
    a1 = tracks["A1"][mid]

    def split_v2() -> None:
        ui.playhead = v2["start"] + 5
        ui.edit({"op": "split"})  # the top clip under the playhead

    gestures = [
        (
            "trim (out, no ripple)",
            lambda: ui.edit({"op": "trim", "clip": v2["id"], "edge": "out", "to": (v2["start"] + v2["dur"] - 6) / fps}),
        ),
        (
            "trim (in, ripple)",
            lambda: ui.edit(
                {"op": "trim", "clip": a1["id"], "edge": "in", "to": (a1["start"] + 4) / fps, "ripple": True}
            ),
        ),
        ("split", split_v2),
        (
            "move V1 -> V2",
            lambda: ui.edit({"op": "move", "clip": v1["id"], "to": v1["start"] / fps + 0.5, "track": "V2"}),
        ),
        ("delete (lift)", lambda: ui.edit({"op": "delete", "clips": [tracks["A2"][mid]["id"]]})),
        ("undo", lambda: ui.edit({"op": "undo"})),
        ("redo", lambda: ui.edit({"op": "redo"})),
        ("undo", lambda: ui.edit({"op": "undo"})),
    ]
    print(
        f"\n{'gesture':24s} {'tracks msg':>11s} {'frame msg':>10s} {'of whole':>9s} {'patched':>8s} {'widget':>9s}"
        f" {'afresh':>9s} {'ratio':>6s} {'op total':>9s}"
    )
    for name, gesture in gestures:
        before = len(ui.traffic)
        rebuilt.clear()
        t = time.perf_counter()
        gesture()
        total = time.perf_counter() - t
        sent = list(ui.traffic)[before:]
        change = sum(n for k, n in sent if k == "tracks")
        frame = sum(n for k, n in sent if k == "frame")
        spent, count, afresh = (sum(r[k] for r in rebuilt) for k in range(3))
        print(
            f"{name:24s} {change:>11,} {frame:>10,} {change / full:>9.2%} {count:>2d} tracks {spent * 1000:>7.1f}ms"
            f" {afresh * 1000:>7.1f}ms {afresh / spent:>5.0f}x {total * 1000:>7.0f}ms"
        )
    assert ui.doc == timeline_doc(s), "the widget's documents drifted from the session"
    print("\nthe widget's doc equals a fresh one after all of them")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (at the start: {load})")
    ui.close()


if __name__ == "__main__":
    main()
