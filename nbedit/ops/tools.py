"""AI editing tools: plain operation functions over an edit context (``s.mask`` runs :func:`mask`).

    slow = s.interpolate("c1", factor=4)                 # 4x the frames (RIFE, or optical flow): place, slow it
    big = s.upscale("c1", factor=2)                      # twice the size (Real-ESRGAN, or Lanczos)
    s.reframe(aspect="9:16")                             # the whole timeline to vertical, following the subject
    s.reframe("c2", aspect="1:1", subject="face")
    m = s.mask("c3", box=(420, 120, 760, 600))           # the object in the box, carried through the clip
    p = s.mask("c3", subject="person")                   # the person in every frame (bundled person segmenter)

The data each one leaves is plain OTIO metadata (see ``nbedit.tools.keyframes``):

    clip  metadata["nbedit"]["reframe"]  {"aspect", "subject", "size": [w, h], "center": keys, "shots": [...]}
    clip  metadata["nbedit"]["masks"]    ids of the mask media made from the clip (the preview overlays them)

Masks are used through the compositing graph (``s.composite``, ``s.effect(..., mask=m)``: ``nbedit.ops.graph``).
Interpolated frames and masks are lossless media files in ``<project>/tools/`` with their provenance on the pool
entry (made, reused and replayed through ``nbedit.ops.derived``); reopening a project takes them (and reframe's
analysis) from the journal instead of working them out again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio

from .. import args
from .. import model as schema
from ..errors import EditError, MediaError, NbeditError, TimeRangeError
from ..index import TrackIndex
from ..model import ClipId, MediaId, source_at
from ..timeline import Time
from ..tools import camera
from . import derived, edit
from .context import Edit
from .graph import video_clip

VERSION = 1  # of the tools' algorithms: part of every output's key, so a change makes new files
# what a model folder for each tool declares in its card (nbedit.models.cards.TASKS must know the name for the
# folder to be picked without being named)
TASKS = {"interpolate": "frame-interpolation", "mask": "segmentation", "reframe": "subject-detection"}


# ---- tools that look at the pictures ------------------------------------------------------------------


def interpolate(
    e: Edit,
    clip: Any,
    factor: float | None = None,
    *,
    fps: float | str | None = None,
    model: str | None = None,
    progress: bool = True,
) -> MediaId:
    """The frames a clip shows, with new frames made in between, as new lossless media of the same length.

    ``slow = s.interpolate("c1", factor=4)`` makes four frames for each one (96 fps from 24): place it and
    slow it down for smooth slow motion (``s.speed(s.append(slow), 0.25)``); ``fps=60`` converts the rate
    instead. Frames come from RIFE when its folder is installed (``nbedit models install-bundled``), else
    from optical flow with occlusion-aware blending; ``model="flow"`` asks for the flow, ``model=`` a folder
    name another learned interpolator (an ONNX model taking two pictures and a time). Which one ran is in the
    media's provenance (``method``). A hard cut between two frames is never blended across: the frames
    made there repeat the nearer side's picture.
    """
    cid, ti, i = video_clip(e, clip, "interpolate")
    entry = entry_of(e, ti.items[i])
    if entry["kind"] != "video" or not entry.get("fps"):
        raise EditError(f"interpolate needs moving pictures: clip {cid!r} shows a {entry['kind']}")
    src_fps = Fraction(entry["fps"])
    if (factor is None) == (fps is None):
        raise EditError("give factor (4: four frames for each one) or fps (60: a new rate), one of them")
    if factor is not None:
        if not args.finite(factor) or factor < 1 or factor > 64:
            raise EditError(f"factor must be a number from 1 to 64 (4: four frames for each one), not {factor!r}")
        out_fps = src_fps * Fraction(factor).limit_denominator(1000)
    else:
        out_fps = args.rate(fps)
    reused = derived.reuse(e, replace=True)
    if reused is not None:
        return reused
    engine, method, pin = _interpolator(e, model)
    with reader_of(entry) as reader:
        first, last = span(e, reader, ti, i)
        count = max(1, round(Fraction(last - first + 1) * out_fps / src_fps))
        cuts = _cuts(reader, first, last)
        job = {
            "tool": "interpolate",
            "version": VERSION,
            "opencv": _opencv(),
            "source": entry["sha256"],
            "first": first,
            "last": last,
            "fps": str(out_fps),
            "method": method,
            "cuts": cuts,
        }
        key = derived.key_of(job)
        path = derived.path_for(e, "interpolate", key, folder=derived.TOOLS)
        info = derived.cached(e, path, key)
        if info is None:
            desc = f"interpolate {cid} ({engine.name})"
            step = src_fps / out_fps
            frames = _interpolated(reader, engine, first, count, step, progress, desc, set(cuts))
            derived.write_video(path, frames, out_fps)
            info = derived.made(path, key, job)
        start = float(reader.frame_times[first])
    name = f"{Path(entry['name']).stem}-{_fps_label(out_fps)}fps"
    gen = {**job, "clip": cid, "start": start, "frames": count, "key": key}
    if pin is not None and model is None:
        e.pin(model=pin)
    return _made(e, path, name, gen, info)


def _interpolator(e: Edit, model: str | None) -> tuple[Any, Any, str | None]:
    """(engine, the method its provenance records, the model a recorded call pins): a model folder the user
    named or dropped in first, then the bundled RIFE, then optical flow."""
    from ..models import rife
    from ..tools import interpolate as ip

    if model == "flow":
        return ip.FlowInterpolator(), "flow", None
    if model == rife.NAME or (model is None and not _able(e, "interpolate")):
        found = bundled_model(e, rife.NAME, rife.TASK, rife.load)
        if found is not None:
            runner, inst = found
            return runner, {"model": inst.name, "sha256": inst.weights_sha256, **inst.provenance}, inst.name
    m = tool_model(e, "interpolate", model)
    if m is None:
        return ip.FlowInterpolator(), "flow", None
    try:
        engine = ip.OnnxInterpolator(m.model)
    except ValueError as err:
        raise EditError(f"interpolate: {err}") from None
    return engine, {"model": m.name, "sha256": m.sha256}, m.name


def _able(e: Edit, op: str) -> bool:
    """A model folder (not a bundled one) here declares the tool's task."""
    pool = e.env.models() if e.env.models is not None else None
    return pool is not None and bool(pool.able(TASKS[op]))


