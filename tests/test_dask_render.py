"""Rendering in segments: the same segments on Dask workers or here, joined without re-encoding, close to one
continuous encode; on a real LocalCluster of two worker processes (loopback only)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest

from nbedit import distributed as dist
from nbedit.errors import EditError, RenderError
from nbedit.render import RenderSettings

pytest_plugins = ["dask_cluster"]


@pytest.fixture
def edit(ab):
    """5 s (120 frames: two and a half 2 s GOPs at 24 fps): three clips, a crossfade, sound on A1."""
    first = ab.append("a", src_in=0, src_out=2.5)
    second = ab.append("b", src_in=0.5, src_out=1.5)
    ab.append("a", src_in=0, src_out=1.5)
    ab.crossfade(first, second, duration=0.5)
    ab.append("a", track="A1", src_in=0, src_out=2.5)
    ab.append("b", track="A1", src_in=0.5, src_out=1.5)
    return ab


FAST = {"preset": "veryfast", "progress": False}


def frames(path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def sound(path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(a.tobytes()).hexdigest()


def psnr(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """PSNR in dB of the whole (the mean squared error over every frame) and of the worst frame."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
    return tuple(float(10 * np.log10(255**2 / m)) if m else float("inf") for m in (mse.mean(), mse.max()))


def keyframe_times(path) -> list[float]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return [float(p.pts * p.time_base) for p in c.demux(v) if p.dts is not None and p.is_keyframe]


# ---- the plan --------------------------------------------------------------------------------------------------


def test_a_segment_plan_is_whole_gops_covering_the_range_exactly():
    settings = RenderSettings(64, 64, Fraction(24), 0, 265)  # 265 frames: 6 GOPs of 48, the last one short
    for asked in (1, 2, 4, 6, 50):
        plan = dist.segment_plan(settings, Fraction(24), asked)
        assert len(plan) == min(asked, 6)
        assert plan[0].first == 0 and plan[-1].end == 265
        assert all(a.end == b.first for a, b in zip(plan, plan[1:], strict=False))
        assert all(seg.first % 48 == 0 for seg in plan)


def test_by_default_a_segment_is_at_most_five_gops_spread_evenly():
    plan = dist.segment_plan(RenderSettings(64, 64, Fraction(30), 0, 30 * 25), Fraction(30))  # 13 GOPs of 60
    assert [(s.first, s.end) for s in plan] == [(0, 240), (240, 480), (480, 750)]


def test_a_segment_count_that_is_not_a_whole_number_is_refused():
    with pytest.raises(RenderError, match="segments must be a whole number"):
        dist.segment_plan(RenderSettings(64, 64, Fraction(24), 0, 96), Fraction(24), 0)


# ---- rendered here in segments ---------------------------------------------------------------------------------


def test_segments_decode_within_45_db_of_a_continuous_render_with_the_same_sound(edit, tmp_path):
    """x264's rate control carries history across frames: a segment's frames are a fresh encode's, not the same
    bytes (here the whole is 54 dB from a continuous render, its worst frame 44 dB)."""
    whole = edit.render(tmp_path / "whole.mp4", **FAST)
    parts = edit.render(tmp_path / "parts.mp4", scheduler="segments", segments=3, **FAST)
    a, b = frames(whole), frames(parts)
    assert a.shape == b.shape == (120, 240, 320, 3)
    overall, worst = psnr(a, b)
    assert 45 < overall < float("inf") and worst > 40  # not the same encode, the same pictures
    assert np.array_equal(sound(whole), sound(parts))  # the sound is mixed and encoded once, as render() does


def test_a_range_at_another_frame_rate_renders_in_segments_like_a_plain_render(edit, tmp_path):
    options = {"start": 0.5, "end": 4.5, "fps": 12, **FAST}  # 48 output frames: two GOPs of 24
    whole = edit.render(tmp_path / "whole.mp4", **options)
    parts = edit.render(tmp_path / "parts.mp4", scheduler="segments", segments=2, **options)
    a, b = frames(whole), frames(parts)
    assert a.shape == b.shape == (48, 240, 320, 3)
    assert psnr(a, b)[0] > 45
    assert np.array_equal(sound(whole), sound(parts))
    assert {0.0, 2.0} <= set(keyframe_times(parts))


def test_every_segment_starts_on_a_keyframe_of_the_joined_file(edit, tmp_path):
    out = edit.render(tmp_path / "parts.mp4", scheduler="segments", segments=3, **FAST)
    assert {0.0, 2.0, 4.0} <= set(keyframe_times(out))  # segments of 48, 48 and 24 frames


def test_segments_are_the_same_file_every_time(edit, tmp_path):
    one = edit.render(tmp_path / "one.mp4", scheduler="segments", segments=2, **FAST)
    two = edit.render(tmp_path / "two.mp4", scheduler="segments", segments=2, **FAST)
    assert one.read_bytes() == two.read_bytes()


