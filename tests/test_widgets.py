"""The widgets' kernel side: what they draw, the frames they send, gestures as recorded operations, caches."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import av
import numpy as np
import pytest
from test_random_edits import random_call
from widget_helpers import Replica, Sent, picture

import nbedit
from nbedit.cache import FrameCache
from nbedit.demo import long_timeline
from nbedit.media import read_counter
from nbedit.preview import Preview
from nbedit.widgets import _bundle, timecode, timeline_doc


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


@pytest.fixture
def long(tmp_path, footage):
    """400 clips over V1, V2, A1 and A2, opened from an .otio file in one operation."""
    path = long_timeline(tmp_path / "long.otio", footage["a"], clips=400)
    return nbedit.Session.from_otio(path, tmp_path / "long-project")


def json_size(msg: dict) -> int:
    return len(json.dumps(msg, separators=(",", ":")))


def test_a_trim_sends_only_the_clips_it_changed_on_its_track(long):
    ui = long.ui()
    sent = Sent(ui)
    full = json_size({"type": "doc", "seq": 0, "doc": ui.doc})
    v2 = next(t for t in ui.doc["tracks"] if t["name"] == "V2")
    clip = v2["items"][40]
    ui._on_message(
        ui, {"type": "edit", "op": "trim", "clip": clip["id"], "edge": "out", "to": clip["start"] / 24 + 0.5}, []
    )
    assert ui.status == ""
    msg, _ = sent.last("tracks")
    assert msg["tracks"] == {} and list(msg["patches"]) == ["V2"] and msg["removed"] == []
    assert list(msg["patches"]["V2"]) == ["splice"] and list(msg["patches"]["V2"]["splice"]) == ["items"]
    at, remove, items, shift = msg["patches"]["V2"]["splice"]["items"]
    assert (at, remove, [c["id"] for c in items], shift) == (40, 1, [clip["id"]], 0)
    assert items[0]["dur"] == clip["dur"] - 12
    assert msg["header"]["history"] == 2 and msg["header"]["can_undo"] is True
    size = json_size(msg)
    assert size < full / 50, (size, full)
    assert ui.traffic[-2] == ("tracks", size)  # then the frame at the playhead
    # a ripple trim moves every later clip of the track, and its crossfades: a shift, not the rest of the track
    ui._on_message(
        ui, {"type": "edit", "op": "trim", "clip": v2["items"][1]["id"], "edge": "out", "to": 1.5, "ripple": True}, []
    )
    assert ui.status == ""
    msg, _ = sent.last("tracks")
    splice = msg["patches"]["V2"]["splice"]
    assert msg["tracks"] == {} and splice["items"][:2] == [1, 1] and splice["items"][3] == -12
    assert splice["xfades"] == [0, 0, [], -12]
    assert json_size(msg) < full / 50
    assert ui.doc == timeline_doc(long)


def test_the_views_doc_never_drifts_from_a_fresh_one(edit):
    ui = edit.ui()
    view = Replica(ui)
    steps = [
        lambda: edit.trim("c2", src_out=2.0, ripple=False),
        lambda: edit.split("c2", at=2.5),
        lambda: edit.move("c3", to=2.0, track="V2"),
        lambda: edit.opacity("c1", 0.5),
        lambda: edit.add_track("V3"),
        lambda: edit.move("c3", to=0.0, track="V3"),
        lambda: edit.delete("c1", ripple=True),
        lambda: edit.remove_track("V2"),
        edit.undo,
        edit.undo,
        edit.undo,
        edit.redo,
        lambda: ui._on_message(ui, {"type": "edit", "op": "undo"}, []),
        lambda: ui._on_message(ui, {"type": "edit", "op": "redo"}, []),
        lambda: edit.speed("c4", 2.0),
    ]
    for k, step in enumerate(steps):
        step()
        fresh = timeline_doc(edit)
        assert ui.doc == fresh, k
        assert view.doc == fresh, k
    assert view.gaps == 0 and view.seq == len(steps)
    assert [t["name"] for t in view.doc["tracks"]] == ["V1", "V2", "V3", "A1"]


@pytest.mark.parametrize("seed", range(8))
def test_the_patched_doc_equals_a_rebuilt_doc_after_random_edits(ab, seed):
    """After every edit, undo and redo of a random sequence (markers on clips too), what the widget patched, and
    what a view rebuilt from its messages, equals the document built afresh from the timeline."""
    rnd = random.Random(seed)
    ab.append("a", track="V1", src_in=0.5, src_out=2.5)
    ab.append("b", track="V1", src_in=0.5, src_out=2.5)
    ui = ab.ui()
    view = Replica(ui)
    sent = Sent(ui)

    def mark():
        clip = rnd.choice([None, *(c.id for c in ab.clips)])
        ab.add_marker(rnd.randrange(0, max(1, round(ab.duration * 24))) / 24, clip=clip)

    made = 0
    for _ in range(50):
        try:
            (mark if rnd.random() < 0.15 else random_call(ab, rnd))()
        except nbedit.NbeditError:
            continue
        made += 1
        fresh = timeline_doc(ab)
        assert ui.doc == fresh, made
        assert view.doc == fresh, made
    patched = [m for m, _ in sent.got if m["type"] == "tracks" and m["patches"]]
    assert made >= 10 and len(patched) >= made // 3  # most changes went as patches, not whole tracks


BUS_IN_NODE = """
const fs = require("fs"), vm = require("vm");
const [editorJs, messagesJson] = process.argv.slice(-2);
const code = fs.readFileSync(editorJs, "utf8").replace(/^export default .*$/m, "");
const context = vm.createContext({ performance, requestAnimationFrame: () => 0 });
vm.runInContext(code, context);
const handlers = {}, sent = [];
const model = { on: (name, fn) => { handlers[name] = fn; }, send: (m) => sent.push(m), get: () => null };
const bus = context.makeBus(model, { focus() {} });
const docs = [];
for (const msg of JSON.parse(fs.readFileSync(messagesJson, "utf8"))) {
  handlers["msg:custom"](msg, []);
  if (msg.type === "tracks" || msg.type === "doc") docs.push({ seq: bus.seq(), doc: bus.doc() });
}
process.stdout.write(JSON.stringify({ docs, sent }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run editor.js's message handling")
def test_editor_js_rebuilds_the_same_doc_from_the_messages(edit, tmp_path):
    """The real editor.js bus (run by node, with a stand-in for anywidget's model) fed the widget's messages."""
    ui = edit.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "hello"}, [])
    fresh = [timeline_doc(edit)]
    for step in (
        lambda: edit.trim("c2", src_out=2.0, ripple=False),
        lambda: edit.split("c2", at=2.5),
        lambda: edit.delete("c1", ripple=True),  # a shift of every later clip and crossfade
        lambda: edit.add_track("V3"),
        lambda: edit.move("c3", to=0.5, track="V3"),
        edit.undo,
        edit.undo,
        edit.redo,
    ):
        step()
        fresh.append(timeline_doc(edit))
    messages = [m for m, _ in sent.got if m["type"] in ("doc", "tracks")]
    messages.insert(3, {**messages[3], "seq": messages[3]["seq"] + 5})  # one from the future: a gap
    (tmp_path / "messages.json").write_text(json.dumps(messages))
    bundle = tmp_path / "bundle.js"  # the module as the widget loads it: editor.js uses the parts joined before it
    bundle.write_text(_bundle())
    out = subprocess.run(
        ["node", "-e", BUS_IN_NODE, str(bundle), str(tmp_path / "messages.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(out.stdout)
    docs = [d["doc"] for d in got["docs"]]
    assert docs[:3] == fresh[:3] and docs[4:] == fresh[3:]  # the gap changed nothing...
    assert got["sent"] == [{"type": "hello"}]  # ...but asked for the whole doc once


def test_a_change_the_widget_missed_rebuilds_every_track(long):
    ui = long.ui()
    view = Replica(ui)
    sent = Sent(ui)
    long.listeners.remove(ui._listener)
    v1 = ui.doc["tracks"][0]["items"]
    long.trim(v1[3]["id"], src_out=v1[3]["src_in"] + 0.5, ripple=False)  # unseen: the doc still shows it whole
    long.listeners.append(ui._listener)
    a1 = next(t for t in ui.doc["tracks"] if t["name"] == "A1")["items"]
    long.delete(a1[7]["id"])
    msg, _ = sent.last("tracks")
    assert sorted(msg["patches"]) == ["A1", "V1"] and msg["tracks"] == {}  # only what differs, found by comparing
    assert ui.doc == view.doc == timeline_doc(long)


def test_a_view_that_missed_a_message_asks_for_the_whole_doc(edit):
    ui = edit.ui()
    view = Replica(ui)
    view.seq -= 1  # as if a change had not arrived
    edit.trim("c2", src_out=2.0, ripple=False)
    assert view.gaps == 1
    ui._on_message(ui, {"type": "hello"}, [])  # what the bus does next
    assert view.doc == timeline_doc(edit) and view.seq == ui._seq


def test_audio_clips_drawn_get_their_waveform_when_asked(edit):
    ui = edit.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "peaks", "clips": [["c4", "k4"], ["gone", "kx"]]}, [])
    msg, _ = sent.last("peaks")
    assert list(msg["peaks"]) == ["k4"]  # a clip that is gone gets no answer
    levels = msg["peaks"]["k4"]
    assert len(levels) == 96 and 0.2 < max(levels) <= 0.4  # the tone's level is 0.3
    assert "peaks" not in ui.doc["tracks"][2]["items"][0]  # not part of the timeline document


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


def test_a_gestures_cell_goes_after_the_cells_already_recorded(edit):
    """The editor's view is told to make the last recorded cell active before "insert below", and gets the
    keyboard back after it: the commands and the messages, in the order the front end receives them."""
    from nbedit.widgets import cell_inserter

    ui = edit.ui()
    order = []
    edit.cells.insert = cell_inserter(edit, lambda name, args: order.append((name, args)))
    original = ui.send
    ui.send = lambda content, buffers=None: (
        order.append(content) if content["type"] in ("anchor", "inserted") else None,
        original(content, buffers),
    )
    ui._on_message(ui, {"type": "edit", "op": "trim", "clip": "c2", "edge": "out", "to": 3.5}, [])
    ui.playhead = 24
    ui._on_message(ui, {"type": "edit", "op": "split", "clip": "c1"}, [])
    assert ui.status == ""
    trim, split = (r.code for r in edit.history[-2:])
    assert order == [
        {"type": "anchor", "recorded": []},
        ("notebook:insert-cell-below", {}),
        ("notebook:replace-selection", {"text": trim}),
        {"type": "inserted", "code": trim},
        {"type": "anchor", "recorded": [trim]},  # the view walks past the trim's cell: the split goes below it
        ("notebook:insert-cell-below", {}),
        ("notebook:replace-selection", {"text": split}),
        {"type": "inserted", "code": split},
    ]
    assert edit.cells.applied == [trim, split] and edit.cells.pending == []
    edit.trim("c1", src_out=0.5, ripple=False)  # from a cell: nothing inserted
    assert len(order) == 8


def test_track_switches_and_markers_from_the_widget_are_recorded_verbs(edit):
    ui = edit.ui()
    view = Replica(ui)
    for op, track in (("mute", "A1"), ("solo", "A1"), ("lock", "V2")):
        ui._on_message(ui, {"type": "edit", "op": op, "track": track, "on": True}, [])
        assert ui.status == "" and edit.history[-1].code == f"s.{op}('{track}', on=True)"
    tracks = {t["name"]: t for t in view.doc["tracks"]}
    assert (tracks["A1"]["mute"], tracks["A1"]["solo"], tracks["V2"]["lock"], tracks["V1"]["mute"]) == (
        True,
        True,
        True,
        False,
    )
    ui._on_message(ui, {"type": "edit", "op": "mute", "track": "A1", "on": False}, [])
    assert edit.history[-1].code == "s.mute('A1', on=False)" and not ui.doc["tracks"][2]["mute"]
    ui.playhead = 30
    ui._on_message(ui, {"type": "edit", "op": "add_marker"}, [])  # M, at the playhead
    assert ui.status == "" and edit.history[-1].code == "s.add_marker(1.25)"
    mk = view.doc["markers"][0]["id"]
    assert [(m["id"], m["at"], m["clip"]) for m in view.doc["markers"]] == [(mk, 30, None)]
    ui._on_message(ui, {"type": "edit", "op": "add_marker", "at": 12, "clip": "c1", "color": "GREEN"}, [])
    ui._on_message(ui, {"type": "edit", "op": "move_marker", "id": mk, "at": 48}, [])  # dragged on the ruler
    assert edit.history[-1].code == f"s.move_marker('{mk}', to=2)"
    placed = sorted((m["at"], m["clip"], m["color"]) for m in view.doc["markers"])
    assert placed == [(12, "c1", "GREEN"), (48, None, "RED")]
    assert view.doc == timeline_doc(edit)
    # a locked track refuses edits, and says so
    state = edit.state()
    ui._on_message(ui, {"type": "edit", "op": "move", "clip": "c3", "to": 2.0}, [])
    assert ui.status and edit.state() == state


def test_dragging_a_clip_along_its_track_records_the_move_without_the_track(edit):
    ui = edit.ui()
    track = edit.clip("c2").track
    ui._on_message(ui, {"type": "edit", "op": "move", "clip": "c2", "to": 2.5, "track": track}, [])
    assert ui.status == ""
    assert edit.history[-1].code == "s.move('c2', to=2.5)"
    assert edit.clip("c2").track == track and edit.clip("c2").start == 2.5
