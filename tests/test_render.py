"""Frames and renders: compositing, transitions, audio mixing, atomic writes and bit-exact determinism."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest

import nbedit
from nbedit.media import read_counter


def decoded(path: Path) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Every video frame (RGB) and the whole audio track (float32, channels x samples) of a file."""
    frames, audio = [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
    with av.open(str(path)) as c:
        if c.streams.audio:
            for f in c.decode(audio=0):
                audio.append(f.to_ndarray())
    return frames, (np.concatenate(audio, axis=1) if audio else None)


def peak_hz(x: np.ndarray, rate: int = 48000) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def test_frame_is_an_rgb_array_of_the_timeline_size(ab):
    ab.append("a", src_in=0, src_out=1)
    img = ab.frame(0.5)
    assert img.dtype == np.uint8 and img.shape == (240, 320, 3)


def test_frame_shows_the_frame_on_screen_at_t_not_the_nearest(ab):
    ab.append("a", src_in=0, src_out=2)
    assert read_counter(ab.frame(10.9 / 24)) == 10


def test_media_with_a_nonzero_start_time_starts_at_its_first_frame(ab):
    ab.append("b", src_in=0, src_out=1)
    assert read_counter(ab.frame(0)) == 0


def test_upper_track_covers_lower_track(ab):
    ab.append("a", track="V1", src_in=0, src_out=2)
    ab.append("b", track="V2", src_in=1, src_out=3)
    assert read_counter(ab.frame(0.5)) == 36  # b's frame, a is hidden


def test_opacity_mixes_with_the_track_below(ab):
    ab.append("a", track="V1", src_in=0, src_out=1)
    top = ab.append("b", track="V2", src_in=0, src_out=1)
    b_only = ab.frame(0.5).astype(float)
    ab.opacity(top, 0.0)
    a_only = ab.frame(0.5).astype(float)
    assert read_counter(a_only.astype(np.uint8)) == read_counter(b_only.astype(np.uint8)) == 12
    assert np.abs(a_only - b_only).mean() > 20  # different pictures
    ab.opacity(top, 0.25)
    assert np.abs(ab.frame(0.5) - (0.75 * a_only + 0.25 * b_only)).max() <= 1


def test_transform_scales_and_moves_the_picture(ab):
    ab.append("a", track="V1", src_in=0, src_out=1)
    pip = ab.append("b", track="V2", src_in=0, src_out=1)
    full = ab.frame(0)
    ab.transform(pip, x=80, y=60, scale=0.5)  # quarter-size picture in the bottom-right quadrant
    img = ab.frame(0)
    ab.delete(pip)
    a_only = ab.frame(0)
    assert np.array_equal(img[:120, :160], a_only[:120, :160])
    inset = img[120:, 160:].astype(int)
    small_b = nbedit.render.resize(full, 160, 120).astype(int)
    assert np.abs(inset - small_b).mean() < 4


def test_crossfade_mixes_both_clips_across_the_cut(ab, footage):
    c1 = ab.append("a", src_in=0, src_out=2)
    c2 = ab.append("b", src_in=1, src_out=2)
    ab.crossfade(c1, c2, duration=1.0)  # frames 36..59 around the cut at frame 48
    with nbedit.media.VideoReader(footage["a"]) as ra, nbedit.media.VideoReader(footage["b"]) as rb:
        w = (42 - 36 + 0.5) / 24
        expected = (1 - w) * ra.frame(42) + w * rb.frame(24 + 42 - 48)  # b is read before its in point
    assert np.abs(ab.frame(42 / 24) - expected).max() <= 1
    assert read_counter(ab.frame(1.4)) == 33  # before the dissolve: a alone
    assert read_counter(ab.frame(2.5)) == 36  # after it: b alone


def test_rendered_file_has_the_timeline_length_and_its_frames(ab, tmp_path):
    ab.append("a", track="V1", src_in=0.5, src_out=1.5)
    ab.append("b", track="V1", src_in=0, src_out=0.5)
    ab.append("a", track="A1", src_in=0.5, src_out=1.5)
    out = ab.render(tmp_path / "out.mp4", progress=False)
    frames, audio = decoded(out)
    assert len(frames) == 36
    assert [read_counter(f) for f in frames] == [*range(12, 36), *range(0, 12)]
    assert abs(audio.shape[1] - 72000) <= 1024  # the whole timeline, silent after the A1 clip
    assert np.abs(audio[:, 52000:70000]).max() < 0.01
    assert abs(peak_hz(audio[0, 4800:40000]) - 440) < 5


def test_render_mixes_audio_tracks_with_gain(ab, footage, tmp_path):
    ab.append("a", track="V1", src_in=0, src_out=2)
    ab.append("a", track="A1", src_in=0, src_out=2)
    t = ab.import_media(footage["tone"])
    quiet = ab.append(t, track="A2", src_in=0, src_out=2)
    ab.gain(quiet, -60)
    _, audio = decoded(ab.render(tmp_path / "quiet.mp4", progress=False))
    assert abs(peak_hz(audio[0, 9600:86400]) - 440) < 5
    ab.gain(quiet, 12)
    _, audio = decoded(ab.render(tmp_path / "loud.mp4", progress=False))
    assert abs(peak_hz(audio[0, 9600:86400]) - 330) < 5


def test_render_size_rate_and_range_options(ab, tmp_path):
    ab.append("a", src_in=0, src_out=4)
    out = ab.render(tmp_path / "small.mp4", size=(160, 120), fps=12, start=1.0, end=2.0, progress=False)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height, v.average_rate) == (160, 120, 12)
    frames, _ = decoded(out)
    assert len(frames) == 12


