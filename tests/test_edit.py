"""Edit operations: what each does to the timeline, and to the frames it shows (read from the frame counter)."""

from __future__ import annotations

import numpy as np
import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime

import nbedit
from nbedit.media import read_counter


def shown(s: nbedit.Session, t: float) -> int:
    """The source frame number visible at timeline time t."""
    return read_counter(s.frame(t))


def layout(s: nbedit.Session, track: str = "V1") -> list[tuple[str, float, float]]:
    """(clip id or 'gap', start, duration) of each item of a track, in seconds."""
    out, pos = [], 0.0
    for item in next(t for t in s.timeline.tracks if t.name == track):
        if isinstance(item, otio.schema.Transition):
            continue
        dur = item.source_range.duration.to_seconds()
        label = item.metadata["nbedit"]["id"] if isinstance(item, otio.schema.Clip) else "gap"
        out.append((label, round(pos, 4), round(dur, 4)))
        pos += dur
    return out


def test_the_issue_example_runs_as_written(ab):
    s = ab
    c1 = s.append("a", track="V1", src_in=2.0, src_out=3.5)
    c2 = s.append("b", track="V1", src_in=0.5, src_out=2.0)
    s.crossfade(c1, c2, duration=0.5)
    left, right = s.split(c1, at=0.5)
    s.trim(right, src_in=2.25)
    s.delete(left, ripple=True)
    assert layout(s) == [(right.id, 0.0, 1.25), (c2.id, 1.25, 1.5)]
    assert shown(s, 0.0) == 54  # 2.25 s into a at 24 fps
    assert s.frame(1.25).shape == (240, 320, 3)


def test_append_places_clips_end_to_end(ab):
    c1 = ab.append("a", track="V1", src_in=1.0, src_out=2.0)
    c2 = ab.append("b", track="V1", src_in=0.5, src_out=1.5)
    assert layout(ab) == [(c1.id, 0.0, 1.0), (c2.id, 1.0, 1.0)]
    assert shown(ab, 0.0) == 24 and shown(ab, 1.0) == 12


def test_first_video_clip_sets_the_timeline_format(ab):
    ab.append("a")
    assert ab.format == {"width": 320, "height": 240, "fps": "24"}


def test_clips_keep_their_id_and_media_in_otio_metadata(ab):
    c = ab.append("a", src_in=0, src_out=1)
    clip = ab.timeline.find_clips()[0]
    assert clip.metadata["nbedit"] == {"id": c.id, "media": "a"}
    assert clip.media_reference.target_url.startswith("file://")
    assert clip.media_reference.target_url.endswith("/a.mp4")


def test_rational_times_are_accepted_at_the_edge(ab):
    c = ab.append("a", src_in=RationalTime(12, 24), src_out=RationalTime(1.0 * 48000, 48000))
    assert (c.src_in, c.src_out) == (0.5, 1.0)


