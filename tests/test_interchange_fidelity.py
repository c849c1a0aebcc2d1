"""Interchange fidelity: what another editor made comes in whole (or the import report says what changed).

Files are built here with OTIO itself (the same objects every adapter reads into) or read in place from the shared
samples of real editors (``../shared/interchange-samples/``); each test imports one and checks one behaviour.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange

import nbedit
from nbedit.interchange import FORMATS

Schema = otio.schema
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "interchange-samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared interchange samples are not here")


def r(start: int, duration: int) -> TimeRange:
    return TimeRange(RationalTime(start, 24), RationalTime(duration, 24))


def clip(name: str, start: int, duration: int, url: str | None = None) -> Schema.Clip:
    ref = Schema.ExternalReference(target_url=url, available_range=r(0, 240)) if url else None
    return Schema.Clip(name=name, media_reference=ref, source_range=r(start, duration))


def marker(name: str, at: int) -> Schema.Marker:
    return Schema.Marker(name=name, marked_range=r(at, 0))


def timeline(*tracks: Schema.Track) -> Schema.Timeline:
    tl = Schema.Timeline(name="from another editor")
    tl.tracks.extend(tracks)
    return tl


def write(tl: Schema.Timeline, path: Path) -> Path:
    otio.adapters.write_to_file(tl, os.fspath(path))
    return path


def timeline_markers(s: nbedit.Session) -> list[tuple[str, int]]:
    return [(m["name"], m["at"]) for m in s.markers() if m["clip"] is None]


# ---- markers ---------------------------------------------------------------------------------------------


def test_a_marker_on_a_gap_moves_to_the_timeline_at_its_time(s, tmp_path):
    gap = Schema.Gap(source_range=r(10, 48))
    gap.markers.append(marker("sequence marker", 30))  # 20 frames into the gap, which starts at 24
    track = Schema.Track(name="V1", children=[clip("a", 0, 24), gap, clip("b", 0, 24)])
    report = s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert timeline_markers(s) == [("sequence marker", 44)]
    assert any("1 marker on a gap: moved to the timeline" in n for n in report.notes)


@needs_samples
def test_avid_sequence_markers_on_filler_are_kept(s):
    report = s.import_timeline(SAMPLES / "aaf" / "multitrack.aaf")
    assert timeline_markers(s) == [("v3 cyan filler", 1100)]
    assert "track V3, gap 'ScopeReference' at 00:00:00:00: 1 marker on a gap: moved to the timeline" in report.notes


def test_markers_of_a_compound_clip_are_kept_when_it_is_flattened(s, tmp_path):
    inner = Schema.Track(name="inner", children=[clip("x", 0, 48)])
    inner.markers.append(marker("on the layer", 20))
    compound = Schema.Stack(name="compound", children=[inner], source_range=r(6, 24))
    compound.markers.append(marker("on the compound", 12))
    track = Schema.Track(name="V1", children=[clip("a", 0, 24), compound])
    report = s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    # the compound starts at 24 and shows its own time from 6 on
    assert sorted(timeline_markers(s)) == [("on the compound", 30), ("on the layer", 38)]
    assert "track V1: 2 markers of compound clip 'compound' moved to the timeline" in report.notes


def test_markers_of_a_nested_sequence_are_kept_when_it_is_flattened(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("x", 0, 48)], source_range=r(0, 48))
    nested.markers.append(marker("in the sequence", 40))
    track = Schema.Track(name="V1", children=[clip("a", 0, 12), nested])
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert timeline_markers(s) == [("in the sequence", 52)]


def test_markers_of_a_track_that_is_left_out_move_to_the_timeline(s, tmp_path):
    data = Schema.Track(name="subtitles", kind="Data", children=[Schema.Gap(source_range=r(0, 10)), clip("t", 5, 20)])
    data.markers.append(marker("on the track", 3))
    data[1].markers.append(marker("on its item", 8))  # 3 frames into the item, which starts at 10
    video = Schema.Track(name="V1", children=[clip("a", 0, 48)])
    report = s.import_timeline(write(timeline(video, data), tmp_path / "cut.otio"))
    assert sorted(timeline_markers(s)) == [("on its item", 13), ("on the track", 3)]
    assert "track 'subtitles': its 2 markers moved to the timeline" in report.notes


@needs_samples
def test_an_fcpx_round_trip_keeps_each_clip_marker_once(s, tmp_path):
    s.import_timeline(SAMPLES / "aaf" / "multitrack.aaf")
    before = sorted((m["name"], m["clip"] is None) for m in s.markers())
    back = nbedit.Session(tmp_path / "back")
    report = back.import_timeline(s.export(tmp_path / "cut.fcpxml"))
    after = sorted((m["name"], m["clip"] is None) for m in back.markers())
    assert after == [m for m in before if not m[1]]  # FCPX keeps clip markers; timeline markers are listed as lost
    assert any("copied 1 marker of connected clips onto their spine clip" in n for n in report.notes)


# ---- nested compositions ---------------------------------------------------------------------------------


def starts(s: nbedit.Session) -> list[tuple[str, int, int]]:
    """(name, start frame, length in frames) of every clip."""
    return [(c.name, round(c.start * s.fps), round(c.duration * s.fps)) for c in s.clips]


def shown_source(s: nbedit.Session, track: str = "V1") -> list[float]:
    t = s.to_xarray().sel(track=track)
    return t.source_frame.values.tolist()


def test_a_stack_of_clips_is_imported_with_its_top_clip_showing(s, tmp_path):
    stack = Schema.Stack(name="layers", children=[clip("under", 0, 24), clip("over", 100, 12)])
    track = Schema.Track(name="V1", children=[stack, clip("after", 0, 12)])
    report = s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert starts(s) == [("over", 0, 12), ("under", 12, 12), ("after", 24, 12)]
    assert not any("holds no video" in n for n in report.notes)


def test_a_track_whose_range_selects_its_first_part_is_cut_to_it(s, tmp_path):
    track = Schema.Track(name="V1", children=[clip("a", 0, 48, "a.mov")], source_range=r(0, 24))
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert starts(s) == [("a", 0, 24)]


def test_a_nested_sequence_longer_than_its_content_keeps_its_length(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("x", 0, 36)], source_range=r(0, 48))
    track = Schema.Track(name="V1", children=[clip("a", 0, 12), nested, clip("b", 0, 12)])
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert starts(s) == [("a", 0, 12), ("x", 12, 36), ("b", 60, 12)]  # b at 12 + 48, not 12 + 36


def test_a_speed_change_on_a_nested_sequence_is_applied_to_its_clips(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("x", 10, 96, "x.mov")], source_range=r(0, 48))
    nested.effects.append(Schema.LinearTimeWarp(time_scalar=2.0))
    track = Schema.Track(name="V1", children=[nested, clip("b", 0, 12, "b.mov")])
    report = s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert starts(s) == [("x", 0, 48), ("b", 48, 12)]
    assert shown_source(s)[:3] == [10, 12, 14] and shown_source(s)[47] == 10 + 94
    assert "nested sequence 'seq': speed 2 applied to the clips in it" in report.notes


def test_a_freeze_frame_on_a_nested_sequence_holds_its_first_frame(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("x", 10, 96, "x.mov")], source_range=r(5, 24))
    nested.effects.append(Schema.FreezeFrame())
    track = Schema.Track(name="V1", children=[nested, clip("b", 0, 12, "b.mov")])
    report = s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert starts(s) == [("x", 0, 24), ("b", 24, 12)]
    assert set(shown_source(s)[:24]) == {15}
    assert "nested sequence 'seq': a freeze frame applied to the clips in it" in report.notes


def test_an_effect_on_a_nested_sequence_that_cannot_be_applied_is_reported(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("x", 0, 24)])
    nested.effects.append(Schema.Effect(name="blur", effect_name="Gaussian Blur"))
    track = Schema.Track(name="V1", children=[nested])
    report = s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert "nested sequence 'seq': its effect 'Gaussian Blur' is not applied (nbedit flattens it)" in report.notes


# ---- disabled clips and tracks ---------------------------------------------------------------------------


PREMIERE = SAMPLES / "fcp7-xml" / "premiere_example.xml"


def switched_off(tmp_path: Path, after: int) -> Path:
    """premiere_example.xml with the first ``<enabled>`` after position ``after`` set to FALSE."""
    text = PREMIERE.read_text()
    at = text.index("<enabled>TRUE</enabled>", after)
    out = tmp_path / "switched_off.xml"
    out.write_text(text[:at] + "<enabled>FALSE</enabled>" + text[at + len("<enabled>TRUE</enabled>") :])
    return out


@needs_samples
def test_an_fcp7_clip_switched_off_is_imported_disabled(s, tmp_path):
    report = s.import_timeline(switched_off(tmp_path, PREMIERE.read_text().index('<clipitem id="clipitem-1"')))
    first = s.timeline.tracks[0].find_clips()[0]
    assert first.name == "sc01_sh010_anim.mov" and not first.enabled
    assert [c.enabled for c in s.timeline.find_clips()].count(False) == 1
    assert "switched off in the file (kept disabled, not shown, not heard): clip 'sc01_sh010_anim.mov'" in report.notes


@needs_samples
def test_an_fcp7_track_switched_off_is_imported_switched_off(s, tmp_path):
    text = PREMIERE.read_text()
    second = text.index("<track ", text.index("<track ") + 1)
    report = s.import_timeline(switched_off(tmp_path, text.rindex("</clipitem>", 0, second)))  # the track's own flag
    assert [t.enabled for t in s.timeline.tracks][:2] == [False, True]
    assert any(
        n.startswith("track V1 (") and n.endswith("is switched off in the file: kept switched off")
        for n in report.notes
    )


def test_a_disabled_clip_and_track_survive_an_fcp7_round_trip(ab, tmp_path):
    c1 = ab.append("a", src_in=0, src_out=1)
    ab.append("b", src_in=0, src_out=1)
    ab.append("a", track="V2", src_in=0, src_out=1)
    ab.enable(c1, False)
    tl = ab.timeline.deepcopy()
    tl.tracks[1].enabled = False
    ab.open_timeline(write(tl, tmp_path / "off.otio"))
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(ab.export(tmp_path / "cut.xml"))
    assert [c.enabled for c in back.timeline.tracks[0]] == [False, True]
    assert [t.enabled for t in back.timeline.tracks] == [True, False]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE xmeml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<xmeml version="5"><sequence><name>&b;</name></sequence></xmeml>
"""


