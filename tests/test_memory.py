"""Bounded memory: what a long scrub, a render and the audio of a long timeline hold, measured as the system sees it.

The figures side by side (before and after, against a raw PyAV transcode) are in bench/memory.py; these tests
assert memory facts with bounds wide enough for a loaded machine, never times.
"""

from __future__ import annotations

import os
import random

import pytest

import nbedit
from nbedit import media

MiB = 2**20


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
    # with glibc's moving threshold (NBEDIT_MMAP_THRESHOLD=off) this grew 59 MiB, the cache at its budget
    assert s.cache.nbytes <= s.cache.budget
    assert grown < 24 * MiB, f"RSS grew {grown / MiB:.0f} MiB over the second 200 frames"
