"""The editor's inspector, messages and proxy badge, kernel side: what the views are sent, and each inspector field
as one recorded Session operation (the browser side is in test_browser_inspector.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import av
import pytest
from widget_helpers import Sent

from nbedit import media
from nbedit.widgets import _bundle


@pytest.fixture
def edit(ab, footage):
    """c1 on V1, the inset c2 on V2 (placed, blurred), the tone c3 on A1 at -6 dB."""
    ab.append("a", track="V1", src_in=0, src_out=2)
    inset = ab.append("b", track="V2", src_in=0.5, src_out=1.5)
    ab.transform(inset, x=40, y=-20, scale=0.5)
    ab.effect(inset, "blur", radius=3)
    tone = ab.append(ab.import_media(footage["tone"]), track="A1", src_in=0, src_out=2)
    ab.gain(tone, -6.0)
    return ab


def inspect(ui, **msg):
    ui._on_message(ui, {"type": "inspect_edit", **msg}, [])


def test_the_inspector_shows_the_selected_video_clips_placement_opacity_and_effects(edit):
    ui = edit.ui()
    sent = Sent(ui)
    ui.selection = ["c2"]
    props = sent.last("inspector")[0]["props"]
    assert (props["name"], props["media"], props["track"], props["kind"]) == ("b.mp4", "b.mp4", "V2", "video")
    assert (props["start"], props["duration"], props["src_in"], props["src_out"]) == (0, 24, 12.0, 36.0)
    assert props["transform"] == {"x": 40.0, "y": -20.0, "scale": 0.5, "crop": [0, 0, 0, 0]}
    assert props["opacity"] == 1.0 and props["speed"] == 1.0 and props["enabled"] is True
    assert props["effects"] == [
        {"id": "e1", "kind": "blur", "mask": None, "params": [{"name": "radius", "value": 3.0, "keyed": False}]}
    ]
    assert "gain" not in props


def test_the_inspector_shows_an_audio_clips_gain_and_nothing_when_no_clip_is_selected(edit):
    ui = edit.ui()
    sent = Sent(ui)
    ui.selection = ["c3"]
    props = sent.last("inspector")[0]["props"]
    assert props["gain"] == -6.0 and props["kind"] == "audio" and "transform" not in props
    ui.selection = []
    assert sent.last("inspector")[0] == {"type": "inspector", "clip": None, "props": None}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("x", 100, "s.transform('c2', x=100, y=-20.0, scale=0.5)"),
        ("crop", [4, 0, 4, 0], "s.transform('c2', x=40.0, y=-20.0, scale=0.5, crop=(4, 0, 4, 0))"),
        ("opacity", 0.5, "s.opacity('c2', 0.5)"),
        ("speed", 2, "s.speed('c2', 2)"),
        ("enabled", False, "s.enable('c2', on=False)"),
        ("src_in", 18, "s.trim('c2', src_in=0.75, ripple=False)"),
        ("src_out", 30, "s.trim('c2', src_out=1.25, ripple=False)"),
    ],
)
def test_each_inspector_field_is_one_recorded_operation(edit, field, value, code):
    ui = edit.ui()
    ui.selection = ["c2"]
    before = len(edit.history)
    sent = Sent(ui)
    inspect(ui, clip="c2", field=field, value=value)
    assert len(edit.history) == before + 1 and edit.history[-1].code == code
    assert sent.last("inspected")[0]["error"] == ""
    assert sent.last("inspector")[0]["props"]["id"] == "c2"  # the panel shows the clip as it is now


def test_effect_settings_are_changed_added_and_removed_from_the_inspector(edit):
    ui = edit.ui()
    inspect(ui, clip="c2", field="effect", effect="e1", param="radius", value=8)
    assert edit.history[-1].code == "s.effect('c2', 'e1', radius=8)"
    inspect(ui, clip="c2", field="add_effect", value="color")
    assert edit.history[-1].code == "s.effect('c2', 'color')"
    inspect(ui, clip="c2", field="remove_effect", value="e1")
    assert edit.history[-1].code == "s.remove_effect('c2', 'e1')"
    assert [n["kind"] for n in edit.effects("c2")] == ["color"]


def test_an_audio_clips_gain_is_set_from_the_inspector(edit):
    ui = edit.ui()
    inspect(ui, clip="c3", field="gain", value=-12)
    assert edit.history[-1].code == "s.gain('c3', -12)"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("opacity", 2, "Opacity must be between 0 and 1, not 2"),
        ("x", "left", "X must be a number, not 'left'"),
        ("speed", 0, "Speed factor must be from -100 to 100 and not 0 (negative: reverse), not 0"),
        ("src_in", 1.5, "A source point is a whole number of frames, not 1.5"),
        ("gain", -3, "Clip “b.mp4” (at 00:00:00:00) is on video track V2: gain applies to audio clips"),
    ],
)
def test_a_bad_value_in_the_inspector_says_why_and_leaves_the_session_as_it_was(edit, field, value, message):
    ui = edit.ui()
    ui.selection = ["c2"]
    state, history = edit.state(), len(edit.history)
    sent = Sent(ui)
    inspect(ui, clip="c2", field=field, value=value)
    assert sent.last("inspected")[0]["error"] == message
    assert edit.state() == state and len(edit.history) == history
    assert sent.last("inspector")[0]["props"]["opacity"] == 1.0  # the fields back to what the clip holds


def test_a_refused_gesture_says_so_by_clip_name_and_place_without_api_words(edit):
    ui = edit.ui()
    edit.lock("V1", True)
    ui._on_message(ui, {"type": "edit", "op": "move", "clip": "c1", "to": 1.0}, [])
    assert ui.status == "Track V1 is locked: unlock it first"
    edit.lock("V1", False)
    ui._on_message(ui, {"type": "edit", "op": "trim", "clip": "c1", "edge": "out", "to": 9.0}, [])
    assert ui.status.startswith("Clip “a.mp4” (at 00:00:00:00): it reads up to ")
    assert "'c1'" not in ui.status and "src_out" not in ui.status
    ui._on_message(ui, {"type": "edit", "op": "move", "clip": "c1", "to": 0.5}, [])
    assert ui.status == ""  # the next gesture clears it


def damaged(src: str, out: Path) -> Path:
    """A copy of ``src`` with its middle frame's packet overwritten: it opens, and decoding fails half way."""
    with av.open(src) as c:
        packets = sorted((p for p in c.demux(video=0) if p.size), key=lambda p: p.pts)
        mid = packets[len(packets) // 2]
    data = bytearray(Path(src).read_bytes())
    data[mid.pos : mid.pos + mid.size] = b"\xff" * mid.size
    out.write_bytes(bytes(data))
    return out


def test_a_failed_proxy_is_named_by_its_file_and_the_reason(s, tmp_path):
    long = media.testsrc(tmp_path / "long.mp4", seconds=2, fps=24, size=(160, 120), gop=1000, audio=False)
    bad = damaged(long, tmp_path / "bad.mp4")
    s.append(s.import_media(long), src_in=0, src_out=2)
    ui = s.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "hello"}, [])
    assert ui.preview.proxies.wait(60)
    s.append(s.import_media(bad), src_in=0, src_out=1)
    assert ui.preview.proxies.wait(60)
    deadline = time.monotonic() + 30
    while sent.last("proxies")[0]["state"] != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    text = sent.last("proxies")[0]["text"]
    assert text.startswith("proxy failed: bad.mp4: Frame "), text
    assert text.endswith("of the media could not be decoded."), text
    ui.close()


