"""AAF as Media Composer marks a muted clip: a Selector whose selected segment is a Filler, the clip itself its one
alternate (what otio-aaf-adapter reads as a disabled clip). The file is made here with pyaaf2 from an export of
nbedit's, the clip swapped for such a Selector in place."""

from __future__ import annotations

from pathlib import Path

import aaf2
import pytest

import nbedit


def mute_first_picture_clip(path: Path) -> None:
    """Media Composer's mute: the picture track's first clip becomes a Selector showing a Filler of its length,
    with the clip as its alternate."""
    with aaf2.open(str(path), "rw") as f:
        comp = next(f.content.compositionmobs())
        slot = next(s for s in comp.slots if s.media_kind == "Picture")
        components = list(slot.segment.components)
        clip = components[0]
        selector = f.create.Selector(slot.media_kind)
        selector["Selected"].value = f.create.Filler(slot.media_kind, clip.length)
        selector["Alternates"].append(clip.copy())
        selector.length = clip.length
        slot.segment["Components"].value = [selector, *components[1:]]


@pytest.fixture
def muted(ab, tmp_path) -> Path:
    ab.append("a", src_in=0, src_out=1)
    ab.append("b", src_in=0, src_out=0.5)
    path = ab.export(tmp_path / "muted.aaf").path
    mute_first_picture_clip(path)
    return path


def test_a_muted_aaf_clip_imports_as_a_disabled_clip_in_its_place(muted, tmp_path):
    s = nbedit.Session(tmp_path / "back")
    report = s.import_timeline(muted)
    assert [(c.name, c.enabled) for c in s.timeline.find_clips()] == [("a.mp4", False), ("b.mp4", True)]
    assert [(round(c.start * 24), round(c.duration * 24)) for c in s.clips] == [(0, 24), (24, 12)]
    assert report.categories["disabled"].came_in == 1 and report.categories["disabled"].kept == 1
    assert "track V1, clip 'a.mp4' at 00:00:00:00: disabled in the file, kept disabled (not shown, not heard)" in (
        report.categories["disabled"].notes
    )


def test_a_muted_aaf_clip_is_not_shown(muted, tmp_path, ab):
    s = nbedit.Session(tmp_path / "back")
    s.import_timeline(muted)
    assert not s.frame(0.5).any()  # black where the muted clip is
    assert nbedit.media.read_counter(s.frame(1.0)) == 0  # b's first frame right after it


def test_a_muted_clip_survives_another_aaf_round_trip(muted, tmp_path):
    s = nbedit.Session(tmp_path / "back")
    s.import_timeline(muted)
    again = nbedit.Session(tmp_path / "again")
    again.import_timeline(s.export(tmp_path / "again.aaf"))
    assert [c.enabled for c in again.timeline.find_clips()] == [False, True]


def test_a_clip_switched_off_in_nbedit_goes_to_aaf_muted(ab, tmp_path):
    ab.append("a", src_in=0, src_out=1)
    off = ab.append("b", track="A1", src_in=0, src_out=1)
    ab.append("a", track="A1", src_in=1, src_out=2)
    ab.enable(off, False)
    back = nbedit.Session(tmp_path / "back")
    back.import_timeline(ab.export(tmp_path / "cut.aaf"))
    assert [(t.name, [c.enabled for c in t.find_clips()]) for t in back.timeline.tracks] == [
        ("V1", [True]),
        ("A1", [False, True]),
    ]
