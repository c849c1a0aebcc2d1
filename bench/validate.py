"""What checking a project's values costs at open: reading a saved timeline with and without ``model.validate``.

    python bench/validate.py [--clips 5000] [--samples 9]

A timeline of --clips clips over V1..V4 (each with an opacity and a keyed blur, so every kind of value is
checked) is saved as OTIO JSON; then, alternated sample by sample so that load hits both alike, the text is read
as a reopen reads its snapshot: ``model.read_otio(text)`` and ``model.read_otio(text, check=True)``, and the
check is timed on its own on a live timeline (``model.validate(tl)``, as an import or ``open_timeline`` runs it,
which serializes it first). Prints the medians, the ratio of checked to plain reading, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nbedit  # noqa: E402
from nbedit import media, model  # noqa: E402


def timeline() -> object:
    """One clip with an opacity on each of V1..V4 (made by the Session, so its values are what nbedit writes)."""
    folder = Path(tempfile.mkdtemp(prefix="nbedit-bench-"))
    src = media.testsrc(folder / "a.mp4", seconds=2, fps=24, size=(64, 48))
    s = nbedit.Session(folder / "project")
    s.import_media(src)
    for name in ("V2", "V3", "V4"):
        s.add_track(name)
    for k in range(4):
        s.opacity(s.append("a", f"V{k + 1}", src_in=0, src_out=0.5), 0.5)
    tl = s.timeline.deepcopy()
    s.close()
    return tl


def grown(tl, clips: int):
    """The timeline with every track grown to clips/4 copies of its first clip, each with a keyed blur."""
    n = model.next_id(tl)
    for track in tl.tracks:
        first = next(iter(track))
        while len(track) < clips // 4:
            c = first.deepcopy()
            data = c.metadata["nbedit"]
            data["id"], n = f"c{n}", n + 1
            data["effects"] = [{"id": "e1", "kind": "blur", "params": {"radius": {"keys": [[0, 1.0], [10, 4.0]]}}}]
            track.append(c)
    tl.metadata["nbedit"]["next_id"] = n
    return tl


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=9)
    a = ap.parse_args()
    tl = grown(timeline(), a.clips)
    text = tl.to_json_string()
    model.validate(tl, "bench")  # a valid timeline: the check passes
    plain, checked, live = [], [], []
    for _ in range(a.samples):
        t0 = time.perf_counter()
        model.read_otio(text, "bench")
        t1 = time.perf_counter()
        model.read_otio(text, "bench", check=True)
        t2 = time.perf_counter()
        model.validate(tl, "bench")
        t3 = time.perf_counter()
        plain.append(t1 - t0)
        checked.append(t2 - t1)
        live.append(t3 - t2)
    p, c, v = (statistics.median(x) * 1000 for x in (plain, checked, live))
    print(f"{a.clips} clips, {len(text) / 2**20:.1f} MiB of JSON, medians of {a.samples} alternated samples:")
    print(f"  read_otio (a reopen's snapshot)       {p:8.1f} ms")
    print(f"  read_otio(check=True)                 {c:8.1f} ms   ratio {c / p:.2f}")
    print(f"  validate(tl) (import, open_timeline)  {v:8.1f} ms   ratio to reading {v / p:.2f}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
