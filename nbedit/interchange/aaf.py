"""AAF: the writer refuses transitions without Avid's metadata and clips without mob ids, and writes disabled clips
as enabled; here the metadata is supplied (the writer is run with ``use_empty_mob_ids``) and disabled clips are
muted in the written file the way Media Composer mutes them."""

from __future__ import annotations

import opentimelineio as otio

from ..timeline import frames_of

Schema = otio.schema

_DISSOLVE = {
    # the AAF writer needs an Avid dissolve's operation definition in each transition's metadata (what its
    # reader leaves there); these are the values Media Composer writes for a picture and a sound dissolve
    Schema.TrackKind.Video: ("89d9b67e-5584-302d-9abd-8bd330c46841", "VideoDissolve_2", "Picture"),
    Schema.TrackKind.Audio: ("0c3bea41-fc05-11d2-8a29-0050040ef7d2", "Audio Dissolve", "Sound"),
}


def prepare(tl: Schema.Timeline) -> None:
    """AAF: the writer refuses transitions without Avid metadata (supplied here) and clips without mob ids
    (``use_empty_mob_ids`` at write time makes new ones). It writes no speed changes and no markers."""
    for track in tl.tracks:
        uid, name, kind = _DISSOLVE[track.kind]
        for item in track:
            if isinstance(item, Schema.Transition):
                item.metadata["AAF"] = {
                    "CutPoint": frames_of(item.in_offset),
                    "PointList": [{"Time": 0.0, "Value": 0.0}, {"Time": 1.0, "Value": 100.0}],
                    "OperationGroup": {
                        "Operation": {
                            "Identification": uid,
                            "Name": name,
                            "Description": "",
                            "IsTimeWarp": False,
                            "Bypass": 1,
                            "NumberInputs": 2,
                            "OperationCategory": "OperationCategory_Effect",
                            "DataDefinition": {"Name": kind},
                        }
                    },
                }
            elif isinstance(item, Schema.Clip):
                item.effects[:] = [e for e in item.effects if not isinstance(e, Schema.LinearTimeWarp)]


def mute_disabled(tl: Schema.Timeline, path: str) -> int:
    """Mute, in an AAF file the writer wrote from ``tl``, the clips ``tl`` has disabled (the writer ignores the
    flag), as Media Composer does: each one's SourceClip becomes a Selector that shows a Filler of its length and
    keeps the clip as its one alternate (what the AAF reader takes for a disabled clip). The writer writes one
    slot per track that has items, in order, and one SourceClip per clip (in a Sequence, for sound inside an
    OperationGroup). Returns how many it muted."""
    tracks = [t for t in tl.tracks if len(t)]
    off = [[not c.enabled for c in t if isinstance(c, Schema.Clip)] for t in tracks]
    if not any(any(flags) for flags in off):
        return 0
    import aaf2

    muted = 0
    with aaf2.open(path, "rw") as f:
        comp = next(f.content.compositionmobs())
        slots = [s for s in comp.slots if s.media_kind in ("Picture", "Sound")]
        for flags, slot in zip(off, slots, strict=False):
            if not any(flags):
                continue
            sequence = slot.segment
            while isinstance(sequence, aaf2.components.OperationGroup):  # sound: a mono-audio group around it
                inputs = sequence["InputSegments"].value
                sequence = inputs[0] if inputs else None
            if not isinstance(sequence, aaf2.components.Sequence):
                continue
            components = list(sequence.components)
            clips = [c for c in components if isinstance(c, aaf2.components.SourceClip)]
            for clip, disabled in zip(clips, flags, strict=False):
                if not disabled:
                    continue
                selector = f.create.Selector(slot.media_kind)
                selector["Selected"].value = f.create.Filler(slot.media_kind, clip.length)
                selector["Alternates"].append(clip.copy())
                selector.length = clip.length
                components[components.index(clip)] = selector
                muted += 1
            sequence["Components"].value = components
    return muted