def _cuts(reader: Any, first: int, last: int) -> list[int]:
    """Source frames (first..last) that start a new shot: interpolation never blends across them."""
    w, h = reader.info.width or 0, reader.info.height or 0
    small = _frames(reader, first, last, _analysis_size(w, h, 160), False, "")
    return [first + k for k in camera.shot_cuts(small)]


def upscale(
    e: Edit,
    clip: Any,
    factor: int = 2,
    *,
    model: str | None = None,
    progress: bool = True,
) -> MediaId:
    """The frames a clip shows, ``factor`` (2 or 4) times larger, as new lossless media of the same length.

    ``big = s.upscale("c1", factor=2)`` runs Real-ESRGAN when its folders are installed (``nbedit models
    install-bundled``: realesr-animevideov3-x2 for 2, realesr-animevideov3-x4 for 4; ``model=
    "realesrgan-x4plus"`` is the slower photo model), else Lanczos resampling (``model="lanczos"`` asks for
    it). Which one ran is in the media's provenance (``method``). Place it with ``s.overwrite(big, ...)``.
    """
    from ..models import upscaler as up

    cid, ti, i = video_clip(e, clip, "upscale")
    entry = entry_of(e, ti.items[i])
    if entry["kind"] != "video" or not entry.get("fps"):
        raise EditError(f"upscale needs moving pictures: clip {cid!r} shows a {entry['kind']}")
    if isinstance(factor, bool) or factor not in (2, 4):
        raise EditError(f"factor must be 2 or 4 (the sizes the upscaling models make), not {factor!r}")
    factor = int(factor)
    if model is not None and model != "lanczos" and model not in up.MODELS:
        raise EditError(f"model must be one of {', '.join([*up.MODELS, 'lanczos'])}, not {model!r}")
    if model in up.MODELS and up.MODELS[model][0] != factor:
        raise EditError(f"{model} upscales x{up.MODELS[model][0]}, not x{factor}: give factor={up.MODELS[model][0]}")
    reused = derived.reuse(e, replace=True)
    if reused is not None:
        return reused
    found = None if model == "lanczos" else bundled_model(e, model or up.DEFAULT[factor], up.TASK, up.load)
    if found is None:
        runner, inst, method = None, None, "lanczos"
    else:
        runner, inst = found
        method = {"model": inst.name, "sha256": inst.weights_sha256, "graph_sha256": runner.graph_sha256}
        method.update(inst.provenance)
    with reader_of(entry) as reader:
        first, last = span(e, reader, ti, i)
        job = {
            "tool": "upscale",
            "version": VERSION,
            "runtime": _opencv() if inst is None else _ncnn(),
            "source": entry["sha256"],
            "first": first,
            "last": last,
            "factor": factor,
            "method": method,
        }
        key = derived.key_of(job)
        path = derived.path_for(e, "upscale", key, folder=derived.TOOLS)
        info = derived.cached(e, path, key)
        if info is None:
            run = (lambda img: up.classic(img, factor)) if runner is None else runner.run
            bar = _bar(last - first + 1, progress, f"upscale {cid} ({'lanczos' if inst is None else inst.name})")

            def frames():
                for k in range(first, last + 1):
                    yield run(reader.frame(k))
                    bar.update(1)

            try:
                derived.write_video(path, frames(), Fraction(entry["fps"]))
            finally:
                bar.close()
            info = derived.made(path, key, job)
        start = float(reader.frame_times[first])
    gen = {**job, "clip": cid, "start": start, "frames": last - first + 1, "key": key}
    if inst is not None and model is None:
        e.pin(model=inst.name)
    return _made(e, path, f"{Path(entry['name']).stem}-x{factor}", gen, info)


