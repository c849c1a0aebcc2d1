"""AAF: the writer refuses transitions without Avid's metadata and clips without mob ids; here the metadata is
supplied (the writer is run with ``use_empty_mob_ids``)."""

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
