"""Tests of nbedit.media on real files generated into temporary folders (no mocks)."""

from __future__ import annotations

import hashlib
import json
import random
from fractions import Fraction

import av
import numpy as np
import pytest
from av.video.frame import PictureType

from nbedit import media
from nbedit.errors import MediaError, TimeRangeError

SIZE = (160, 120)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """2 s, 24 fps, GOP 12 with 2 B-frames, stereo AAC tone at 440 Hz."""
    return media.testsrc(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=2, size=SIZE)


def _all_counters(reader: media.VideoReader, order: list[int]) -> dict[int, int]:
    return {i: media.read_counter(reader.frame(i)) for i in order}


def _beep_onsets(pcm: np.ndarray, rate: int, beep_hz: float) -> np.ndarray:
    """Times (s) where the testsrc beep starts: the envelope at the beep pitch crosses half its maximum."""
    x = pcm.mean(axis=0).astype(np.float64)
    t = np.arange(len(x)) / rate
    window = int(rate * 0.002)
    env = np.abs(np.convolve(x * np.exp(-2j * np.pi * beep_hz * t), np.ones(window) / window, mode="same"))
    half = env.max() / 2
    return (np.flatnonzero((env[1:] >= half) & (env[:-1] < half)) + 1) / rate


def _peak_hz(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.argmax(spectrum) * rate / len(signal))


# -- probe ---------------------------------------------------------------------------------------------


def test_probe_reports_testsrc_properties(clip: str) -> None:
    info = media.probe(clip)
    assert info.path == clip
    assert info.kind == "video"
    assert info.fps == Fraction(24) and isinstance(info.fps, Fraction)
    assert info.duration == pytest.approx(2.0)
    assert (info.width, info.height) == SIZE
    assert info.pix_fmt == "yuv420p"
    assert info.frame_count == 48
    assert info.start_time == 0.0
    assert info.rotation == 0
    assert not info.vfr
    assert (info.audio_rate, info.audio_channels, info.audio_layout) == (48000, 2, "stereo")
    assert info.has_video and info.has_audio


def test_probe_sha256_is_hash_of_file_bytes(clip: str) -> None:
    with open(clip, "rb") as f:
        expected = hashlib.sha256(f.read()).hexdigest()
    assert media.probe(clip).sha256 == expected
    assert media.sha256_file(clip, chunk_size=1000) == expected


def test_probe_keeps_ntsc_rate_as_exact_fraction(tmp_path) -> None:
    path = media.testsrc(tmp_path / "ntsc.mp4", seconds=1, fps=Fraction(30000, 1001), size=SIZE, audio=False)
    info = media.probe(path)
    assert info.fps == Fraction(30000, 1001)
    assert info.to_dict()["fps"] == "30000/1001"
    assert not info.has_audio


def test_media_info_round_trips_through_json(clip: str) -> None:
    info = media.probe(clip)
    assert media.MediaInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info


def test_probe_missing_file_raises_media_error_naming_it(tmp_path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(MediaError, match="nope.mp4"):
        media.probe(missing)


def test_probe_random_bytes_raises_media_error_naming_file(tmp_path) -> None:
    path = tmp_path / "junk.mp4"
    path.write_bytes(random.Random(0).randbytes(4096))
    with pytest.raises(MediaError, match="junk.mp4"):
        media.probe(path)


def test_probe_truncated_mp4_raises_media_error_naming_file(clip: str, tmp_path) -> None:
    data = open(clip, "rb").read()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="truncated.mp4"):
        media.probe(path)


def test_probe_file_without_audio_or_video_raises_media_error(tmp_path) -> None:
    path = tmp_path / "subs.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n\n")
    with pytest.raises(MediaError, match="subs.srt"):
        media.probe(path)


def _write_still(path, img: np.ndarray, codec: str, pix_fmt: str) -> str:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=1)
        stream.width, stream.height, stream.pix_fmt = img.shape[1], img.shape[0], pix_fmt
        container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=pix_fmt)))
        container.mux(stream.encode(None))
    return str(path)


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"), [("still.png", "png", "rgb24"), ("still.jpg", "mjpeg", "yuvj420p")]
)
def test_probe_still_picture_is_image(tmp_path, name: str, codec: str, pix_fmt: str) -> None:
    path = _write_still(tmp_path / name, np.full((120, 160, 3), 90, np.uint8), codec, pix_fmt)
    info = media.probe(path)
    assert info.kind == "image"
    assert (info.width, info.height, info.frame_count) == (160, 120, 1)
    assert info.duration is None and info.fps is None
    assert info.has_video and not info.has_audio