def mask(
    e: Edit,
    clip: Any,
    *,
    box: tuple[int, int, int, int] | None = None,
    points: list[tuple[int, int]] | None = None,
    subject: str | None = None,
    at: Time | None = None,
    invert: bool = False,
    model: str | None = None,
    progress: bool = True,
) -> MediaId:
    """A mask of the object in ``box`` (x0, y0, x1, y1) or under ``points`` [(x, y), ...], or of the person
    (``subject="person"``), through the clip.

    ``m = s.mask("c3", box=(420, 120, 760, 600))``: coordinates are source pixels of the frame on screen at
    timeline time ``at`` (the clip's first frame by default). The object is found there (GrabCut, or a
    segmentation model folder: ``model="sam"``) and carried through every frame of the clip by optical flow.
    ``m = s.mask("c3", subject="person")`` needs no prompt: the bundled person segmenter (``nbedit models
    install-bundled``) finds the person in every frame; ``s.mask("c3", box=..., subject="person")`` keeps to the
    person in the box, carried by flow and segmented again inside the carried box each frame. Without the
    segmenter the classic way runs (a face by OpenCV's cascade, then GrabCut below it; GrabCut in the box) and
    the mask's provenance says so: ``s.timeline.metadata["nbedit"]["media"][m.id]["generation"]["ran"]``.
    The mask is lossless grey media (white: the object; ``invert=True``: everything else) linked to the clip;
    use it with ``s.composite(...)`` and ``s.effect(..., mask=m)``.
    """
    from ..tools import masks as mk

    cid, ti, i = video_clip(e, clip, "mask")
    item, p = ti.items[i], ti.placed(i)
    entry = entry_of(e, item)
    w, h = int(entry.get("width") or 0), int(entry.get("height") or 0)
    if subject not in (None, "person"):
        raise EditError(f"subject is 'person' (or left out to mask what box or points show), not {subject!r}")
    if subject is None and (box is None) == (points is None):
        raise EditError("give box=(x0, y0, x1, y1) or points=[(x, y), ...], one of them (or subject='person')")
    if subject is not None and (points is not None or model is not None):
        raise EditError("subject='person' takes a box or nothing: give no points and no model")
    if box is not None:
        box = _box(box, w, h)
    elif points is not None:
        points = _points(points, w, h)
    if not isinstance(invert, bool):
        raise EditError(f"invert must be True or False, not {invert!r}")
    frame = p.start if at is None else e.frames(at, "at")
    if not p.start <= frame < p.end:
        raise TimeRangeError(
            f"at={at} is not on clip {cid!r}, which runs {float(p.start / e.rate):.3f}-{float(p.end / e.rate):.3f} s"
        )
    reused = derived.reuse(e, replace=True)
    if reused is not None:
        _link_mask(e, cid, reused)
        return reused
    person = None
    if subject == "person":
        from ..models import vision

        person = bundled_model(e, "person-segmenter", "person-segmentation", vision.load_person_segmenter)
        m = None
    else:
        m = tool_model(e, "mask", model) if model is not None or box is not None else None  # models take boxes
    if m is not None and points is not None:
        raise EditError("a segmentation model is prompted with a box: give box=(x0, y0, x1, y1)")
    try:
        segmenter = None if m is None else mk.SegmentModel(m.model)
    except ValueError as err:
        raise EditError(f"mask: {err}") from None
    if person is not None:
        segmenter = person[0]
    with reader_of(entry) as reader:
        first, last = span(e, reader, ti, i)
        key_index = reader.index_at(float(source_at(item, frame - p.start) / e.rate))
        key_index = min(max(key_index, first), last)
        job = {
            "tool": "mask",
            "version": VERSION,
            "opencv": _opencv(),
            "source": entry["sha256"],
            "first": first,
            "last": last,
            "at": key_index,
            "box": None if box is None else list(box),
            "points": None if points is None else [list(q) for q in points],
            "invert": invert,
            "method": "grabcut+flow" if m is None else {"model": m.name, "sha256": m.sha256},
        }
        if subject is not None:  # (only then: masks made before keep their keys)
            classic = "grabcut+flow" if box is not None else "haar+grabcut+flow"
            job["subject"] = subject
            job["method"] = person[1].provenance if person is not None else classic
            job["ran"] = "learned: person-segmenter" if person is not None else f"classic: {classic}"
        key = derived.key_of(job)
        path = derived.path_for(e, "mask", key, folder=derived.TOOLS)
        info = derived.cached(e, path, key)
        if info is None:
            ww, wh = mk.work_size(w, h)
            k = ww / w
            frames = _frames(reader, first, last, (ww, wh), progress, f"read {cid}")
            start = key_index - first
            wbox = None if box is None else tuple(round(v * k) for v in box)
            bar = _bar(len(frames) - 1 if person is None or box is not None else len(frames), progress, f"mask {cid}")
            if person is not None and box is None:  # prompt-free: the person in each frame on its own
                found = []
                for f in frames:
                    found.append(segmenter.mask(f))
                    bar.update(1)
            else:
                if wbox is not None:
                    seed = segmenter.mask(frames[start], wbox) if segmenter else mk.from_box(frames[start], wbox)
                elif points is not None:
                    seed = mk.from_points(frames[start], [(x * k, y * k) for x, y in points])
                else:
                    seed = mk.person_below_face(frames[start])
                    if seed is None:
                        bar.close()
                        raise EditError(
                            f"mask: no face on clip {cid!r} at its frame {key_index} to find the person by (the "
                            "person segmenter is not installed: nbedit models install-bundled). Give box=(x0, y0, "
                            "x1, y1) around the person, or at= a frame where the face shows"
                        )
                found = mk.track(frames, start, seed, model=segmenter, step=lambda: bar.update(1))
            bar.close()
            derived.write_video(
                path, (mk.full_size(f, w, h, invert) for f in found), Fraction(entry["fps"] or 24), gray=True
            )
            info = derived.made(path, key, job)
        start_time = float(reader.frame_times[first])
    gen = {**job, "clip": cid, "start": start_time, "frames": last - first + 1, "key": key}
    if m is not None and model is None:
        e.pin(model=m.name)
    mid = _made(e, path, f"mask-{cid}", gen, info)
    _link_mask(e, cid, mid)
    return mid