def test_insert_inside_a_clip_cuts_it_and_pushes_the_rest(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    c2 = ab.insert("b", track="V1", at=1.0, src_in=0, src_out=0.5)
    ids = [label for label, _, _ in layout(ab)]
    assert ids[0] == c1.id and ids[1] == c2.id and len(ids) == 3
    assert layout(ab)[2][1:] == (1.5, 1.0)
    assert shown(ab, 1.5) == 24  # the second half of c1 continues where it was cut


def test_overwrite_replaces_without_moving_anything(ab):
    c1 = ab.append("a", src_in=0, src_out=3)
    ab.overwrite("b", track="V1", at=1.0, src_in=0, src_out=0.5)
    assert ab.duration == 3.0
    assert shown(ab, 0.5) == 12 and shown(ab, 1.0) == 0 and shown(ab, 1.5) == 36
    assert layout(ab)[0] == (c1.id, 0.0, 1.0)


def test_trim_with_ripple_moves_later_clips(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    c2 = ab.append("b", src_in=0, src_out=1)
    ab.trim(c1, src_out=1.5)
    assert layout(ab) == [(c1.id, 0.0, 1.5), (c2.id, 1.5, 1.0)]


def test_trim_without_ripple_leaves_a_gap(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    c2 = ab.append("b", src_in=0, src_out=1)
    ab.trim(c1, src_in=0.5, ripple=False)
    assert layout(ab) == [("gap", 0.0, 0.5), (c1.id, 0.5, 1.5), (c2.id, 2.0, 1.0)]
    assert shown(ab, 0.5) == 12


def test_trim_without_ripple_cannot_grow_into_a_neighbour(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    ab.append("b", src_in=0, src_out=1)
    with pytest.raises(nbedit.EditError, match="ripple=True"):
        ab.trim(c1, src_out=2.5, ripple=False)


def test_split_gives_two_clips_that_play_the_same_frames(ab):
    c1 = ab.append("a", src_in=0.5, src_out=3.0)
    before = [shown(ab, t / 24) for t in range(0, 60, 7)]
    left, right = ab.split(c1, at=1.0)
    assert left.id == c1.id and right.id != c1.id
    assert (left.src_out, right.src_in) == (1.5, 1.5)
    assert [shown(ab, t / 24) for t in range(0, 60, 7)] == before


def test_delete_lifts_by_default_and_ripples_on_request(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    c2 = ab.append("b", src_in=0, src_out=1)
    c3 = ab.append("a", src_in=2, src_out=3)
    ab.delete(c2)
    assert layout(ab) == [(c1.id, 0.0, 1.0), ("gap", 1.0, 1.0), (c3.id, 2.0, 1.0)]
    ab.delete(c1, ripple=True)
    assert layout(ab) == [("gap", 0.0, 1.0), (c3.id, 1.0, 1.0)]


def test_move_to_another_track_leaves_a_gap_behind(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    c2 = ab.append("b", src_in=0, src_out=1)
    ab.move(c1, to=0.5, track="V2")
    assert layout(ab) == [("gap", 0.0, 1.0), (c2.id, 1.0, 1.0)]
    assert layout(ab, "V2") == [("gap", 0.0, 0.5), (c1.id, 0.5, 1.0)]
    assert ab.tracks == ["V1", "V2"]


def test_move_within_a_track_overwrites_what_is_there(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    c2 = ab.append("b", src_in=0, src_out=2)
    ab.move(c1, to=2.0)
    assert layout(ab) == [("gap", 0.0, 1.0), (c2.id, 1.0, 1.0), (c1.id, 2.0, 1.0)]


def test_move_refuses_a_track_of_the_other_kind(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    with pytest.raises(nbedit.EditError, match="A1"):
        ab.move(c1, to=0, track="A1")


def test_slip_shows_other_media_in_the_same_place(ab):
    c1 = ab.append("a", src_in=1, src_out=2)
    ab.slip(c1, by=0.5)
    assert (c1.start, c1.duration, c1.src_in) == (0.0, 1.0, 1.5)
    assert shown(ab, 0) == 36


def test_speed_two_plays_every_other_frame_in_half_the_time(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    c2 = ab.append("b", src_in=0, src_out=1)
    ab.speed(c1, 2.0)
    assert layout(ab) == [(c1.id, 0.0, 1.0), (c2.id, 1.0, 1.0)]
    assert [shown(ab, k / 24) for k in range(4)] == [0, 2, 4, 6]
    warp = c1.otio.effects[0]
    assert isinstance(warp, otio.schema.LinearTimeWarp) and warp.time_scalar == 2.0


def test_crossfade_is_an_otio_transition_centred_on_the_cut(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    c2 = ab.append("b", src_in=1, src_out=2)
    ab.crossfade(c1, c2, duration=0.5)
    tr = [t for t in ab.timeline.tracks[0] if isinstance(t, otio.schema.Transition)]
    assert len(tr) == 1
    assert (tr[0].in_offset.to_seconds(), tr[0].out_offset.to_seconds()) == (0.25, 0.25)
    assert ab.duration == 3.0  # a transition takes no time of its own


def test_crossfade_needs_media_beyond_the_cut(ab):
    c1 = ab.append("a", src_in=0, src_out=4)  # a ends at 4 s: nothing after the cut
    c2 = ab.append("b", src_in=1, src_out=2)
    with pytest.raises(nbedit.TimeRangeError, match="not enough media after clip 'c1' for a 0.5 s crossfade"):
        ab.crossfade(c1, c2, duration=0.5)
    c3 = ab.append("a", src_in=0, src_out=1)
    with pytest.raises(nbedit.TimeRangeError, match="not enough media before clip 'c3'.*its media has 0.00 s"):
        ab.crossfade(c2, c3, duration=0.5)


def test_crossfade_needs_neighbours(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    ab.append("b", src_in=0, src_out=1)
    c3 = ab.append("a", src_in=2, src_out=3)
    with pytest.raises(nbedit.EditError, match="neighbours"):
        ab.crossfade(c1, c3)


def test_split_inside_a_crossfade_is_refused(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    c2 = ab.append("b", src_in=1, src_out=2)
    ab.crossfade(c1, c2, duration=1.0)
    with pytest.raises(nbedit.EditError, match="inside crossfade"):
        ab.split(c1, at=1.75)


def test_opacity_transform_and_gain_are_clip_metadata(ab, footage):
    v = ab.append("a", src_in=0, src_out=1)
    t = ab.import_media(footage["tone"])
    a = ab.append(t, track="A1", src_in=0, src_out=1)
    ab.opacity(v, 0.5)
    ab.transform(v, x=10, y=-5, scale=0.5, crop=(2, 0, 2, 0))
    ab.gain(a, -6)
    assert v.otio.metadata["nbedit"]["opacity"] == 0.5
    tf = v.otio.metadata["nbedit"]["transform"]
    assert (tf["x"], tf["y"], tf["scale"], list(tf["crop"])) == (10.0, -5.0, 0.5, [2, 0, 2, 0])
    assert a.otio.metadata["nbedit"]["gain_db"] == -6.0


def test_tracks_are_created_on_demand_in_order(ab, footage):
    ab.append("a", track="V2", src_in=0, src_out=1)
    ab.append("a", track="A1", src_in=0, src_out=1)
    ab.add_track("V1")
    assert ab.tracks == ["V1", "V2", "A1"]
    assert [t.kind for t in ab.timeline.tracks] == ["Video", "Video", "Audio"]


def test_remove_track_with_clips_needs_force(ab):
    ab.append("a", track="V2", src_in=0, src_out=1)
    with pytest.raises(nbedit.EditError, match="force=True"):
        ab.remove_track("V2")
    ab.remove_track("V2", force=True)
    assert ab.tracks == []


def test_clip_handles_follow_the_clip_through_edits_and_undo(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    ab.insert("b", at=0, src_in=0, src_out=1)
    assert c1.start == 1.0
    ab.undo()
    assert c1.start == 0.0


def test_undo_and_redo_walk_the_history(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    one = ab.state()
    ab.split(c1, at=1.0)
    two = ab.state()
    assert ab.undo().op == "split"
    assert ab.state() == one and ab.history[-1].op == "append"
    ab.redo()
    assert ab.state() == two and ab.history[-1].op == "split"


def test_a_new_edit_clears_redo(ab):
    c1 = ab.append("a", src_in=0, src_out=2)
    ab.split(c1, at=1.0)
    ab.undo()
    ab.slip(c1, by=0.5)
    with pytest.raises(nbedit.EditError, match="nothing to redo"):
        ab.redo()


BAD_CALLS = {
    "unknown clip": (lambda s: s.trim("c99", src_in=0), nbedit.ClipNotFoundError),
    "unknown media": (lambda s: s.append("nope"), nbedit.ClipNotFoundError),
    "bad track name": (lambda s: s.append("a", track="X1"), nbedit.EditError),
    "trim past media end": (lambda s: s.trim("c1", src_out=9.0), nbedit.TimeRangeError),
    "trim in after out": (lambda s: s.trim("c1", src_in=1.5, src_out=1.0), nbedit.TimeRangeError),
    "split at clip edge": (lambda s: s.split("c1", at=0.0), nbedit.TimeRangeError),
    "slip before media start": (lambda s: s.slip("c1", by=-5), nbedit.TimeRangeError),
    "speed zero": (lambda s: s.speed("c1", 0), nbedit.EditError),
    "opacity above one": (lambda s: s.opacity("c1", 1.5), nbedit.EditError),
    "crop everything": (lambda s: s.transform("c1", crop=(200, 0, 200, 0)), nbedit.EditError),
    "gain on a video clip": (lambda s: s.gain("c1", -3), nbedit.EditError),
    "time as text": (lambda s: s.split("c1", at="1.0"), nbedit.TimeRangeError),
    "time not finite": (lambda s: s.split("c1", at=float("nan")), nbedit.TimeRangeError),
    "negative position": (lambda s: s.insert("a", at=-1, src_out=1), nbedit.TimeRangeError),
    "missing file": (lambda s: s.import_media("/no/such/file.mp4"), nbedit.MediaError),
    "wrong sha256": (lambda s: s.import_media(s.media["b"].path, sha256="0" * 64), nbedit.MediaError),
    "audio file on a video track": (lambda s: s.append("tone", track="V1"), nbedit.EditError),
    "odd format size": (lambda s: s.set_format(321, 240), nbedit.EditError),
    "rate change with clips": (lambda s: s.set_format(320, 240, fps=30), nbedit.EditError),
    "format size as text": (lambda s: s.set_format("a", 240), nbedit.EditError),
    "opacity as text": (lambda s: s.opacity("c1", "x"), nbedit.EditError),
    "gain as text": (lambda s: s.gain("c3", "loud"), nbedit.EditError),
    "split at nothing": (lambda s: s.split("c1", at=None), nbedit.TimeRangeError),
    "move to nothing": (lambda s: s.move("c1", to=None), nbedit.TimeRangeError),
    "crop not four numbers": (lambda s: s.transform("c1", crop=5), nbedit.EditError),
    "infinite speed": (lambda s: s.speed("c1", float("inf")), nbedit.EditError),
    "trim with no points": (lambda s: s.trim("c1"), nbedit.EditError),
    "second crossfade": (lambda s: s.crossfade("c1", "c2"), nbedit.EditError),
    "transform of an audio clip": (lambda s: s.transform("c3", scale=0.5), nbedit.EditError),
    "insert at a crossfade cut": (lambda s: s.insert("a", at=2.0, src_in=0, src_out=1), nbedit.EditError),
}

MESSAGES = {
    "second crossfade": "already have crossfade",
    "transform of an audio clip": "applies to Video clips",
    "insert at a crossfade cut": "cut of crossfade",
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_a_failing_operation_changes_nothing(ab, footage, name):
    ab.import_media(footage["tone"])
    c1 = ab.append("a", src_in=0, src_out=2)
    ab.append("b", src_in=0.5, src_out=1.5)
    ab.crossfade(c1, "c2", duration=0.5)
    ab.append("tone", track="A1", src_in=0, src_out=1)  # c3
    ab.gain("c3", -3)
    state, history, media = ab.state(), list(ab.history), sorted(ab.media)
    journal = ab.journal.path.read_bytes()
    call, error = BAD_CALLS[name]
    with pytest.raises(error) as info:
        call(ab)
    assert isinstance(info.value, nbedit.NbeditError)
    assert MESSAGES.get(name, "") in str(info.value)  # a message a person can read
    assert ab.state() == state
    assert ab.history == history
    assert sorted(ab.media) == media
    assert ab.journal.path.read_bytes() == journal


def test_split_of_a_sped_up_clip_keeps_every_frame(ab):
    c1 = ab.append("a", src_in=0, src_out=3)
    ab.speed(c1, 1.5)
    before = [shown(ab, k / 24) for k in range(48)]
    left, right = ab.split(c1, at=3 / 24)
    assert right.src_in == 4.5 / 24  # exact, between two source frames
    assert [shown(ab, k / 24) for k in range(48)] == before


def test_speed_up_a_clip_that_ends_with_its_media(ab):
    c = ab.append("a", src_in=85 / 24)  # the last 11 frames of a 96-frame file
    ab.speed(c, 2)
    assert round(c.duration * 24) == 6
    assert [shown(ab, k / 24) for k in range(6)] == [85, 87, 89, 91, 93, 95]


def test_trim_the_head_of_a_sped_up_clip_without_ripple_keeps_its_end(ab):
    c = ab.append("a", src_in=0, src_out=7 * 1.5 / 24)
    ab.speed(c, 1.5)
    end = c.end
    ab.trim(c, src_in=1.5 / 24, ripple=False)
    assert c.end == end and round(c.start * 24) == 1


def test_overwrite_over_the_head_of_a_clip_keeps_the_rest_under_its_id(ab):
    c1 = ab.append("a", src_in=0, src_out=1)
    c2 = ab.append("a", src_in=1, src_out=3)
    c3 = ab.overwrite("b", at=0.5, src_in=0, src_out=1)
    assert ab.history[-1].made == (c3.id,)
    assert (c2.start, c2.src_in) == (1.5, 1.5)  # the surviving tail is still c2
    assert (c1.start, c1.duration) == (0.0, 0.5)


def test_every_verb_shows_its_operation_signature_and_the_cell_it_records(s):
    import inspect

    from nbedit.session import OPERATIONS

    assert len(OPERATIONS) > 40
    for name, fn in OPERATIONS.items():
        method = getattr(s, name)
        params = list(inspect.signature(method).parameters)
        assert params == list(inspect.signature(fn).parameters)[1:], name  # the Edit is not the user's to pass
        assert method.__doc__ == fn.__doc__ and f"s.{name}(" in fn.__doc__, name


def test_roll_moves_the_cut_and_nothing_else(ab):
    c1 = ab.append("a", src_in=0.5, src_out=2.0)
    c2 = ab.append("b", src_in=0.5, src_out=2.0)
    end = ab.duration
    ab.roll(c1, c2, by=0.25)
    assert (c1.duration, c1.src_in, c1.src_out) == pytest.approx((1.75, 0.5, 2.25))
    assert (c2.start, c2.src_in, c2.src_out) == pytest.approx((1.75, 0.75, 2.0))
    assert ab.duration == pytest.approx(end)
    assert ab.history[-1].code == "s.roll('c1', 'c2', by=0.25)"


def test_roll_needs_media_beyond_the_cut(ab):
    c1 = ab.append("a", src_in=0.5, src_out=4.0)  # a lasts 4 s: nothing after its end
    c2 = ab.append("b", src_in=0.5, src_out=2.0)
    state = ab.state()
    with pytest.raises(nbedit.TimeRangeError, match="which lasts"):
        ab.roll(c1, c2, by=0.25)
    assert ab.state() == state


def test_slide_moves_a_clip_between_its_neighbours_keeping_its_picture(ab):
    c1 = ab.append("a", src_in=0.5, src_out=1.5)
    c2 = ab.append("b", src_in=0.5, src_out=1.5)
    c3 = ab.append("a", src_in=1.0, src_out=2.0)
    ab.slide(c2, by=-0.25)
    assert (c1.src_out, c2.start, c2.src_in, c2.src_out) == pytest.approx((1.25, 0.75, 0.5, 1.5))
    assert (c3.start, c3.src_in, c3.duration) == pytest.approx((1.75, 0.75, 1.25))
    ab.slide(c2, by=0.5)
    assert (c1.src_out, c2.start, c3.start, c3.src_in) == pytest.approx((1.75, 1.25, 2.25, 1.25))


def test_slide_into_a_gap_and_from_the_start_of_the_track(ab):
    c1 = ab.append("a", src_in=0.5, src_out=1.5)
    c2 = ab.overwrite("b", at=2.0, src_in=0.5, src_out=1.5)  # a one-second gap before it
    ab.slide(c2, by=-0.5)
    assert c2.start == pytest.approx(1.5) and ab.duration == pytest.approx(2.5)  # nothing after it: the end moves
    ab.slide(c1, by=0.25)  # the first clip: a gap opens before it, the gap after it shrinks
    assert (c1.start, c1.src_in) == pytest.approx((0.25, 0.5)) and c2.start == pytest.approx(1.5)
    with pytest.raises(nbedit.TimeRangeError, match="too short"):
        ab.slide(c1, by=0.5)


@pytest.fixture
def linked(ab):
    v = ab.append("a", src_in=0.5, src_out=2.5, audio="A1")
    ab.append("b", src_in=0.5, src_out=2.5, audio="A1")
    return ab, v, ab.clip(ab.locate(v)[1].item.metadata["nbedit"]["linked"][0])


def test_a_clip_placed_with_audio_brings_its_sound_linked_on_the_audio_track(linked):
    s, v, a = linked
    assert (a.track, a.media, a.start, a.src_in, a.src_out) == ("A1", "a", v.start, v.src_in, v.src_out)
    assert s.history[0 + 2].code == "s.append('a', src_in=0.5, src_out=2.5, audio='A1')  # -> c1, c2"


def test_linked_clips_move_trim_slip_and_change_speed_together(linked):
    s, v, a = linked
    s.move(v, to=5.0)
    assert (v.start, a.start) == (5.0, 5.0)
    s.trim(v, src_in=1.0, ripple=False)
    assert (a.start, a.src_in, a.src_out) == pytest.approx((5.5, 1.0, 2.5))
    s.slip(a, by=0.25)
    assert (v.src_in, a.src_in) == pytest.approx((1.25, 1.25))
    s.speed(v, 2.0)
    assert (v.duration, a.duration) == pytest.approx((0.75, 0.75))


def test_splitting_a_linked_clip_cuts_its_sound_and_links_the_pieces(linked):
    s, v, a = linked
    left, right = s.split(v, at=1.0)
    tracks = {c.track: c for c in s.clips if c.start == pytest.approx(1.0)}
    assert set(tracks) == {"V1", "A1"} and tracks["V1"] == right
    s.move(right, to=8.0)
    assert tracks["A1"].start == 8.0 and a.start == 0.0  # the left pieces stay linked and in place


def test_deleting_a_linked_clip_takes_its_sound_and_unlink_parts_them(linked):
    s, v, a = linked
    s.delete(v, ripple=True)
    assert [c.track for c in s.clips] == ["V1", "A1"] and s.clips[0].start == 0
    s.undo()
    s.unlink(v)
    s.move(v, to=6.0)
    assert a.start == 0.0
    with pytest.raises(nbedit.EditError, match="linked to no clip"):
        s.unlink(v)


def test_link_makes_any_clips_move_together(ab):
    c1 = ab.append("a", src_in=0.5, src_out=2.0)
    c2 = ab.append("a", track="A2", src_in=0.5, src_out=2.0)
    ab.link(c1, c2)
    ab.move(c2, to=3.0)
    assert c1.start == 3.0


def test_paste_places_copies_as_far_apart_as_the_clips_were(ab):
    c1 = ab.append("a", src_in=0.5, src_out=1.5)
    c2 = ab.append("b", src_in=0.5, src_out=1.0)
    copies = ab.paste([c1, c2], at=4.0, track="V2")
    assert [(c.track, c.start, c.src_in, c.src_out) for c in copies] == [
        ("V2", 4.0, 0.5, 1.5), ("V2", 5.0, 0.5, 1.0)
    ]
    assert ab.history[-1].code == "s.paste(('c1', 'c2'), at=4.0, track='V2')  # -> c3, c4"


def test_pasting_linked_clips_links_the_copies(ab):
    v = ab.append("a", src_in=0.5, src_out=1.5, audio="A1")
    a = ab.clip("c2")
    copies = ab.paste([v, a], at=3.0)
    ab.move(copies[0], to=6.0)
    assert [c.start for c in copies] == [6.0, 6.0] and (v.start, a.start) == (0.0, 0.0)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda s: s.append("a", track=None), nbedit.EditError, "track names are V1"),
        (lambda s: s.append("a", track=1), nbedit.EditError, "track names are V1"),
        (lambda s: s.append("a", track="V1\n"), nbedit.EditError, "track names are V1"),
        (lambda s: s.insert("a", at=1e308), nbedit.TimeRangeError, "beyond 24 hours"),
        (lambda s: s.move("c1", to=1e7), nbedit.TimeRangeError, "beyond 24 hours"),
        (lambda s: s.transform("c1", scale=1e6), nbedit.EditError, "scale must be between"),
        (lambda s: s.set_format(width=100000, height=100000), nbedit.EditError, "megapixels: the limit is 100"),
    ],
)
def test_out_of_range_arguments_are_clear_errors_and_change_nothing(ab, call, error, words):
    ab.append("a", src_in=0, src_out=1)
    state = ab.state()
    with pytest.raises(error, match=words):
        call(ab)
    assert ab.state() == state


def test_a_picture_over_the_pixel_limit_is_refused_before_it_is_decoded(s, tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    Image.fromarray(np.zeros((2000, 3000, 3), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(nbedit.args.LIMITS, "max_pixels", 5_000_000)
    with pytest.raises(nbedit.MediaError, match="3000x2000 picture \\(6 megapixels\\): the limit is 5"):
        s.import_media(tmp_path / "big.png")
    assert s.media == {}


def test_undo_walks_back_through_a_removed_track_and_a_replaced_timeline(ab, tmp_path):
    from nbedit.timeline import layout

    def index_agrees() -> bool:
        return all(
            [(p.start, p.duration) for p in layout(t)[0]]
            == [(p.start, p.duration) for p in ab.index.track(t.name).layout()[0]]
            for t in ab.timeline.tracks
        )

    ab.append("a", src_in=0, src_out=1)
    ab.append("b", track="V2", src_in=0, src_out=1)
    ab.append("a", track="V2", src_in=1, src_out=2)
    three = ab.state()
    cut = ab.export(tmp_path / "cut.otio")
    ab.remove_track("V2", force=True)
    removed = ab.state()
    ab.open_timeline(cut)
    ab.trim("c3", src_out=1.5)
    ab.undo()  # the trim
    ab.undo()  # open_timeline: the timeline before it comes back whole
    assert ab.state() == removed and index_agrees()
    ab.undo()  # remove_track
    assert ab.state() == three and index_agrees()
    ab.undo()  # the last append on V2, through the track that was removed and brought back
    assert [c.id for c in ab.clips] == ["c1", "c2"] and index_agrees()
    for _ in range(4):
        ab.redo()
    assert ab.clip("c3").src_out == 1.5 and index_agrees()


def test_media_handles_say_their_duration_rate_size_and_sound(ab):
    a = ab.media["a"]
    assert (a.duration, a.fps, a.size, a.has_audio, a.has_video) == (4.0, 24, (320, 240), True, True)


def test_relink_follows_a_moved_file_and_checks_it_is_the_same(ab, footage, tmp_path):
    import shutil

    c = ab.append("a", src_in=0.5, src_out=1.5)
    before = ab.frame(0.5)
    moved = shutil.copy(footage["a"], tmp_path / "moved.mp4")
    ab.relink("a", moved)
    assert ab.media["a"].path == str(moved) and np.array_equal(ab.frame(0.5), before)
    assert c.otio.media_reference.target_url.endswith("moved.mp4")
    with pytest.raises(nbedit.MediaError, match="pass replace=True"):
        ab.relink("a", footage["b"])
    assert nbedit.Session(ab.path).media["a"].path == str(moved)
    ab.undo()
    assert ab.media["a"].path == footage["a"]


def test_relink_with_replace_takes_another_file_that_holds_what_the_clips_read(ab, footage, tmp_path):
    ab.append("a", src_in=0.5, src_out=2.5)
    short = nbedit.media.testsrc(tmp_path / "short.mp4", seconds=2, fps=24, size=(320, 240), variant=3)
    state = ab.state()
    with pytest.raises(nbedit.TimeRangeError, match="which lasts 2.000 s"):
        ab.relink("a", short, replace=True)
    assert ab.state() == state
    ab.relink("a", footage["b"], replace=True)  # 3 s of other pictures
    assert ab.media["a"].info.sha256 == ab.media["b"].info.sha256