def test_progress_is_reported_as_each_segment_is_done(edit, tmp_path):
    seen = []
    report = lambda done, total: seen.append((done, total))  # noqa: E731
    edit.render(tmp_path / "p.mp4", scheduler="segments", segments=3, preset="veryfast", progress=report)
    assert seen == [(48, 120), (96, 120), (120, 120)]


ONE_CPU = """
import os, sys
from fractions import Fraction
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # a machine of one core, as x264 counts them
from nbedit import distributed as dist
from nbedit.render import RenderSettings
settings = RenderSettings(320, 240, Fraction(24), 0, 96, preset="veryfast", audio=False)
data = dist.render_segment(open(sys.argv[1]).read(), settings, dist.Segment(0, 96), ())
open(sys.argv[2], "wb").write(data)
"""


def test_a_segment_is_the_same_bytes_on_a_machine_with_fewer_cores(edit, tmp_path):
    """x264 picks its thread count from the cores it sees, and its bytes depend on it: segments fix it."""
    (tmp_path / "timeline.otio").write_text(edit.timeline.to_json_string())
    subprocess.run(
        [sys.executable, "-c", ONE_CPU, str(tmp_path / "timeline.otio"), str(tmp_path / "one.mp4")], check=True
    )
    settings = RenderSettings(320, 240, Fraction(24), 0, 96, preset="veryfast", audio=False)
    here = dist.render_segment(edit.timeline.to_json_string(), settings, dist.Segment(0, 96), ())
    assert (tmp_path / "one.mp4").read_bytes() == here


def test_segments_with_other_parameter_sets_are_refused_and_nothing_is_written(edit, tmp_path):
    text = edit.timeline.to_json_string()
    fast = RenderSettings(320, 240, Fraction(24), 0, 120, preset="ultrafast", audio=False)  # CAVLC: another PPS
    slow = RenderSettings(320, 240, Fraction(24), 0, 120, preset="medium", audio=False)
    plan = dist.segment_plan(slow, Fraction(24), 2)
    parts = [dist.render_segment(text, slow, plan[0], ()), dist.render_segment(text, fast, plan[1], ())]
    target = tmp_path / "out.mp4"
    target.write_bytes(b"the user's file")
    with pytest.raises(RenderError, match="other parameter sets"):
        dist.join(edit.timeline, target, slow, plan, parts)
    assert target.read_bytes() == b"the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "project"]


def test_a_worker_that_cannot_read_the_media_refuses_its_segment(edit, tmp_path):
    settings = RenderSettings(320, 240, Fraction(24), 0, 96, audio=False)
    with pytest.raises(dist.SchedulerError, match="same paths"):
        dist.render_segment(edit.timeline.to_json_string(), settings, dist.Segment(0, 96), [str(tmp_path / "gone.mp4")])


def test_an_unknown_scheduler_and_stray_options_are_clear_errors(edit, tmp_path):
    with pytest.raises(RenderError, match="scheduler must be one of"):
        edit.render(tmp_path / "x.mp4", scheduler="cloud")
    with pytest.raises(EditError, match="go with scheduler"):
        edit.render(tmp_path / "x.mp4", segments=2)
    with pytest.raises(RenderError, match="client goes with scheduler='dask'"):
        edit.render(tmp_path / "x.mp4", scheduler="segments", client=object())
    assert not (tmp_path / "x.mp4").exists()


# ---- on Dask -----------------------------------------------------------------------------------------------------


def test_dask_renders_the_same_frames_as_the_segments_here(edit, client, tmp_path):
    here = edit.render(tmp_path / "here.mp4", scheduler="segments", segments=3, **FAST)
    there = edit.render(tmp_path / "there.mp4", scheduler="dask", client=client, segments=3, **FAST)
    assert sha(frames(there)) == sha(frames(here))
    assert np.array_equal(sound(there), sound(here))


def test_dask_with_no_client_says_how_to_start_one(edit, cluster, tmp_path):
    with pytest.raises(dist.SchedulerError, match=r"Client\(\)"):
        edit.render(tmp_path / "x.mp4", scheduler="dask")
    assert not (tmp_path / "x.mp4").exists()


def test_dask_takes_the_default_client_when_none_is_given(edit, cluster, tmp_path):
    from distributed import Client

    with Client(cluster):  # the default client while it is open
        out = edit.render(tmp_path / "d.mp4", scheduler="dask", segments=2, **FAST)
    assert len(frames(out)) == 120


def test_a_client_that_is_not_a_dask_client_is_refused(edit, tmp_path):
    with pytest.raises(dist.SchedulerError, match="dask.distributed.Client"):
        edit.render(tmp_path / "x.mp4", scheduler="dask", client="tcp://scheduler:8786")


def test_rendering_locally_imports_no_dask_distributed(tmp_path, footage):
    code = (
        "import sys, nbedit\n"
        f"s = nbedit.Session({str(tmp_path / 'p')!r})\n"
        f"s.import_media({footage['a']!r}); s.append('a', src_in=0, src_out=0.5)\n"
        f"s.render({str(tmp_path / 'o.mp4')!r}, progress=False)\n"
        "print('distributed' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
