"""Interchange fidelity: what another editor made comes in whole (or the import report says what changed).

Files are built here with OTIO itself (the same objects every adapter reads into) or read in place from the shared
samples of real editors (``../shared/interchange-samples/``); each test imports one and checks one behaviour.
"""

from __future__ import annotations

import os
from pathlib import Path

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange

import nbedit

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
