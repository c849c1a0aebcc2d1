"""The analysis view: the edit per frame as an xarray Dataset, and the frames themselves as a lazy DataArray."""

from __future__ import annotations

import os

import numpy as np
import opentimelineio as otio
import pytest

import nbedit
from nbedit.errors import EditError, TimeRangeError
from nbedit.media import read_counter


@pytest.fixture
def cut(ab, tmp_path):
    """V1: a 0-1 s, b 0.5-1.5 s crossfaded over 0.5 s, then a at double speed (frames 0-24-48-60 in all);
    V2: b at half opacity over frames 36-42; A1: a."""
    c1 = ab.append("a", src_in=0.0, src_out=1.0)
    c2 = ab.append("b", src_in=0.5, src_out=1.5)
    c3 = ab.append("a", src_in=2.0, src_out=3.0)
    ab.crossfade(c1, c2, duration=0.5)
    ab.speed(c3, 2.0)
    ab.opacity(ab.overwrite("b", track="V2", at=1.5, src_in=0.0, src_out=0.25), 0.5)
    ab.gain(ab.append("a", track="A1", src_in=0.0, src_out=1.0), -3.0)
    return ab


def test_the_dataset_has_a_row_per_timeline_frame_and_a_column_per_track(cut):
    ds = cut.to_xarray()
    assert dict(ds.sizes) == {"frame": 60, "track": 3}
    assert ds.track.values.tolist() == ["V1", "V2", "A1"]
    assert ds.kind.values.tolist() == ["Video", "Video", "Audio"]
    assert ds.attrs["fps"] == "24" and ds.attrs["width"] == 320


def test_clip_ids_follow_the_cut(cut):
    v1 = cut.to_xarray().clip_id.sel(track="V1").values
    ids = [c.id for c in cut.clips if c.track == "V1"]
    assert v1[0] == ids[0] and v1[24] == ids[1] and v1[-1] == ids[2]


def test_source_frames_are_the_frames_the_picture_shows(cut):
    ds = cut.to_xarray().sel(track="V1")
    for n in (0, 5, 32, 45, 50, 59):  # outside the crossfade (18..30) and the inset on V2 (36..42)
        assert ds.source_frame.values[n] == read_counter(cut.frame(n / 24)), n


def test_a_sped_up_clip_advances_two_source_frames_per_frame(cut):
    ds = cut.to_xarray().sel(track="V1")
    assert np.diff(ds.source_frame.values[48:58]).tolist() == [2] * 9
    assert ds.speed.values[50] == 2.0


def test_crossfades_show_their_name_and_the_weight_of_the_incoming_clip(cut):
    ds = cut.to_xarray().sel(track="V1")
    inside = ds.transition.values != ""
    assert np.flatnonzero(inside).tolist() == list(range(18, 30))
    assert ds.mix.values[18] == pytest.approx(0.5 / 12) and ds.mix.values[29] == pytest.approx(11.5 / 12)
    assert np.isnan(ds.mix.values[0])


def test_opacity_and_gain_are_per_track_kind(cut):
    ds = cut.to_xarray()
    assert ds.opacity.sel(track="V2").values[38] == 0.5
    assert np.isnan(ds.opacity.sel(track="V2").values[10])  # nothing on V2 there
    assert ds.gain_db.sel(track="A1").values[3] == -3.0
    assert ds.source_frame.sel(track="A1").values[3] == -1


def test_generated_clips_carry_their_seed(cut, tmp_path):
    tl = cut.timeline.deepcopy()
    tl.tracks[1].find_clips()[0].metadata["nbedit"]["generation"] = {"model": "tiny", "seed": 1234}
    path = tmp_path / "generated.otio"
    otio.adapters.write_to_file(tl, os.fspath(path))
    cut.open_timeline(path)
    seeds = cut.to_xarray().seed.sel(track="V2").values
    assert seeds[38] == 1234 and seeds[10] == -1


def test_timecodes_label_every_frame(cut):
    ds = cut.to_xarray()
    assert ds.timecode.values[[0, 23, 24, 59]].tolist() == ["00:00:00:00", "00:00:00:23", "00:00:01:00", "00:00:02:11"]
    assert ds.time.values[24] == 1.0


def test_another_sampling_rate_maps_each_sample_to_the_frame_on_screen(cut):
    ds = cut.to_xarray(fps=10)
    assert ds.sizes["frame"] == 25
    assert ds.edit_frame.values[:4].tolist() == [0, 2, 4, 7]  # 0.0, 0.1, 0.2, 0.3 s at 24 fps
    assert ds.attrs["fps"] == "10"


def test_an_empty_timeline_has_nothing_to_analyse(s):
    with pytest.raises(EditError, match="empty"):
        s.to_xarray()


def test_frames_are_a_lazy_chunked_array_with_timecodes(cut):
    px = cut.frames(0.5, 1.5, chunk=10)
    assert px.dims == ("time", "y", "x", "channel") and px.shape == (24, 240, 320, 3)
    assert px.chunks[0] == (10, 10, 4)  # nothing rendered yet: dask chunks
    assert px.timecode.values[0] == "00:00:00:12" and px.frame.values[-1] == 35
    assert px.channel.values.tolist() == ["R", "G", "B"]


def test_frames_are_the_session_frames(cut):
    px = cut.frames(0.5, 1.5, chunk=7).compute()
    for i in (0, 6, 7, 23):
        t = float(px.time.values[i])
        assert np.array_equal(px.values[i], cut.frame(t)), i


def test_chunks_render_alike_in_threads_and_in_one(cut):
    import dask

    px = cut.frames(chunk=8)
    with dask.config.set(scheduler="threads"):
        threaded = px.values
    with dask.config.set(scheduler="synchronous"):
        single = px.values
    assert np.array_equal(threaded, single)


def test_frames_keep_the_timeline_they_were_asked_from(cut):
    px = cut.frames(0, 0.5)
    before = px.values
    cut.delete(cut.clips[0], ripple=True)
    assert np.array_equal(px.values, before)


def test_a_frame_range_outside_the_timeline_is_refused(cut):
    with pytest.raises(TimeRangeError):
        cut.frames(3.0, 9.0)
    with pytest.raises(EditError, match="chunk"):
        cut.frames(0, 1, chunk=0)


def test_the_analysis_view_works_on_an_offline_import(tmp_path, cut):
    exported = cut.export(tmp_path / "cut.edl")
    for f in cut.media.values():
        assert f.online
    other = nbedit.Session(tmp_path / "other")
    text = exported.path.read_text().replace("file://", "file:///gone")
    exported.path.write_text(text)
    other.import_timeline(exported.path)
    ds = other.to_xarray()
    assert set(ds.media_id.sel(track="V1").values) == {"a", "b"}
    assert other.frames(0, 0.25).values.shape == (6, other.format["height"], other.format["width"], 3)
