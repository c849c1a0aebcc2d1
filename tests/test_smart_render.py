"""Smart render: whole GOPs of unchanged source frames are copied, the pieces around cuts and effects encoded."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import nbedit
from nbedit import media, smart
from nbedit.media import read_counter
from nbedit.render import Compositor, RenderSettings, Sources


@pytest.fixture(scope="module")
def reel(tmp_path_factory) -> dict[str, str]:
    """GOP-10 sources with three B-frames (one starting at pts 1 s), and one of another size."""
    d = tmp_path_factory.mktemp("reel")
    return {
        "x": media.testsrc(d / "x.mp4", seconds=4, size=(320, 240), gop=10, bframes=3, tone_hz=440),
        "y": media.testsrc(d / "y.mp4", seconds=3, size=(320, 240), gop=10, bframes=3, variant=1, start_time=1.0),
        "small": media.testsrc(d / "small.mp4", seconds=2, size=(160, 120), gop=10),
        "coarse": media.testsrc(d / "coarse.mp4", seconds=2, size=(320, 240), gop=10, crf=40, variant=2),
    }


@pytest.fixture
def xy(s, reel):
    s.import_media(reel["x"])
    s.import_media(reel["y"])
    return s


def frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def sound(path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)


def pieces(s, **kw) -> list[smart.Piece]:
    tl = s.timeline
    settings = RenderSettings(320, 240, Fraction(24), kw.get("start", 0), kw.get("end", s.end_frame()))
    return smart.plan(tl, settings, Compositor(tl, Sources()))[0]


def copied(ps) -> list[int]:
    """Output frames that come from copied GOPs."""
    return [k for p in ps if p.gop is not None for k in range(p.start, p.end)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def test_every_frame_of_a_cut_edit_is_the_source_frame_it_should_be(xy, tmp_path):
    xy.append("x", src_in=0.5, src_out=2.5)  # frames 12..59
    xy.append("y", src_in=0.25, src_out=2.0)  # frames 6..47 of y (counter starts at 0 at its first frame)
    xy.append("x", src_in=3.0, src_out=3.5)  # 72..83: inside one GOP, nothing to copy
    out = xy.render(tmp_path / "out.mp4", smart=True, progress=False)
    assert [read_counter(f) for f in frames(out)] == [*range(12, 60), *range(6, 48), *range(72, 84)]
    assert len(copied(pieces(xy))) == 70  # x's GOPs 20..59 and y's 10..39, the rest encoded


@pytest.mark.parametrize("preset", ["ultrafast", "medium"])  # no B-frames in the pieces; B-frames in a pyramid
def test_pieces_of_every_length_between_copied_gops_keep_their_frames(xy, tmp_path, preset):
    expected = []
    for k, (first, last) in enumerate([(3, 41), (19, 52), (41, 90), (9, 31), (1, 3), (58, 70)]):
        xy.append("xy"[k % 2], src_in=first / 24, src_out=last / 24)
        expected += range(first, last)
    out = xy.render(tmp_path / "out.mp4", smart=True, preset=preset, progress=False)
    assert [read_counter(f) for f in frames(out)] == expected
    lengths = {p.end - p.start for p in pieces(xy) if p.gop is None}
    assert {1, 2, 7, 11} <= lengths  # pieces shorter and longer than x264's B-frame delay


def test_pieces_stay_exact_when_the_encoder_is_flushed_after_each(xy, tmp_path, monkeypatch):
    monkeypatch.setattr(smart, "HELD_BYTES", 0)  # no copied GOP waits: the encoder is flushed before each
    expected = []
    for k, (first, last) in enumerate([(3, 41), (19, 52), (41, 90)]):
        xy.append("xy"[k % 2], src_in=first / 24, src_out=last / 24)
        expected += range(first, last)
    out = xy.render(tmp_path / "out.mp4", smart=True, progress=False)
    assert [read_counter(f) for f in frames(out)] == expected


def test_a_retimed_clip_is_encoded_frame_exact(xy, tmp_path):
    slow = xy.append("x", src_in=0, src_out=1)  # 24 frames played over 48: each shown twice
    xy.speed(slow, 0.5)
    xy.append("x", src_in=2, src_out=3)
    out = xy.render(tmp_path / "out.mp4", smart=True, progress=False)
    assert [read_counter(f) for f in frames(out)] == [i // 2 for i in range(48)] + list(range(48, 72))
    assert copied(pieces(xy)) == list(range(50, 70))  # x's GOPs 50..59 and 60..69; none of the slow clip


def open_gop_source(path: Path) -> str:
    """A 2 s source whose later GOPs are open (leading B-frames refer to the GOP before): only one IDR."""
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = 320, 240, "yuv420p"
        v.codec_context.gop_size = 10
        v.codec_context.max_b_frames = 2
        v.options = {"preset": "veryfast", "x264-params": "open-gop=1:scenecut=0:b-adapt=0:mbtree=0"}
        for n in range(48):
            img = np.full((240, 320, 3), 90, np.uint8)
            media.draw_counter(img, n)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = n
            c.mux(v.encode(frame))
        c.mux(v.encode(None))
    return str(path)


def test_open_gops_are_never_copied_apart(s, tmp_path):
    s.import_media(open_gop_source(tmp_path / "open.mp4"))
    s.append("open", src_in=10 / 24, src_out=40 / 24)
    assert copied(pieces(s)) == []
    with pytest.raises(nbedit.RenderError, match="no whole GOP"):
        s.render(tmp_path / "out.mp4", smart=True, progress=False)
    out = s.render(tmp_path / "out.mp4", progress=False)
    assert [read_counter(f) for f in frames(out)] == list(range(10, 40))
    s.append("open", src_in=0, src_out=2)  # all of it, from its only IDR: one closed GOP
    assert copied(pieces(s)) == list(range(30, 78))


def test_copied_gops_decode_to_the_sources_own_pictures(xy, reel, tmp_path):
    xy.append("x", src_in=0.5, src_out=2.5)
    xy.append("y", src_in=0.25, src_out=2.0)
    out = frames(xy.render(tmp_path / "out.mp4", smart=True, progress=False))
    x, y = frames(reel["x"]), frames(reel["y"])
    shown = [x[i] for i in range(12, 60)] + [y[i] for i in range(6, 48)]
    for k in copied(pieces(xy)):
        assert np.array_equal(out[k], shown[k])


def test_gops_of_sources_with_other_parameter_sets_follow_each_other(xy, reel, tmp_path):
    xy.import_media(reel["coarse"])  # another quantiser: its picture parameter set differs from x's
    sets = [smart.stream_of(reel[k], media.sha256_file(reel[k])).parameter_sets for k in ("x", "coarse")]
    assert sets[0] != sets[1]
    xy.append("x", src_in=0, src_out=20 / 24)
    xy.append("coarse", src_in=10 / 24, src_out=30 / 24)
    xy.append("x", src_in=40 / 24, src_out=50 / 24)
    assert copied(pieces(xy)) == list(range(50))  # GOP after GOP, nothing encoded between
    out = frames(xy.render(tmp_path / "out.mp4", smart=True, progress=False))
    x, coarse = frames(reel["x"]), frames(reel["coarse"])
    for k, picture in enumerate([*x[0:20], *coarse[10:30], *x[40:50]]):
        assert np.array_equal(out[k], picture)


def test_a_smart_render_shows_what_a_full_render_shows(xy, tmp_path):
    xy.append("x", src_in=0.5, src_out=2.5)
    xy.append("y", src_in=0.25, src_out=2.0)
    fast = frames(xy.render(tmp_path / "smart.mp4", smart=True, progress=False))
    full = frames(xy.render(tmp_path / "full.mp4", smart=False, progress=False))
    assert len(fast) == len(full)
    assert min(psnr(a, b) for a, b in zip(fast, full, strict=True)) > 38


def test_a_crossfade_and_an_effect_are_encoded_and_the_gops_around_them_copied(xy, tmp_path):
    c1 = xy.append("x", src_in=0, src_out=2)  # timeline 0..47
    c2 = xy.append("y", src_in=1, src_out=2.5)  # 48..83 (y 24..59), dissolving from x over 36..59
    c3 = xy.append("x", src_in=2, src_out=3)  # 84..107, graded
    xy.crossfade(c1, c2, duration=1.0)
    xy.effect(c3, "color", brightness=0.2)
    ps = pieces(xy)
    assert copied(ps) == [*range(0, 30), *range(64, 84)]  # whole GOPs clear of the dissolve; none of the grade
    fast = frames(xy.render(tmp_path / "smart.mp4", smart=True, progress=False))
    full = frames(xy.render(tmp_path / "full.mp4", smart=False, progress=False))
    for k in range(30, 60):  # the dissolve, as a full render makes it
        assert psnr(fast[k], full[k]) > 38
    assert np.abs(fast[100].astype(int) - full[100].astype(int)).mean() < 2  # graded, like a full render
    assert [read_counter(f) for f in fast[60:84]] == list(range(36, 60))


def test_by_default_an_edit_with_few_frames_to_copy_renders_in_full(xy, tmp_path):
    xy.append("x", src_in=0, src_out=0.5)  # one whole GOP (0..9) of 12 plain frames
    graded = xy.append("y", src_in=0, src_out=2.0)
    xy.effect(graded, "color", brightness=0.2)
    ps = pieces(xy)
    assert copied(ps) == list(range(10)) and smart.copied_share(ps) < smart.AUTO_SHARE
    default = frames(xy.render(tmp_path / "default.mp4", progress=False))
    full = frames(xy.render(tmp_path / "full.mp4", smart=False, progress=False))
    assert all(np.array_equal(a, b) for a, b in zip(default, full, strict=True))


def test_a_render_range_starts_and_ends_on_the_right_frames(xy, tmp_path):
    xy.append("x", src_in=0, src_out=4)
    out = xy.render(tmp_path / "r.mp4", start=13 / 24, end=71 / 24, smart=True, progress=False)
    assert [read_counter(f) for f in frames(out)] == list(range(13, 71))


@pytest.mark.parametrize("suffix", [".mov", ".mkv"])
def test_mov_and_mkv_outputs_are_smart_too(xy, tmp_path, suffix):
    xy.append("x", src_in=0.5, src_out=2.5)
    xy.append("y", src_in=0.25, src_out=2.0)
    out = xy.render(tmp_path / f"out{suffix}", smart=True, progress=False)
    assert [read_counter(f) for f in frames(out)] == [*range(12, 60), *range(6, 48)]


def test_another_output_size_renders_in_full_or_says_why_not(xy, tmp_path):
    xy.append("x", src_in=0, src_out=2)
    # recipe=False: the recipe each file carries names its own smart= setting
    auto = xy.render(tmp_path / "auto.mp4", size=(160, 120), progress=False, recipe=False)
    full = xy.render(tmp_path / "full.mp4", size=(160, 120), smart=False, progress=False, recipe=False)
    assert auto.read_bytes() == full.read_bytes()
    with pytest.raises(nbedit.RenderError, match="size 160x120 is not the timeline's"):
        xy.render(tmp_path / "smart.mp4", size=(160, 120), smart=True, progress=False)
    assert not (tmp_path / "smart.mp4").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["auto.mp4", "full.mp4", "project"]


def test_a_source_of_another_size_is_encoded_and_smart_true_names_it(xy, reel, tmp_path):
    xy.set_format(width=320, height=240, fps=24)
    xy.import_media(reel["small"])
    xy.append("small", src_in=0, src_out=2)  # scaled up to fill it
    with pytest.raises(nbedit.RenderError, match=r"small\.mp4 is 160x120, the output 320x240"):
        xy.render(tmp_path / "out.mp4", smart=True, progress=False)
    out = xy.render(tmp_path / "out.mp4", progress=False)  # None: a full render
    assert [read_counter(f) for f in frames(out)] == list(range(48))


def test_sound_is_mixed_as_a_full_render_mixes_it(xy, tmp_path):
    xy.append("x", src_in=0.5, src_out=2.5, audio="A1")
    xy.append("y", src_in=0.25, src_out=2.0, audio="A1")
    fast = sound(xy.render(tmp_path / "smart.mp4", smart=True, progress=False))
    full = sound(xy.render(tmp_path / "full.mp4", smart=False, progress=False))
    assert fast.shape == full.shape and abs(fast.shape[1] - 90 / 24 * 48000) <= 1024
    assert np.abs(fast - full).max() < 1e-4


def test_sound_stays_in_sync_with_the_copied_pictures(xy, tmp_path):
    xy.append("x", src_in=0.5, src_out=2.5, audio="A1")  # x beeps at each whole second of its media time
    pcm = sound(xy.render(tmp_path / "smart.mp4", smart=True, progress=False))[0]
    rms = np.sqrt(np.mean(pcm[: len(pcm) // 240 * 240].reshape(-1, 240) ** 2, axis=1))  # 5 ms windows
    loud = rms > 0.21  # the tone alone has an RMS of 0.18, with a beep 0.25
    onsets = 240 * (np.flatnonzero(loud[1:] & ~loud[:-1]) + 1)
    assert [round(k / 480) for k in onsets] == [50, 150]  # media 1 s and 2 s, at 0.5 s and 1.5 s, to 10 ms


def test_two_smart_renders_are_the_same_bytes(xy, tmp_path):
    c1 = xy.append("x", src_in=0.5, src_out=2.5, audio="A1")
    c2 = xy.append("y", src_in=0.25, src_out=2.0, audio="A1")
    xy.crossfade(c1, c2, duration=0.5)
    one = xy.render(tmp_path / "one.mp4", smart=True, progress=False)
    two = xy.render(tmp_path / "two.mp4", smart=True, progress=False)
    assert hashlib.sha256(one.read_bytes()).digest() == hashlib.sha256(two.read_bytes()).digest()


def test_smart_must_be_a_bool_or_none(xy, tmp_path):
    xy.append("x", src_in=0, src_out=1)
    with pytest.raises(nbedit.EditError, match="smart must be True, False or None"):
        xy.render(tmp_path / "out.mp4", smart="yes", progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["project"]


def test_a_failed_smart_render_keeps_the_old_file(xy, tmp_path):
    xy.append("x", src_in=0.5, src_out=2.5)
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous render")
    ps = pieces(xy)
    last = ps[-2]  # a GOP said to run past the end of its file: reading it fails part way through the render
    ps[-2] = smart.Piece(last.start, last.end, last.stream, smart.Gop(last.gop.first, 999, last.gop.key_dts, 0))
    settings = RenderSettings(320, 240, Fraction(24), 0, xy.end_frame())
    with pytest.raises(nbedit.RenderError, match="rendering out.mp4 failed: the GOP at frame 40 .* ends early"):
        smart.write(xy.timeline, target, settings, ps, progress=False)
    assert target.read_bytes() == b"previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "project"]


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB file system (tmpfs), filled up to its last 8 KiB: less than a copied GOP needs."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True, capture_output=True)
    with open(mount / "filler", "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 2**12)
    os.truncate(mount / "filler", (mount / "filler").stat().st_size - 8 * 2**10)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_smart_render_onto_a_full_disk_is_a_typed_error_and_leaves_no_partial_file(xy, small_disk):
    xy.append("x", src_in=0, src_out=2)  # copied whole: 30 kB
    with pytest.raises(nbedit.RenderError, match="rendering cut.mp4 failed: the disk is full"):
        xy.render(small_disk / "cut.mp4", smart=True, progress=False)
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_the_gops_of_a_source_are_found_from_its_packets(reel):
    s = smart.stream_of(reel["x"], media.sha256_file(reel["x"]))
    assert [(g.first, g.end) for g in s.gops] == [(k, min(k + 10, 96)) for k in range(0, 96, 10)]
    assert s.length_size == 4 and [u[0] & 0x1F for u in s.parameter_sets] == [smart.NAL_SPS, smart.NAL_PPS]
    assert isinstance(smart.stream_of(str(Path(reel["x"]).with_name("nope.mp4")), ""), str)
