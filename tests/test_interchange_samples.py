"""Real files written by other tools (Premiere, Avid, Final Cut Pro X, Hiero...): each one imports, read in place.

The media they name is absent except one movie: clips become offline (the slate), never a crash.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import nbedit
from nbedit.interchange import FORMATS, InterchangeError, UnsupportedFeatureError

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "interchange-samples"
FILES = sorted(p for p in SAMPLES.glob("*/*") if p.suffix.lower() in FORMATS)

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared interchange samples are not here")


def test_the_sample_folder_holds_the_25_files():
    assert len(FILES) == 25


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_every_sample_file_imports_or_names_what_it_cannot(s, path):
    try:
        report = s.import_timeline(path, search_paths=[str(SAMPLES / "media")])
    except UnsupportedFeatureError as e:  # allowed, as long as it says what
        assert e.feature and str(path) in str(e)
        return
    assert report.format == FORMATS[path.suffix.lower()].name
    assert s.last_import_report == report
    if s.duration:
        img = s.frame(0)
        assert img.shape == (s.format["height"], s.format["width"], 3)


def slate_like(img: np.ndarray) -> bool:
    red, green = img[..., 0].astype(int), img[..., 1].astype(int)
    return (red - green).mean() > 50


def test_clips_of_a_sample_whose_media_is_absent_show_the_offline_slate(s):
    report = s.import_timeline(SAMPLES / "aaf" / "simple.aaf")
    assert len(report.offline) == 5 and not report.relinked
    assert slate_like(s.frame(1.0))


def test_an_edl_frame_rate_is_found_from_its_timecodes(s):
    report = s.import_timeline(SAMPLES / "edl" / "25fps.edl")
    assert s.fps == 25
    assert any("read at 25 fps" in n for n in report.notes)
    assert "rate=25" in s.history[-1].code  # the recipe reads it at that rate again


def test_an_edl_frame_rate_can_be_given(s):
    s.import_timeline(SAMPLES / "edl" / "25fps.edl", rate=25)
    assert s.fps == 25 and s.duration == pytest.approx(19.84)


def test_an_edl_at_a_rate_its_timecodes_do_not_fit_is_a_clear_error(s):
    with pytest.raises(InterchangeError, match="has frames beyond 23"):
        s.import_timeline(SAMPLES / "edl" / "25fps.edl", rate=24)


def test_avid_speed_effects_become_linear_time_warps(s):
    from nbedit.ops.edit import time_scalar

    s.import_timeline(SAMPLES / "aaf" / "linear_speed_effects.aaf")
    speeds = [float(time_scalar(c)) for c in s.timeline.find_clips()]
    assert speeds[:4] == [1.0, 0.5, pytest.approx(1 / 3), 0.25] and speeds[-1] == 1.25


def test_the_sample_movie_is_not_taken_for_media_it_is_not(s):
    # linear_speed_effects.aaf names "Frame Debugger 0h.mov" (120 frames); the movie beside the samples is
    # linear_speed_effects_aaf.mov (a 50-frame render of the sequence): neither name nor length matches
    report = s.import_timeline(SAMPLES / "aaf" / "linear_speed_effects.aaf", search_paths=[str(SAMPLES / "media")])
    assert [m.how for m in report.media] == ["offline"]
    assert "not found at its path or under the search paths" in report.media[0].detail


def test_sample_media_under_its_referenced_name_is_relinked_and_decoded(s, tmp_path):
    found = tmp_path / "footage"
    found.mkdir()
    os.symlink(SAMPLES / "media" / "linear_speed_effects_aaf.mov", found / "Frame Debugger 0h.mov")
    report = s.import_timeline(SAMPLES / "aaf" / "linear_speed_effects.aaf", search_paths=[str(found)])
    assert [(m.how, Path(m.path).name) for m in report.media] == [("name", "Frame Debugger 0h.mov")]
    assert s.format == {"width": 1920, "height": 1080, "fps": "24"}
    assert not slate_like(s.frame(0))


def test_crossfades_between_two_clips_are_kept_and_fades_from_black_reported(s):
    from nbedit.timeline import layout

    report = s.import_timeline(SAMPLES / "aaf" / "transitions.aaf")
    assert len(layout(s.timeline.tracks[0])[1]) == 1
    assert "track V1: 4 transitions do not sit between two clips (fades from or to black): left out" in report.notes


def test_a_nested_sequence_is_flattened_into_its_track(s):
    report = s.import_timeline(SAMPLES / "aaf" / "nesting_test.aaf")
    assert [round(c.duration * 24) for c in s.clips] == [16, 8, 8, 16]
    assert "nested sequence 'Sequence' flattened into its track" in report.notes


def test_a_file_with_two_timelines_imports_the_first_and_says_so(s):
    report = s.import_timeline(SAMPLES / "fcpx-xml" / "fcpx_example.fcpxml")
    assert s.timeline.name == "OpenTimeline_Project"
    assert report.notes[0].startswith("the file holds 2 timelines")


def test_premiere_xml_gives_its_sequence_size_and_rate(s):
    s.import_timeline(SAMPLES / "fcp7-xml" / "premiere_example.xml")
    assert s.format == {"width": 1280, "height": 720, "fps": "30"}
    assert s.tracks == ["V1", "V2", "V3", "V4", "A1", "A2", "A3", "A4"]


def test_ntsc_rates_are_exact_fractions(s):
    s.import_timeline(SAMPLES / "aaf" / "2997fps-DFTC.aaf")
    assert s.format["fps"] == "30000/1001"


def test_unicode_names_survive(s):
    s.import_timeline(SAMPLES / "aaf" / "utf8.aaf")
    assert s.clips[0].name == "Clip_ABCXYZñçêœ•∑´®†¥¨ˆøπ“‘åß∂ƒ©˙∆˚¬…æΩ≈ç√∫˜µ≤≥÷"


def test_generators_are_offline_clips_that_say_what_they_were(s):
    report = s.import_timeline(SAMPLES / "fcp7-xml" / "premiere_generators.xml")
    bars = next(m for m in report.media if m.name == "HD Bars and Tone")
    assert bars.how == "offline" and "generator" in bars.detail


def test_an_imported_sample_reopens_identically(s):
    s.import_timeline(SAMPLES / "edl" / "speed_effects.edl")
    assert nbedit.Session(s.path).state() == s.state()


def test_a_nested_sequence_the_reader_finds_empty_is_named_in_the_report(s):
    report = s.import_timeline(SAMPLES / "fcp7-xml" / "premiere_example.xml")
    assert any("sc01_sh010_anim" in n and "left out" in n for n in report.notes)
