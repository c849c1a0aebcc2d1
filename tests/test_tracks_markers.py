"""Track switches (mute, solo, lock) and markers: recorded operations that render, undo, replay and export."""

from __future__ import annotations

import numpy as np
import opentimelineio as otio
import pytest

import nbedit
from nbedit.render import Mixer


@pytest.fixture
def av(ab, footage):
    ab.append("a", track="V1", src_in=0, src_out=2)
    ab.append("b", track="V2", src_in=0, src_out=2)
    ab.append("a", track="A1", src_in=0, src_out=2)
    ab.append("b", track="A2", src_in=0, src_out=2)
    return ab


def loudness(s: nbedit.Session) -> np.ndarray:
    """RMS per channel-mixed track contribution: the mix's level over the first second."""
    pcm = Mixer(s.timeline, s.sources).samples(0, 48000)
    return float(np.sqrt(np.mean(pcm**2)))


def test_a_muted_video_track_is_hidden_and_undo_shows_it_again(av):
    top = av.frame(0.5)
    av.mute("V2")
    under = av.frame(0.5)
    assert not np.array_equal(top, under)
    av.undo()
    assert np.array_equal(av.frame(0.5), top)


def test_solo_plays_only_the_soloed_tracks(av):
    both = loudness(av)
    av.solo("A1")
    one = loudness(av)
    av.mute("A1")  # a muted soloed track is not heard: the mix falls back to what is on
    assert 0 < one < both
    assert [t.enabled for t in av.timeline.tracks if t.name == "A1"] == [False]  # mute is OTIO's enabled
    av.undo()
    av.undo()
    assert loudness(av) == both


def test_solo_is_for_audio_tracks(av):
    with pytest.raises(nbedit.EditError, match="solo is for audio tracks"):
        av.solo("V1")


def test_a_locked_track_refuses_edits_of_its_clips_and_keeps_its_switches(av):
    c = av.clips[0]
    av.lock("V1")
    state = av.state()
    with pytest.raises(nbedit.EditError, match="track V1 is locked"):
        av.trim(c, src_out=1.0)
    with pytest.raises(nbedit.EditError, match="locked"):
        av.append("a", track="V1", src_in=0, src_out=1)
    assert av.state() == state
    av.mute("V1")  # a switch, not an edit of its clips
    av.lock("V1", False)
    av.trim(c, src_out=1.0)
    assert c.duration == pytest.approx(1.0)


def test_switches_record_replay_and_reopen(av):
    av.mute("A2")
    av.lock("V1")
    av.solo("A1")
    assert [r.code for r in av.history][-3:] == ["s.mute('A2')", "s.lock('V1')", "s.solo('A1')"]
    assert nbedit.Session(av.path).state() == av.state()


def test_timeline_and_clip_markers_land_where_they_are_put(av):
    m = av.add_marker(1.0, "music in", color="green")
    k = av.add_marker(0.5, "blink", clip=av.clips[0], note="eyes")
    got = {x["id"]: x for x in av.markers()}
    assert got[m] == {
        "id": m, "name": "music in", "color": "GREEN", "note": "", "clip": None, "at": 24, "duration": 0
    }
    assert got[k]["clip"] == av.clips[0].id and got[k]["at"] == 12 and got[k]["note"] == "eyes"


def test_a_clip_marker_stays_on_its_picture_when_the_clip_is_trimmed(av):
    c = av.clips[0]
    k = av.add_marker(1.0, "here", clip=c)
    av.trim(c, src_in=0.5)  # the clip now starts half a second later in its media
    assert {x["id"]: x["at"] for x in av.markers()}[k] == 12


def test_markers_move_change_and_go_and_undo_brings_them_back(av):
    m = av.add_marker(1.0, "a")
    before = av.state()
    av.move_marker(m, to=1.5)
    av.change_marker(m, name="b", color="BLUE")
    assert [(x["at"], x["name"], x["color"]) for x in av.markers()] == [(36, "b", "BLUE")]
    av.remove_marker(m)
    assert av.markers() == []
    for _ in range(3):
        av.undo()
    assert av.state() == before


def test_bad_marker_calls_are_clear_errors_and_change_nothing(av):
    state = av.state()
    with pytest.raises(nbedit.EditError, match="color must be one of"):
        av.add_marker(1.0, color="teal")
    with pytest.raises(nbedit.TimeRangeError, match="is on screen from"):
        av.add_marker(3.0, clip=av.clips[0])
    with pytest.raises(nbedit.ClipNotFoundError, match="no marker"):
        av.move_marker("mk99", to=1.0)
    assert av.state() == state


def test_markers_survive_a_reopen_and_an_otio_export(av, tmp_path):
    av.add_marker(1.0, "timeline")
    av.add_marker(0.5, "clip", clip=av.clips[0])
    assert nbedit.Session(av.path).markers() == av.markers()
    av.export(tmp_path / "cut.otio")
    tl = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    assert [m.name for m in tl.tracks.markers] == ["timeline"]
    assert [m.name for c in tl.find_clips() for m in c.markers] == ["clip"]


def test_a_disabled_clip_is_neither_shown_nor_heard_and_stays_in_place(av):
    top, both = av.frame(0.5), loudness(av)
    v2 = next(c for c in av.clips if c.track == "V2")
    a2 = next(c for c in av.clips if c.track == "A2")
    av.enable(v2, False)
    av.enable(a2, False)
    assert not np.array_equal(av.frame(0.5), top) and loudness(av) < both
    assert (v2.start, v2.duration) == (0.0, 2.0)
    av.undo()
    av.undo()
    assert np.array_equal(av.frame(0.5), top)


def test_a_disabled_clip_goes_out_and_comes_back_disabled(av, tmp_path):
    v2 = next(c for c in av.clips if c.track == "V2")
    av.enable(v2, False)
    out = av.export(tmp_path / "cut.otio")
    again = nbedit.Session(tmp_path / "again")
    report = again.import_timeline(out)
    back = [c for c in again.clips if c.track == "V2"]
    assert [c.otio.enabled for c in back] == [False]
    assert any("kept disabled" in n for n in report.notes)