@pytest.mark.parametrize(("name", "layout"), [("tone.wav", "mono"), ("tone.m4a", "mono"), ("tone2.m4a", "stereo")])
def test_probe_audio_only_file_is_audio(tmp_path, name: str, layout: str) -> None:
    channels = 1 if layout == "mono" else 2
    info = media.probe(media.tone(tmp_path / name, seconds=1.5, channels=channels, rate=44100))
    assert info.kind == "audio"
    assert (info.audio_rate, info.audio_channels, info.audio_layout) == (44100, channels, layout)
    assert info.duration == pytest.approx(1.5, abs=0.03)
    assert info.start_time == 0.0
    assert not info.has_video and info.width is None and info.fps is None


# -- frame-exact video access ----------------------------------------------------------------------------


def test_testsrc_really_has_b_frames(clip: str) -> None:
    with av.open(clip) as container:
        stream = container.streams.video[0]
        decode_order = [p.pts for p in container.demux(stream) if p.size]
    assert decode_order != sorted(decode_order)
    with av.open(clip) as container:
        types = {PictureType(frame.pict_type) for frame in container.decode(video=0)}
    assert PictureType.B in types


def test_testsrc_puts_keyframes_every_gop_frames(tmp_path) -> None:
    path = media.testsrc(tmp_path / "gop.mp4", seconds=2, size=SIZE, gop=10, audio=False)
    with av.open(path) as container:
        packets = sorted((p.pts, p.is_keyframe) for p in container.demux(video=0) if p.size)
    assert [i for i, (_, key) in enumerate(packets) if key] == [0, 10, 20, 30, 40]


def test_random_access_is_frame_exact_with_b_frames(clip: str) -> None:
    order = list(range(48))
    random.Random(1).shuffle(order)
    with media.VideoReader(clip) as reader:
        assert len(reader) == 48
        assert _all_counters(reader, order) == {i: i for i in order}


@pytest.mark.parametrize("ext", ["mkv", "mov", "ts"])  # MPEG-TS seeks land imprecisely: retries
def test_random_access_is_frame_exact_in_other_containers(tmp_path, ext: str) -> None:
    path = media.testsrc(tmp_path / f"clip.{ext}", seconds=2, size=SIZE, bframes=3, gop=8)
    order = [47, 0, 23, 22, 8, 7, 9, 40, 1, 46]
    with media.VideoReader(path) as reader:
        assert _all_counters(reader, order) == {i: i for i in order}


def test_frame_at_returns_the_frame_displayed_at_that_time(clip: str) -> None:
    with media.VideoReader(clip) as reader:
        assert reader.frame_times[5] == pytest.approx(5 / 24)
        assert media.read_counter(reader.frame_at(5 / 24)) == 5
        assert media.read_counter(reader.frame_at(5 / 24 - 0.001)) == 4
        assert media.read_counter(reader.frame_at(1.0)) == 24


def test_frames_are_rgb_uint8_of_display_size(clip: str) -> None:
    with media.VideoReader(clip) as reader:
        img = reader.frame(3)
    assert img.shape == (120, 160, 3) and img.dtype == np.uint8


def test_nonzero_start_time_maps_first_frame_to_media_time_zero(tmp_path) -> None:
    path = media.testsrc(tmp_path / "late.mp4", seconds=1, size=SIZE, start_time=10.0)
    with av.open(path) as container:
        assert container.streams.video[0].start_time * container.streams.video[0].time_base == 10
    with media.VideoReader(path) as reader:
        assert reader.info.start_time == pytest.approx(10.0)
        assert reader.frame_times[0] == 0.0
        assert media.read_counter(reader.frame(0)) == 0
        assert media.read_counter(reader.frame_at(0.5)) == 12
        assert media.read_counter(reader.frame(23)) == 23


def test_vfr_frame_times_match_written_durations(tmp_path) -> None:
    path = media.testsrc(tmp_path / "vfr.mp4", seconds=2, size=SIZE, vfr=True)
    with media.VideoReader(path) as reader:
        # Frames last 1/24 and 2/24 s in turn.
        expected = np.cumsum([0] + [1 if k % 2 == 0 else 2 for k in range(len(reader) - 1)]) / 24
        np.testing.assert_allclose(reader.frame_times, expected, atol=1e-9)
        assert reader.info.vfr
        assert reader.info.duration == pytest.approx(expected[-1] + 2 / 24)


def test_vfr_time_between_frames_gives_the_earlier_frame(tmp_path) -> None:
    path = media.testsrc(tmp_path / "vfr.mp4", seconds=2, size=SIZE, vfr=True)
    with media.VideoReader(path) as reader:
        # Frame 1 starts at 1/24 s and lasts until frame 2 at 3/24 s.
        assert reader.index_at(2 / 24) == 1
        assert media.read_counter(reader.frame_at(2.9 / 24)) == 1
        assert media.read_counter(reader.frame_at(3 / 24)) == 2


