"""Track names, order and empty tracks come back from formats that drop empty tracks (FCPX XML, AAF) or renumber
tracks on import (all foreign ones): the sidecar an export writes beside the file holds them, and an import of the
file puts them back while the file still holds the same tracks."""

from __future__ import annotations

import shutil

import pytest

import nbedit

FORMATS = [".fcpxml", ".aaf", ".xml"]


@pytest.fixture
def gappy(ab):
    """V1, an empty V2, V3; A1, an empty A2, A3 and A4."""
    ab.append("a", src_in=0, src_out=1)
    ab.add_track("V2")
    ab.append("b", track="V3", src_in=0, src_out=1)
    ab.append("a", track="A1", src_in=0, src_out=1)
    ab.add_track("A2")
    ab.append("b", track="A3", src_in=0, src_out=1)
    ab.append("a", track="A4", src_in=1, src_out=2)
    return ab


def layout(s: nbedit.Session) -> list[tuple[str, list[str]]]:
    return [(t.name, [c.name for c in t.find_clips()]) for t in s.timeline.tracks]


@pytest.mark.parametrize("ext", FORMATS)
def test_track_names_order_and_empty_tracks_come_back_with_the_sidecar(gappy, tmp_path, ext):
    out = gappy.export(tmp_path / f"cut{ext}")
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(out)
    assert layout(back) == layout(gappy)


@pytest.mark.parametrize("ext", [".fcpxml", ".aaf"])
def test_the_import_report_says_what_the_sidecar_put_back(gappy, tmp_path, ext):
    out = gappy.export(tmp_path / f"cut{ext}")
    assert any(x.startswith("empty tracks (V2, A2: the writer leaves them out;") for x in out.lost)
    report = nbedit.Session(tmp_path / "back").import_timeline(out)
    tracks = report.categories["tracks"]
    assert (tracks.came_in, tracks.kept) == (5, 7)
    assert tracks.notes == (
        "tracks named and ordered as in cut.nbedit.otio beside it: V2 as V3, A2 as A3, A3 as A4; empty V2, A2 put back",
    )
    assert set(report.tracks) == {"V1", "V3", "A1", "A3", "A4"}


@pytest.mark.parametrize("ext", [".fcpxml", ".aaf"])
def test_a_recipe_naming_v3_still_finds_its_track(gappy, tmp_path, ext):
    out = gappy.export(tmp_path / f"cut{ext}")
    back = nbedit.Session(tmp_path / "back")
    back.import_media(gappy.media["a"].path)
    back.import_timeline(out)
    back.append("a", track="V3", src_in=2, src_out=3)
    assert layout(back)[2] == ("V3", ["b.mp4", "a.mp4"])


def test_without_the_sidecar_tracks_are_numbered_as_the_file_has_them(gappy, tmp_path):
    out = gappy.export(tmp_path / "cut.aaf")
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(out, alone / "cut.aaf")
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(alone / "cut.aaf")
    assert [t.name for t in back.timeline.tracks] == ["V1", "V2", "A1", "A2", "A3"]


def test_a_sidecar_of_other_tracks_is_not_used(gappy, tmp_path):
    out = gappy.export(tmp_path / "cut.aaf")
    gappy.append("a", track="V2", src_in=0, src_out=1)
    gappy.export(tmp_path / "other.aaf").sidecar.replace(out.sidecar)  # the sidecar now says V2 holds a clip
    back = nbedit.Session(tmp_path / "back")
    report = back.import_timeline(out)
    assert [t.name for t in back.timeline.tracks] == ["V1", "V2", "A1", "A2", "A3"]
    assert "the tracks differ from those of cut.nbedit.otio beside it: track names as the file has them" in (
        report.categories["tracks"].notes
    )
