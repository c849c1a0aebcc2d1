"""The compositing graph: plain operation functions over an edit context (``s.effect`` runs :func:`effect`).

    s.composite("c3", background="c4", mask=m, blend="normal", feather=8)
    s.effect("c2", "blur", radius=12, mask=m)            # blur inside the mask only
    s.effect("c2", "color", saturation=[(1.0, 1.0), (2.0, 0.0)])   # keys: (timeline seconds, value)
    s.blend("V2", "screen", opacity=0.8)
    s.keyframe("c2", "reframe", at=3.0, value=(410, 260))           # move the reframed crop's centre

The data each one leaves is plain OTIO metadata (see ``nbedit.tools.effects`` and ``nbedit.tools.keyframes``):

    clip  metadata["nbedit"]["effects"]  [{"id": "e1", "kind": "blur", "params": {...}, "mask": "m1", ...}, ...]
    track metadata["nbedit"]["blend"]    {"mode": "screen", "opacity": 0.8 or keys by timeline frame}

``render.Compositor`` reads it, the same way for ``s.frame()``, ``s.render()`` and the widget's preview.
The masks come from ``s.mask(...)`` and reframed clips from ``s.reframe(...)`` (``nbedit.ops.tools``, which
finds its clips through :func:`video_clip` here).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import opentimelineio as otio

from .. import args, model
from ..errors import ClipNotFoundError, EditError
from ..index import TrackIndex
from ..model import ClipId, source_at
from ..timeline import TRACK_NAME, Time
from ..tools import effects as fx
from ..tools import keyframes as kf
from . import edit
from .context import Edit

# ---- the effect stack ----------------------------------------------------------------------------------


def effect(
    e: Edit,
    clip: Any,
    kind: str,
    *,
    mask: Any = None,
    invert: bool | None = None,
    feather: float | None = None,
    x: Any = None,
    y: Any = None,
    scale: Any = None,
    rotation: Any = None,
    left: Any = None,
    top: Any = None,
    right: Any = None,
    bottom: Any = None,
    softness: Any = None,
    brightness: Any = None,
    contrast: Any = None,
    saturation: Any = None,
    gamma: Any = None,
    radius: Any = None,
    color: Any = None,
    tolerance: Any = None,
    mode: Any = None,
    opacity: Any = None,
) -> ClipId:
    """Add an effect to a clip's stack, or change one: ``kind`` is a kind or the id of a node ("e2").

    ``s.effect("c2", "blur", radius=12, mask="m1")`` blurs inside the mask only (``invert=True``: outside it;
    ``feather``: soften its edge, in source pixels). Kinds and their parameters (source pixels, degrees):

        transform  x, y, scale, rotation          crop   left, top, right, bottom, softness
        color      brightness, contrast, saturation, gamma
        blur       radius                          key    color (R, G, B), tolerance, softness
        mask       (mask=, invert=, feather=)      blend  mode (normal, add, multiply, screen), opacity

    Any parameter may be keyed: ``radius=[(1.0, 0), (2.0, 12)]`` is radius 0 at 1.0 s on the timeline rising
    to 12 at 2.0 s (a third element, "smooth" or "hold", sets the ease to the next key).
    """
    # the parameters given (every effect kind's parameters are keywords of this one function)
    given = {k: v for k, v in locals().items() if k in fx.PARAMS and v is not None}
    cid, ti, i = video_clip(e, clip, "an effect")
    stack = model.effects_of(ti.items[i])
    node = next((n for n in stack if n["id"] == kind), None)
    if node is None:
        if kind not in fx.KINDS:
            raise EditError(f"unknown effect {kind!r}: kinds are {', '.join(fx.KINDS)} (or a node id)")
        node = {"id": _next_id(stack), "kind": kind, "params": {}}
        stack.append(node)
    unknown = sorted(set(given) - set(fx.KINDS[node["kind"]]))
    if unknown:
        takes = ", ".join(fx.KINDS[node["kind"]]) or "mask=, invert= and feather="
        raise EditError(f"a {node['kind']} effect takes {takes}; not {', '.join(unknown)}")
    for name, value in given.items():
        node["params"][name] = param_value(e, node["kind"], name, value, ti, i)
    _limit(e, node, mask, invert, feather)
    if node["kind"] == "mask" and not node.get("mask"):
        raise EditError("a mask effect needs a mask: s.effect(clip, 'mask', mask=m) with m from s.mask(...)")
    e.set_clip(cid, "effects", stack)
    return ClipId(cid)


def remove_effect(e: Edit, clip: Any, effect: str) -> ClipId:
    """Take a node out of a clip's stack by id (or by kind when it has one). ``s.remove_effect("c2", "e1")``"""
    cid, ti, i = video_clip(e, clip, "an effect")
    stack = model.effects_of(ti.items[i])
    node = _node(stack, effect, cid)
    e.set_clip(cid, "effects", [n for n in stack if n["id"] != node["id"]])
    return ClipId(cid)


