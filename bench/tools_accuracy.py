"""Accuracy of the AI tools against footage whose truth is known, through the same Session calls a notebook makes.

    python bench/tools_accuracy.py [--frames 48]

Each scene is a textured square (or a drawn face) moving over a still background, written losslessly
(``nbedit.tools.synthetic.Scene``), so the true picture and the true box are known at every frame and between frames:

  interpolation  s.interpolate(clip, factor=2 and 4): PSNR of each made frame against the true picture at that
                 time, beside plain frame blending of the same two frames
  masks          s.mask(clip, box=...) and s.mask(clip, points=[...]): IoU of every frame's mask with the true box
  reframe        s.reframe(clip, aspect="9:16"): horizontal distance from the crop's centre to where a perfect
                 camera would be (the subject's centre, kept far enough from the edges for the crop to fit)

It prints one Markdown table per tool (the figures in docs/ai-tools.md) and the seconds each tool took per frame.
Then, on real photos (scikit-image's) moved along known paths and on espeak-ng speech in noise, the trained models
that registry packages ship beside their classic fallbacks, in one run: bench/accuracy_interp_upscale.py (RIFE,
Real-ESRGAN), bench/accuracy_vision.py (face detector, person segmenter), bench/accuracy_speech_shots.py (Silero
VAD, PySceneDetect); each also runs alone. ``--synthetic`` or ``--learned`` runs one half.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import nbedit
from nbedit.media import VideoReader
from nbedit.render import Compositor, Sources
from nbedit.tools.interpolate import blend
from nbedit.tools.synthetic import Scene, iou, psnr

# speeds are multiples of 4, so the subject sits on whole pixels at every quarter frame too (the truth of x4);
# a name ending in "H.264" is that footage through a lossy encode (crf 23), its truth unchanged
SCENES = {
    "square 320x240, 8 px/frame": Scene(speed=(8, 4)),
    "square 320x240, 8 px/frame, H.264": Scene(speed=(8, 4)),
    "square 320x240, 12 px/frame": Scene(speed=(12, 4), side=64),
    "square 640x360, 16 px/frame": Scene(size=(640, 360), side=80, speed=(16, 8)),
    "face 320x240, 4 px/frame, with a decoy": Scene(subject="face", side=60, speed=(4, 2), decoy=True),
}


def session(folder: Path, scene: Scene, frames: int, lossy: bool) -> nbedit.Session:
    folder.mkdir(parents=True)
    path = h264(scene, folder / "clip.mp4", frames) if lossy else scene.write(folder / "clip.avi", frames=frames)
    s = nbedit.Session(folder / "project")
    s.import_media(path)
    s.append("clip")
    return s


def h264(scene: Scene, path: Path, frames: int) -> str:
    """The scene through x264 at crf 23 (yuv420p): what a camera or a download would give."""
    import av

    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = *scene.size, "yuv420p"
        v.options = {"crf": "23", "preset": "medium"}
        for k in range(frames):
            out.mux(v.encode(av.VideoFrame.from_ndarray(scene.frame(k), format="rgb24")))
        out.mux(v.encode(None))
    return str(path)


def frames_of(media: nbedit.Media) -> list[np.ndarray]:
    with VideoReader(media.path) as r:
        return [r.frame(i) for i in range(len(r))]


def interpolation(s: nbedit.Session, scene: Scene, frames: int, factor: int) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    made = frames_of(s.interpolate("c1", factor=factor, progress=False))
    spent = (time.perf_counter() - t0) / len(made)
    source = frames_of(s.media["clip"])  # blending gets the same (maybe lossy) frames the tool got
    ours, blended = [], []
    for j, img in enumerate(made):
        k, u = divmod(j, factor)
        if u == 0 or k + 1 >= frames:
            continue
        t = u / factor
        truth = scene.frame(k + t)
        ours.append(psnr(img, truth))
        blended.append(psnr(blend(source[k], source[k + 1], t), truth))
    return float(np.mean(ours)), float(np.mean(blended)), spent


def masks(s: nbedit.Session, scene: Scene, frames: int) -> dict[str, tuple[float, float, float]]:
    x0, y0, x1, y1 = scene.box(0)
    w, h = scene.size
    box = (max(0, x0 - 8), max(0, y0 - 8), min(w, x1 + 8), min(h, y1 + 8))
    mid = frames // 2
    out = {}
    for how, kwargs in (("box", {"box": box}), ("point", {"points": [scene.centre(mid)], "at": mid / 24})):
        t0 = time.perf_counter()
        m = s.mask("c1", progress=False, **kwargs)
        spent = (time.perf_counter() - t0) / frames
        scores = [iou(f[..., 0], scene.box(k)) for k, f in enumerate(frames_of(m))]
        out[how] = (float(np.mean(scores)), float(np.min(scores)), spent)
    return out


def reframe(s: nbedit.Session, scene: Scene, frames: int, subject: str) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    s.reframe("c1", aspect="9:16", subject=subject, progress=False)
    spent = (time.perf_counter() - t0) / frames
    comp = Compositor(s.timeline, Sources())
    errors = []
    for n in range(frames):
        layer = comp.plan(n)[-1]
        left, _, right, _ = layer.transform[3]
        width = scene.size[0] - left - right
        ideal = min(max(scene.centre(n)[0], width / 2), scene.size[0] - width / 2)
        errors.append(abs(left + width / 2 - ideal))
    s.undo()
    return float(np.mean(errors)), float(np.max(errors)), spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--synthetic", action="store_true", help="only the synthetic scenes")
    ap.add_argument("--learned", action="store_true", help="only the learned models beside their fallbacks")
    args = ap.parse_args()
    if not args.learned:
        synthetic(args.frames)
    if not args.synthetic:
        learned()


def learned() -> None:
    """The learned-vs-classic tables of the three accuracy modules beside this file, one after another."""
    import accuracy_interp_upscale
    import accuracy_speech_shots
    import accuracy_vision

    for title, module in (
        ("Interpolation and upscaling on real photos", accuracy_interp_upscale),
        ("Faces, reframing and person masks on real photos", accuracy_vision),
        ("Speech in noise and shot cuts", accuracy_speech_shots),
    ):
        found = module.rows()
        print(f"\n{title}: learned model beside its classic fallback\n")
        print("| task | method | metric | value | ms/frame |\n| --- | --- | --- | --- | --- |")
        for r in found:
            value = r.get("value")
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            ms = r.get("ms per frame", r.get("ms"))
            ms_shown = f"{ms:.1f}" if isinstance(ms, float | int) else "-"  # per frame, or per second of sound
            print(f"| {r.get('task', '')} | {r.get('method', '')} | {r.get('metric', '')} | {shown} | {ms_shown} |")


def synthetic(n: int) -> None:
    rows_i, rows_m, rows_r = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, scene) in enumerate(SCENES.items()):
            s = session(Path(tmp) / f"scene{k}", scene, n, lossy=name.endswith("H.264"))
            if scene.subject == "square":
                for factor in (2, 4):
                    ours, base, spent = interpolation(s, scene, n, factor)
                    gain = ours - base
                    rows_i.append(f"| {name} | x{factor} | {ours:.1f} | {base:.1f} | {gain:+.1f} | {spent:.3f} |")
                for how, (mean, low, spent) in masks(s, scene, n).items():
                    rows_m.append(f"| {name} | {how} | {mean:.3f} | {low:.3f} | {spent:.3f} |")
            subjects = ("face", "auto", "saliency") if scene.subject == "face" else ("saliency",)
            for subject in subjects:
                mean, worst, spent = reframe(s, scene, n, subject)
                rows_r.append(f"| {name} | {subject} | {mean:.1f} | {worst:.1f} | {spent:.3f} |")
    print(f"Interpolation: PSNR (dB) of the made frames against the true in-between pictures ({n} source frames)\n")
    print("| footage | factor | flow (ours) | frame blending | gain | s/frame |\n| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows_i))
    print("\nMasks: IoU with the true box over every frame\n")
    print("| footage | prompt | mean IoU | worst frame | s/frame |\n| --- | --- | --- | --- | --- |")
    print("\n".join(rows_m))
    print("\nReframe 9:16: distance (px) from the crop's centre to a perfect camera's\n")
    print("| footage | subject | mean | worst frame | s/frame |\n| --- | --- | --- | --- | --- |")
    print("\n".join(rows_r))


if __name__ == "__main__":
    main()