def test_render_range_starts_at_the_frame_on_screen(ab, tmp_path):
    ab.append("a", src_in=0, src_out=2)
    frames, _ = decoded(ab.render(tmp_path / "r.mp4", start=0.03, end=0.5, progress=False))
    assert read_counter(frames[0]) == read_counter(ab.frame(0.03)) == 0
    assert len(frames) == 12


def test_render_at_a_ntsc_rate_with_a_speed_change_shifts_the_pitch(s, footage, tmp_path):
    s.set_format(320, 240, fps="30000/1001")
    a = s.import_media(footage["a"])
    s.append(a, track="V1", src_in=0, src_out=2)
    fast = s.append(a, track="A1", src_in=0, src_out=2)
    s.speed(fast, 2.0)
    _, audio = decoded(s.render(tmp_path / "ntsc.mp4", progress=False))
    assert abs(peak_hz(audio[0, 4800:43200]) - 880) < 10  # twice as fast: an octave up
    assert np.abs(audio[:, 52000:90000]).max() < 0.01  # and over after one second


def test_render_to_a_folder_is_a_clear_error(ab, tmp_path):
    ab.append("a", src_in=0, src_out=1)
    (tmp_path / "out.mp4").mkdir()
    with pytest.raises(nbedit.RenderError, match="it is a folder"):
        ab.render(tmp_path / "out.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "project"]


def test_render_failure_leaves_no_file_and_keeps_an_old_one(ab, tmp_path):
    ab.append("a", src_in=0, src_out=1)
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"previous render")
    with pytest.raises(nbedit.RenderError):
        ab.render(target.with_suffix(".nosuchformat"), progress=False)
    with pytest.raises(nbedit.NbeditError):
        ab.render(target, size=(161, 120), progress=False)
    assert target.read_bytes() == b"previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4", "project"]


def test_offline_media_renders_as_a_slate_not_a_crash(tmp_path, footage):
    import shutil

    moved = tmp_path / "a.mp4"
    shutil.copy(footage["a"], moved)
    s = nbedit.Session(tmp_path / "p")
    s.append(s.import_media(moved), src_in=0, src_out=1)
    moved.unlink()
    s = nbedit.Session(tmp_path / "p")  # reopen with the file gone
    assert not s.media["a"].online
    img = s.frame(0.5)
    assert img[..., 0].mean() > 2 * img[..., 1].mean()  # red stripes