def test_an_xml_file_that_declares_entities_is_refused_unchanged(ab, tmp_path):
    from nbedit.interchange import InterchangeError

    ab.append("a", src_in=0, src_out=1)
    before = ab.state()
    (tmp_path / "bomb.xml").write_text(BOMB)
    with pytest.raises(InterchangeError, match="declares the XML entity 'a'"):
        ab.import_timeline(tmp_path / "bomb.xml")
    assert ab.state() == before


def test_a_reversed_nested_sequence_plays_its_clips_backwards_last_first(s, tmp_path):
    # x then y inside; reversed, the nested item shows its in point (its frame 47) first and counts down
    nested = Schema.Track(name="seq", children=[clip("x", 10, 24, "x.mov"), clip("y", 100, 24, "y.mov")])
    nested.source_range = r(47, 48)
    nested.effects.append(Schema.LinearTimeWarp(time_scalar=-1.0))
    track = Schema.Track(name="V1", children=[nested, clip("b", 0, 12, "b.mov")])
    report = s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert starts(s) == [("y", 0, 24), ("x", 24, 24), ("b", 48, 12)]
    assert shown_source(s)[:48] == list(range(123, 99, -1)) + list(range(33, 9, -1))
    assert "nested sequence 'seq': speed -1 applied to the clips in it" in report.notes
    assert not any("plays forward" in n for n in report.notes)


