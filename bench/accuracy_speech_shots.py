"""Accuracy of the detectors on footage whose truth is known, through the same Session calls a notebook makes.

    python bench/accuracy_speech_shots.py [--runs 3]

  speech  s.speech(clip, method="learned" | "classic"): frame-level F1 (10 ms frames) of the regions found against
          the truth, on espeak-ng sentences mixed into Gaussian noise at known times, at 20, 10 and 0 dB SNR, and
          at 10 dB with noise that comes and goes; time per second of sound (the learned Silero VAD from the
          silero-vad wheel vs the voice-band energy classic)
  shots   s.detect_shots(clip, method="scenedetect" | "classic"): precision and recall of the cuts found at the
          exact frame, on scikit-image photos each panned by a known path, joined by hard cuts at known frames;
          time per frame (PySceneDetect's ContentDetector vs frame difference)

Times are medians of runs alternated between the methods, with the load average printed beside them (the machine
is shared). ``rows()`` gives the table as dicts for bench/tools_accuracy.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from detect_footage import shots, spoken  # noqa: E402

import nbedit  # noqa: E402
from nbedit.tools import speech as sp  # noqa: E402

# held-out sentences: none of them is one the tests use, or one the learned detector's release lag was measured on
SENTENCES = [
    "Cut the interview where she laughs",
    "The second take is much better",
    "Move the music under the titles",
    "We lost the light after six",
    "Render a preview at half size",
    "Keep the wide shot for the ending",
]
NOISES = [(20.0, False), (10.0, False), (0.0, False), (10.0, True)]  # (SNR dB, noise in bursts)
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry", "hubble_deep_field", "grass",
          "brick", "coins"]  # fmt: skip
MOTIONS = {"slow pan (30 frames a shot)": 30, "fast pan (10 frames a shot)": 10}


def _once(s: nbedit.Session, op: str, clip: str, method: str) -> tuple[object, float]:
    """One detector call timed, then undone (the next run starts from the same timeline)."""
    t = time.perf_counter()
    res = getattr(s, op)(clip, method=method, progress=False)
    took = time.perf_counter() - t
    s.undo()
    return res, took


def speech_rows(folder: Path, runs: int) -> list[dict]:
    out = []
    utterances, t = [], 0.8
    for k, text in enumerate(SENTENCES):
        utterances.append((t, text))
        t += 3.2 + 0.4 * (k % 3)  # pauses of different lengths
    seconds = t + 0.5
    for snr, bursts in NOISES:
        name = f"{snr:g} dB SNR" + (", noise in bursts" if bursts else "")
        path, truth = spoken(
            folder / f"{name}.mp4", utterances, seconds=seconds, snr_db=snr, seed=int(snr), bursts=bursts
        )
        s = nbedit.Session(folder / f"speech {name}")
        s.import_media(path, name="talk")
        clip = s.append("talk").id
        labels = sp.frame_labels(truth, seconds)
        found, times = {}, {"learned": [], "classic": []}
        for _ in range(runs):  # alternated, so a burst of load on the shared machine hits both
            for method in times:
                found[method], took = _once(s, "speech", clip, method)
                times[method].append(took)
        for method, res in found.items():
            out.append(
                {
                    "task": f"speech detection, {name}",
                    "method": res.method,
                    "metric": "frame F1 (10 ms)",
                    "value": round(sp.f1(sp.frame_labels(res.found, seconds), labels), 3),
                    "ms": round(1000 * statistics.median(times[method]) / seconds, 2),
                    "per": "second of sound",
                }
            )
        s.close()
    return out


def shot_rows(folder: Path, runs: int) -> list[dict]:
    out = []
    for motion, frames in MOTIONS.items():
        path, cuts = shots(folder / f"shots-{frames}.mp4", PHOTOS, frames=frames)
        s = nbedit.Session(folder / f"shots-{frames}")
        s.import_media(path, name="shots")
        clip = s.append("shots").id
        fps = float(s.fps)
        found, times = {}, {"scenedetect": [], "classic": []}
        for _ in range(runs):
            for method in times:
                found[method], took = _once(s, "detect_shots", clip, method)
                times[method].append(took)
        total = len(PHOTOS) * frames
        for method, res in found.items():
            got = {round(t * fps) for t in res.found}
            hit = len(got & set(cuts))
            for metric, value in (("precision", hit / max(len(got), 1)), ("recall", hit / len(cuts))):
                out.append(
                    {
                        "task": f"shot cuts, {motion}",
                        "method": res.method,
                        "metric": f"{metric} (exact frame)",
                        "value": round(value, 3),
                        "ms": round(1000 * statistics.median(times[method]) / total, 2),
                        "per": "frame",
                    }
                )
        s.close()
    return out


def rows(runs: int = 3) -> list[dict]:
    """The table: speech F1 and shot precision/recall, learned (or library) beside classic, with times."""
    if "NBEDIT_MODELS" not in os.environ:  # the bundled speech detector, built as install-bundled does
        from nbedit.models import bundled

        models = Path(tempfile.mkdtemp(prefix="nbedit-bench-models-"))
        bundled.install(models, ["speech-detector"])
        os.environ["NBEDIT_MODELS"] = str(models)
    with tempfile.TemporaryDirectory() as d:
        return speech_rows(Path(d), runs) + shot_rows(Path(d), runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="alternated runs per method (times are their median)")
    a = ap.parse_args()
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    table = rows(a.runs)
    print(f"load average {' '.join(load)} (before); {os.cpu_count()} CPUs\n")
    print("| task | method | metric | value | ms | per |")
    print("|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['task']} | {r['method']} | {r['metric']} | {r['value']} | {r['ms']} | {r['per']} |")
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
    print(f"\nload average {' '.join(load)} (after)")


if __name__ == "__main__":
    main()