def effects(timeline: otio.schema.Timeline, clip: Any) -> list[dict]:
    """A clip's effect stack as plain data, in the order it is applied. ``s.effects("c2")``"""
    cid = clip if isinstance(clip, str) else getattr(clip, "id", None)
    for item in timeline.find_clips():
        if model.item_id(item) == cid:
            return model.effects_of(item)
    raise ClipNotFoundError(f"no clip with id {cid!r} on the timeline")


def blend(e: Edit, target: Any, mode: str = "normal", *, opacity: Any = 1.0) -> None:
    """How a track (or one clip) is laid over what is below: mode normal, add, multiply or screen, and opacity.

    ``s.blend("V2", "screen", opacity=0.8)``; ``s.blend("c4", "multiply")`` sets the clip's own blend node,
    which wins over its track's mode. Opacity may be keyed: ``opacity=[(2.0, 1.0), (3.0, 0.0)]``.
    """
    mode = blend_mode(mode)
    name = target if isinstance(target, str) else None
    if name is not None and TRACK_NAME.fullmatch(name):
        ti = e.track(name)
        if ti.kind != otio.schema.TrackKind.Video:
            raise EditError(f"track {name} is an audio track: blend modes apply to video tracks")
        e.set_track_data(name, "blend", {"mode": mode, "opacity": _track_param(e, opacity)})
        return None
    cid, ti, i = video_clip(e, target, "a blend mode")
    stack = [n for n in model.effects_of(ti.items[i]) if n["kind"] != "blend"]
    params = {"mode": mode, "opacity": param_value(e, "blend", "opacity", opacity, ti, i)}
    stack.append({"id": _next_id(stack), "kind": "blend", "params": params})
    e.set_clip(cid, "effects", stack)
    return None


def keyframe(e: Edit, target: Any, param: str, at: Time, value: Any, *, ease: str = "linear") -> None:
    """Set one key of a parameter at timeline time ``at`` (a key already there is replaced).

    ``s.keyframe("c2", "e1.radius", at=2.0, value=12)`` (a node by id, or by kind when the clip has one of
    it: ``"blur.radius"``); ``s.keyframe("c2", "reframe", at=3.0, value=(410, 260))`` moves a reframed
    clip's crop centre (source pixels); ``s.keyframe("V2", "opacity", at=1.0, value=0.5)`` keys a track.
    ``ease`` is how the value goes on to the next key: "linear", "smooth" or "hold".
    """
    if ease not in kf.EASES:
        raise EditError(f"ease must be one of {', '.join(kf.EASES)}, not {ease!r}")
    if not isinstance(param, str) or not param:
        raise EditError(f"param names what to key ('e1.radius', 'reframe', 'opacity'), not {param!r}")
    frame = e.frames(at, "at")
    name = target if isinstance(target, str) else None
    if name is not None and TRACK_NAME.fullmatch(name):
        ti = e.track(name)
        blend = model.plain(model.blend_of(ti.track)) or {"mode": "normal", "opacity": 1.0}
        if param != "opacity" or ti.kind != otio.schema.TrackKind.Video:
            raise EditError(f"a video track's keyable parameter is 'opacity', not {param!r}")
        checked = checked_value("blend", "opacity", value)
        blend["opacity"] = kf.with_key(blend.get("opacity", 1.0), frame, checked, ease)
        e.set_track_data(name, "blend", blend)
        return None
    cid, ti, i = video_clip(e, target, "a keyframe")
    item = ti.items[i]
    pos = float(source_at(item, frame - ti.starts[i]))
    if param == "reframe":
        reframe = model.reframe_of(item)
        if reframe is None:
            raise EditError(f"clip {cid!r} is not reframed: s.reframe({cid!r}, aspect=...) first")
        if not (isinstance(value, tuple | list) and len(value) == 2 and all(args.finite(v) for v in value)):
            raise EditError(f"a reframe key is the crop's centre (x, y) in source pixels, not {value!r}")
        reframe["center"] = kf.with_key(reframe["center"], pos, [float(v) for v in value], ease)
        e.set_clip(cid, "reframe", reframe)
        return None
    node_name, _, pname = param.partition(".")
    stack = model.effects_of(item)
    node = _node(stack, node_name, cid)
    if pname not in fx.KINDS[node["kind"]]:
        raise EditError(
            f"a {node['kind']} effect has no parameter {pname!r}: it has {', '.join(fx.KINDS[node['kind']])}"
        )
    checked = checked_value(node["kind"], pname, value)
    default = fx.KINDS[node["kind"]][pname].default
    node["params"][pname] = kf.with_key(node["params"].get(pname, default), pos, checked, ease)
    e.set_clip(cid, "effects", stack)
    return None


