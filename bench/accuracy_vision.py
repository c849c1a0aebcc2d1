"""Learned face detection and person segmentation against their classic fallbacks, on a real photograph.

    python bench/accuracy_vision.py [--frames 36]

The photo is scikit-image's astronaut (``nbedit.tools.photoscene``), moved along a known shift/zoom path over
another real photo, so the truth is exact at every frame:

  face box     IoU of the detected face with the face box drawn by hand on the photo (photoscene.FACE:
               cheek to cheek, hairline to chin), on the still photo and at each frame of the path; learned:
               the bundled BlazeFace (face-detector), classic: OpenCV's Haar cascade
  reframe      s.reframe(clip, aspect="9:16") on the moving face: distance (px) from the crop's centre to the
               face's centre (kept far enough from the edges for the crop to fit), with the face-detector
               installed and without it (the Haar cascade)
  person mask  IoU of s.mask(clip, subject="person") and of s.mask(clip, box=..., subject="person") with the
               exact mask of a person pasted onto a background: the astronaut cut out along a hand-drawn outline
               (photoscene.PERSON) and laid over rocket, chelsea, grass and coffee (the coffee cup touches her
               head: the hard case). Learned: the bundled selfie segmenter (person-segmenter); classic: GrabCut
               below a Haar face (prompt-free) or in the box, carried by optical flow

ms per frame: the model alone for the face boxes (median of alternated runs), whole Session calls otherwise
(decoding, flow and writing the mask included). The load average is printed with the table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

FACE_PATH = dict(size=(426, 240), scale=0.4, start=(10.0, 0.0), speed=(5.0, 0.5), zoom=0.01)
SMALL_FACE_PATH = dict(size=(426, 240), scale=0.25, start=(40.0, 30.0), speed=(4.0, 0.5), zoom=0.015)
PERSON_BOX = (0, 40, 240, 240)
BACKGROUNDS = ("rocket", "chelsea", "grass", "coffee")


@contextlib.contextmanager
def models_in(folder: Path):
    """Sessions made inside find their model folders only in ``folder`` (empty: the classic tools run)."""
    old = os.environ.get("NBEDIT_MODELS")
    os.environ["NBEDIT_MODELS"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("NBEDIT_MODELS", None)
        else:
            os.environ["NBEDIT_MODELS"] = old


def row(task: str, method: str, metric: str, value: float, ms: float) -> dict:
    return {"task": task, "method": method, "metric": metric, "value": round(float(value), 3), "ms per frame": ms}


def face_rows(models: Path, frames: int) -> list[dict]:
    from nbedit.models import bundled, vision
    from nbedit.tools import detect
    from nbedit.tools.photoscene import FACE, PhotoScene, box_iou, photo

    fd = vision.load_face_detector(bundled.read_installed(models / "face-detector"), "cpu")[0]
    cascade = detect.face_cascade()

    def learned(img):
        found = fd.boxes(img)
        return found[0] if found else None

    def classic(img):
        found = detect.faces(img, cascade)
        return None if not found else (found[0][0], found[0][1], found[0][0] + found[0][2], found[0][1] + found[0][3])

    out = []
    still = photo("astronaut")
    times: dict[str, list[float]] = {"learned": [], "classic": []}
    for _ in range(5):  # alternated, so a change in the machine's load falls on both
        for name, fn in (("learned", learned), ("classic", classic)):
            t = time.perf_counter()
            fn(still)
            times[name].append(time.perf_counter() - t)
    for name, fn, label in (("learned", learned, "learned: face-detector"), ("classic", classic, "classic: haar")):
        box = fn(still)
        ms = round(1000 * statistics.median(times[name]), 1)
        out.append(row("face box, astronaut 512x512", label, "IoU", box_iou(box, FACE) if box else 0, ms))
    for title, path in (("moving, zooming", FACE_PATH), ("small, moving, zooming", SMALL_FACE_PATH)):
        scene = PhotoScene(**path)
        pics = [scene.frame(t) for t in range(frames)]
        for fn, label in ((learned, "learned: face-detector"), (classic, "classic: haar")):
            t0 = time.perf_counter()
            boxes = [fn(p) for p in pics]
            ms = round(1000 * (time.perf_counter() - t0) / frames, 1)
            ious = [box_iou(b, scene.face_box(t)) if b else 0.0 for t, b in enumerate(boxes)]
            task = f"face box, {title} 426x240"
            out.append(row(task, label, "mean IoU", np.mean(ious), ms))
            out.append(row(task, label, "frames found", sum(b is not None for b in boxes) / frames, ms))
    return out


def reframe_rows(models: Path, empty: Path, work: Path, frames: int) -> list[dict]:
    import nbedit
    from nbedit.render import Compositor, Sources
    from nbedit.tools.photoscene import PhotoScene

    out = []
    warm = PhotoScene(**FACE_PATH).write(work / "warm.avi", frames=2)
    for folder in (models, empty):  # the first session imports torch and loads the model: not a cost per frame
        with models_in(folder):
            s = nbedit.Session(work / f"warm-{folder.name}")
            s.import_media(warm)
            s.reframe(s.append("warm", track="V1").id, aspect="9:16", subject="face", progress=False)
    for title, path in (("moving, zooming", FACE_PATH), ("small, moving, zooming", SMALL_FACE_PATH)):
        scene = PhotoScene(**path)
        clip = scene.write(work / f"face-{len(out)}.avi", frames=frames)
        for folder, label in ((models, "learned: face-detector"), (empty, "classic: haar")):
            with models_in(folder):
                s = nbedit.Session(work / f"reframe-{len(out)}")
                s.import_media(clip)
                cid = s.append(Path(clip).stem, track="V1").id
                t0 = time.perf_counter()
                s.reframe(cid, aspect="9:16", subject="face", progress=False)
                ms = round(1000 * (time.perf_counter() - t0) / frames, 1)
            r = s.clip(cid).otio.metadata["nbedit"]["reframe"]
            assert list(r["method"]) == [label.replace("haar", "haar cascade")], r["method"]
            comp = Compositor(s.timeline, Sources())
            crop_w = int(r["size"][0])
            err = []
            for k in range(frames):
                left, _, right, _ = comp.plan(k)[-1].transform[3]
                ideal = np.clip(scene.face_centre(k)[0], crop_w / 2, scene.size[0] - crop_w / 2)
                err.append(abs((left + scene.size[0] - right) / 2 - ideal))
            task = f"reframe 9:16, {title} face"
            out.append(row(task, label, "mean error px", np.mean(err), ms))
            out.append(row(task, label, "max error px", np.max(err), ms))
    return out


def mask_rows(models: Path, empty: Path, work: Path, frames: int) -> list[dict]:
    import nbedit
    from nbedit.media import VideoReader
    from nbedit.tools.photoscene import PhotoScene, mask_iou

    out = []
    for bg in BACKGROUNDS:
        scene = PhotoScene(
            size=(320, 240), scale=0.55, start=(0.0, 240 - 0.55 * 336), speed=(3.0, 0.0), cutout=True, background=bg
        )
        clip = scene.write(work / f"person-{bg}.avi", frames=frames)
        for prompt, kw in (("prompt-free", {}), ("in a box", {"box": PERSON_BOX})):
            for folder, kind in ((models, "learned"), (empty, "classic")):
                with models_in(folder):
                    s = nbedit.Session(work / f"mask-{bg}-{kind}-{len(kw)}")
                    s.import_media(clip)
                    cid = s.append(Path(clip).stem, track="V1").id
                    t0 = time.perf_counter()
                    m = s.mask(cid, subject="person", progress=False, **kw)
                    ms = round(1000 * (time.perf_counter() - t0) / frames, 1)
                ran = s.timeline.metadata["nbedit"]["media"][m.id]["generation"]["ran"]
                with VideoReader(m.path) as r:
                    ious = [mask_iou(r.frame(i)[..., 0], scene.person(i)) for i in range(len(r))]
                task = f"person mask {prompt}, on {bg}"
                out.append(row(task, ran, "mean IoU", np.mean(ious), ms))
                out.append(row(task, ran, "min IoU", np.min(ious), ms))
    return out


def rows(frames: int = 24) -> list[dict]:
    """Every row: learned beside classic, on the same frames in the same run."""
    from nbedit.models import bundled

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models, empty = work / "models", work / "none"
        empty.mkdir()
        built = bundled.install(models, ["face-detector", "person-segmenter"])
        for name, got in built.items():
            if isinstance(got, Exception):
                raise SystemExit(f"{name}: {got}")
        return (
            face_rows(models, frames)
            + reframe_rows(models, empty, work, frames)
            + mask_rows(models, empty, work, min(frames, 12))
        )


def table(found: list[dict]) -> str:
    cols = ["task", "method", "metric", "value", "ms per frame"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in found]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=24, help="frames per moving clip (person masks: at most 12)")
    a = parser.parse_args()
    found = rows(a.frames)
    print(table(found))
    print(f"\nload average: {open('/proc/loadavg').read().split()[0:3]}")


if __name__ == "__main__":
    main()