PARSE_IN_NODE = """
const fs = require("fs"), vm = require("vm");
const [bundle, cases] = process.argv.slice(-2);
const context = vm.createContext({});
vm.runInContext(fs.readFileSync(bundle, "utf8").replace(/^export default .*$/m, ""), context);
const out = JSON.parse(cases).map(([text, here, fps, frames]) => context.parseTimecode(text, here, fps, frames));
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run inspector.js")
def test_timecode_entry_reads_timecodes_frame_numbers_and_offsets_and_says_what_is_wrong(tmp_path):
    """inspector.js's parser, run by node: the playhead at frame 100 of a 240-frame timeline (24 fps here)."""
    cases = {
        "00:00:05:12": {"n": 132},
        "5:12": {"n": 132},
        "00:00:02:00": {"n": 48},
        "48": {"n": 48},
        "+10": {"n": 110},
        "-1:00": {"n": 76},
        " 0 ": {"n": 0},
        "abc": {"error": "“abc” is not a timecode: type HH:MM:SS:FF, a frame number, or +/− frames"},
        "1:2:3:4:5": {"error": "“1:2:3:4:5” is not a timecode: type HH:MM:SS:FF, a frame number, or +/− frames"},
        "00:00:01:30": {"error": "30 frames: a second at 24 fps has frames 0 to 23"},
        "00:75:00": {"error": "00:75:00: minutes and seconds go up to 59"},
        "-200": {"error": "-200 is before the start of the timeline"},
        "00:01:00:00": {"error": "00:01:00:00 is past the end of the timeline (its last frame is at 00:00:09:23)"},
    }
    bundle = tmp_path / "bundle.js"
    bundle.write_text(_bundle())
    out = subprocess.run(
        ["node", "-e", PARSE_IN_NODE, str(bundle), json.dumps([[text, 100, 24, 240] for text in cases])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert dict(zip(cases, json.loads(out.stdout), strict=True)) == cases
