"""The widgets' kernel side: what they draw, the frames they send, gestures as recorded operations, caches."""

from __future__ import annotations

import av
import numpy as np
import pytest
from widget_helpers import Sent, picture

import nbedit
from nbedit.cache import FrameCache
from nbedit.media import read_counter
from nbedit.preview import Preview
from nbedit.widgets import timecode


@pytest.fixture
def edit(ab, footage):
    """c1 and c2 with a crossfade on V1, the inset c3 on V2 (first second), the tone c4 on A1."""
    c1 = ab.append("a", track="V1", src_in=0, src_out=2)
    c2 = ab.append("b", track="V1", src_in=0.5, src_out=2.5)
    ab.crossfade(c1, c2, duration=0.5)
    ab.append("a", track="V2", src_in=1, src_out=2)
    ab.append(ab.import_media(footage["tone"]), track="A1", src_in=0, src_out=3)
    return ab


def test_the_timeline_doc_lists_tracks_clips_and_crossfades(edit):
    doc = edit.ui().doc
    assert [t["name"] for t in doc["tracks"]] == ["V1", "V2", "A1"]
    v1 = doc["tracks"][0]
    assert [c["id"] for c in v1["items"]] == ["c1", "c2"]
    assert (v1["items"][1]["start"], v1["items"][1]["dur"]) == (48, 48)
    assert v1["xfades"] == [{"name": "c1-c2", "start": 42, "end": 54, "at": 48, "a": "c1", "b": "c2"}]
    assert doc["frames"] == 96 and doc["fps"] == 24.0


def test_audio_clips_carry_a_waveform(edit):
    a1 = edit.ui().doc["tracks"][2]["items"][0]
    assert len(a1["peaks"]) == 96 and 0.2 < max(a1["peaks"]) <= 0.4  # the tone's level is 0.3


def test_moving_the_playhead_sends_that_frame_as_jpeg_bytes(edit):
    ui = edit.ui()
    frames = Sent(ui)
    ui.playhead = 30
    msg, buffers = frames.last("frame")
    assert msg == {"type": "frame", "n": 30, "timecode": "00:00:01:06"}
    img = picture(buffers[0])
    assert img.shape == (240, 320, 3)
    assert np.abs(img.astype(int) - edit.frame(30 / 24).astype(int)).mean() < 6


def test_a_gesture_is_the_same_operation_as_a_cell_and_is_emitted_as_code(edit):
    ui = edit.ui()
    ui._on_message(ui, {"type": "edit", "op": "trim", "clip": "c2", "edge": "out", "to": 3.5}, [])
    assert ui.status == ""
    assert edit.history[-1].code == "s.trim('c2', src_out=2.0, ripple=False)"
    assert edit.cells.pending[-1] == edit.history[-1].code
    assert ui.doc["tracks"][0]["items"][1]["dur"] == 36


def test_keyboard_split_and_delete_and_undo_from_the_widget(edit):
    ui = edit.ui()
    ui.playhead = 60
    ui._on_message(ui, {"type": "edit", "op": "split"}, [])  # the top clip under the playhead: c2 on V1
    assert edit.history[-1].code == "s.split('c2', at=2.5)  # -> c5"
    ui.selection = ["c5"]
    ui._on_message(ui, {"type": "edit", "op": "delete", "ripple": True}, [])
    assert edit.history[-1].code == "s.delete('c5', ripple=True)"
    ui._on_message(ui, {"type": "edit", "op": "undo"}, [])
    assert edit.history[-1].op == "split"
    assert edit.cells.pending[-1] == "s.undo()"


def test_dragging_a_clip_to_another_track_moves_it_there(edit):
    ui = edit.ui()
    ui._on_message(ui, {"type": "edit", "op": "move", "clip": "c2", "to": 2.5, "track": "V2"}, [])
    assert ui.status == ""
    assert edit.history[-1].code == "s.move('c2', to=2.5, track='V2')"
    v2 = next(t for t in ui.doc["tracks"] if t["name"] == "V2")
    assert [(c["id"], c["start"]) for c in v2["items"]] == [("c3", 0), ("c2", 60)]


