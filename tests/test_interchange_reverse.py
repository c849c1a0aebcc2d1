"""Reverse speed (a negative OTIO LinearTimeWarp): a reversed clip shows the frames it shows played forward, last
first, frame-exact (read from the frame counter of ``nbedit.media.testsrc`` footage); edits keep it reversed; the
formats that hold it (OTIO, FCP 7 XML's Time Remap with reverse, an EDL's M2 with a negative rate) bring it back,
the others list it in ``Exported.lost``."""

from __future__ import annotations

import hashlib

import opentimelineio as otio
import pytest

import nbedit
from nbedit.media import read_counter
from nbedit.model import time_scalar

Schema = otio.schema


def source_frames(s: nbedit.Session, track: str = "V1") -> list[int]:
    """The media frame each timeline frame shows, as the render plan has it (-1: none)."""
    return [int(x) for x in s.to_xarray().source_frame.sel(track=track).values]


@pytest.fixture
def reversed_clip(ab):
    """Frames 24..35 of media a played backwards (12 frames), then frames 0..11 of b forward."""
    c = ab.append("a", src_in=1.0, src_out=1.5)
    ab.speed(c, -1.0)
    ab.append("b", src_in=0, src_out=0.5)
    return ab, c


def test_a_reversed_clip_shows_the_last_frame_of_its_range_first(reversed_clip):
    s, c = reversed_clip
    assert [read_counter(s.frame(n / 24)) for n in (0, 1, 6, 11)] == [35, 34, 29, 24]  # decoded, not planned
    assert source_frames(s)[:12] == list(range(35, 23, -1))


def test_reverse_at_twice_the_speed_shows_every_other_frame_backwards(ab):
    c = ab.append("a", src_in=1.0, src_out=1.5)
    ab.speed(c, 2.0)
    forward = source_frames(ab)
    ab.speed(c, -2.0)
    assert source_frames(ab) == forward[::-1] == [34, 32, 30, 28, 26, 24]
    assert [read_counter(ab.frame(n / 24)) for n in range(6)] == forward[::-1]
    assert ab.history[-1].code == "s.speed('c1', -2.0)"


def test_a_reversed_clip_renders_the_same_frames_twice(reversed_clip, tmp_path):
    s, _ = reversed_clip
    again = nbedit.Session(tmp_path / "again")
    again.import_media(s.media["a"].path)
    again.import_media(s.media["b"].path)
    c = again.append("a", src_in=1.0, src_out=1.5)
    again.speed(c, -1.0)
    again.append("b", src_in=0, src_out=0.5)

    def digest(x: nbedit.Session) -> str:
        return hashlib.sha256(b"".join(x.frame(n / 24).tobytes() for n in range(0, 24, 3))).hexdigest()

    assert digest(s) == digest(again)


def test_speed_back_to_forward_plays_the_same_media(reversed_clip):
    s, c = reversed_clip
    s.speed(c, 1.0)
    assert source_frames(s)[:12] == list(range(24, 36))
    s.speed(c, -0.5)  # slower backwards: the same twelve frames over 24
    assert source_frames(s)[:24] == [f for f in range(35, 23, -1) for _ in (0, 1)]


def test_split_trim_and_slip_keep_a_reversed_clip_reversed(reversed_clip):
    s, c = reversed_clip
    left, right = s.split(c, at=0.25)
    assert source_frames(s)[:12] == list(range(35, 23, -1))  # a split changes no frame
    s.trim(right, src_out=26 / 24)  # a reversed clip's out point lies below its in point
    assert source_frames(s)[:9] == list(range(35, 26, -1))
    s.slip(left, by=1 / 24)
    assert source_frames(s)[:6] == list(range(36, 30, -1))
    with pytest.raises(nbedit.TimeRangeError, match="before \\(the clip plays in reverse\\)"):
        s.trim(right, src_out=2.0)


def test_a_reversed_clip_cannot_read_past_its_media(ab):
    c = ab.append("a", src_in=3.5, src_out=4.0)
    ab.speed(c, -1.0)
    with pytest.raises(nbedit.TimeRangeError, match="before the start"):
        ab.slip(c, by=-3.8)  # would show frames below 0
    assert source_frames(ab) == list(range(95, 83, -1))


@pytest.mark.parametrize("ext", [".otio", ".xml", ".edl"])
def test_a_format_with_reverse_brings_back_every_frame(reversed_clip, tmp_path, ext):
    s, c = reversed_clip
    s.speed(c, -2.0)
    out = s.export(tmp_path / f"cut{ext}")
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(out, search_paths=[str(tmp_path)])
    assert source_frames(back) == source_frames(s)
    assert time_scalar(back.timeline.find_clips()[0]) == -2
    assert not any("reverse" in x for x in out.lost)


def test_fcp7_xml_holds_reverse_as_premiere_does(reversed_clip, tmp_path):
    import xml.etree.ElementTree as ET

    s, _ = reversed_clip
    root = ET.parse(s.export(tmp_path / "cut.xml")).getroot()
    item = root.find(".//clipitem")
    params = {p.findtext("parameterid"): p.findtext("value") for p in item.iter("parameter")}
    assert (params["reverse"], params["speed"]) == ("TRUE", "100")
    assert (item.findtext("in"), item.findtext("out")) == ("24", "36")  # the range, from its lowest frame


def test_an_edl_writes_reverse_as_m2_with_a_negative_rate(reversed_clip, tmp_path):
    s, _ = reversed_clip
    lines = s.export(tmp_path / "cut.edl").read_text().splitlines()
    event = next(x for x in lines if x.startswith("001"))
    m2 = next(x for x in lines if x.startswith("M2"))
    assert m2.split()[-2:] == ["-24.0", "00:00:01:11"]
    assert event.split()[4:6] == ["00:00:01:11", "00:00:00:23"]  # source in 35, source out below it


@pytest.mark.parametrize("ext", [".fcpxml", ".aaf"])
def test_a_format_without_reverse_lists_it_and_plays_the_same_media_forward(reversed_clip, tmp_path, ext):
    s, _ = reversed_clip
    out = s.export(tmp_path / f"cut{ext}")
    assert any(x.startswith("reverse playback of 1 clip (") for x in out.lost)
    back = nbedit.Session(tmp_path / "back")
    report = back.import_timeline(out, search_paths=[str(tmp_path)])
    assert not report.offline
    assert source_frames(back) == list(range(24, 36)) + list(range(12))


def test_an_edl_writes_a_crossfade_into_a_reversed_clip_as_a_cut_and_says_so(ab, tmp_path):
    ab.append("a", src_in=0, src_out=1)
    c = ab.append("b", src_in=1, src_out=2)
    ab.speed(c, -1.0)
    ab.crossfade("c1", c, duration=0.5)
    out = ab.export(tmp_path / "cut.edl")
    assert any(x.startswith("1 crossfade beside reversed clips (an EDL dissolve") for x in out.lost)
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(out)
    assert source_frames(back)[24:] == list(range(47, 23, -1))  # the reversed clip shows what it showed


def test_an_edl_lists_a_reversed_slow_clip_whose_in_point_lies_between_frames(ab, tmp_path):
    c = ab.append("a", src_in=1.0, src_out=1.5)
    ab.speed(c, -0.5)  # it shows frame 35.5 first: an EDL holds 35 or 36
    out = ab.export(tmp_path / "cut.edl")
    assert any(x.startswith("exact in points of 1 clip (between two frames: an EDL holds whole") for x in out.lost)
    assert not any("in points" in x for x in ab.export(tmp_path / "cut.xml").lost)  # FCP 7 counts in retimed frames