def test_a_crossfade_inside_a_reversed_nested_sequence_keeps_its_place_with_its_sides_swapped(s, tmp_path):
    xfade = Schema.Transition(in_offset=RationalTime(6, 24), out_offset=RationalTime(2, 24))  # 18..26 forward
    nested = Schema.Track(name="seq", children=[clip("x", 10, 24, "x.mov"), xfade, clip("y", 100, 24, "y.mov")])
    nested.source_range = r(47, 48)
    nested.effects.append(Schema.LinearTimeWarp(time_scalar=-1.0))
    s.import_timeline(write(timeline(Schema.Track(name="V1", children=[nested])), tmp_path / "cut.otio"))
    mixing = [k for k, m in enumerate(track_values(s, "mix")) if m is not None]
    assert mixing == list(range(22, 30))  # reversed: 48 - 26 to 48 - 18, y fading into x at 24
    assert [c.name for c in s.clips] == ["y", "x"]


def test_a_marker_in_a_reversed_nested_sequence_stays_on_the_frame_it_marks(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("x", 0, 48, "x.mov")], source_range=r(47, 48))
    nested.effects.append(Schema.LinearTimeWarp(time_scalar=-1.0))
    nested.markers.append(marker("on 40", 40))
    track = Schema.Track(name="V1", children=[clip("a", 0, 12, "a.mov"), nested])
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert shown_source(s)[12 + 7] == 40  # the frame it marks shows 7 frames into the reversed sequence
    assert timeline_markers(s) == [("on 40", 12 + 7)]


