"""Scrub proxies on real files (PyAV, no mocks): frame i of the proxy is frame i of the media, at any rate and size,
builds that fail or stop leave no temp file and say why, and stale temp files are cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from widget_helpers import Sent, picture

from nbedit import media, preview
from nbedit.errors import ProxyError
from nbedit.preview import JpegEncoder, Preview
from nbedit.proxy import CHANGED, NOT_NEEDED, OFFLINE, STOPPED, Proxies, ProxyStatus, build, clean_stale, summary

SIZE = (160, 120)

# (fps, vfr): vfr alternates frames of one and two frame durations
RATES = {
    "23.976": (Fraction(24000, 1001), False),
    "24": (24, False),
    "25": (25, False),
    "29.97": (Fraction(30000, 1001), False),
    "30": (30, False),
    "50": (50, False),
    "59.94": (Fraction(60000, 1001), False),
    "60": (60, False),
    "vfr-60": (60, True),
}


def long_gop(path: Path, *, seconds: float = 1, fps: int | Fraction = 24, **kwargs) -> str:
    """A testsrc with one keyframe only (the case proxies are for), B-frames, no audio."""
    return media.testsrc(path, seconds=seconds, fps=fps, size=kwargs.pop("size", SIZE), gop=1000, audio=False, **kwargs)


def entry(path: str) -> dict:
    """The pool entry of a file, as the session stores it."""
    return media.probe(path).to_dict()


def built(folder: Path, source: str, **kwargs) -> tuple[Proxies, ProxyStatus]:
    proxies = Proxies(folder, **kwargs)
    proxies.request([entry(source)])
    assert proxies.wait(60)
    return proxies, proxies.status()[media.probe(source).sha256]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*")) if folder.exists() else []


def assert_same_frames(source: str, proxy: Path) -> None:
    """Same count, same times to the tick, every frame a keyframe and showing the media's frame number."""
    with media.VideoReader(source) as m, media.VideoReader(proxy) as p:
        assert len(p) == len(m) and p.keyframes == len(p)
        assert np.array_equal(p.frame_times, m.frame_times)
        assert [media.read_counter(p.frame(i)) for i in range(len(p))] == list(range(len(m)))
        # a time inside a frame, and exactly at its start, picks the same frame in both
        mids = (m.frame_times[:-1] + m.frame_times[1:]) / 2
        for t in [*m.frame_times, *mids]:
            assert p.index_at(t) == m.index_at(t)


# ---- frame i of the proxy is frame i of the media ----------------------------------------------------------


@pytest.mark.parametrize("rate", list(RATES))
def test_proxy_frames_are_the_media_frames_at_every_rate(tmp_path, rate):
    fps, vfr = RATES[rate]
    src = long_gop(tmp_path / "long.mp4", fps=fps, vfr=vfr, bframes=2)
    proxies, st = built(tmp_path / "proxies", src)
    assert st.state == "ready" and st.reason == "" and st.progress == 1.0
    assert st.path == proxies.ready(media.probe(src).sha256)
    assert_same_frames(src, st.path)
    assert leftovers(tmp_path / "proxies") == []


@pytest.mark.parametrize(
    "name, kwargs, max_width",
    [
        ("downscaled, starting at 1.5 s", dict(size=(320, 240), fps=25, start_time=1.5), 160),
        ("rotated phone video", dict(fps=30, rotation=90), 640),
        ("matroska (1 ms ticks)", dict(fps=Fraction(30000, 1001), ext="mkv"), 640),
        ("mpeg-ts, variable rate", dict(fps=50, vfr=True, ext="ts"), 640),
    ],
)
def test_proxy_frames_are_the_media_frames_at_other_sizes_and_containers(tmp_path, name, kwargs, max_width):
    src = long_gop(tmp_path / f"long.{kwargs.pop('ext', 'mp4')}", **kwargs)
    _, st = built(tmp_path / "proxies", src, max_width=max_width)
    assert st.state == "ready", st
    with media.VideoReader(st.path) as p:
        assert p.info.width <= max_width and p.info.rotation == 0  # stored upright
    assert_same_frames(src, st.path)


