"""Bounded memory: what a long scrub, a render and the audio of a long timeline hold, measured as the system sees it.

The figures side by side (before and after, against a raw PyAV transcode) are in bench/memory.py; these tests
assert memory facts with bounds wide enough for a loaded machine, never times.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nbedit
from nbedit import media
from nbedit.cache import DISK, MEMORY, Budget, DiskBudget, FrameCache
from nbedit.model import pool
from nbedit.proxy import Proxies
from nbedit.render import AUDIO_WINDOW, Mixer, Sources

MiB = 2**20
ROOT = Path(nbedit.__file__).parent.parent


def rss() -> int:
    """Resident bytes of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def hd(tmp_path_factory: pytest.TempPathFactory) -> str:
    """10 s of 1080p H.264 with 2 s GOPs and B-frames: a random frame decodes from its keyframe."""
    d = tmp_path_factory.mktemp("hd")
    return media.testsrc(d / "hd.mp4", seconds=10, fps=24, size=(1920, 1080), gop=48, audio=False)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
def test_rss_stays_flat_over_a_random_scrub_of_1080p_long_gop_media(tmp_path, hd):
    s = nbedit.Session(tmp_path / "project")
    s.append(s.import_media(hd))
    s.cache.budget = 256 * MiB  # 43 frames: far fewer than the 240 the scrub visits, so it evicts all along
    rng = random.Random(7)
    times = [rng.uniform(0, s.duration - 0.05) for _ in range(400)]
    for t in times[:200]:
        s.frame(t)
    half = rss()
    for t in times[200:]:
        s.frame(t)
    grown = rss() - half
    # with freed memory left to glibc (NBEDIT_MALLOC_TRIM=off) this grew 59 MiB, the cache at its budget
    assert s.cache.nbytes <= s.cache.budget
    assert grown < 24 * MiB, f"RSS grew {grown / MiB:.0f} MiB over the second 200 frames"


@pytest.fixture
def memory_budget():
    """The process's one budget, put back as it was after the test."""
    limit = MEMORY.limit
    yield MEMORY
    MEMORY.limit = limit


def test_caches_in_one_budget_evict_the_least_recently_used_item_of_any_of_them():
    budget = Budget(300)
    frames, sound = FrameCache(name="frames", shared=budget), FrameCache(name="sound", shared=budget)
    frames.put("f0", np.zeros(100, np.uint8))
    sound.put("s0", np.zeros(100, np.uint8))
    frames.put("f1", np.zeros(100, np.uint8))
    frames.get("f0")  # now s0 is the oldest of the three
    sound.put("s1", np.zeros(100, np.uint8))
    assert sound.get("s0") is None
    assert frames.get("f0") is not None and frames.get("f1") is not None and sound.get("s1") is not None
    assert budget.nbytes == 300


def test_s_caches_is_a_table_of_every_cache_with_entries_bytes_and_budget(s, footage):
    s.append(s.import_media(footage["a"]))
    s.frame(0.0)
    s.frame(1.0)
    rows = {r.name: r for r in s.caches.rows()}
    frames = rows["decoded frames"]
    assert frames.entries >= 2 and frames.nbytes >= 2 * 320 * 240 * 3 and frames.budget >= s.cache.budget
    assert rows["all in memory"].budget == s.caches.budget and rows["all in memory"].nbytes == s.caches.nbytes
    assert "proxies on disk" in rows
    page = s.caches._repr_html_()
    assert page.startswith("<table>") and "<td>decoded frames</td>" in page
    assert repr(s.caches).splitlines()[0].split() == ["cache", "entries", "bytes", "budget"]


def test_a_smaller_cache_budget_evicts_at_once_and_holds_over_a_scrub(s, footage, memory_budget):
    s.append(s.import_media(footage["a"]))
    for t in (0.0, 0.5, 1.0, 1.5):
        s.frame(t)
    frame = 320 * 240 * 3
    s.caches.budget = 2 * frame
    assert s.caches.nbytes <= 2 * frame
    for k in range(24):
        s.frame(k / 8)
        assert s.caches.nbytes <= 2 * frame
    assert len(s.cache) == 2


def test_a_cache_budget_must_be_a_positive_number_of_bytes(s, memory_budget):
    with pytest.raises(nbedit.errors.EditError, match=r"the cache budget \(bytes\) must be positive, not 0"):
        s.caches.budget = 0
    assert s.caches.budget == memory_budget.limit


def test_a_render_decodes_into_a_few_frames_of_its_own_not_the_session_cache(s, footage, tmp_path):
    s.append(s.import_media(footage["a"]))
    s.transform(s.clips[0], scale=1.1)  # every frame composited from RGB, so every frame goes through a cache
    s.frame(0.0)
    before = s.cache.nbytes
    s.render(tmp_path / "out.mp4", progress=False, preset="ultrafast")
    assert s.cache.nbytes == before  # 96 frames read once each: keeping them would only grow with the timeline


