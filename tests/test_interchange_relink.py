"""Relinking judges a file by what it is (its sha256 when recorded, its length as the timeline file states it, its
picture and sound), not by a clip that reads past its end: a format that drops a speed change makes a slowed clip
read further than it did, and that clip is cut to the media's end (noted) while the media stays online."""

from __future__ import annotations

import shutil

import pytest

import nbedit


def source_frames(s: nbedit.Session) -> list[int]:
    return [int(x) for x in s.to_xarray().source_frame.sel(track="V1").values]


@pytest.fixture
def slowed_into_a_crossfade(s, footage, tmp_path):
    """a 0..23, then a slowed to half speed over its last 18 frames (36 on the timeline) dissolving into b: the
    exporter keeps a clip a crossfade leaves whole, so at normal speed it reads 12 frames past a's end. The media
    are copies in ``tmp_path / "media"``."""
    (tmp_path / "media").mkdir()
    for name in ("a", "b"):
        s.import_media(shutil.copy(footage[name], tmp_path / "media" / f"{name}.mp4"))
    ab = s
    ab.append("a", src_in=0, src_out=1)
    slow = ab.append("a", src_in=3.0, src_out=3.75)
    ab.speed(slow, 0.5)
    after = ab.append("b", src_in=1, src_out=2)
    ab.crossfade(slow, after, duration=0.25)
    return ab


@pytest.mark.parametrize("ext", [".fcpxml", ".aaf"])
def test_a_clip_reading_past_its_media_is_cut_to_it_and_the_media_stays_online(slowed_into_a_crossfade, tmp_path, ext):
    out = slowed_into_a_crossfade.export(tmp_path / f"cut{ext}")
    back = nbedit.Session(tmp_path / "back")
    report = back.import_timeline(out, search_paths=[str(tmp_path)])
    assert not report.offline
    a = next(m for m in report.media if m.media == "a")
    assert a.how == "path" and a.detail.endswith("clips reading past its end are cut to it")
    frames = source_frames(back)
    assert frames[:24] == list(range(24))  # the clip nobody touched shows what it showed
    assert frames[24:48] == list(range(72, 96)) and frames[48:60] == [-1] * 12  # cut at the end of a, then a gap
    assert frames[60:] == list(range(24, 48))  # later clips keep their place
    assert any(
        n.startswith("track V1: clip 'a.mp4' at 00:00:01:00 reads up to 4.500 s of media 'a.mp4', which lasts 4.000 s")
        and n.endswith("cut to 1.000 s, a gap after it; the media stays online")
        for n in report.notes
    )


def test_a_crossfade_beside_a_cut_clip_is_left_out_with_a_note(slowed_into_a_crossfade, tmp_path):
    out = slowed_into_a_crossfade.export(tmp_path / "cut.aaf")  # AAF keeps crossfades
    back = nbedit.Session(tmp_path / "back")
    report = back.import_timeline(out, search_paths=[str(tmp_path)])
    assert report.categories["transitions"].kept == 0
    assert any(n.endswith("after that clip: left out") for n in report.categories["transitions"].notes)


def test_a_file_of_that_name_but_another_length_than_the_file_states_stays_refused(slowed_into_a_crossfade, tmp_path):
    out = slowed_into_a_crossfade.export(tmp_path / "cut.aaf")
    other = tmp_path / "other"
    other.mkdir()
    for name, seconds in (("a.mp4", 1), ("b.mp4", 3)):
        nbedit.media.testsrc(other / name, seconds=seconds, fps=24, size=(160, 120))
    (tmp_path / "media").rename(tmp_path / "gone")
    report = nbedit.Session(tmp_path / "back").import_timeline(out, search_paths=[str(other)])
    assert {m.media: m.how for m in report.media} == {"a": "offline", "b": "name"}
