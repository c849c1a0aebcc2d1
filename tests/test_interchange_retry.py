"""Exports never fail on a timeline nbedit holds: when a writer refuses it, the export writes it without what the
writer refused (markers, crossfades or speed changes, the first whose leaving out alone lets it write, else them
together) and lists that in ``Exported.lost``. Each timeline here is one a real writer refuses: an OTIO file another
tool wrote, opened as it is."""

from __future__ import annotations

import opentimelineio as otio
import pytest

import nbedit

Schema = otio.schema
REFUSED = "(the {} writer refused the timeline with them: "


@pytest.fixture
def cut(ab):
    """a then a later part of a, with a crossfade and a timeline marker."""
    c1 = ab.append("a", src_in=0, src_out=1)
    c2 = ab.append("a", src_in=2, src_out=3)
    ab.crossfade(c1, c2, duration=0.5)
    ab.add_marker(0.5, "music in")
    return ab


def reopened(s: nbedit.Session, tl: Schema.Timeline, tmp_path) -> nbedit.Session:
    """The timeline, written as an .otio file and opened in a new session."""
    path = tmp_path / "from-another-tool.otio"
    otio.adapters.write_to_file(tl, str(path))
    out = nbedit.Session(tmp_path / "other")
    out.open_timeline(path)
    return out


def listed(out: nbedit.interchange.Exported, what: str, writer: str) -> list[str]:
    return [x for x in out.lost if x.startswith(f"{what} {REFUSED.format(writer)}")]


def test_a_marker_the_fcp7_writer_refuses_is_left_out_and_only_it(cut, tmp_path):
    tl = cut.timeline.deepcopy()
    tl.tracks.markers[0].metadata["fcp_xml"] = "a note"  # the writer takes it for the marker element's fields
    s = reopened(cut, tl, tmp_path)
    out = s.export(tmp_path / "cut.xml")
    assert len(listed(out, "markers", "FCP 7 XML")) == 1
    assert not [x for x in out.lost if "refused" in x and not x.startswith("markers")]
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(out)
    assert back.markers() == [] and back.last_import_report.categories["transitions"].kept == 1


def test_a_crossfade_the_fcp7_writer_refuses_is_left_out_and_the_markers_stay(cut, tmp_path):
    tl = cut.timeline.deepcopy()
    tl.tracks[0][1].metadata["fcp_xml"] = "a note"  # on the transition
    s = reopened(cut, tl, tmp_path)
    out = s.export(tmp_path / "cut.xml")
    assert len(listed(out, "crossfades", "FCP 7 XML")) == 1 and not listed(out, "markers", "FCP 7 XML")
    back = nbedit.Session(tmp_path / "back")
    report = back.import_timeline(out)
    assert [m["name"] for m in back.markers()] == ["music in"] and report.categories["transitions"].came_in == 0


def test_when_no_one_thing_cures_a_refusal_they_are_left_out_together(cut, tmp_path):
    tl = cut.timeline.deepcopy()
    tl.tracks.markers[0].metadata["fcp_xml"] = "a note"
    tl.tracks[0][1].metadata["fcp_xml"] = "a note"
    s = reopened(cut, tl, tmp_path)
    out = s.export(tmp_path / "cut.xml")
    assert listed(out, "markers", "FCP 7 XML") and listed(out, "crossfades", "FCP 7 XML")
    assert not listed(out, "speed changes", "FCP 7 XML")
    assert nbedit.Session(tmp_path / "back").import_timeline(out).categories["clips"].came_in == 2


def test_a_speed_the_edl_writer_refuses_is_left_out_and_the_crossfade_stays(cut, tmp_path):
    tl = cut.timeline.deepcopy()
    second = tl.tracks[0][2]
    second.effects.extend([Schema.LinearTimeWarp(time_scalar=0.5), Schema.FreezeFrame()])  # two: the writer takes one
    s = reopened(cut, tl, tmp_path)
    out = s.export(tmp_path / "cut.edl")
    assert len(listed(out, "speed changes", "CMX 3600 EDL")) == 1
    assert not listed(out, "markers", "CMX 3600 EDL") and not listed(out, "crossfades", "CMX 3600 EDL")
    lines = out.read_text().splitlines()
    assert not [x for x in lines if x.startswith("M2")]  # no motion effect
    assert [x.split()[3:5] for x in lines if x[:3].isdigit()][-1] == ["D", "012"]  # the 12-frame dissolve