def test_a_one_frame_piece_in_a_fast_reverse_shows_its_frame_in_its_place(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("a", 0, 1, "a.mov"), clip("b", 100, 47, "b.mov")])
    nested.source_range = r(46, 24)  # at speed -2 the last piece, a's one frame, is half a frame long
    nested.effects.append(Schema.LinearTimeWarp(time_scalar=-2.0))
    s.import_timeline(write(timeline(Schema.Track(name="V1", children=[nested])), tmp_path / "cut.otio"))
    assert starts(s) == [("b", 0, 23), ("a", 23, 1)]  # b's frames 46, 44 .. 2 of the sequence, then a's 0
    assert shown_source(s) == list(range(145, 99, -2)) + [0]


def test_a_reversed_nested_sequence_at_double_speed_shows_every_other_frame_backwards(s, tmp_path):
    # from the content's last frame (95) down: at speed 2 the frames after it are never shown
    nested = Schema.Track(name="seq", children=[clip("x", 10, 96, "x.mov")], source_range=r(95, 48))
    nested.effects.append(Schema.LinearTimeWarp(time_scalar=-2.0))
    track = Schema.Track(name="V1", children=[nested])
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert starts(s) == [("x", 0, 48)]
    assert shown_source(s)[:3] == [105, 103, 101] and shown_source(s)[47] == 105 - 94


# ---- speed -----------------------------------------------------------------------------------------------


def test_reverse_speed_in_a_file_plays_backwards_from_its_in_point(s, tmp_path):
    backwards = clip("x", 48, 24, "x.mov")
    backwards.effects.append(Schema.LinearTimeWarp(time_scalar=-1.0))
    report = s.import_timeline(write(timeline(Schema.Track(name="V1", children=[backwards])), tmp_path / "cut.otio"))
    assert shown_source(s) == list(range(48, 24, -1))
    assert not any("reverse" in n for n in report.notes)


def test_a_freeze_frame_written_to_fcp7_is_listed_as_lost(s, tmp_path):
    still = clip("x", 30, 24, "x.mov")
    still.effects.append(Schema.FreezeFrame())
    s.import_timeline(write(timeline(Schema.Track(name="V1", children=[still])), tmp_path / "cut.otio"))
    assert set(shown_source(s)) == {30}
    out = s.export(tmp_path / "cut.xml")
    assert "freeze frames (1 clip: FCP 7 XML holds no speed 0)" in out.lost


def test_an_fcp7_round_trip_keeps_an_uneven_speed_and_the_frames_it_shows(ab, tmp_path):
    from nbedit.model import time_scalar

    c = ab.append("a", src_in=13 / 24, src_out=2.5)
    ab.speed(c, 119 / 60)  # 198.333...%: five digits of it drift by a frame within the clip
    out = ab.export(tmp_path / "cut.xml")
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(out, search_paths=[str(tmp_path)])
    assert time_scalar(back.timeline.find_clips()[0]) == Fraction(119, 60)
    assert shown_source(back) == shown_source(ab)
    assert not any("in points" in x for x in out.lost)