def test_sequential_read_does_not_seek_per_frame(clip: str) -> None:
    with media.VideoReader(clip) as reader:
        assert _all_counters(reader, list(range(48))) == {i: i for i in range(48)}
        assert reader.seeks == 0
        assert reader.decoded == 48


def test_reading_on_after_a_jump_does_not_seek_again(clip: str) -> None:
    with media.VideoReader(clip) as reader:
        reader.frame(30)
        seeks = reader.seeks
        assert [media.read_counter(reader.frame(i)) for i in range(31, 48)] == list(range(31, 48))
        assert reader.seeks == seeks


def test_repeated_frame_is_not_decoded_again(clip: str) -> None:
    with media.VideoReader(clip) as reader:
        first = reader.frame(7)
        decoded = reader.decoded
        np.testing.assert_array_equal(reader.frame(7), first)
        assert reader.decoded == decoded


def test_decoder_threads_do_not_change_frames(clip: str) -> None:
    with media.VideoReader(clip, threads=1) as one, media.VideoReader(clip, threads=0) as auto:
        for i in (0, 13, 47, 5):
            np.testing.assert_array_equal(one.frame(i), auto.frame(i))


def test_index_at_clamps_past_the_end_and_rejects_negative_time(clip: str) -> None:
    with media.VideoReader(clip) as reader:
        assert reader.index_at(0.0) == 0
        assert reader.index_at(-1e-12) == 0
        assert reader.index_at(100.0) == 47
        with pytest.raises(TimeRangeError):
            reader.index_at(-0.01)


def test_frame_index_out_of_range_raises_time_range_error(clip: str) -> None:
    with media.VideoReader(clip) as reader:
        with pytest.raises(TimeRangeError):
            reader.frame(48)
        with pytest.raises(TimeRangeError):
            reader.frame(-1)


def test_video_reader_rejects_audio_only_file(tmp_path) -> None:
    path = media.tone(tmp_path / "tone.wav", seconds=0.5)
    with pytest.raises(MediaError, match="tone.wav"):
        media.VideoReader(path)


def test_still_image_reader_returns_the_picture_at_any_time(tmp_path) -> None:
    img = np.zeros((120, 160, 3), np.uint8)
    img[:60, :80] = (255, 0, 0)
    media.draw_counter(img, 321)
    path = _write_still(tmp_path / "still.png", img, "png", "rgb24")
    with media.VideoReader(path) as reader:
        assert len(reader) == 1
        np.testing.assert_array_equal(reader.frame(0), img)
        np.testing.assert_array_equal(reader.frame_at(7.5), img)
        assert reader.index_at(1000.0) == 0


def test_rotated_testsrc_is_displayed_upright(tmp_path) -> None:
    path = media.testsrc(tmp_path / "portrait.mp4", seconds=1, size=SIZE, rotation=90, audio=False)
    with av.open(path) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (120, 160)  # stored turned, with a display matrix
        assert frame.rotation == -90
    with media.VideoReader(path) as reader:
        assert (reader.info.rotation, reader.info.width, reader.info.height) == (90, 160, 120)
        assert reader.frame(5).shape == (120, 160, 3)
        assert [media.read_counter(reader.frame(i)) for i in (5, 0, 23)] == [5, 0, 23]


