"""A render's fast path: a pool of decoders per file, dissolves and insets composited in YUV 4:2:0, sound encoded
on its own thread; each gives the frames the plain path gives, or agrees with them above 35 dB."""

from __future__ import annotations

import hashlib
import threading

import av
import numpy as np
import pytest

from nbedit.media import VideoReader, read_counter
from nbedit.render import Compositor, Sources


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def decoded_hashes(path) -> list[str]:
    with av.open(str(path)) as c:
        return [hashlib.sha256(f.to_ndarray(format="rgb24").tobytes()).hexdigest() for f in c.decode(video=0)]


def test_a_twin_reader_shares_the_index_and_decodes_the_same_frames(footage):
    with VideoReader(footage["a"]) as r:
        twin = r.twin()
        try:
            assert np.array_equal(twin.frame(30), r.frame(30))
            assert list(twin.frame_times) == list(r.frame_times)
            assert (r.seeks, twin.seeks) == (1, 1)  # each its own decoder: neither moved the other
        finally:
            twin.close()


def test_a_reader_says_what_a_frame_costs_from_where_it_stands(footage):
    with VideoReader(footage["a"]) as r:  # GOP 12
        r.frame(40)
        assert r.position == 40
        assert (r.cost(40), r.cost(41), r.cost(45)) == (0, 1, 5)  # forward: the frames between
        assert r.cost(90) == r.seek_cost(90) > r.cost(41)  # far ahead or behind: a seek
        assert r.cost(10) == r.seek_cost(10)


def test_an_inset_of_the_clip_below_reads_forward_in_a_decoder_of_its_own(ab):
    ab.append("a", track="V1", src_in=0, src_out=3)
    inset = ab.append("a", track="V2", src_in=1.5, src_out=3)  # the same file 36 frames further on
    ab.transform(inset, x=80, y=60, scale=0.5)
    seeks = {}
    for pool in (1, 3):
        sources = Sources(pool=pool)
        comp = Compositor(ab.timeline, sources)
        for n in range(30):
            assert comp.yuv_frame(n) is not None
        seeks[pool] = (len(sources.decoders), sum(r.seeks for r in sources.decoders))
        sources.close()
    assert seeks[3] == (2, 1)  # the twin's first seek; the first reader read from the start
    assert seeks[1][1] >= 25  # one decoder: each frame seeks the other view away


def test_dissolves_and_insets_in_yuv_agree_with_the_rgb_frames_above_35_db(ab):
    c1 = ab.append("a", track="V1", src_in=0, src_out=2)
    c2 = ab.append("b", track="V1", src_in=1, src_out=2)
    ab.crossfade(c1, c2, duration=1.0)  # frames 36..59
    pip = ab.overwrite("a", track="V2", at=1.0, src_in=2.0, src_out=3.5)
    ab.transform(pip, x=-70, y=45, scale=1 / 3)
    ab.opacity(pip, 0.8)
    comp = Compositor(ab.timeline, Sources(pool=3))
    for n in (10, 30, 40, 47, 55, 70):  # a alone, the inset over a, the dissolve under the inset, b and the inset
        yuv = comp.yuv_frame(n)
        assert yuv is not None and yuv.format.name == "yuv420p"
        rgb = av.VideoFrame.from_ndarray(comp.frame(n), format="rgb24").reformat(format="yuv420p")  # as rendered
        assert psnr(yuv.to_ndarray(format="rgb24"), rgb.to_ndarray(format="rgb24")) > 35, n
    assert read_counter(comp.yuv_frame(10).to_ndarray(format="rgb24")) == 10


def test_what_yuv_cannot_composite_is_left_to_the_rgb_path(ab):
    clip = ab.append("a", track="V1", src_in=0, src_out=1)
    ab.transform(clip, crop=(20, 0, 0, 0))
    assert Compositor(ab.timeline, Sources()).yuv_frame(5) is None


def test_two_renders_of_a_dissolve_an_inset_and_sound_decode_to_the_same_frames(ab, tmp_path):
    c1 = ab.append("a", track="V1", src_in=0, src_out=2, audio="A1")
    c2 = ab.append("b", track="V1", src_in=1, src_out=2.5, audio="A1")
    ab.crossfade(c1, c2, duration=0.5)
    pip = ab.overwrite("a", track="V2", at=0.5, src_in=1.0, src_out=2.5)
    ab.transform(pip, x=60, y=-40, scale=0.4)
    ab.opacity(pip, 0.8)
    one = ab.render(tmp_path / "one.mp4", preset="ultrafast", progress=False)
    two = ab.render(tmp_path / "two.mp4", preset="ultrafast", progress=False)
    assert decoded_hashes(one) == decoded_hashes(two)
    assert one.read_bytes() == two.read_bytes()  # sound muxed in a fixed order, whatever the threads' timing
    with av.open(str(one)) as c:
        assert c.streams.audio and c.streams.video[0].frames == 84


def test_a_render_stopped_midway_leaves_no_file_and_no_thread_behind(ab, tmp_path):
    ab.append("a", track="V1", src_in=0, src_out=4, audio="A1")

    def stop_at_frame_30(done: int, total: int) -> None:
        if done == 30:
            raise KeyboardInterrupt  # what the notebook's stop button raises

    with pytest.raises(KeyboardInterrupt):
        ab.render(tmp_path / "out.mp4", preset="ultrafast", progress=stop_at_frame_30, smart=False)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".mp4") == []
    assert not [t.name for t in threading.enumerate() if t.name in ("nbedit-render", "nbedit-sound")]
