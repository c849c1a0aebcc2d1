"""The compositing graph, as recorded Session operations.

    s.composite("c3", background="c4", mask=m, blend="normal", feather=8)
    s.effect("c2", "blur", radius=12, mask=m)            # blur inside the mask only
    s.effect("c2", "color", saturation=[(1.0, 1.0), (2.0, 0.0)])   # keys: (timeline seconds, value)
    s.blend("V2", "screen", opacity=0.8)
    s.keyframe("c2", "reframe", at=3.0, value=(410, 260))           # move the reframed crop's centre

The data each one leaves is plain OTIO metadata (see ``nbedit.tools.effects`` and ``nbedit.tools.keyframes``):

    clip  metadata["nbedit"]["effects"]  [{"id": "e1", "kind": "blur", "params": {...}, "mask": "m1", ...}, ...]
    track metadata["nbedit"]["blend"]    {"mode": "screen", "opacity": 0.8 or keys by timeline frame}

``render.Compositor`` reads it, the same way for ``s.frame()``, ``s.render()`` and the widget's preview.
The masks come from ``s.mask(...)`` and reframed clips from ``s.reframe(...)`` (``nbedit.ops.tools``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ClipNotFoundError, EditError
from ..record import operation
from ..timeline import TRACK_NAME, Time, find_track, get_track, layout, locate, nb, plain
from ..tools import effects
from ..tools import keyframes as kf
from . import edit

if TYPE_CHECKING:
    from ..session import Clip, Media


class GraphOps:
    """Session operations for the compositing graph (effect stacks, blend modes, keys); Session inherits them.

    ``_tool_video_clip_of`` and ``_tool_clip_handle`` serve the AI tools (``ToolOps``) too.
    """

    # ---- the effect stack ----------------------------------------------------------------------------------

    @operation
    def effect(
        self,
        clip: Clip | str,
        kind: str,
        *,
        mask: Media | str | None = None,
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
    ) -> Clip:
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
        # the parameters given (every effect kind's parameters are keywords of this one method)
        given = {k: v for k, v in locals().items() if k in effects.PARAMS and v is not None}
        cid, item, p = self._tool_video_clip_of(clip, "an effect")
        stack = plain(item.metadata["nbedit"].get("effects", []))
        node = next((n for n in stack if n["id"] == kind), None)
        if node is None:
            if kind not in effects.KINDS:
                raise EditError(f"unknown effect {kind!r}: kinds are {', '.join(effects.KINDS)} (or a node id)")
            node = {"id": _next_id(stack), "kind": kind, "params": {}}
            stack.append(node)
        unknown = sorted(set(given) - set(effects.KINDS[node["kind"]]))
        if unknown:
            takes = ", ".join(effects.KINDS[node["kind"]]) or "mask=, invert= and feather="
            raise EditError(f"a {node['kind']} effect takes {takes}; not {', '.join(unknown)}")
        for name, value in given.items():
            node["params"][name] = self._tool_param(node["kind"], name, value, p)
        self._tool_limit(node, mask, invert, feather)
        if node["kind"] == "mask" and not node.get("mask"):
            raise EditError("a mask effect needs a mask: s.effect(clip, 'mask', mask=m) with m from s.mask(...)")
        item.metadata["nbedit"]["effects"] = stack
        return self._tool_clip_handle(cid)

    @operation
    def remove_effect(self, clip: Clip | str, effect: str) -> Clip:
        """Take a node out of a clip's stack by id (or by kind when it has one). ``s.remove_effect("c2", "e1")``"""
        cid, item, _ = self._tool_video_clip_of(clip, "an effect")
        stack = plain(item.metadata["nbedit"].get("effects", []))
        node = _node(stack, effect, cid)
        item.metadata["nbedit"]["effects"] = [n for n in stack if n["id"] != node["id"]]
        return self._tool_clip_handle(cid)

    def effects(self, clip: Clip | str) -> list[dict]:
        """A clip's effect stack as plain data, in the order it is applied. ``s.effects("c2")``"""
        cid = self._clip_id(clip)
        return plain(locate(self._tl, cid)[1].item.metadata["nbedit"].get("effects", []))

    @operation
    def blend(self, target: Clip | str, mode: str = "normal", *, opacity: Any = 1.0) -> None:
        """How a track (or one clip) is laid over what is below: mode normal, add, multiply or screen, and opacity.

        ``s.blend("V2", "screen", opacity=0.8)``; ``s.blend("c4", "multiply")`` sets the clip's own blend node,
        which wins over its track's mode. Opacity may be keyed: ``opacity=[(2.0, 1.0), (3.0, 0.0)]``.
        """
        mode = self._tool_mode(mode)
        name = target if isinstance(target, str) else None
        if name is not None and TRACK_NAME.match(name):
            track = get_track(self._tl, name)
            if track.kind != "Video":
                raise EditError(f"track {name} is an audio track: blend modes apply to video tracks")
            nb(track)["blend"] = {"mode": mode, "opacity": self._tool_track_param(opacity)}
            return None
        cid, item, p = self._tool_video_clip_of(target, "a blend mode")
        stack = [n for n in plain(item.metadata["nbedit"].get("effects", [])) if n["kind"] != "blend"]
        params = {"mode": mode, "opacity": self._tool_param("blend", "opacity", opacity, p)}
        stack.append({"id": _next_id(stack), "kind": "blend", "params": params})
        item.metadata["nbedit"]["effects"] = stack
        return None

    @operation
    def keyframe(self, target: Clip | str, param: str, at: Time, value: Any, *, ease: str = "linear") -> None:
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
        frame = self._f(at, "at")
        name = target if isinstance(target, str) else None
        if name is not None and TRACK_NAME.match(name):
            track = get_track(self._tl, name)
            blend = plain(nb(track).get("blend", {"mode": "normal", "opacity": 1.0}))
            if param != "opacity" or track.kind != "Video":
                raise EditError(f"a video track's keyable parameter is 'opacity', not {param!r}")
            checked = self._tool_checked("blend", "opacity", value)
            blend["opacity"] = kf.with_key(blend.get("opacity", 1.0), frame, checked, ease)
            nb(track)["blend"] = blend
            return None
        cid, item, p = self._tool_video_clip_of(target, "a keyframe")
        data = item.metadata["nbedit"]
        pos = float(edit.source_at(item, frame - p.start))
        if param == "reframe":
            if "reframe" not in data:
                raise EditError(f"clip {cid!r} is not reframed: s.reframe({cid!r}, aspect=...) first")
            reframe = plain(data["reframe"])
            if not (isinstance(value, tuple | list) and len(value) == 2 and all(_finite(v) for v in value)):
                raise EditError(f"a reframe key is the crop's centre (x, y) in source pixels, not {value!r}")
            reframe["center"] = kf.with_key(reframe["center"], pos, [float(v) for v in value], ease)
            data["reframe"] = reframe
            return None
        node_name, _, pname = param.partition(".")
        stack = plain(data.get("effects", []))
        node = _node(stack, node_name, cid)
        if pname not in effects.KINDS[node["kind"]]:
            raise EditError(
                f"a {node['kind']} effect has no parameter {pname!r}: it has {', '.join(effects.KINDS[node['kind']])}"
            )
        checked = self._tool_checked(node["kind"], pname, value)
        default = effects.KINDS[node["kind"]][pname].default
        node["params"][pname] = kf.with_key(node["params"].get(pname, default), pos, checked, ease)
        data["effects"] = stack
        return None

    @operation
    def composite(
        self,
        clip: Clip | str,
        *,
        background: Clip | str | None = None,
        mask: Media | str | None = None,
        blend: str = "normal",
        feather: float = 0.0,
        invert: bool = False,
    ) -> Clip:
        """Lay a clip over a background through a mask: ``s.composite("c3", background="c4", mask=m, feather=8)``.

        The clip keeps only what its mask covers (``invert=True``: what it does not), edge softened by
        ``feather`` source pixels, laid in ``blend`` mode. With a ``background`` that is not already below it,
        the clip moves up to the first video track above the background's that is free over its span, and the
        background moves to start with it (cut to its length when longer).
        """
        blend = self._tool_mode(blend)
        if not _finite(feather) or feather < 0:
            raise EditError(f"feather must be a number of pixels, 0 or more, not {feather!r}")
        cid, _, _ = self._tool_video_clip_of(clip, "composite")
        mask_id = None if mask is None else self._tool_mask_media(mask)
        if background is not None:
            self._tool_place_over(cid, self._tool_video_clip_of(background, "a composite background")[0])
        _, item, p = self._tool_video_clip_of(cid, "composite")
        stack = [n for n in plain(item.metadata["nbedit"].get("effects", [])) if n["kind"] not in ("mask", "blend")]
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
        item.metadata["nbedit"]["effects"] = stack
        return self._tool_clip_handle(cid)

    # ---- helpers for the graph ----------------------------------------------------------------------------

    def _tool_video_clip_of(self, clip: Any, what: str) -> tuple[str, Any, Any]:
        cid = self._clip_id(clip)
        track, p = locate(self._tl, cid)
        if track.kind != "Video":
            raise EditError(f"{what} applies to video clips; {cid!r} is on audio track {track.name}")
        return cid, p.item, p

    def _tool_clip_handle(self, cid: str) -> Clip:
        from ..session import Clip

        return Clip(self, cid)

    def _tool_mode(self, mode: Any) -> str:
        if mode not in effects.MODES:
            raise EditError(f"unknown blend mode {mode!r}: modes are {', '.join(effects.MODES)}")
        return mode

    def _tool_checked(self, kind: str, name: str, value: Any) -> Any:
        try:
            return effects.check_value(kind, name, value)
        except ValueError as e:
            raise EditError(str(e)) from None

    def _tool_param(self, kind: str, name: str, value: Any, p: Any) -> Any:
        """A parameter as stored: static, or keys from (timeline seconds, value[, ease]) pairs."""
        if not _pairs(value):
            return self._tool_checked(kind, name, value)
        keys = []
        for pair in value:
            if len(pair) not in (2, 3) or (len(pair) == 3 and pair[2] not in kf.EASES):
                raise EditError(f"a key is (time, value) or (time, value, ease), not {pair!r}")
            pos = float(edit.source_at(p.item, self._f(pair[0], "key time") - p.start))
            keys.append((pos, self._tool_checked(kind, name, pair[1]), *pair[2:]))
        return kf.make_keys(keys)

    def _tool_track_param(self, value: Any) -> Any:
        if not _pairs(value):
            return self._tool_checked("blend", "opacity", value)
        return kf.make_keys(
            [(self._f(k[0], "key time"), self._tool_checked("blend", "opacity", k[1]), *k[2:]) for k in value]
        )

    def _tool_limit(self, node: dict, mask: Any, invert: Any, feather: Any) -> None:
        if mask is not None:
            node["mask"] = self._tool_mask_media(mask)
        if invert is not None:
            if not isinstance(invert, bool):
                raise EditError(f"invert must be True or False, not {invert!r}")
            node["invert"] = invert
        if feather is not None:
            if not _finite(feather) or feather < 0:
                raise EditError(f"feather must be a number of pixels, 0 or more, not {feather!r}")
            node["feather"] = float(feather)
        if (invert is not None or feather is not None) and not node.get("mask"):
            raise EditError("invert and feather shape a mask: give mask= too")

    def _tool_mask_media(self, mask: Any) -> str:
        mid = mask.id if hasattr(mask, "id") and not isinstance(mask, str) else mask
        if not isinstance(mid, str):
            raise EditError(f"mask must be mask media (from s.mask(...)) or its id, not {mask!r}")
        entry = edit.media_entry(self._tl, mid)
        if entry["kind"] != "video":
            raise EditError(f"media {mid!r} cannot be a mask: it is {entry['kind']}, and a mask is a video")
        return mid

    def _tool_place_over(self, fg: str, bg: str) -> None:
        """Put clip ``bg`` under clip ``fg`` over fg's span (nothing moves if it is there already)."""
        if fg == bg:
            raise EditError("a clip cannot be its own background")
        ftrack, f = locate(self._tl, fg)
        btrack, b = locate(self._tl, bg)
        level = _video_level
        if level(btrack.name) < level(ftrack.name) and b.start < f.end and f.start < b.end:
            return
        up = level(btrack.name) + 1
        while True:
            name = f"V{up}"
            track = find_track(self._tl, name)
            if track is None or name == ftrack.name or _free(track, f.start, f.end):
                break
            up += 1
        if name != ftrack.name:
            edit.move(self._tl, fg, f.start, name)
        _, b = locate(self._tl, bg)
        if b.duration > f.duration:  # the background is cut to the foreground's length
            edit.trim(self._tl, bg, None, edit.source_at(b.item, f.duration), ripple=False)
        _, b = locate(self._tl, bg)
        if b.start != f.start:
            edit.move(self._tl, bg, f.start, btrack.name)


# ---- small helpers ------------------------------------------------------------------------------------------


def _video_level(name: str) -> int:
    return int(name[1:])


def _free(track: Any, start: int, end: int) -> bool:
    placed, _ = layout(track)
    return not any(hasattr(p.item, "media_reference") and p.start < end and start < p.end for p in placed)


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)


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