def test_a_cell_edit_redraws_every_open_widget(edit):
    a, b = edit.ui(), edit.timeline_widget()
    edit.delete("c3")  # the inset
    for w in (a, b):
        assert [t["name"] for t in w.doc["tracks"]] == ["V1", "V2", "A1"]
        assert w.doc["tracks"][1]["items"] == []


def test_a_refused_gesture_shows_why_and_changes_nothing(edit):
    ui = edit.ui()
    state = edit.state()
    ui._on_message(ui, {"type": "edit", "op": "trim", "clip": "c1", "edge": "out", "to": 3.0}, [])  # into c2
    assert "crossfade" in ui.status or "room" in ui.status
    assert edit.state() == state


def test_thumbnail_strips_are_one_jpeg_per_clip(edit):
    ui = edit.ui()
    frames = Sent(ui)
    ui._on_message(ui, {"type": "thumbs", "clip": "c1", "count": 6, "height": 36}, [])
    msg, buffers = frames.last("thumbs")
    assert msg["clip"] == "c1"
    assert picture(buffers[0]).shape == (36, 6 * 48, 3)


def test_timecode_counts_hours_minutes_seconds_frames():
    assert timecode(0, 24) == "00:00:00:00"
    assert timecode(24 * 3661 + 5, 24) == "01:01:01:05"
    assert timecode(30, 30000 / 1001) == "00:00:01:00"


def test_preview_cache_keeps_frames_an_edit_did_not_touch(edit):
    p = Preview(edit, ahead=0, proxies=False)
    for n in range(0, 96, 4):
        p.jpeg(n)
    hits = p.jpegs.hits
    edit.opacity("c3", 0.5)  # the V2 inset: frames 0..23 only
    for n in range(0, 96, 4):
        p.jpeg(n)
    recomputed = 24 - (p.jpegs.hits - hits)
    assert recomputed == 6  # 0, 4, ..., 20: just the frames the edit touched
    p.close()


def test_prefetch_fills_the_cache_ahead_of_the_playhead(edit):
    import time

    p = Preview(edit, ahead=8, proxies=False)
    p.jpeg(10)
    deadline = time.monotonic() + 20
    comp_keys = None
    while time.monotonic() < deadline:
        comp = p._comp
        comp_keys = [comp.key(n) for n in range(11, 19)]
        if all(p.jpegs.get(k) is not None for k in comp_keys):
            break
        time.sleep(0.05)
    assert all(p.jpegs.get(k) is not None for k in comp_keys)
    p.close()


def test_long_gop_media_gets_an_all_intra_proxy_used_by_the_preview(s, tmp_path):
    src = nbedit.media.testsrc(tmp_path / "long.mp4", seconds=3, size=(320, 240), gop=72, audio=False)
    s.append(s.import_media(src), src_in=0, src_out=3)
    p = Preview(s, ahead=0)
    assert p.proxies.wait(60)
    proxy = p.proxies.ready(s.media["long"].info.sha256)
    with nbedit.media.VideoReader(str(proxy)) as r:
        assert r.keyframes == len(r) == 72
    shown = [read_counter(picture(p.jpeg(n))) for n in (50, 3, 71, 20)]
    assert shown == [50, 3, 71, 20]
    assert any(str(proxy) == r.path for r in p._sources._readers.values())  # the preview reads the proxy
    p.close()


def test_renders_never_read_proxies(s, tmp_path):
    src = nbedit.media.testsrc(tmp_path / "long.mp4", seconds=1, size=(320, 240), gop=24, audio=False)
    s.append(s.import_media(src), src_in=0, src_out=1)
    p = Preview(s, ahead=0)
    assert p.proxies.wait(60) and p.proxies.ready(s.media["long"].info.sha256)
    out = s.render(tmp_path / "out.mp4", progress=False, crf=0)
    with av.open(str(out)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert np.abs(first.astype(int) - s.frame(0).astype(int)).mean() < 2
    p.close()


def test_frame_cache_evicts_least_recently_used_within_its_budget():
    cache = FrameCache(budget=3 * 100)
    for k in range(3):
        cache.put(k, np.zeros(100, np.uint8))
    cache.get(0)  # 0 is now the most recent
    cache.put(3, np.zeros(100, np.uint8))
    assert cache.get(1) is None and cache.get(0) is not None
    assert cache.nbytes == 300
