"""Generative clips: local models make media, recorded like any edit and regenerated bit for bit.

    clip = s.generate("a red kite over a beach at dusk", model="ltx-video", seconds=4, size=(768, 512), seed=7)
    s.append(clip, track="V2")
    moving = s.image_to_video(s.frame(3.0), "slow push in", model="ltx-video", seconds=3, seed=1)
    styled = s.stylize("c1", "charcoal drawing", model="sd-img2img", strength=0.5, seed=3)
    take = s.regenerate(clip, model="ltx-video-v2")        # same prompt and seed, other checkpoint: a new take
    s.extend("c4", seconds=2, prompt="the kite climbs")     # continues c4 from its last frames
    s.fill_gap("V1", at=12.0, prompt="waves")              # bridges the clips either side of the gap at 12 s
    s.retake("c4", 1.0, 2.5, prompt="the kite dives")       # regenerates 1.0-2.5 s of c4, in place

Each public function here is a Session verb (``s.generate(...)`` runs :func:`generate` through
``ops.context.run``). Each resolves what the call left out (seed, steps, size, the model's sha256...) and pins
it, so the recorded line makes the same frames again. The frames are written losslessly to
``<project>/generated/<op>-<key>.mp4`` with a ``.json`` beside it and added to the pool (``nbedit.ops.derived``,
the one path for media an operation makes); every clip of that media carries the provenance under
``metadata["nbedit"]["generation"]`` (``s.generation(clip)`` reads it: :func:`generation`).

The key names everything the frames depend on (weights, parameters, source frames, device kind, dtype, library
versions). Reopening a project replays its journal without running any model: each generated file is taken as
recorded (offline if it went away, like any media), so a project opens where its checkpoints are not. Calling
again with the same inputs in the same project reuses the file when its key and sha256 match; a recipe run into
a fresh folder (``fresh=True``) generates again, and gets the same frames.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import opentimelineio as otio

from .. import model as schema
from ..errors import ClipNotFoundError, EditError, TimeRangeError
from ..index import TimelineIndex
from ..model import ClipId, MediaId
from ..models import WeightsError
from ..models import requests as req
from ..models.cards import Card
from ..models.jobs import Job, provenance
from ..models.loading import Loaded
from ..models.pipelines import frames_for, multiples, run, size_for
from ..timeline import Time
from . import derived, edit
from . import generate_support as support
from .context import Edit

if TYPE_CHECKING:
    from ..handles import Clip, Media

Build = Callable[[Loaded, Card], tuple[Job, dict]]


# ---- reading provenance (not an edit) ----------------------------------------------------------------------------


def generation(tl: otio.schema.Timeline, index: TimelineIndex, what: Any) -> dict | None:
    """The provenance of a generated clip or media, as plain Python values (None if it was not generated).

    ``s.generation("c3")["seed"]``; ``what`` is a Clip, a Media, or the id of either.
    """
    handle = getattr(what, "handle", None)  # a Clip or Media handle says which it is
    if handle == "clip":
        data = schema.data(index.locate(what.id)[1].item).get("generation")
    elif handle == "media":
        data = schema.media_entry(tl, what.id).get("generation")
    else:
        try:
            data = schema.data(index.locate(what)[1].item).get("generation")
        except ClipNotFoundError:
            data = schema.media_entry(tl, what).get("generation")
    return None if data is None else schema.plain(data)


# ---- making media ------------------------------------------------------------------------------------------------


def generate(
    e: Edit,
    prompt: str,
    *,
    model: str,
    seconds: float | None = None,
    size: tuple[int, int] | None = None,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative_prompt: str | None = None,
    weights_sha256: str | None = None,
    allow_pickle: bool = False,
) -> MediaId:
    """A video from a text prompt, as new media. Its frame rate is the timeline's (the model's before one).

    ``s.generate("a red kite over a beach at dusk", model="ltx-video", seconds=4, size=(768, 512), seed=7)``
    records ``..., steps=30, guidance=3.0, weights_sha256='…'``: whatever was left out, as used. The frame
    count and size snap to what the model makes (LTX: 8k+1 frames, multiples of 32 pixels).
    """
    prompt = req.text(prompt, "prompt")

    def build(m: Loaded, card: Card) -> tuple[Job, dict]:
        px, ft = multiples(m)
        fps = _generation_fps(e, card)
        secs = req.positive(card.default("seconds") if seconds is None else seconds, "seconds")
        n = frames_for(max(1, round(secs * fps)), ft)
        w, h = size_for(*req.size(card.default("size") if size is None else size), px)
        common, pin = req.common(card, seed, steps, guidance, negative_prompt)
        job = Job(
            "generate", "text-to-video", m.name, prompt, **common, size=(w, h), fps=str(fps), frames=n, keep=(0, n)
        )
        return job, {**pin, **({"seconds": secs} if seconds is None else {}), "size": (w, h)}

    return generated(e, "generate", req.label(prompt), model, "text-to-video", weights_sha256, allow_pickle, build)


def image_to_video(
    e: Edit,
    image: Any,
    prompt: str,
    *,
    model: str,
    seconds: float | None = None,
    size: tuple[int, int] | None = None,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative_prompt: str | None = None,
    image_sha256: str | None = None,
    weights_sha256: str | None = None,
    allow_pickle: bool = False,
) -> MediaId:
    """A video that starts from a picture: a (H, W, 3) uint8 array (``s.frame(3.0)``) or an image file.

    ``s.image_to_video(s.frame(3.0), "slow push in", model="ltx-video", seconds=3, seed=1)`` saves the
    picture as ``<project>/generated/stills/<sha256>.png`` and records that path with its sha256.
    """
    prompt = req.text(prompt, "prompt")

    def build(m: Loaded, card: Card) -> tuple[Job, dict]:
        still, still_sha = support.still(e.folder, image, image_sha256)
        px, ft = multiples(m)
        fps = _generation_fps(e, card)
        secs = req.positive(card.default("seconds") if seconds is None else seconds, "seconds")
        n = frames_for(max(1, round(secs * fps)), ft)
        w, h = size_for(*req.size(size), px) if size is not None else req.fit(*support.picture_size(still), card, px)
        common, pin = req.common(card, seed, steps, guidance, negative_prompt)
        source = {"role": "image", "path": still, "sha256": still_sha, "start": "0", "step": "0", "count": 1}
        job = Job(
            "image_to_video",
            "image-to-video",
            m.name,
            prompt,
            **common,
            size=(w, h),
            fps=str(fps),
            frames=n,
            keep=(0, n),
            sources=(source,),
        )
        pin.update({"image": still, "image_sha256": still_sha, "size": (w, h)})
        return job, {**pin, **({"seconds": secs} if seconds is None else {})}

    label = req.label(prompt)
    return generated(e, "image_to_video", label, model, "image-to-video", weights_sha256, allow_pickle, build)


def stylize(
    e: Edit,
    clip: Clip | str,
    prompt: str = "",
    *,
    model: str,
    strength: float | None = None,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative_prompt: str | None = None,
    size: tuple[int, int] | None = None,
    weights_sha256: str | None = None,
    allow_pickle: bool = False,
) -> MediaId:
    """The frames a clip shows, restyled, as new media of the same length at the edit rate.

    ``s.stylize("c1", "charcoal drawing", model="sd-img2img", strength=0.5, seed=3)``: an image-to-image
    model runs on each frame with the same seed (the same noise on every frame: less flicker); a
    video-to-video model (LTX) takes the clip whole; an ONNX per-frame model maps each frame. ``strength``
    is how much changes (0: nothing, 1: everything). Place the result with ``s.overwrite(styled, ...)``.
    """
    prompt = req.text(prompt, "prompt")
    _, _, p = _video_clip(e, clip, "stylize")
    entry = _entry(e, p.item)
    if strength is not None and not 0 < req.number(strength, "strength") <= 1:
        raise EditError(f"strength must be above 0 and at most 1, not {strength!r}")

    def build(m: Loaded, card: Card) -> tuple[Job, dict]:
        px, ft = multiples(m)
        task = req.stylize_task(card)
        count = p.duration
        made = count if task != "video-to-video" else frames_for(count, ft, at_least=True)
        if size is not None:
            w, h = size_for(*req.size(size), px)
        elif task == "per-frame":
            w, h = int(entry["width"]), int(entry["height"])
        else:
            w, h = req.fit(int(entry["width"]), int(entry["height"]), card, px)
        if task == "per-frame":  # a fixed function of each frame: no noise, no steps, no prompt
            common, pin = {"negative_prompt": None, "seed": 0, "steps": 1, "guidance": 0.0}, {}
            used = None
        else:
            common, pin = req.common(card, seed, steps, guidance, negative_prompt)
            used = card.default("strength") if strength is None else strength
            used = float(0.5 if used is None else used)
        job = Job(
            "stylize",
            task,
            m.name,
            prompt,
            **common,
            size=(w, h),
            fps=str(e.rate),
            frames=made,
            keep=(0, count),
            strength=used,
            sources=(support.span(e.timeline, e.rate, p.item, 0, count, "video"),),
        )
        if used is not None:
            pin["strength"] = used
        return job, {**pin, "size": (w, h)}

    label = f"{schema.media_of(p.item)}-{req.slug(prompt or model)[:20]}"
    return generated(e, "stylize", label, model, req.stylize_task, weights_sha256, allow_pickle, build)


def regenerate(
    e: Edit,
    clip_or_media: Clip | Media | str,
    *,
    model: str | None = None,
    seed: int | None = None,
    weights_sha256: str | None = None,
    allow_pickle: bool = False,
) -> MediaId:
    """A new take of generated media: the same job (prompt, seed, steps, sources) with another checkpoint
    or seed, as new media.

    ``s.regenerate(clip, model="ltx-video-v2")``. Size and frame count snap to what that model makes.
    """
    mid = _generated_media_id(e, clip_or_media)
    old = Job.from_provenance(derived.provenance(e, mid))
    name = old.model if model is None else model
    if seed is not None:
        req.checked_seed(seed)

    def build(m: Loaded, card: Card) -> tuple[Job, dict]:
        px, ft = multiples(m)
        frames = frames_for(old.frames, ft, at_least=True)
        job = old.but(model=m.name, seed=old.seed if seed is None else int(seed), size=size_for(*old.size, px))
        job = job.but(frames=frames)
        return job, {"model": name, "seed": job.seed}

    label = f"{mid}-{req.slug(Path(name).name)}" + ("" if seed is None else f"-s{seed}")
    return generated(e, "regenerate", label, name, old.task, weights_sha256, allow_pickle, build, more={"take_of": mid})


# ---- generating on the timeline ----------------------------------------------------------------------------------


def extend(
    e: Edit,
    clip: Clip | str,
    *,
    seconds: Time,
    prompt: str | None = None,
    model: str | None = None,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative_prompt: str | None = None,
    size: tuple[int, int] | None = None,
    weights_sha256: str | None = None,
    allow_pickle: bool = False,
) -> ClipId:
    """Continue a clip: new frames conditioned on its last ones, inserted right after it (later clips move).

    ``s.extend("c4", seconds=2, prompt="the kite climbs", model="ltx-video")``; the prompt and model default
    to the clip's own when it was generated.
    """
    _, ti, p = _video_clip(e, clip, "extend")
    n = e.frames(seconds, "seconds")
    if n < 1:
        raise TimeRangeError(f"extend by at least one frame, not {seconds!r}")
    entry = _entry(e, p.item)
    prompt, model = _defaults_from(entry, prompt, model, "extend")

    def build(m: Loaded, card: Card) -> tuple[Job, dict]:
        px, ft = multiples(m)
        k = 1 + ft if p.duration >= 1 + ft and ft > 1 else 1  # last frames to continue from: 8k+1 of them
        made = frames_for(k + n, ft, at_least=True)
        w, h = size_for(*req.size(size), px) if size is not None else req.fit(entry["width"], entry["height"], card, px)
        common, pin = req.common(card, seed, steps, guidance, negative_prompt)
        source = support.span(e.timeline, e.rate, p.item, p.duration - k, k, "keyframe", index=0, strength=1.0)
        job = Job(
            "extend",
            "keyframes-to-video",
            m.name,
            prompt,
            **common,
            size=(w, h),
            fps=str(e.rate),
            frames=made,
            keep=(k, k + n),
            sources=(source,),
        )
        return job, {**pin, "prompt": prompt, "model": model, "size": (w, h)}

    label = f"{schema.media_of(p.item)}-ext"
    mid = generated(e, "extend", label, model, "keyframes-to-video", weights_sha256, allow_pickle, build)
    return _place_new(e, mid, ti.name, p.start + p.duration, n, ripple=True)


def fill_gap(
    e: Edit,
    track: str,
    *,
    at: Time,
    prompt: str = "",
    model: str,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative_prompt: str | None = None,
    size: tuple[int, int] | None = None,
    weights_sha256: str | None = None,
    allow_pickle: bool = False,
) -> ClipId:
    """Generate into the gap at ``at`` on a video track, from the last frame before it to the first after.

    ``s.fill_gap("V1", at=12.0, prompt="waves", model="ltx-video")``: the clip fills the gap exactly.
    """
    prompt = req.text(prompt, "prompt")
    ti = e.track(track)
    if ti.kind != otio.schema.TrackKind.Video:
        raise EditError(f"fill_gap works on video tracks, not {track}")
    i = ti.at(e.frames(at, "at"))
    if i is None or not isinstance(ti.items[i], otio.schema.Gap):
        raise EditError(f"there is no gap at {at} s on {track}")
    gap = ti.placed(i)
    before, after = ti.neighbour(i, -1), ti.neighbour(i, +1)
    left = None if before is None else ti.placed(before)
    right = None if after is None else ti.placed(after)
    job_sources = support.boundary_sources(e.timeline, e.rate, left, right, gap.duration)
    if not job_sources:
        raise EditError(f"the gap at {at} s on {track} has no clip on either side: use s.generate")
    entry = _entry(e, (left or right).item)
    knobs = req.Knobs(seed, steps, guidance, negative_prompt, size, weights_sha256, allow_pickle)
    label = f"gap-{req.slug(prompt)[:20]}"
    mid = _between(e, "fill_gap", label, job_sources, gap.duration, left is not None, entry, prompt, model, knobs)
    return _place_new(e, mid, track, gap.start, gap.duration, ripple=False)


def retake(
    e: Edit,
    clip: Clip | str,
    start: Time,
    end: Time,
    *,
    prompt: str | None = None,
    model: str | None = None,
    seed: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative_prompt: str | None = None,
    size: tuple[int, int] | None = None,
    weights_sha256: str | None = None,
    allow_pickle: bool = False,
) -> ClipId:
    """Regenerate timeline ``start``..``end`` of a clip as a new take in place, from the clip's frames on
    either side of the range (the clip is cut around it; undo brings the old frames back).

    ``s.retake("c4", 1.0, 2.5, prompt="the kite dives")``; prompt and model default to the clip's own.
    """
    cid, ti, p = _video_clip(e, clip, "retake")
    a, b = e.frames(start, "start"), e.frames(end, "end")
    p_end = p.start + p.duration
    if not p.start <= a < b <= p_end:
        raise TimeRangeError(
            f"retake range {start}..{end} s must lie inside clip {cid!r} "
            f"({float(p.start / e.rate):.3f}..{float(p_end / e.rate):.3f} s) and not be empty"
        )
    entry = _entry(e, p.item)
    prompt, model = _defaults_from(entry, prompt, model, "retake")
    before = support.Edge(p.item, a - p.start - 1) if a > p.start else None
    after = support.Edge(p.item, b - p.start) if b < p_end else None
    job_sources = support.boundary_sources(e.timeline, e.rate, before, after, b - a)
    knobs = req.Knobs(seed, steps, guidance, negative_prompt, size, weights_sha256, allow_pickle)
    label, pin = f"{schema.media_of(p.item)}-retake", {"prompt": prompt, "model": model}
    mid = _between(e, "retake", label, job_sources, b - a, before is not None, entry, prompt, model, knobs, pin)
    return _place_new(e, mid, ti.name, a, b - a, ripple=False)


# ---- the one path every generation takes ---------------------------------------------------------------------


def generated(
    e: Edit,
    op: str,
    label: str,
    model: str,
    task: str | Callable[[Card], str],
    weights_sha256: str | None,
    allow_pickle: bool,
    build: Build,
    pin: dict | None = None,
    more: dict | None = None,
) -> MediaId:
    """Media for a job: as the journal recorded it (reopening), from the project's files, or made by the model.

    Pins what the job resolved (with the checkpoint's sha256) and keeps ``info``, ``name`` and ``generation``.
    """
    mid = derived.reuse(e)
    if mid is not None:
        return mid
    if not isinstance(allow_pickle, bool):
        raise EditError(f"allow_pickle must be True or False, not {allow_pickle!r}")
    models = e.env.models()
    model = req.text(model, "model")
    if callable(task):
        task = task(models.card(model))
    found, card, sha = models.describe(model, task=task, op=op)
    if weights_sha256 is not None and sha != weights_sha256:
        raise WeightsError(
            f"model {found.name!r} at {found.path} is not the checkpoint this call was recorded with: its sha256 "
            f"is {sha}, the call names {weights_sha256}. Put that checkpoint back, or drop weights_sha256."
        )
    m = models.get(model, task=task, op=op, allow_pickle=allow_pickle)
    job, resolved = build(m, card)
    gen = provenance(
        job, m, found=m.found, pipeline=m.card.pipeline, sha256=m.sha256, device=m.plan.device, dtype=m.plan.dtype
    )
    gen.update(more or {})
    path = derived.path_for(e, job.op, gen["key"])
    info = derived.cached(e, path, gen["key"])
    if info is None:
        pictures = {i: support.pictures(e.timeline, src) for i, src in enumerate(job.sources)}
        frames = run(m, job.request(pictures), progress=models.progress, desc=f"{op} {label}")
        derived.write_video(path, frames[job.keep[0] : job.keep[1]], Fraction(job.fps))
        info = derived.made(path, gen["key"], gen)
    name = req.slug(label if op == "regenerate" else f"{label}-s{job.seed}")  # a take is named for its source
    # the same frames may be in the pool already (regenerating with the same model and seed gives the same
    # file): they keep the provenance they came with, not that of a take of themselves
    mid = derived.add(e, path, name, gen, info)
    pins = {**(pin or {}), **resolved, "weights_sha256": m.sha256}
    if Path(found.path).is_relative_to(e.folder / "models"):
        # a recipe runs in a folder of its own: point it at this project's model folder
        pins["model"] = str(found.path)
    e.pin(**pins)
    derived.remember(e, info, name, gen)
    return mid


def _between(
    e: Edit,
    op: str,
    label: str,
    sources: tuple[dict, ...],
    n: int,
    has_left: bool,
    entry: Any,
    prompt: str,
    model: str | None,
    knobs: req.Knobs,
    pin: dict | None = None,
) -> MediaId:
    """Media of ``n`` frames between boundary pictures (fill_gap, retake): the left one is made frame 0."""
    if model is None:
        raise EditError(f"{op} needs a model: model='ltx-video', say")

    def build(m: Loaded, card: Card) -> tuple[Job, dict]:
        px, ft = multiples(m)
        first = 1 if has_left else 0
        made = frames_for(n + len(sources), ft, at_least=True)
        if knobs.size is not None:
            w, h = size_for(*req.size(knobs.size), px)
        else:
            w, h = req.fit(entry["width"], entry["height"], card, px)
        common, resolved = req.common(card, knobs.seed, knobs.steps, knobs.guidance, knobs.negative_prompt)
        job = Job(
            op,
            "keyframes-to-video",
            m.name,
            prompt,
            **common,
            size=(w, h),
            fps=str(e.rate),
            frames=made,
            keep=(first, first + n),
            sources=sources,
        )
        return job, {**resolved, "size": (w, h)}

    task = "keyframes-to-video"
    return generated(e, op, label, model, task, knobs.weights_sha256, knobs.allow_pickle, build, pin)


# ---- small helpers ------------------------------------------------------------------------------------------


def _entry(e: Edit, item: Any) -> Any:
    return e.entry(schema.media_of(item))


def _generation_fps(e: Edit, card: Card) -> Fraction:
    """The timeline's edit rate, or before there is one, the model's own frame rate."""
    if e.format:
        return e.rate
    return Fraction(str(card.default("fps"))).limit_denominator(1001)


def _video_clip(e: Edit, clip: Any, what: str) -> tuple[str, Any, Any]:
    """A video clip's id, its track (index) and where it sits (a Placed), checked to have a picture."""
    cid = e.clip_id(clip)
    ti, i = e.find(cid)
    if ti.kind != otio.schema.TrackKind.Video:
        raise EditError(f"{what} works on video clips; {cid!r} is on {ti.name}")
    p = ti.placed(i)
    if _entry(e, p.item).get("width") is None:
        raise EditError(f"{what}: clip {cid!r} has no picture")
    return cid, ti, p


def _defaults_from(entry: Any, prompt: str | None, model: str | None, what: str) -> tuple[str, str]:
    gen = entry.get("generation") or {}
    prompt = req.text(gen.get("prompt", "") if prompt is None else prompt, "prompt")
    model = gen.get("model") if model is None else model
    if model is None:
        raise EditError(f"{what} needs a model (the clip was not generated): model='ltx-video', say")
    return prompt, req.text(model, "model")


def _generated_media_id(e: Edit, what: Any) -> str:
    handle = getattr(what, "handle", None)  # a Clip or Media handle says which it is
    if handle == "media":
        mid = what.id
    elif handle == "clip":
        ti, i = e.find(what.id)
        mid = schema.media_of(ti.items[i])
    elif isinstance(what, str):
        try:
            ti, i = e.find(what)
            mid = schema.media_of(ti.items[i])
        except ClipNotFoundError:
            mid = what
    else:
        raise EditError(f"regenerate takes a clip or generated media, not {type(what).__name__}")
    if "generation" not in e.entry(mid):
        raise EditError(f"media {mid!r} was not generated: there is nothing to regenerate")
    return mid


def _place_new(e: Edit, media_id: str, track: str, at: int, frames: int, *, ripple: bool) -> ClipId:
    ti = e.track(track)
    clip = schema.new_clip(e.entry(media_id), media_id, e.new_id(), ti.kind, 0, frames, e.rate)
    edit.place(e, clip, track, at, ripple=ripple)
    return ClipId(schema.item_id(clip))