def test_an_in_point_between_two_retimed_frames_is_listed_as_lost_in_fcp7(ab, tmp_path):
    c = ab.append("a", src_in=13 / 24, src_out=2.5)
    ab.speed(c, 2.0)  # FCP 7 counts the in point in frames of the retimed clip: source frame 13 is not one
    out = ab.export(tmp_path / "cut.xml")
    assert any(x.startswith("exact in points of 1 speed-changed clip (FCP 7 counts them") for x in out.lost)


# ---- exports never fail ----------------------------------------------------------------------------------


FOREIGN = [".xml", ".fcpxml", ".aaf", ".edl"]


@pytest.fixture
def offline_crossfade(s, tmp_path) -> nbedit.Session:
    """Two offline clips with a crossfade and no handles (the import gives the media room before its start), a
    marker far outside its clip and an Avid time warp the writers do not know."""
    b = clip("b", 0, 48, "/nowhere/b.mov")
    b.markers.append(marker("far away", 10_000))
    b.effects.append(Schema.TimeEffect(name="TimeWarp", effect_name="Avid Timewarp"))
    xfade = Schema.Transition(in_offset=RationalTime(12, 24), out_offset=RationalTime(12, 24))
    track = Schema.Track(name="V1", children=[clip("a", 0, 48, "/nowhere/a.mov"), xfade, b])
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    return s


def track_values(s: nbedit.Session, field: str) -> list:
    values = s.to_xarray()[field].sel(track="V1").values
    return [None if v != v else v for v in values.tolist()]  # NaN (no crossfade there) as None, to compare


@pytest.mark.parametrize("ext", FOREIGN)
def test_a_crossfade_onto_offline_media_without_handles_exports_and_comes_back(offline_crossfade, tmp_path, ext):
    out = offline_crossfade.export(tmp_path / f"cut{ext}")
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(out)
    mix = track_values(offline_crossfade, "mix")
    cut = [k for k, m in enumerate(mix) if m is None]  # an EDL moves the cut to where the dissolve starts
    for field in ("media_id", "source_frame"):
        mine, theirs = track_values(offline_crossfade, field), track_values(back, field)
        assert [theirs[k] for k in cut] == [mine[k] for k in cut]
    if "crossfades" in FORMATS[ext].keeps:
        assert track_values(back, "mix") == mix


@pytest.mark.parametrize("ext", FOREIGN)
def test_a_marker_outside_its_clip_is_moved_to_its_edge_and_listed(offline_crossfade, tmp_path, ext):
    out = offline_crossfade.export(tmp_path / f"cut{ext}")
    assert "the places of 1 marker outside their clip (moved to its edge)" in out.lost


@pytest.mark.parametrize("ext", [".fcpxml", ".aaf", ".edl"])
def test_effects_a_format_cannot_hold_are_listed_not_raised(offline_crossfade, tmp_path, ext):
    out = offline_crossfade.export(tmp_path / f"cut{ext}")
    assert "effects nbedit keeps but does not render (Avid Timewarp)" in out.lost


def test_an_edl_export_that_fails_on_one_track_leaves_no_file_behind(ab, tmp_path):
    from nbedit.interchange import InterchangeError, edl, foreign_copy

    ab.append("a", src_in=0, src_out=1)
    ab.append("b", track="V2", src_in=0, src_out=1)
    tl = foreign_copy(ab.timeline)
    tl.tracks[1][0].effects.append(Schema.TimeEffect(name="TimeWarp", effect_name="Avid Timewarp"))  # refused
    with pytest.raises(InterchangeError, match="V2"):
        edl.write(tl, tmp_path / "cut.edl")
    assert not list(tmp_path.glob("*.edl")) and not list(tmp_path.glob(".*"))


def test_a_slowed_clip_in_a_format_without_speed_is_written_at_its_source_length(ab, tmp_path):
    c = ab.append("a", src_in=3.0, src_out=3.5)
    ab.speed(c, 0.25)  # 2 s on the timeline that play the media's last half second: at full speed, 3 s past it
    ab.append("b", src_in=0, src_out=1)
    out = ab.export(tmp_path / "cut.fcpxml")
    back = nbedit.Session(tmp_path / "back")
    report = back.import_timeline(out, search_paths=[str(tmp_path)])
    assert not report.offline  # the media is not taken for one too short for the clip
    assert [(round(x.start * 24), round(x.duration * 24)) for x in back.clips] == [(0, 12), (48, 24)]
    assert any(x.startswith("the length of 1 slowed or frozen clip: written at normal speed") for x in out.lost)