def reframe(
    e: Edit,
    clip: Any = None,
    *,
    aspect: str | float = "9:16",
    subject: str = "auto",
    model: str | None = None,
    progress: bool = True,
) -> ClipId | None:
    """Crop to another aspect, following the subject with a steady virtual camera.

    ``s.reframe(aspect="9:16")`` turns the whole timeline vertical: the format becomes the largest 9:16 inside
    it and every full-frame clip follows its subject (picture-in-picture clips keep their transform).
    ``s.reframe("c2", aspect="1:1", subject="face")`` reframes one clip inside the timeline's frame.
    ``subject``: "auto" (faces where a shot has them, else a person, else what stands out), "face", "person",
    "saliency", "center", or a subject model folder (``model=``, an ONNX heat map). Faces are found by the
    bundled learned detector and people by the bundled person segmenter when they are installed (``nbedit
    models install-bundled``), else by OpenCV's cascade and saliency; the clip's ``reframe["method"]`` says
    which ran in each shot, ``["models"]`` names the weights. The camera holds still while the subject
    barely moves and cuts where the shot cuts; its path is kept as crop keys (``s.keyframe(clip,
    "reframe", at=..., value=(x, y))`` moves it).
    """
    from ..tools import detect

    try:
        ratio = camera.aspect_ratio(aspect)
    except ValueError as err:
        raise EditError(str(err)) from None
    if subject not in SUBJECTS:
        raise EditError(f"subject must be one of {', '.join(SUBJECTS)}, not {subject!r}")
    if clip is None:
        fmt = e.format
        if not fmt:
            raise EditError("reframe: the timeline is empty")
        cw, ch = camera.crop_size(int(fmt["width"]), int(fmt["height"]), ratio)
        cw, ch = max(2, cw // 2 * 2), max(2, ch // 2 * 2)  # even, for yuv420p renders
        ratio = Fraction(cw, ch)  # each clip's crop then fills the new frame exactly
        videos = [e.index.track(t.name) for t in e.timeline.tracks if t.kind == otio.schema.TrackKind.Video]
        targets = [
            cid
            for ti in videos
            for cid, item in zip(ti.ids, ti.items, strict=True)
            if cid is not None and _full_frame(schema.transform_of(item))
        ]
    else:
        targets = [video_clip(e, clip, "reframe")[0]]
    if e.replaying and "clips" in e.saved:  # reopening: the analysis as it was recorded
        results = schema.plain(e.saved["clips"])
    else:
        m = tool_model(e, "reframe", model) if model is not None or subject == "auto" else None
        try:
            finder = None if m is None else detect.HeatmapModel(m.model)
        except ValueError as err:
            raise EditError(f"reframe: {err}") from None
        looks = _subject_finders(e, subject) if m is None else {"model": f"model: {m.name}"}
        results = _reframe_all(e, targets, ratio, aspect, subject if m is None else "model", finder, looks, progress)
        if m is not None and model is None:
            e.pin(model=m.name)
    if clip is None:
        e.inner(edit.set_format, width=cw, height=ch, fps=e.rate)
    for cid in targets:
        e.set_clip(cid, "reframe", results[cid])
    e.keep(clips=results)
    return None if clip is None else ClipId(targets[0])


def _subject_finders(e: Edit, subject: str) -> dict:
    """What looks for the subject: {"face": finder, "person": finder, "<kind>": "learned: x" | "classic: y",
    "models": [provenance]}: the bundled learned models where installed, the classic ones otherwise."""
    from ..models import vision
    from ..tools import detect

    out: dict[str, Any] = {"models": [], "saliency": "classic: spectral residual", "center": "center"}
    if subject in ("face", "auto"):
        found = bundled_model(e, "face-detector", "face-detection", vision.load_face_detector)
        if found is not None:
            out["face"] = detect.face_finder(found[0].boxes)
            out["face method"] = "learned: face-detector"
            out["models"].append(found[1].provenance)
        else:
            out["face"], out["face method"] = detect.face_finder(), "classic: haar cascade"
        if subject == "face" and out["face"] is None:
            raise EditError(
                "no face detector here: install the learned one (nbedit models install-bundled) or use an "
                "OpenCV with the Haar cascade (opencv-python-headless<5), or use subject='saliency'"
            )
    if subject in ("person", "auto"):
        found = bundled_model(e, "person-segmenter", "person-segmentation", vision.load_person_segmenter)
        if found is not None:
            out["person"] = detect.person_finder(found[0].probability)
            out["person method"] = "learned: person-segmenter"
            out["models"].append(found[1].provenance)
        elif subject == "person":
            raise EditError(
                "subject='person' needs the person segmenter: build it with nbedit models install-bundled "
                "(from the mediapipe 0.10.21 wheel), or use subject='auto'"
            )
    return out


def bundled_model(e: Edit, name: str, task: str, load: Any) -> tuple[Any, Any] | None:
    """A bundled trained model (runner, installed folder), kept resident by the session's models; None when it
    is not installed (``nbedit models install-bundled``): the tool runs its classic method and says so."""
    pool = e.env.models() if e.env.models is not None else None
    if pool is None:
        return None
    try:
        return pool.bundled(name, task=task, load=load)
    except NbeditError as err:
        raise EditError(f"the bundled {name} cannot run: {err}") from None


def _reframe_all(
    e: Edit, targets: list[str], ratio: Fraction, aspect: Any, subject: str, finder, looks: dict, progress
) -> dict:
    from ..tools import detect

    rate = e.rate
    spans = []  # (clip, media entry, first and last media frame it shows)
    for cid in targets:
        _, ti, i = video_clip(e, cid, "reframe")
        entry = entry_of(e, ti.items[i])
        with reader_of(entry) as reader:
            spans.append((cid, entry, *span(e, reader, ti, i)))
    looked = 1 if subject == "center" else 2  # each frame is read, then looked at
    bar = _bar(looked * sum(b - a + 1 for *_, a, b in spans), progress, "reframe")
    results = {}
    try:
        for cid, entry, first, last in spans:
            w, h = int(entry["width"]), int(entry["height"])
            aw, ah = _analysis_size(w, h, detect.ANALYSIS_WIDTH)
            with reader_of(entry) as reader:
                small = _frames(reader, first, last, (aw, ah), False, "", step=lambda: bar.update(1))
                positions = [float(reader.frame_times[i] * rate) for i in range(first, last + 1)]
                fps = float(entry.get("fps") and Fraction(entry["fps"]) or rate)
            cuts = camera.shot_cuts(small)
            if subject == "center":
                found, used = np.full((len(small), 2), np.nan), ["center"] * (len(cuts) + 1)
            else:
                found, used = detect.centres(
                    small,
                    subject,
                    cuts,
                    finder,
                    face=looks.get("face"),
                    person=looks.get("person"),
                    step=lambda: bar.update(1),
                )
            found = found * np.asarray([w / aw, h / ah])
            crop = camera.crop_size(w, h, ratio)
            path = camera.camera_path(found, cuts, (w, h), crop, fps)
            results[cid] = {
                "aspect": aspect if isinstance(aspect, str) else float(aspect),
                "subject": subject,
                "found_by": used,
                "method": [looks.get(f"{u} method", looks.get(u)) for u in used],
                "models": [p for p in looks.get("models", []) if _used(p, used)],
                "size": list(crop),
                "center": camera.keyframes(path, positions, cuts),
                "shots": [camera.key_position(positions[c]) for c in cuts],
            }
    finally:
        bar.close()
    return results


# ---- the pictures the tools read, and the models they run ---------------------------------------------------


def entry_of(e: Edit, item: Any) -> Any:
    """The pool entry of the media a clip shows."""
    return e.entry(schema.media_of(item))


@contextmanager
def reader_of(entry: Any) -> Iterator[Any]:
    """A VideoReader of pool media (a MediaError when it is offline: the tools need its frames)."""
    from ..media import VideoReader

    if not os.path.exists(entry["path"]):
        raise MediaError(f"media {entry['name']!r} is offline ({entry['path']}): the tools need its frames")
    reader = VideoReader(entry["path"], info=schema.media_info(entry))
    try:
        yield reader
    finally:
        reader.close()


def span(e: Edit, reader: Any, ti: TrackIndex, i: int) -> tuple[int, int]:
    """The first and last media frames clip i of a track shows."""
    item, rate = ti.items[i], e.rate
    first = reader.index_at(float(source_at(item, 0) / rate))
    last = reader.index_at(float(source_at(item, ti.dur[i] - 1) / rate))
    return first, max(first, last)


def tool_model(e: Edit, op: str, model: str | None) -> Any:
    """The model folder a tool runs, through the session's resident models; None: the classic way.

    Named models are used as named; with none named, a folder whose card declares the tool's task is used
    when there is one (and the recorded call then names it).
    """
    from ..models.cards import TASKS as KNOWN

    task = TASKS[op]
    if model is None and task not in KNOWN:
        return None  # no card can declare the task yet: nothing to look for (and torch stays unloaded)
    pool = e.env.models() if e.env.models is not None else None
    if model is None:
        if pool is None:
            return None
        able = pool.able(task)
        if not able:
            return None
        model = sorted(able)[0]
    if pool is None:
        raise EditError(f"{op}: model folders need nbedit.models, which this installation lacks")
    # a card that names a task must name this one; a bare model.onnx is judged by its inputs and outputs
    declared = pool.card(model).task is not None
    m = pool.get(model, task=task if task in KNOWN and declared else None, op=op)
    if m.kind != "onnx":
        raise EditError(f"{op} runs ONNX model folders (model.onnx); {m.name!r} is a {m.kind} model")
    return m


# ---- the media the tools make -------------------------------------------------------------------------------


def _made(e: Edit, path: Path, name: str, gen: dict, info: Any) -> MediaId:
    """Pool media for a file a tool made (its entry takes this call's provenance), kept for replays."""
    mid = derived.add(e, path, name, gen, info, replace=True)
    derived.remember(e, schema.media_info(e.entry(mid)), name, gen)
    return mid


def _link_mask(e: Edit, cid: str, mask_id: str) -> None:
    ti, i = e.find(cid)
    linked = [m for m in schema.masks_of(ti.items[i]) if m != mask_id]
    e.set_clip(cid, "masks", [*linked, mask_id])


# ---- small helpers ------------------------------------------------------------------------------------------


SUBJECTS = ("auto", "face", "person", "saliency", "center")


def _used(provenance: dict, used: list[str]) -> bool:
    """Whether a learned model's findings went into the path (a shot found its subject by it)."""
    return {"face-detector": "face", "person-segmenter": "person"}.get(provenance["model"]) in used


def _opencv() -> str:
    import cv2

    return cv2.__version__


def _ncnn() -> str:
    import ncnn

    return f"ncnn {ncnn.__version__}"


def _bar(total: int, progress: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="frame", desc=desc, leave=False, disable=not progress)


def _frames(reader: Any, first: int, last: int, size: tuple[int, int], progress: bool, desc: str, step=None) -> list:
    """Frames first..last of a reader at ``size`` (width, height)."""
    import cv2

    out = []
    bar = _bar(last - first + 1, progress, desc) if step is None else None
    for i in range(first, last + 1):
        img = reader.frame(i)
        if (img.shape[1], img.shape[0]) != size:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        out.append(img)
        if bar is not None:
            bar.update(1)
        else:
            step()
    if bar is not None:
        bar.close()
    return out


def _interpolated(
    reader: Any, engine: Any, first: int, count: int, step: Fraction, progress: bool, desc: str, cuts: set[int]
):
    """Output frame j shows source position first + j * step: a source frame when whole, else one made between
    (or, where frame i + 1 starts a new shot, the nearer of the two)."""
    import math

    bar = _bar(count, progress, desc)
    pair, pair_at = None, None
    try:
        for j in range(count):
            q = Fraction(j) * step
            i = first + math.floor(q)
            u = q - math.floor(q)
            if u == 0 or i + 1 >= len(reader):
                yield reader.frame(min(i, len(reader) - 1))
            elif i + 1 in cuts:
                yield reader.frame(i if u < Fraction(1, 2) else i + 1)
            else:
                if pair_at != i:
                    pair, pair_at = engine.pair(reader.frame(i), reader.frame(i + 1)), i
                yield engine.between(pair, float(u))
            bar.update(1)
    finally:
        bar.close()


def _analysis_size(w: int, h: int, width: int) -> tuple[int, int]:
    if w <= width:
        return w, h
    return width, max(2, round(h * width / w))


def _full_frame(transform: Any) -> bool:
    """A clip placed as it is (no move, scale or crop): reframing the timeline reframes it."""
    if transform is None:
        return True
    return float(transform["x"]) == 0 and float(transform["y"]) == 0 and float(transform["scale"]) == 1


def _box(box: Any, w: int, h: int) -> tuple[int, int, int, int]:
    if not isinstance(box, tuple | list) or len(box) != 4 or not all(args.finite(v) for v in box):
        raise EditError(f"box is four numbers (x0, y0, x1, y1) in source pixels, not {box!r}")
    x0, y0, x1, y1 = (round(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise EditError(f"box {tuple(box)} has no area: x1 must be right of x0 and y1 below y0")
    if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
        raise EditError(f"box {tuple(box)} reaches outside the {w}x{h} picture")
    return x0, y0, x1, y1


def _points(points: Any, w: int, h: int) -> list[tuple[int, int]]:
    if not isinstance(points, tuple | list) or not points:
        raise EditError(f"points is a list of (x, y) in source pixels, not {points!r}")
    out = []
    for q in points:
        if not isinstance(q, tuple | list) or len(q) != 2 or not all(args.finite(v) for v in q):
            raise EditError(f"a point is (x, y) in source pixels, not {q!r}")
        if not (0 <= q[0] < w and 0 <= q[1] < h):
            raise EditError(f"point {tuple(q)} is outside the {w}x{h} picture")
        out.append((int(q[0]), int(q[1])))
    return out


def _fps_label(rate: Fraction) -> str:
    """A rate as a media name shows it: "96" or "29.970" (never a slash)."""
    return str(rate.numerator) if rate.denominator == 1 else f"{float(rate):.3f}"