RENDER_SCRIPT = textwrap.dedent(
    """
    import sys, hashlib
    from pathlib import Path
    import av
    from nbedit import demo
    out = Path(sys.argv[1])
    s = demo.build(out)
    # the recipe the file carries names the media by path (run0/ or run1/): left out, the bytes are the frames'
    path = s.render(out / "demo.mp4", progress=False, recipe=False)
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            print(hashlib.sha256(f.to_ndarray(format="rgb24").tobytes()).hexdigest())
    print("file", hashlib.sha256(path.read_bytes()).hexdigest())
    """
)


@pytest.mark.slow
def test_two_renders_in_separate_processes_are_identical(tmp_path):
    # run side by side, so each render also runs under the other's CPU load
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RENDER_SCRIPT, str(tmp_path / f"run{k}")], stdout=subprocess.PIPE, text=True
        )
        for k in range(2)
    ]
    runs = [p.communicate(timeout=600)[0].split("\n") for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    frames0 = [line for line in runs[0] if line and not line.startswith("file")]
    assert len(frames0) == 252  # the demo lasts 10.5 s at 24 fps
    assert runs[0] == runs[1]  # every decoded frame and the file bytes
    assert hashlib.sha256((tmp_path / "run0/demo.mp4").read_bytes()).hexdigest() in runs[0][-2]


def test_a_still_image_is_a_clip_of_any_length(ab, tmp_path):
    picture = np.zeros((120, 160, 3), np.uint8)
    picture[:, :80] = (255, 0, 0)
    (tmp_path / "card.png").write_bytes(nbedit.render.to_png(picture))
    ab.append("a", src_in=0, src_out=1)
    card = ab.append(ab.import_media(tmp_path / "card.png"), duration=7.5)
    assert card.duration == 7.5
    img = ab.frame(8.0)
    assert tuple(img[120, 40]) == (255, 0, 0) and tuple(img[120, 280]) == (0, 0, 0)  # fitted to 320x240


def test_variable_frame_rate_media_is_shown_by_timestamp(ab, tmp_path):
    vfr = nbedit.media.testsrc(tmp_path / "vfr.mp4", seconds=2, fps=24, size=(320, 240), vfr=True, audio=False)
    ab.append("a", src_in=0, src_out=1)
    clip = ab.append(ab.import_media(vfr), src_in=0, src_out=1)
    with nbedit.media.VideoReader(vfr) as r:
        expected = [r.index_at(k / 24) for k in range(24)]
    assert len(set(expected)) < 24  # some frames last longer than one edit-rate frame
    assert [read_counter(ab.frame(clip.start + k / 24)) for k in range(24)] == expected


def test_a_render_never_overwrites_a_source_of_the_timeline(ab, footage, tmp_path):
    ab.append("a", src_in=0, src_out=0.5)
    before = hashlib.sha256(open(footage["a"], "rb").read()).hexdigest()
    link = tmp_path / "same.mp4"
    os.symlink(footage["a"], link)
    for target in (footage["a"], link):
        with pytest.raises(nbedit.RenderError, match="it is media 'a' of this project"):
            ab.render(target, progress=False)
    assert hashlib.sha256(open(footage["a"], "rb").read()).hexdigest() == before


def test_a_render_takes_the_users_umask(ab, tmp_path):
    ab.append("a", src_in=0, src_out=0.25)
    old = os.umask(0o022)
    try:
        out = ab.render(tmp_path / "out.mp4", progress=False, preset="ultrafast")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_source_replaced_after_import_shows_offline_until_relinked(ab, footage, tmp_path):
    import shutil

    mine = shutil.copy(footage["a"], tmp_path / "mine.mp4")
    m = ab.import_media(mine)
    ab.append(m, src_in=0.5, src_out=1.5)
    shown = ab.frame(0.5)
    shutil.copy(footage["b"], mine)  # same path, other content
    again = nbedit.Session(ab.path)  # a fresh session opens the file anew
    assert not again.media[m.id].online
    assert (again.frame(0.5)[..., 0].astype(int) - again.frame(0.5)[..., 1]).mean() > 50  # the offline slate
    shutil.copy(footage["a"], tmp_path / "original.mp4")
    again.relink(m.id, tmp_path / "original.mp4")
    assert np.array_equal(again.frame(0.5), shown)