def composite(
    e: Edit,
    clip: Any,
    *,
    background: Any = None,
    mask: Any = None,
    blend: str = "normal",
    feather: float = 0.0,
    invert: bool = False,
) -> ClipId:
    """Lay a clip over a background through a mask: ``s.composite("c3", background="c4", mask=m, feather=8)``.

    The clip keeps only what its mask covers (``invert=True``: what it does not), edge softened by
    ``feather`` source pixels, laid in ``blend`` mode. With a ``background`` that is not already below it,
    the clip moves up to the first video track above the background's that is free over its span, and the
    background moves to start with it (cut to its length when longer).
    """
    blend = blend_mode(blend)
    if not args.finite(feather) or feather < 0:
        raise EditError(f"feather must be a number of pixels, 0 or more, not {feather!r}")
    cid, _, _ = video_clip(e, clip, "composite")
    mask_id = None if mask is None else mask_media(e, mask)
    if background is not None:
        _place_over(e, cid, video_clip(e, background, "a composite background")[0])
    _, ti, i = video_clip(e, cid, "composite")
    stack = [n for n in model.effects_of(ti.items[i]) if n["kind"] not in ("mask", "blend")]
    if mask_id is not None:
        stack.append(
            {
                "id": _next_id(stack),
                "kind": "mask",
                "params": {},
                "mask": mask_id,
                "feather": float(feather),
                "invert": bool(invert),
            }
        )
    if blend != "normal":
        stack.append({"id": _next_id(stack), "kind": "blend", "params": {"mode": blend, "opacity": 1.0}})
    e.set_clip(cid, "effects", stack)
    return ClipId(cid)


# ---- helpers for the graph (and the AI tools) -------------------------------------------------------------


def video_clip(e: Edit, clip: Any, what: str) -> tuple[str, TrackIndex, int]:
    """The id of a clip that must be on a video track for ``what``, its track's index and its child index."""
    cid = e.clip_id(clip)
    ti, i = e.find(cid)
    if ti.kind != otio.schema.TrackKind.Video:
        raise EditError(f"{what} applies to video clips; {cid!r} is on audio track {ti.name}")
    return cid, ti, i


def blend_mode(mode: Any) -> str:
    if mode not in fx.MODES:
        raise EditError(f"unknown blend mode {mode!r}: modes are {', '.join(fx.MODES)}")
    return mode


def checked_value(kind: str, name: str, value: Any) -> Any:
    """A static parameter value of an effect kind, checked (an EditError if it is not one)."""
    try:
        return fx.check_value(kind, name, value)
    except ValueError as err:
        raise EditError(str(err)) from None


def param_value(e: Edit, kind: str, name: str, value: Any, ti: TrackIndex, i: int) -> Any:
    """A parameter of clip i of a track as stored: static, or keys from (timeline seconds, value[, ease]) pairs."""
    if not _pairs(value):
        return checked_value(kind, name, value)
    item, start = ti.items[i], ti.starts[i]
    keys = []
    for pair in value:
        if len(pair) not in (2, 3) or (len(pair) == 3 and pair[2] not in kf.EASES):
            raise EditError(f"a key is (time, value) or (time, value, ease), not {pair!r}")
        pos = float(source_at(item, e.frames(pair[0], "key time") - start))
        keys.append((pos, checked_value(kind, name, pair[1]), *pair[2:]))
    return kf.make_keys(keys)