def test_the_preview_of_a_2997_timeline_shows_the_right_frames_through_the_proxy(s, tmp_path):
    src = long_gop(tmp_path / "ntsc.mp4", seconds=2, fps=Fraction(30000, 1001))
    s.append(s.import_media(src), src_in=0, src_out=2)
    p = Preview(s, ahead=0)
    assert p.proxies.wait(60)
    st = p.proxies.status()[s.media["ntsc"].info.sha256]
    assert st.state == "ready"
    frames = round(s.duration * s.fps)
    shown = [media.read_counter(picture(p.jpeg(n))) for n in range(frames)]
    assert shown == [media.read_counter(s.frame(n / s.fps)) for n in range(frames)]
    assert any(str(st.path) == r.path for r in p._sources._readers.values())  # it was the proxy that was read
    p.close()


def test_the_editor_says_the_proxy_is_building_then_ready_and_the_preview_reads_it(s, tmp_path):
    src = long_gop(tmp_path / "long.mp4", seconds=2, fps=30)
    s.append(s.import_media(src), src_in=0, src_out=2)
    ui = s.ui()
    sent = Sent(ui)
    ui._on_message(ui, {"type": "hello"}, [])  # a view that renders hears where the proxies stand at once
    assert sent.got[-1][0]["type"] == "proxies"
    deadline = time.monotonic() + 60
    while sent.last("proxies")[0]["state"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    said = [m for m, _ in sent.got if m["type"] == "proxies"]
    assert said[-1] == {"type": "proxies", "state": "ready", "text": "proxy ready"}
    assert all(m["state"] in ("building", "ready") for m in said) and len(said) <= 13  # a tenth at a time
    ui.playhead = 30
    assert ui.preview.proxied == {s.media["long"].info.sha256}  # the frame came from the proxy
    ui.close()


def test_a_proxy_frame_shown_whole_goes_to_the_jpeg_encoder_in_yuv_and_looks_like_the_composited_one(s, tmp_path):
    src = long_gop(tmp_path / "long.mp4", seconds=1, size=(640, 360))
    s.append(s.import_media(src), src_in=0, src_out=1)
    p = Preview(s, ahead=0, max_width=320)
    assert p.proxies.wait(60)
    comp = p._compositor(p._sources, None)
    encode = JpegEncoder()
    for n in (0, 11, 23):
        fast = picture(preview.picture(comp, encode, n))
        assert p._sources.video_frame(s.media["long"].info.to_dict(), n, (320, 180)) is not None  # the YUV path
        slow = picture(encode(comp.frame(n)))
        assert fast.shape == slow.shape == (180, 320, 3)
        assert np.abs(fast.astype(int) - slow).mean() < 2  # the same picture, but for JPEG rounding
    p.close()


def test_the_summary_is_building_failed_ready_or_nothing():
    building, ready = ProxyStatus("building", progress=0.5), ProxyStatus("ready", progress=1.0)
    failed = ProxyStatus("failed", "The media file could not be opened as video.")
    assert summary([ready, building]) == ("building", "proxy 75%")
    assert summary([ready, failed]) == ("failed", "proxy failed: The media file could not be opened as video.")
    assert summary([ready, ProxyStatus("skipped", NOT_NEEDED)]) == ("ready", "proxy ready")
    assert summary([ProxyStatus("skipped", NOT_NEEDED)]) == summary([]) == ("", "")


# ---- status --------------------------------------------------------------------------------------------------


def test_status_follows_a_build_from_queued_to_ready(tmp_path):
    src = long_gop(tmp_path / "long.mp4", seconds=2, fps=30)
    sha = media.probe(src).sha256
    proxies = Proxies(tmp_path / "proxies")
    assert proxies.status() == {}
    proxies.request([entry(src)])
    seen = set()
    while proxies.status()[sha].state in ("queued", "building"):
        seen.add(proxies.status()[sha].state)
        time.sleep(0.001)
    assert "building" in seen and proxies.status()[sha].state == "ready"
    again = Proxies(tmp_path / "proxies")  # another session: the proxy on disk is ready at once
    again.request([entry(src)])
    assert again.status()[sha] == ProxyStatus("ready", progress=1.0, path=proxies.ready(sha))


def test_media_that_seeks_fast_or_is_offline_is_skipped_with_a_reason(tmp_path):
    short = media.testsrc(tmp_path / "short.mp4", seconds=1, size=SIZE, gop=2, audio=False)
    src = long_gop(tmp_path / "long.mp4")
    offline = {**entry(src), "path": str(tmp_path / "moved.mp4")}
    proxies = Proxies(tmp_path / "proxies")
    proxies.request([entry(short), offline])
    assert proxies.wait(60)
    status = proxies.status()
    assert status[entry(short)["sha256"]] == ProxyStatus("skipped", NOT_NEEDED)
    assert status[offline["sha256"]] == ProxyStatus("skipped", OFFLINE)
    os.rename(src, offline["path"])  # back online: asked again, it is built
    proxies.request([offline])
    assert proxies.wait(60) and proxies.status()[offline["sha256"]].state == "ready"


# ---- failures leave nothing behind ---------------------------------------------------------------------------


def damaged(src: str, out: Path) -> Path:
    """A copy of ``src`` with the packet of its middle frame overwritten: the index is whole, decoding fails."""
    with av.open(src) as c:
        packets = sorted((p for p in c.demux(video=0) if p.size), key=lambda p: p.pts)
        mid = packets[len(packets) // 2]
        pos, size = mid.pos, mid.size
    data = bytearray(Path(src).read_bytes())
    data[pos : pos + size] = b"\xff" * size
    out.write_bytes(bytes(data))
    return out


def test_a_media_that_cannot_be_decoded_half_way_fails_with_a_reason_and_no_temp_file(tmp_path):
    bad = damaged(long_gop(tmp_path / "long.mp4", seconds=2), tmp_path / "bad.mp4")
    proxies, st = built(tmp_path / "proxies", str(bad))
    assert st.state == "failed"
    assert st.reason.startswith("Frame ") and st.reason.endswith("of the media could not be decoded.")
    assert "avcodec" not in st.reason and "Errno" not in st.reason
    assert "cannot decode" in st.detail and "bad.mp4" in st.detail  # the decoder's own account, for a bug report
    assert proxies.ready(media.probe(bad).sha256) is None
    assert leftovers(tmp_path / "proxies") == [] and list((tmp_path / "proxies").iterdir()) == []
    assert proxies.skipped == {media.probe(bad).sha256: st.reason}


def test_build_raises_a_proxy_error_and_removes_its_temp_file(tmp_path):
    bad = damaged(long_gop(tmp_path / "long.mp4", seconds=2), tmp_path / "bad.mp4")
    with pytest.raises(ProxyError, match="could not be decoded"):
        build(bad, tmp_path / "bad-proxy.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4", "long.mp4"]


def test_a_build_stopped_half_way_removes_its_temp_file(tmp_path):
    src = long_gop(tmp_path / "long.mp4")
    stop = threading.Event()
    written = []

    def progress(done: int, total: int) -> None:
        written.append(done)
        if done == total // 2:
            stop.set()

    assert build(src, tmp_path / "proxy.mp4", stop=stop, progress=progress) is False
    assert written == list(range(1, 13))  # 24 frames: stopped after the 12th
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]


def building(proxies: Proxies, sha: str, timeout: float = 30) -> None:
    """Return once the build of ``sha`` has begun its temp file (180 frames take a few tenths of a second)."""
    end = time.monotonic() + timeout
    while (st := proxies.status()[sha]).state != "building" or not leftovers(proxies.folder):
        assert st.state in ("queued", "building"), f"the build ended before it could be caught: {st}"
        assert time.monotonic() < end, "the build did not start"
        time.sleep(0.001)


def test_closing_the_manager_stops_its_build_reports_it_failed_and_leaves_no_temp_file(tmp_path):
    src = long_gop(tmp_path / "long.mp4", seconds=3, fps=60)
    sha = media.probe(src).sha256
    proxies = Proxies(tmp_path / "proxies")
    proxies.request([entry(src)])
    building(proxies, sha)
    proxies.close(timeout=30)
    st = proxies.status()[sha]
    assert (st.state, st.reason) == ("failed", STOPPED)
    assert list((tmp_path / "proxies").iterdir()) == []


# ---- stale temp files --------------------------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_new_manager_removes_stale_temp_files_and_outdated_proxies(tmp_path):
    folder = tmp_path / "proxies"
    folder.mkdir()
    live = os.getppid()  # another process that is running
    files = {
        ".0123456789abcdef0123-640.mp4.partial": "removed",  # an earlier nbedit's (no owner)
        f".0123456789abcdef0123-640-v2.mp4.{dead_pid()}-0.partial": "removed",  # its process was killed
        f".0123456789abcdef0123-640-v2.mp4.{os.getpid()}-99.partial": "removed",  # ours, no build writes it
        f".aaaaaaaaaaaaaaaaaaaa-640-v2.mp4.{live}-0.partial": "kept",  # a live process is writing it
        f".bbbbbbbbbbbbbbbbbbbb-640-v2.mp4.{live}-1.partial": "removed",  # ...but this one it left long ago
        "0123456789abcdef0123-640.mp4": "removed",  # a proxy of the old format (times rounded to 1/24 s)
        "0123456789abcdef0123-640-v2.mp4": "kept",  # a proxy
    }
    for name in files:
        (folder / name).write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(folder / f".bbbbbbbbbbbbbbbbbbbb-640-v2.mp4.{live}-1.partial", (hour_ago, hour_ago))
    Proxies(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(n for n, fate in files.items() if fate == "kept")


def test_a_second_manager_leaves_the_temp_file_of_a_running_build_alone(tmp_path):
    src = long_gop(tmp_path / "long.mp4", seconds=3, fps=60)
    sha = media.probe(src).sha256
    first = Proxies(tmp_path / "proxies")
    first.request([entry(src)])
    building(first, sha)
    assert clean_stale(tmp_path / "proxies") == []  # what a second Preview of the session does
    assert first.wait(60) and first.status()[sha].state == "ready"
    assert leftovers(tmp_path / "proxies") == []


def test_a_media_file_changed_since_import_is_not_proxied(tmp_path):
    src = long_gop(tmp_path / "long.mp4")
    proxies = Proxies(tmp_path / "proxies")
    proxies.request([{**entry(src), "sha256": "0" * 64}])  # what the session recorded at import
    assert proxies.wait(60)
    assert proxies.status()["0" * 64] == ProxyStatus("failed", CHANGED)


# ---- the process ends while a build runs -------------------------------------------------------------------

# Starts a build in the background thread, says so once its temp file exists, then ends as asked.
BUILD_THEN = """
import os, sys, time
from pathlib import Path
from nbedit import media
from nbedit.proxy import Proxies
proxies = Proxies(Path(sys.argv[1]))
info = media.probe(sys.argv[2])
proxies.request([info.to_dict()])
while (st := proxies.status()[info.sha256]).state != "building" or not list(proxies.folder.glob(".*.partial")):
    assert st.state in ("queued", "building"), st
    time.sleep(0.001)
print("building", flush=True)
if sys.argv[3] == "exit":
    sys.exit(0)
time.sleep(60)  # killed here
"""


def run_build(folder: Path, src: str, how: str) -> subprocess.Popen:
    # the child imports the nbedit under test, wherever it is
    path = [str(Path(media.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}
    child = subprocess.Popen(
        [sys.executable, "-c", BUILD_THEN, str(folder), src, how], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "building"
    return child


@pytest.mark.slow
def test_exiting_while_a_build_runs_removes_its_temp_file(tmp_path):
    src = long_gop(tmp_path / "long.mp4", seconds=3, fps=60)
    child = run_build(tmp_path / "proxies", src, "exit")
    assert child.wait(60) == 0
    assert list((tmp_path / "proxies").iterdir()) == []


@pytest.mark.slow
def test_the_temp_file_of_a_killed_process_is_removed_by_the_next_manager(tmp_path):
    src = long_gop(tmp_path / "long.mp4", seconds=3, fps=60)
    child = run_build(tmp_path / "proxies", src, "kill")
    child.kill()  # no atexit, no finally: the temp file stays
    child.wait(60)
    assert [p.suffix for p in (tmp_path / "proxies").iterdir()] == [".partial"]
    Proxies(tmp_path / "proxies")
    assert list((tmp_path / "proxies").iterdir()) == []