def test_rotation_follows_the_quicktime_display_matrix(tmp_path) -> None:
    # Independent of testsrc: the QuickTime matrix (a, b, c, d) = (0, 1, -1, 0) means "turn 90 degrees
    # clockwise for display", so the stored top-left corner must show up at the top right.
    stored = np.zeros((64, 96, 3), np.uint8)
    stored[:32, :48] = 255
    path = str(tmp_path / "turned.mp4")
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.set_display_matrix([0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30])
        container.mux(stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")))
        container.mux(stream.encode(None))
    with media.VideoReader(path) as reader:
        assert reader.info.rotation == 90
        shown = reader.frame(0).mean(axis=2)
    assert shown.shape == (96, 64)
    assert shown[:48, 32:].mean() > 200  # top right: the stored top-left quadrant
    assert shown[:48, :32].mean() < 50 and shown[48:].mean() < 50


# -- audio -----------------------------------------------------------------------------------------------


def test_read_audio_gives_float_stereo_tone_of_clip_length(clip: str) -> None:
    pcm = media.read_audio(clip)
    assert pcm.dtype == np.float32 and pcm.shape[0] == 2
    assert abs(pcm.shape[1] - 2 * 48000) <= 1024  # the AAC encoder pads its last frame
    assert _peak_hz(pcm[0], 48000) == pytest.approx(440, abs=2)


def test_read_audio_resamples_to_requested_rate_and_channels(tmp_path) -> None:
    path = media.tone(tmp_path / "mono.wav", seconds=1.0, hz=1000, rate=44100, channels=1)
    pcm = media.read_audio(path, rate=22050, channels=2)
    assert pcm.shape == (2, 22050)
    np.testing.assert_array_equal(pcm[0], pcm[1])
    assert _peak_hz(pcm[0], 22050) == pytest.approx(1000, abs=2)
    assert media.read_audio(path, rate=48000, channels=1).shape == (1, 48000)


def test_read_audio_is_deterministic(clip: str) -> None:
    np.testing.assert_array_equal(media.read_audio(clip), media.read_audio(clip))


@pytest.mark.parametrize(("start_time", "audio_delay"), [(0.0, 0.0), (10.0, 0.0), (0.0, 0.5), (1.0, -0.3)], ids=str)
def test_read_audio_sample_zero_is_the_first_video_frame(tmp_path, start_time, audio_delay) -> None:
    # testsrc beeps at every whole second of media time, whenever the audio stream itself starts.
    path = media.testsrc(tmp_path / "sync.mp4", seconds=3, size=SIZE, start_time=start_time, audio_delay=audio_delay)
    pcm = media.read_audio(path)
    onsets = _beep_onsets(pcm, 48000, 3 * 440)
    expected = [0.0, 1.0, 2.0] if audio_delay <= 0 else [1.0, 2.0]
    np.testing.assert_allclose(onsets, expected, atol=0.002)
    if audio_delay > 0:
        # Silence in front (up to where the AAC encoder's 1024 priming samples may sit).
        assert not pcm[:, : int((audio_delay - 0.03) * 48000)].any()


def test_read_audio_of_file_without_audio_raises_media_error(tmp_path) -> None:
    path = media.testsrc(tmp_path / "silent.mp4", seconds=0.5, size=SIZE, audio=False)
    with pytest.raises(MediaError, match="silent.mp4"):
        media.read_audio(path)


# -- generated sources -----------------------------------------------------------------------------------


def test_testsrc_same_args_give_identical_bytes(tmp_path) -> None:
    kwargs = dict(seconds=1, size=SIZE, variant=2, vfr=True)
    a = media.testsrc(tmp_path / "a.mp4", **kwargs)
    b = media.testsrc(tmp_path / "b.mp4", **kwargs)
    c = media.testsrc(tmp_path / "c.mp4", **kwargs)
    assert open(a, "rb").read() == open(b, "rb").read() == open(c, "rb").read()


def test_testsrc_variants_differ_in_picture_but_not_counter(tmp_path) -> None:
    paths = [media.testsrc(tmp_path / f"v{v}.mp4", seconds=0.5, size=SIZE, variant=v) for v in (0, 1)]
    frames = []
    for path in paths:
        with media.VideoReader(path) as reader:
            frames.append(reader.frame(3))
    assert [media.read_counter(f) for f in frames] == [3, 3]
    assert np.abs(frames[0].astype(int) - frames[1].astype(int)).mean() > 20


def test_testsrc_returns_absolute_path_and_writes_other_containers(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = media.testsrc("rel.mov", seconds=0.5, size=SIZE)
    assert path == str(tmp_path / "rel.mov")
    assert media.probe(path).frame_count == 12


@pytest.mark.parametrize("size", [(160, 120), (120, 160), (320, 240), (1280, 720)])
def test_counter_round_trips_on_uncompressed_frames(size: tuple[int, int]) -> None:
    for n in (0, 7, 10, 404, 12345, 99999):
        img = np.full((size[1], size[0], 3), 200, np.uint8)
        media.draw_counter(img, n)
        assert media.read_counter(img) == n


def test_read_counter_rejects_frames_without_a_counter() -> None:
    with pytest.raises(ValueError):
        media.read_counter(np.full((120, 160, 3), 255, np.uint8))
    with pytest.raises(ValueError):
        media.read_counter(np.zeros((120, 160, 3), np.uint8))


def test_draw_counter_rejects_numbers_over_five_digits() -> None:
    with pytest.raises(ValueError):
        media.draw_counter(np.zeros((120, 160, 3), np.uint8), 100000)


def test_a_variable_rate_clip_reports_its_nominal_rate(tmp_path) -> None:
    path = media.testsrc(tmp_path / "vfr.mp4", seconds=2, fps=30, size=SIZE, vfr=True)
    info = media.probe(path)
    assert info.vfr and info.fps == 30  # its frames average 1200/59 fps