def _track_param(e: Edit, value: Any) -> Any:
    if not _pairs(value):
        return checked_value("blend", "opacity", value)
    return kf.make_keys(
        [(e.frames(k[0], "key time"), checked_value("blend", "opacity", k[1]), *k[2:]) for k in value]
    )


def _limit(e: Edit, node: dict, mask: Any, invert: Any, feather: Any) -> None:
    if mask is not None:
        node["mask"] = mask_media(e, mask)
    if invert is not None:
        if not isinstance(invert, bool):
            raise EditError(f"invert must be True or False, not {invert!r}")
        node["invert"] = invert
    if feather is not None:
        if not args.finite(feather) or feather < 0:
            raise EditError(f"feather must be a number of pixels, 0 or more, not {feather!r}")
        node["feather"] = float(feather)
    if (invert is not None or feather is not None) and not node.get("mask"):
        raise EditError("invert and feather shape a mask: give mask= too")


def mask_media(e: Edit, mask: Any) -> str:
    """The pool id of mask media (a video: a mask from ``s.mask``), given as a Media or its id."""
    mid = mask.id if hasattr(mask, "id") and not isinstance(mask, str) else mask
    if not isinstance(mid, str):
        raise EditError(f"mask must be mask media (from s.mask(...)) or its id, not {mask!r}")
    entry = e.entry(mid)
    if entry["kind"] != "video":
        raise EditError(f"media {mid!r} cannot be a mask: it is {entry['kind']}, and a mask is a video")
    return mid


def _place_over(e: Edit, fg: str, bg: str) -> None:
    """Put clip ``bg`` under clip ``fg`` over fg's span (nothing moves if it is there already)."""
    if fg == bg:
        raise EditError("a clip cannot be its own background")
    fti, fi = e.find(fg)
    bti, bi = e.find(bg)
    f, b = fti.placed(fi), bti.placed(bi)
    level = _video_level
    if level(bti.name) < level(fti.name) and b.start < f.end and f.start < b.end:
        return
    up = level(bti.name) + 1
    while True:
        name = f"V{up}"
        ti = e.index.track(name)
        if ti is None or name == fti.name or _free(ti, f.start, f.end):
            break
        up += 1
    if name != fti.name:
        edit.move_frames(e, fg, f.start, name)
    bti, bi = e.find(bg)
    b = bti.placed(bi)
    if b.duration > f.duration:  # the background is cut to the foreground's length
        edit.trim_frames(e, bg, None, source_at(b.item, f.duration), ripple=False)
    bti, bi = e.find(bg)
    if bti.starts[bi] != f.start:
        edit.move_frames(e, bg, f.start, bti.name)


# ---- small helpers ------------------------------------------------------------------------------------------


def _video_level(name: str) -> int:
    return int(name[1:])


def _free(ti: TrackIndex, start: int, end: int) -> bool:
    """No clip of the track shows in frames [start, end)."""
    starts = ti.starts
    for j in range(max(bisect.bisect_right(starts, start) - 1, 0), len(ti)):
        if starts[j] >= end:
            break
        if isinstance(ti.items[j], otio.schema.Clip) and starts[j] + ti.dur[j] > start:
            return False
    return True


def _pairs(value: Any) -> bool:
    """Keys are given as a list of (time, value) pairs; a colour is a flat list of numbers."""
    return isinstance(value, tuple | list) and len(value) > 0 and all(isinstance(v, tuple | list) for v in value)


def _next_id(stack: list[dict]) -> str:
    used = [int(m.group(1)) for n in stack if (m := re.fullmatch(r"e(\d+)", str(n.get("id", ""))))]
    return f"e{max(used, default=0) + 1}"


def _node(stack: list[dict], name: str, cid: str) -> dict:
    """A node by id, or by kind when the clip has exactly one of that kind."""
    for n in stack:
        if n["id"] == name:
            return n
    same = [n for n in stack if n["kind"] == name]
    if len(same) == 1:
        return same[0]
    if same:
        ids = ", ".join(n["id"] for n in same)
        raise EditError(f"clip {cid!r} has several {name} effects ({ids}): name one by its id")
    have = ", ".join(f"{n['id']} ({n['kind']})" for n in stack) or "none"
    raise ClipNotFoundError(f"clip {cid!r} has no effect {name!r} (its effects: {have})")