@pytest.fixture(scope="module")
def long_tone(tmp_path_factory: pytest.TempPathFactory) -> str:
    """40 s of 48 kHz stereo AAC: about seven of the Mixer's windows."""
    return media.tone(tmp_path_factory.mktemp("tone") / "long.m4a", seconds=40, hz=330)


def test_sound_read_by_windows_is_the_whole_decode_sample_for_sample(long_tone):
    whole = media.read_audio(long_tone)
    for start in (0, 48000 * 7 + 17, AUDIO_WINDOW - 100, whole.shape[1] - 50):
        window = media.read_audio(long_tone, start=start, count=1000)
        inside = min(1000, whole.shape[1] - start)
        np.testing.assert_array_equal(window[:, :inside], whole[:, start : start + inside])
        assert not window[:, inside:].any()  # past the end: silence


def test_the_mixer_decodes_only_the_windows_of_the_span_it_mixes(s, long_tone):
    s.set_format(width=320, height=240, fps=24)
    s.append(s.import_media(long_tone), track="A1")
    sources = Sources()
    mixer = Mixer(s.timeline, sources)
    at = AUDIO_WINDOW * 4 - 512  # across the boundary of windows 3 and 4
    mixed = mixer.samples(at, 1024)
    assert len(sources.audio_cache) == 2 and sources.audio_cache.nbytes == 2 * AUDIO_WINDOW * 2 * 4
    np.testing.assert_array_equal(mixed, np.clip(media.read_audio(long_tone)[:, at : at + 1024], -1, 1))


RENDER_CHILD = """
import sys, nbedit
s = nbedit.Session(sys.argv[1])
s.append(s.import_media(sys.argv[2]), src_in=0, src_out=float(sys.argv[3]))
s.transform(s.clips[0], scale=1.05)  # every frame decoded to RGB and composited
s.render(sys.argv[1] + "/out.mp4", preset="ultrafast", progress=False)
with open("/proc/self/status") as f:
    print(next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) * 1024)
"""


def render_peak(folder, src: str, seconds: float) -> int:
    """Peak RSS of a fresh process rendering the first ``seconds`` of ``src`` (not ru_maxrss: exec keeps it)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-c", RENDER_CHILD, str(folder), src, str(seconds)]
    return int(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads peak RSS from /proc")
def test_render_memory_does_not_grow_with_the_timeline(tmp_path, hd):
    short = render_peak(tmp_path / "short", hd, 2.0)
    long = render_peak(tmp_path / "long", hd, 8.0)
    # when renders filled the session's 512 MiB frame cache, 8 s (192 frames) peaked 257 MiB above 2 s (48)
    assert long - short < 48 * MiB, f"8 s peaked {(long - short) / MiB:.0f} MiB above 2 s"


@pytest.fixture
def disk_budget():
    """The process's disk budget, put back as it was after the test."""
    limit = DISK.limit
    yield DISK
    DISK.limit = limit


def test_the_disk_budget_removes_the_oldest_files_first_never_the_one_kept_nor_a_temp_file(tmp_path):
    files = [tmp_path / f"{k}.mp4" for k in range(3)]
    for k, f in enumerate(files):
        f.write_bytes(b"x" * 100)
        os.utime(f, (1000 + k, 1000 + k))
    partial = tmp_path / ".2.mp4.123-0.partial"
    partial.write_bytes(b"x" * 500)
    assert DiskBudget(150).trim(tmp_path, keep=files[0]) == [files[1], files[2]]
    assert files[0].exists() and partial.exists()


def test_proxies_count_into_the_disk_budget_and_the_oldest_make_room(s, tmp_path, disk_budget):
    for k in range(2):
        s.import_media(media.testsrc(tmp_path / f"m{k}.mp4", seconds=1, size=(320, 240), gop=24, variant=k))
    disk_budget.limit = 1  # room for the proxy just made, and no other
    proxies = Proxies(s.path / "proxies")
    entries = sorted(pool(s.timeline).values(), key=lambda e: e["path"])
    for entry in entries:  # one at a time, so the first is the older
        proxies.request([entry])
        assert proxies.wait(60)
    proxies.close()
    assert proxies.ready(entries[0]["sha256"]) is None and proxies.ready(entries[1]["sha256"]) is not None
    row = next(r for r in s.caches.rows() if r.name == "proxies on disk")
    assert row.entries == 1 and row.nbytes == proxies.ready(entries[1]["sha256"]).stat().st_size and row.budget == 1