# ---- the import report, per category ---------------------------------------------------------------------


@needs_samples
def test_an_import_report_counts_each_category_in_the_file_and_in_the_timeline(s):
    report = s.import_timeline(SAMPLES / "aaf" / "transitions.aaf")
    transitions = report.categories["transitions"]
    assert (transitions.came_in, transitions.kept) == (15, 3)  # 5 a track: one crossfade, four fades from black
    assert len(transitions.notes) == 3 and all("fades from or to black" in n for n in transitions.notes)
    assert (report.categories["clips"].came_in, report.categories["clips"].kept) == (12, 12)
    assert (report.categories["media"].came_in, report.categories["media"].kept) == (4, 0)  # none found


@needs_samples
def test_each_import_note_is_filed_under_what_it_is_about(s):
    report = s.import_timeline(SAMPLES / "fcp7-xml" / "premiere_example.xml")
    where = {n: cat for cat, c in report.categories.items() for n in c.notes}
    assert (
        where["track V2: 1 transition do not sit between two clips (fades from or to black): left out"] == "transitions"
    )
    assert where["compound clip 'sc01_sh010_anim' holds no video the reader could find: left out as a gap"] == "clips"


@needs_samples
def test_effects_on_a_track_are_named_in_the_report(s):
    report = s.import_timeline(SAMPLES / "aaf" / "simple.aaf")
    effects = report.categories["effects"]
    assert (effects.came_in, effects.kept) == (2, 0)
    assert "track A1: its effect 'Audio Pan' is not applied (nbedit keeps none on tracks)" in effects.notes


def test_the_report_kept_in_the_journal_keeps_its_categories(s, tmp_path):
    gap = Schema.Gap(source_range=r(0, 24))
    gap.markers.append(marker("on a gap", 3))
    s.import_timeline(write(timeline(Schema.Track(name="V1", children=[gap, clip("a", 0, 24)])), tmp_path / "c.otio"))
    reopened = nbedit.Session(s.path).last_import_report
    assert reopened.categories == s.last_import_report.categories
    assert (reopened.categories["markers"].came_in, reopened.categories["markers"].kept) == (1, 1)


def test_markers_from_another_editor_get_ids_the_marker_operations_take(s, tmp_path):
    a = clip("a", 0, 48)
    a.markers.append(marker("on the clip", 10))
    track = Schema.Track(name="V1", children=[a])
    tl = timeline(track)
    tl.tracks.markers.append(marker("on the timeline", 30))
    s.import_timeline(write(tl, tmp_path / "cut.otio"))
    ids = {m["name"]: m["id"] for m in s.markers()}
    assert all(ids.values()) and len(set(ids.values())) == 2
    s.move_marker(ids["on the timeline"], to=0.5)
    assert timeline_markers(s) == [("on the timeline", 12)]


def test_a_freeze_frame_goes_to_fcp7_as_its_one_frame_then_a_gap(s, tmp_path):
    still = clip("x", 30, 24, "x.mov")
    still.effects.append(Schema.FreezeFrame())
    track = Schema.Track(name="V1", children=[still, clip("y", 0, 12, "y.mov")])
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(s.export(tmp_path / "cut.xml"))
    assert starts(back) == [("x", 0, 1), ("y", 24, 12)]  # at normal speed for 24 frames it would show 30..53
    assert shown_source(back)[0] == 30


def test_a_switched_off_nested_sequence_brings_its_clips_in_disabled(s, tmp_path):
    nested = Schema.Track(name="seq", children=[clip("x", 0, 24), clip("y", 0, 24)])
    nested.enabled = False
    track = Schema.Track(name="V1", children=[clip("a", 0, 24), nested])
    s.import_timeline(write(timeline(track), tmp_path / "cut.otio"))
    assert [(c.name, c.enabled) for c in s.timeline.find_clips()] == [("a", True), ("x", False), ("y", False)]
