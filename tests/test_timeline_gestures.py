"""The timeline's tools on the kernel side: each message the edit modes, the marquee and the clipboard send runs one
Session operation, recorded as one cell (the browser side is tests/test_browser_timeline.py)."""

from __future__ import annotations

import pytest

from nbedit.errors import NbeditError


@pytest.fixture
def cuts(ab):
    """Three clips touching on V1 (c1 0-24, c2 24-72, c3 72-96) and one on V2 (c4 at 24)."""
    ab.append("a", track="V1", src_in=1, src_out=2)
    ab.append("b", track="V1", src_in=0.5, src_out=2.5)
    ab.append("a", track="V1", src_in=2, src_out=3)
    ab.overwrite("b", track="V2", at=1, src_in=1, src_out=2)
    return ab


def gesture(session, ui=None, **msg):
    ui = ui or session.ui()
    before = len(session.history)
    ui._on_message(ui, {"type": "edit", **msg}, [])
    assert ui.status == ""
    assert len(session.history) == before + 1  # one gesture, one recorded cell
    return ui, session.history[-1].code


def items(ui, track="V1"):
    t = next(t for t in ui.doc["tracks"] if t["name"] == track)
    return [(c["id"], c["start"], c["dur"]) for c in t["items"]]


def test_a_roll_gesture_moves_the_cut_between_two_clips(cuts):
    ui, code = gesture(cuts, op="roll", a="c1", b="c2", by=6)
    assert code == "s.roll('c1', 'c2', by=0.25)"
    assert items(ui)[:2] == [("c1", 0, 30), ("c2", 30, 42)]


def test_a_slip_gesture_shows_other_media_in_the_same_place(cuts):
    ui, code = gesture(cuts, op="slip", clip="c2", by=-12)
    assert code == "s.slip('c2', by=-0.5)"
    assert items(ui)[1] == ("c2", 24, 48)
    assert cuts.clip("c2").src_in == 0.0


def test_a_slide_gesture_moves_a_clip_between_its_neighbours(cuts):
    ui, code = gesture(cuts, op="slide", clip="c2", by=12)
    assert code == "s.slide('c2', by=0.5)"
    assert items(ui) == [("c1", 0, 36), ("c2", 36, 48), ("c3", 84, 12)]


def test_the_blade_cuts_the_clicked_clip_at_the_clicked_frame(cuts):
    ui, code = gesture(cuts, op="blade", clip="c2", at=30)
    assert code == "s.split('c2', at=1.25)  # -> c5"
    assert items(ui)[1:3] == [("c2", 24, 6), ("c5", 30, 42)]


def test_deleting_a_selection_is_one_recorded_delete(cuts):
    ui = cuts.ui()
    ui.selection = ["c1", "c3", "c4"]
    ui, code = gesture(cuts, ui, op="delete_selection")
    assert code == "s.delete(('c1', 'c3', 'c4'))"
    assert items(ui) == [("c2", 24, 48)] and items(ui, "V2") == []
    assert ui.selection == []


def test_pasting_places_copies_at_the_playhead_and_selects_them(cuts):
    ui, code = gesture(cuts, op="paste", clips=["c1", "c4"], at=96)
    assert code == "s.paste(('c1', 'c4'), at=4)  # -> c5, c6"
    assert items(ui)[-1] == ("c5", 96, 24) and items(ui, "V2")[-1] == ("c6", 120, 24)
    assert ui.selection == ["c5", "c6"]


def test_delete_takes_a_list_and_each_clip_once(cuts):
    cuts.link("c2", "c4")
    cuts.delete(["c2", "c4"], ripple=True)
    assert cuts.history[-1].code == "s.delete(('c2', 'c4'), ripple=True)"
    assert [c.id for c in cuts.clips] == ["c1", "c3"]


def test_delete_refuses_an_empty_list_and_changes_nothing(cuts):
    state = cuts.state()
    with pytest.raises(NbeditError, match="empty list"):
        cuts.delete([])
    assert cuts.state() == state


def test_thumbnails_come_for_the_tiles_asked_every_spacing_frames(cuts):
    from widget_helpers import Sent, picture

    ui = cuts.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "thumbs", "clip": "c2", "key": "k", "spacing": 10, "first": 4, "count": 8}, [])
    msg, buffers = sent.last("thumbs")
    assert (msg["key"], msg["count"]) == ("k", 1)  # c2 lasts 48 frames: from tile 4 (frame 40) only one is left
    assert picture(buffers[0]).shape == (36, 48, 3)
    ui._on_message(ui, {"type": "thumbs", "clip": "c2", "key": "k0", "spacing": 10, "first": 0, "count": 8}, [])
    msg, buffers = sent.last("thumbs")
    assert msg["count"] == 5 and picture(buffers[0]).shape == (36, 5 * 48, 3)


def test_thumbnail_strips_kept_by_the_kernel_are_bounded(cuts, monkeypatch):
    import nbedit.widgets

    monkeypatch.setattr(nbedit.widgets, "THUMBS_KEPT", 3)
    ui = cuts.ui()
    for first in range(6):
        ui._on_message(ui, {"type": "thumbs", "clip": "c2", "key": "k", "spacing": 1, "first": first, "count": 1}, [])
    assert len(ui._thumbs) == 3


def test_waveform_peaks_come_at_the_rate_asked_for_the_span_asked(cuts):
    from widget_helpers import Sent

    ui = cuts.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "peaks", "clips": [["c1", "a", 80, 0, 256], ["c1", "b", 80, 40, 256]]}, [])
    msg, _ = sent.last("peaks")
    assert len(msg["peaks"]["a"]) == 80  # c1 lasts 1 s: 80 peaks at 80 a second
    assert len(msg["peaks"]["b"]) == 40  # from peak 40 to its end
    assert msg["peaks"]["b"] == msg["peaks"]["a"][40:]


def test_each_thumbnail_shows_the_frame_at_its_place_in_the_clip(cuts):
    from widget_helpers import Sent, picture

    from nbedit.media import read_counter

    ui = cuts.ui()
    sent = Sent(ui)
    # c1 shows a from 1 s (its frame 24): tiles 2, 3 and 4 every 3 frames are its frames 6, 9 and 12
    ui._on_message(
        ui, {"type": "thumbs", "clip": "c1", "key": "k", "spacing": 3, "first": 2, "count": 3, "height": 120}, []
    )
    _, buffers = sent.last("thumbs")
    strip = picture(buffers[0])
    w = strip.shape[1] // 3
    assert [read_counter(strip[:, i * w : (i + 1) * w]) for i in range(3)] == [30, 33, 36]
