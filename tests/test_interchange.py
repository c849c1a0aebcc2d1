"""Interchange: export to each format and import back, relinking, offline media, recording, and bad input.

Round trips are driven by ``nbedit.interchange.FORMATS`` (the table in docs/interchange.md): for every format,
each feature it claims to keep must come back, and each one it does not claim must not (so the table is true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange

import nbedit
from nbedit.errors import EditError, NbeditError
from nbedit.interchange import FORMATS, InterchangeError

EXTENSIONS = list(FORMATS)


def build_cut(s: nbedit.Session, folder: Path) -> None:
    """Two video tracks, one audio track, a crossfade, a speed change, a picture-in-picture, markers."""
    c1 = s.append("a", track="V1", src_in=0.5, src_out=2.0)
    c2 = s.append("b", track="V1", src_in=0.5, src_out=2.5)
    c3 = s.append("a", track="V1", src_in=2.0, src_out=3.0)
    s.crossfade(c1, c2, duration=0.5)
    s.speed(c3, 2.0)
    pip = s.overwrite("b", track="V2", at=1.0, src_in=0.0, src_out=1.0)
    s.opacity(pip, 0.5)
    s.append("a", track="A1", src_in=0.5, src_out=2.0)
    s.gain(s.append("b", track="A1", src_in=0.5, src_out=2.0), -6.0)
    # markers have no operation of their own: they come in through an .otio file, as from another tool
    tl = s.timeline.deepcopy()
    tl.tracks[0][0].markers.append(otio.schema.Marker(name="look here", marked_range=rng(18, 0)))
    tl.tracks.markers.append(otio.schema.Marker(name="act two", marked_range=rng(30, 0)))
    otio.adapters.write_to_file(tl, os.fspath(folder / "with-markers.otio"))
    s.open_timeline(folder / "with-markers.otio")


def rng(start: int, duration: int) -> TimeRange:
    return TimeRange(RationalTime(start, 24), RationalTime(duration, 24))


@pytest.fixture(scope="module")
def original(footage, tmp_path_factory) -> nbedit.Session:
    folder = tmp_path_factory.mktemp("original")
    s = nbedit.Session(folder / "project")
    s.import_media(footage["a"])
    s.import_media(footage["b"])
    build_cut(s, folder)
    return s


@pytest.fixture(scope="module", params=EXTENSIONS)
def trip(request, original, tmp_path_factory) -> tuple[str, nbedit.interchange.Exported, nbedit.Session]:
    """(extension, what export wrote, a fresh session that imported it)."""
    ext = request.param
    folder = tmp_path_factory.mktemp(ext.strip("."))
    exported = original.export(folder / f"cut{ext}")
    back = nbedit.Session(folder / "imported")
    back.import_timeline(exported.path)
    return ext, exported, back


def kept(ext: str, feature: str) -> bool:
    return feature in FORMATS[ext].keeps


def shown(s: nbedit.Session, track: str) -> list[tuple[str, int]]:
    """(media, source frame) on a track at every timeline frame: what the track shows, however it is cut."""
    ds = s.to_xarray()
    if track not in ds.track:
        return []
    t = ds.sel(track=track)
    return list(zip(t.media_id.values.tolist(), t.source_frame.values.tolist(), strict=True))


def mixes(s: nbedit.Session, track: str = "V1") -> list[tuple]:
    """Each crossfade as what it mixes: its frames, and the media and source frame of both sides as it starts.

    Formats cut a crossfade differently (an EDL puts the cut where the dissolve begins); the mix is the same.
    """
    from nbedit.ops.edit import source_at
    from nbedit.timeline import find_track, layout

    out = []
    for c in layout(find_track(s.timeline, track))[1]:
        sides = [
            (p.item.metadata["nbedit"]["media"], source_at(p.item, c.start - p.start)) for p in (c.before, c.after)
        ]
        out.append((c.start, c.end, *sides))
    return out


def outside_mixes(s: nbedit.Session, frames: list) -> list:
    inside = {n for start, end, *_ in mixes(s) for n in range(start, end)}
    return [x for n, x in enumerate(frames) if n not in inside]


def speeds(s: nbedit.Session) -> list[float]:
    from nbedit.ops.edit import time_scalar

    return [float(time_scalar(c)) for c in s.timeline.tracks[0].find_clips()]


def sped_frames(s: nbedit.Session) -> range:
    """Timeline frames of the sped-up clip (the last on V1)."""
    placed = [p for p in nbedit.timeline.layout(s.timeline.tracks[0])[0] if isinstance(p.item, otio.schema.Clip)]
    return range(placed[-1].start, placed[-1].end)


# ---- round trips ---------------------------------------------------------------------------------------------


def test_round_trip_keeps_the_tracks_the_format_holds(trip, original):
    ext, _, back = trip
    expected = [t for t in original.tracks if t == "V1" or kept(ext, f"{'video' if t[0] == 'V' else 'audio'} tracks")]
    assert back.tracks == expected


def test_round_trip_shows_the_same_frames_on_every_track_it_keeps(trip, original):
    ext, _, back = trip
    for track in back.tracks:
        before, after = shown(original, track), shown(back, track)
        if track == "V1" and not kept(ext, "speed"):
            lost = set(sped_frames(original))  # played at normal speed there: the speed change is gone
            before = [x for n, x in enumerate(before) if n not in lost]
            after = [x for n, x in enumerate(after) if n not in lost]
        if track == "V1":  # crossfades: compared as mixes (the next test)
            before, after = outside_mixes(original, before), outside_mixes(original, after)
        assert after == before, f"{track} differs after a round trip through {ext}"


def test_round_trip_keeps_clip_names(trip, original):
    _, _, back = trip
    names = {t.name: [c.name for c in t.find_clips()] for t in original.timeline.tracks}
    assert all([c.name for c in t.find_clips()] == names[t.name] for t in back.timeline.tracks)


def test_round_trip_relinks_media_by_path(trip):
    _, _, back = trip
    report = back.last_import_report
    assert {m.media: m.how for m in report.media} == {"a": "path", "b": "path"}
    assert all(m.online for m in back.media.values())


def test_round_trip_crossfades_survive_where_the_format_keeps_them(trip, original):
    ext, _, back = trip
    assert mixes(back) == (mixes(original) if kept(ext, "crossfades") else [])


def test_round_trip_speed_survives_where_the_format_keeps_it(trip, original):
    ext, _, back = trip
    assert speeds(back) == (speeds(original) if kept(ext, "speed") else [1.0, 1.0, 1.0])


def test_round_trip_clip_markers_survive_where_the_format_keeps_them(trip):
    ext, _, back = trip
    markers = [(m.name.lower(), m.marked_range) for c in back.timeline.find_clips() for m in c.markers]
    # EDL locators come back in capitals (the writer upper-cases them)
    assert markers == ([("look here", rng(18, 0))] if kept(ext, "clip markers") else [])


def test_round_trip_timeline_markers_survive_where_the_format_keeps_them(trip):
    ext, _, back = trip
    markers = [(m.name, m.marked_range) for m in back.timeline.tracks.markers]
    assert markers == ([("act two", rng(30, 0))] if kept(ext, "timeline markers") else [])


def test_round_trip_nbedit_metadata_survives_where_the_format_keeps_it(trip, original):
    ext, _, back = trip

    def data(s):
        return [{k: v for k, v in c.metadata["nbedit"].items() if k != "id"} for c in s.timeline.find_clips()]

    if kept(ext, "metadata"):
        assert data(back) == data(original)
        assert [c.metadata["nbedit"]["id"] for c in back.timeline.find_clips()] == [c.id for c in original.clips]
    else:
        assert not any("opacity" in d or "gain_db" in d for d in data(back))


def test_formats_without_nbedit_metadata_get_a_sidecar_that_has_everything(trip, original):
    ext, exported, _ = trip
    if kept(ext, "metadata"):
        assert exported.sidecar is None
        return
    assert exported.sidecar == exported.path.with_name("cut.nbedit.otio")
    assert exported.sidecar.read_text() == original.state()
    assert any("nbedit clip data" in x for x in exported.lost)


def test_export_says_what_the_format_could_not_keep(trip):
    ext, exported, _ = trip
    expected = {"crossfades": "crossfades", "speed": "speed changes", "clip markers": "clip markers"}
    for feature, words in expected.items():
        assert (words in exported.lost) == (not kept(ext, feature))


def test_export_leaves_no_temporary_files(trip):
    _, exported, _ = trip
    assert not [p for p in exported.path.parent.iterdir() if p.name.startswith(".")]


# ---- export -----------------------------------------------------------------------------------------------


def test_edl_export_writes_each_other_track_to_a_file_of_its_own(original, tmp_path):
    exported = original.export(tmp_path / "cut.edl")
    assert [p.name for p in exported.files] == ["cut.edl", "cut.V2.edl", "cut.A1.edl", "cut.nbedit.otio"]
    v2 = nbedit.Session(tmp_path / "v2")
    v2.import_timeline(tmp_path / "cut.V2.edl")
    v2_end = 48  # V2 holds one clip from 1 s to 2 s
    assert shown(v2, "V1") == shown(original, "V2")[:v2_end]  # its leading gap too (written as a black event)


def test_fcpx_export_states_an_ntsc_frame_duration(ab, tmp_path):
    ab.set_format(width=320, height=240, fps="30000/1001")
    ab.append("a", src_in=0, src_out=1)
    text = Path(ab.export(tmp_path / "cut.fcpxml")).read_text()
    assert 'frameDuration="1001/30000s"' in text and 'width="320"' in text


def test_export_is_not_an_edit(original, tmp_path):
    history = [r.code for r in original.history]
    original.export(tmp_path / "cut.xml")
    assert [r.code for r in original.history] == history


def test_export_refuses_an_unknown_extension(original, tmp_path):
    with pytest.raises(InterchangeError, match="unknown timeline format '.mov'"):
        original.export(tmp_path / "cut.mov")


def test_export_to_a_missing_folder_fails_cleanly(original, tmp_path):
    with pytest.raises(InterchangeError, match="folder does not exist"):
        original.export(tmp_path / "nowhere" / "cut.aaf")


def test_export_of_an_empty_timeline_is_refused(s, tmp_path):
    with pytest.raises(EditError, match="empty"):
        s.export(tmp_path / "cut.xml")


def test_convert_goes_from_one_format_to_another(original, tmp_path):
    original.export(tmp_path / "cut.xml")
    out = nbedit.convert(tmp_path / "cut.xml", tmp_path / "cut.fcpxml")
    assert out.path == tmp_path / "cut.fcpxml" and out.path.exists()
    again = nbedit.Session(tmp_path / "again")
    again.import_timeline(out.path)
    assert shown(again, "V2") == shown(original, "V2")


def test_convert_leaves_no_scratch_project_open_for_the_exits_flush_to_write_into(original, tmp_path):
    original.export(tmp_path / "cut.xml")
    code = f"import nbedit; nbedit.convert({str(tmp_path / 'cut.xml')!r}, {str(tmp_path / 'cut.fcpxml')!r})"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "cut.fcpxml").exists()
    assert "cannot write" not in run.stderr and "Warning" not in run.stderr, run.stderr


# ---- import: the operation ---------------------------------------------------------------------------------


@pytest.fixture
def cut_xml(original, tmp_path) -> Path:
    return Path(original.export(tmp_path / "cut.xml"))


def test_import_replaces_the_timeline_and_undo_brings_it_back(ab, cut_xml):
    ab.append("a", src_in=0, src_out=1)
    before = ab.state()
    ab.import_timeline(cut_xml)
    assert ab.tracks == ["V1", "V2", "A1"]
    ab.undo()
    assert ab.state() == before


def test_import_keeps_the_media_pool(ab, cut_xml, footage):
    ab.import_media(footage["tone"])
    ab.import_timeline(cut_xml)
    assert set(ab.media) == {"a", "b", "tone"}


def test_import_is_recorded_with_the_file_and_its_sha256(s, cut_xml):
    s.import_timeline(cut_xml)
    rec = s.history[-1]
    assert rec.args == (str(cut_xml),)
    assert rec.kwargs["sha256"] == nbedit.media.sha256_file(cut_xml)
    assert rec.code.startswith(f"s.import_timeline({str(cut_xml)!r}, sha256=")


def test_an_imported_timeline_reopens_without_its_file(s, cut_xml):
    s.import_timeline(cut_xml)
    cut_xml.unlink()
    again = nbedit.Session(s.path)
    assert again.state() == s.state()
    assert again.last_import_report.media == s.last_import_report.media


def test_import_refuses_a_file_that_is_not_the_recorded_one(s, cut_xml):
    with pytest.raises(InterchangeError, match="not the recorded file"):
        s.import_timeline(cut_xml, sha256="0" * 64)
    assert len(s.history) == 0


def test_an_imported_timeline_is_editable(s, cut_xml):
    s.import_timeline(cut_xml)
    first = s.clips[0]
    left, right = s.split(first, at=0.5)
    assert (left.duration, right.start) == (0.5, 0.5)


def test_last_import_report_follows_undo(s, cut_xml):
    s.import_timeline(cut_xml)
    assert s.last_import_report.format == "FCP 7 XML"
    s.undo()
    assert s.last_import_report is None


def test_search_paths_must_be_folders_given_as_a_list(s, cut_xml):
    with pytest.raises(EditError, match="search_paths"):
        s.import_timeline(cut_xml, search_paths=42)


# ---- relinking ----------------------------------------------------------------------------------------------


@pytest.fixture
def moved(original, tmp_path, footage) -> dict[str, Path]:
    """An FCP 7 XML export whose media files moved away from the paths it names."""
    media = tmp_path / "media"
    media.mkdir()
    for name in ("a", "b"):
        shutil.copy(footage[name], media / f"{name}.mp4")
    xml = tmp_path / "cut.xml"
    text = Path(original.export(xml)).read_text().replace(str(Path(footage["a"]).parent), "/gone/away")
    xml.write_text(text)
    return {"xml": xml, "media": media}


def test_media_that_moved_is_found_by_name_under_the_search_paths(s, moved):
    report = s.import_timeline(moved["xml"], search_paths=[str(moved["media"])])
    assert {m.media: (m.how, m.path) for m in report.media} == {
        "a": ("name", str(moved["media"] / "a.mp4")),
        "b": ("name", str(moved["media"] / "b.mp4")),
    }


def test_media_not_found_is_offline_and_shows_the_slate(s, moved):
    report = s.import_timeline(moved["xml"])
    assert [m.how for m in report.media] == ["offline", "offline"]
    assert not any(m.online for m in s.media.values())
    img = s.frame(0.2)
    assert img.shape == (240, 320, 3)
    red, green = img[..., 0].astype(int), img[..., 1].astype(int)
    assert (red - green).mean() > 50  # the red stripes of the offline slate


def test_offline_media_keeps_what_the_file_says(s, moved):
    s.import_timeline(moved["xml"])
    entry = s.timeline.metadata["nbedit"]["media"]["a"]
    assert entry["offline"] and entry["url"] == "file:///gone/away/a.mp4"
    assert entry["name"] == "a.mp4" and entry["duration"] >= 4.0


def test_offline_media_of_an_import_relinks_to_its_file_and_comes_online(s, moved, original):
    s.import_timeline(moved["xml"])
    s.relink("a", moved["media"] / "a.mp4")  # no sha256 was known: nothing to compare, no replace=True
    s.relink("b", moved["media"] / "b.mp4")
    assert all(m.online for m in s.media.values())
    assert "offline" not in s.timeline.metadata["nbedit"]["media"]["a"]
    assert shown(s, "V1") == shown(original, "V1")
    assert np.array_equal(s.frame(0.2), original.frame(0.2))  # the picture, not the offline slate
    s.undo()
    assert not s.media["b"].online and s.media["a"].online


def test_a_renamed_file_is_found_by_its_sha256(original, tmp_path, footage, s):
    # an nbedit file (here the sidecar) records each media file's sha256
    exported = original.export(tmp_path / "cut.aaf")
    text = exported.sidecar.read_text().replace(str(Path(footage["a"]).parent), "/gone/away")
    exported.sidecar.write_text(text)
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    shutil.copy(footage["a"], renamed / "take-1.mp4")
    shutil.copy(footage["b"], renamed / "take-2.mp4")
    report = s.import_timeline(exported.sidecar, search_paths=[str(renamed)])
    assert {m.media: (m.how, Path(m.path).name) for m in report.media} == {
        "a": ("sha256", "take-1.mp4"),
        "b": ("sha256", "take-2.mp4"),
    }
    assert shown(s, "V1") == shown(original, "V1")


def test_a_transcoded_file_is_found_by_name_and_duration(s, moved, footage, tmp_path):
    other = tmp_path / "proxies"
    other.mkdir()
    nbedit.media.testsrc(other / "a.mov", seconds=4, fps=24, size=(160, 120))  # same stem and length
    nbedit.media.testsrc(other / "b.mov", seconds=1, fps=24, size=(160, 120))  # same stem, too short
    report = s.import_timeline(moved["xml"], search_paths=[str(other)])
    assert {m.media: m.how for m in report.media} == {"a": "name+duration", "b": "offline"}


def test_a_file_too_short_for_the_clips_is_not_linked(s, moved, tmp_path):
    short = tmp_path / "short"
    short.mkdir()
    nbedit.media.testsrc(short / "a.mp4", seconds=1, fps=24, size=(160, 120))
    report = s.import_timeline(moved["xml"], search_paths=[str(short)])
    a = next(m for m in report.media if m.media == "a")
    assert a.how == "offline" and "lasts 1.000 s" in a.detail


def test_a_missing_search_path_is_reported_not_fatal(s, cut_xml, tmp_path):
    report = s.import_timeline(cut_xml, search_paths=[str(tmp_path / "nope")])
    assert any("not a folder" in n for n in report.notes)


def test_an_otioz_bundle_brings_its_media_into_the_project(original, tmp_path, s):
    bundle = original.export(tmp_path / "cut.otioz")
    report = s.import_timeline(bundle.path)
    assert all(Path(m.path).is_relative_to(s.path / "imports") for m in report.media)
    assert shown(s, "V1") == shown(original, "V1")


# ---- bad input ----------------------------------------------------------------------------------------------


def unchanged(s: nbedit.Session, call) -> NbeditError:
    """Run a call that must fail; check the session did not change; return the error."""
    state, history = s.state(), [r.code for r in s.history]
    with pytest.raises(NbeditError) as info:
        call()
    assert (s.state(), [r.code for r in s.history]) == (state, history)
    return info.value


def test_malformed_xml_names_the_file_and_the_line(ab, cut_xml):
    ab.append("a", src_in=0, src_out=1)
    cut_xml.write_text(cut_xml.read_text()[:900])
    e = unchanged(ab, lambda: ab.import_timeline(cut_xml))
    assert isinstance(e, InterchangeError) and str(cut_xml) in str(e) and "line" in e.place


def test_an_aaf_pyaaf2_cannot_read_is_a_clear_error(ab, tmp_path):
    bad = tmp_path / "broken.aaf"
    bad.write_bytes(b"this is not a compound file" * 100)
    e = unchanged(ab, lambda: ab.import_timeline(bad))
    assert "not an AAF file that pyaaf2 can read" in str(e) and str(bad) in str(e)


def test_an_edl_with_an_unknown_event_names_the_line(ab, tmp_path):
    bad = tmp_path / "bad.edl"
    bad.write_text("TITLE: x\nHELLO THERE\n001  AX V C 00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n")
    e = unchanged(ab, lambda: ab.import_timeline(bad))
    assert e.place == "line 2: 'HELLO THERE'"


def test_an_edl_event_with_a_bad_edit_type_names_the_line(ab, tmp_path):
    bad = tmp_path / "bad.edl"
    bad.write_text("TITLE: x\n001  AX V Q 00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n")
    e = unchanged(ab, lambda: ab.import_timeline(bad))
    assert e.place == "line 2" and "edit type" in str(e)


@pytest.mark.parametrize("rate", [0, -24, 10**6, "fast", float("nan")])
def test_absurd_rates_are_refused(ab, cut_xml, rate):
    e = unchanged(ab, lambda: ab.import_timeline(cut_xml, rate=rate))
    assert isinstance(e, EditError) and "rate" in str(e)


def otio_file(tmp_path: Path, clip_range: TimeRange) -> Path:
    tl = otio.schema.Timeline(name="odd")
    track = otio.schema.Track(name="V", kind=otio.schema.TrackKind.Video)
    track.append(otio.schema.Clip(name="weird", source_range=clip_range))
    tl.tracks.append(track)
    path = tmp_path / "odd.otio"
    otio.adapters.write_to_file(tl, os.fspath(path))
    return path


def test_a_negative_duration_in_a_file_names_the_clip(ab, tmp_path):
    path = otio_file(tmp_path, rng(0, -10))
    e = unchanged(ab, lambda: ab.import_timeline(path))
    assert "negative duration" in str(e) and "clip 'weird'" in e.place and "track V1" in e.place


def test_an_absurd_rate_in_a_file_is_refused(ab, tmp_path):
    path = otio_file(tmp_path, TimeRange(RationalTime(0, 10**7), RationalTime(10, 10**7)))
    e = unchanged(ab, lambda: ab.import_timeline(path))
    assert "not a usable rate" in str(e)


def test_a_file_that_does_not_exist_is_a_clear_error(ab, tmp_path):
    e = unchanged(ab, lambda: ab.import_timeline(tmp_path / "nope.xml"))
    assert "nope.xml" in str(e)


def test_a_file_with_no_timeline_names_what_is_missing(ab, tmp_path):
    path = tmp_path / "loose.otio"
    otio.adapters.write_to_file(otio.schema.SerializableCollection(name="bin"), os.fspath(path))
    e = unchanged(ab, lambda: ab.import_timeline(path))
    assert isinstance(e, nbedit.interchange.UnsupportedFeatureError) and e.feature == "a file without a timeline"


def test_offline_frames_never_crash_a_render_of_the_mix(s, moved):
    s.import_timeline(moved["xml"])
    pcm_frames = [s.frame(t) for t in (0.0, 1.3, 3.9)]
    assert all(f.dtype == np.uint8 for f in pcm_frames)


def test_the_docs_table_is_the_one_the_tests_assert():
    doc = (Path(__file__).parents[1] / "docs" / "interchange.md").read_text()
    rows = [
        line
        for line in doc.splitlines()
        if line.startswith("| ") and not line.startswith("| ---") and line.count("|") == len(FORMATS) + 2
    ]
    header, *body = rows
    exts = [cell.strip(" `") for cell in header.strip("|").split("|")[1:]]
    assert exts == EXTENSIONS
    table = {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in (r.strip("|").split("|") for r in body)}
    expected = {f: ["yes" if f in FORMATS[e].keeps else "no" for e in exts] for f in nbedit.interchange.FEATURES}
    assert table == expected


def test_edl_export_works_when_the_first_track_is_empty(ab, tmp_path):
    ab.add_track("V1")
    ab.append("a", track="V2", src_in=0, src_out=1)
    ab.export(tmp_path / "cut.edl")
    assert "00:00:00:00 00:00:01:00" in (tmp_path / "cut.V2.edl").read_text()  # 1 s at 24 fps


@pytest.mark.parametrize("fps", [25, "24000/1001", 30])
def test_an_edl_we_write_says_its_rate_and_reads_back_at_it(tmp_path, footage, fps):
    s = nbedit.Session(tmp_path / "p")
    s.import_media(footage["a"])
    s.set_format(width=320, height=240, fps=fps)
    s.append("a", src_in=0.5, src_out=2.0)
    s.append("a", src_in=2.0, src_out=3.0)
    out = s.export(tmp_path / "cut.edl")
    assert "* NBEDIT FRAME RATE:" in out.read_text()
    t = nbedit.Session(tmp_path / "t")
    report = t.import_timeline(out, search_paths=[str(tmp_path)])
    assert t.fps == s.fps and any("the rate the EDL states" in n for n in report.notes)
    assert [x for c in t.clips for x in (c.start, c.duration)] == pytest.approx(
        [x for c in s.clips for x in (c.start, c.duration)]
    )


MISMATCHED_EDL = """TITLE: mismatch
FCM: NON-DROP FRAME

001  AX       V     C        00:00:01:00 00:00:02:00 01:00:00:00 01:00:01:12
* FROM CLIP NAME: a.mp4
"""


def test_adapter_options_reach_the_adapter_and_are_recorded(s, tmp_path):
    edl = tmp_path / "mismatch.edl"
    edl.write_text(MISMATCHED_EDL)
    with pytest.raises(InterchangeError):
        s.import_timeline(edl, rate=24)
    s.import_timeline(edl, rate=24, adapter_options={"ignore_timecode_mismatch": True})
    assert len(s.clips) == 1
    assert "adapter_options={'ignore_timecode_mismatch': True}" in s.history[-1].code
    assert nbedit.Session(s.path).state() == s.state()
