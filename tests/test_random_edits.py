"""Random edit sequences: whatever a user throws at the session, the timeline stays well formed, failed calls change
nothing, and reopening the folder or replaying the recipe gives the same project."""

from __future__ import annotations

import random

import opentimelineio as otio
import pytest

import nbedit


def well_formed(tl: otio.schema.Timeline) -> list[str]:
    problems = []
    for track in tl.tracks:
        items = list(track)
        for i, item in enumerate(items):
            where = f"{track.name}[{i}]"
            if isinstance(item, otio.schema.Transition):
                if not (0 < i < len(items) - 1):
                    problems.append(f"{where}: crossfade at the end of the track")
                elif not all(isinstance(items[j], otio.schema.Clip) for j in (i - 1, i + 1)):
                    problems.append(f"{where}: crossfade beside something that is not a clip")
                continue
            if item.source_range.duration.value < 1:
                problems.append(f"{where}: shorter than a frame")
            if isinstance(item, otio.schema.Gap) and (i == len(items) - 1 or isinstance(items[i + 1], otio.schema.Gap)):
                problems.append(f"{where}: trailing or doubled gap")
    ids = [c.metadata["nbedit"]["id"] for c in tl.find_clips()]
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate clip ids {ids}")
    return problems


def random_call(s: nbedit.Session, rnd: random.Random):
    ids = [c.id for c in s.clips] or ["c1"]
    c, d = rnd.choice(ids), rnd.choice(ids)
    track = rnd.choice(["V1", "V1", "V2", "A1"])
    media = rnd.choice(["a", "b"])

    def t(hi: float = 6.0) -> float:
        return rnd.randrange(0, int(hi * 24)) / 24

    return rnd.choice(
        [
            lambda: s.append(media, track=track, src_in=t(1.5), duration=t(1.5) + 1 / 24),
            lambda: s.insert(media, track=track, at=t(), src_in=t(1.5), duration=t(1.5) + 1 / 24),
            lambda: s.overwrite(media, track=track, at=t(), src_in=t(1.5), duration=t(2) + 1 / 24),
            lambda: s.insert(media, track="V1", at=t(), src_in=t(1.5), duration=t(1.5) + 1 / 24, audio="A2"),
            lambda: s.overwrite(media, track="V2", at=t(), src_in=t(1.5), duration=t(1.5) + 1 / 24, audio="A2"),
            lambda: s.link(c, d),
            lambda: s.unlink(c),
            lambda: s.remove_track(rnd.choice(["V2", "A1", "A2"]), force=True),
            lambda: s.add_track(rnd.choice(["V2", "V3", "A2"])),
            lambda: s.trim(c, src_in=t(2.5), ripple=rnd.random() < 0.5),
            lambda: s.trim(c, src_out=t(3) + 1 / 24, ripple=rnd.random() < 0.5),
            lambda: s.split(c, at=t()),
            lambda: s.delete(c, ripple=rnd.random() < 0.5),
            lambda: s.move(c, to=t(), track=rnd.choice([None, "V1", "V2", "A1"])),
            lambda: s.slip(c, by=rnd.choice([-0.25, 0.25, 0.5])),
            lambda: s.slide(c, by=rnd.choice([-0.25, 0.125, 0.5])),
            lambda: s.roll(c, d, by=rnd.choice([-0.25, 0.125])),
            lambda: s.speed(c, rnd.choice([0.5, 0.75, 1, 1.5, 2, 3])),
            lambda: s.crossfade(c, d, duration=rnd.choice([1 / 12, 0.25, 0.5])),
            lambda: s.opacity(c, rnd.choice([0.0, 0.5, 1.0])),
            lambda: s.undo(),
            lambda: s.redo(),
        ]
    )


@pytest.mark.parametrize("seed", range(16))
def test_random_edits_keep_the_project_sound(ab, seed, tmp_path, monkeypatch):
    rnd = random.Random(seed)
    ab.append("a", track="V1", src_in=0.5, src_out=2.5)
    ab.append("b", track="V1", src_in=0.5, src_out=2.5)
    made = 0
    for _ in range(60):
        state, history = ab.state(), list(ab.history)
        journal = ab.journal.path.read_bytes()
        try:
            random_call(ab, rnd)()
            made += 1
        except nbedit.NbeditError:
            assert (ab.state(), ab.history, ab.journal.path.read_bytes()) == (state, history, journal)
            continue
        assert well_formed(ab.timeline) == []
        assert positions_agree(ab) == []
    assert made >= 10  # the sequence really edited something
    assert nbedit.Session(ab.path).state() == ab.state()
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(ab.recipe(), namespace)
    assert namespace["s"].state() == ab.state()
    if ab.duration:
        for k in range(0, round(ab.duration * 24), 7):  # every frame it can show, it shows without an error
            ab.frame(k / 24)


def positions_agree(s: nbedit.Session) -> list[str]:
    """Where the session says each clip is (its index) against a walk of the OTIO timeline itself."""
    from nbedit.timeline import layout

    wrong = []
    for track in s.timeline.tracks:
        for p in layout(track)[0]:
            if isinstance(p.item, otio.schema.Clip):
                cid = p.item.metadata["nbedit"]["id"]
                t, q = s.locate(cid)
                if (t.name, q.start, q.duration) != (track.name, p.start, p.duration):
                    wrong.append(f"{cid}: {t.name} {q.start}+{q.duration}, walked {track.name} {p.start}+{p.duration}")
    return wrong


def random_call_at_scale(s: nbedit.Session, rnd: random.Random, length: float):
    ids = [c.id for c in s.clips]
    c, d = rnd.choice(ids), rnd.choice(ids)
    track = rnd.choice(["V1", "V2", "V3", "V4", "A1", "A2", "A3", "A4"])
    media = rnd.choice(["a", "b"])

    def t(hi: float = length) -> float:
        return rnd.randrange(0, int(hi * 24)) / 24

    neighbour = s.clips[min(ids.index(c) + 1, len(ids) - 1)].id
    return rnd.choice(
        [
            lambda: s.append(media, track=track, src_in=t(1.5), duration=t(1.5) + 1 / 24),
            lambda: s.insert(media, track=track, at=t(), src_in=t(1.5), duration=t(1.5) + 1 / 24),
            lambda: s.overwrite(media, track=track, at=t(), src_in=t(1.5), duration=t(2) + 1 / 24),
            lambda: s.trim(c, src_in=t(2.5), ripple=rnd.random() < 0.5),
            lambda: s.trim(c, src_out=t(3) + 1 / 24, ripple=rnd.random() < 0.5),
            lambda: s.split(c, at=s.clip(c).start + t(0.5)),
            lambda: s.delete(c, ripple=rnd.random() < 0.5),
            lambda: s.move(c, to=t(), track=rnd.choice([None, "V2", "A3"])),
            lambda: s.slip(c, by=rnd.choice([-0.25, 0.25, 0.5])),
            lambda: s.slide(c, by=rnd.choice([-0.25, 0.125])),
            lambda: s.roll(c, neighbour, by=rnd.choice([-0.125, 0.125])),
            lambda: s.speed(c, rnd.choice([0.5, 0.75, 1.5, 2])),
            lambda: s.crossfade(c, neighbour if rnd.random() < 0.8 else d, duration=rnd.choice([1 / 12, 0.25])),
            lambda: s.undo(),
            lambda: s.redo(),
        ]
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2))
def test_random_edits_at_five_thousand_clips_keep_the_project_sound(ab, seed, tmp_path, monkeypatch):
    rnd = random.Random(seed)
    for k in range(5000):  # 625 clips on each of V1..V4 and A1..A4, with handles both sides
        track = ("V", "A")[k % 8 // 4] + str(k % 4 + 1)
        ab.append("ab"[k % 2], track=track, src_in=0.5 + (k % 5) / 24, duration=0.5)
    length = ab.duration
    made = 0
    for _ in range(40):
        state, history = ab.state(), list(ab.history)
        size = ab.journal.path.stat().st_size
        try:
            random_call_at_scale(ab, rnd, length)()
            made += 1
        except nbedit.NbeditError:
            assert (ab.state(), ab.history, ab.journal.path.stat().st_size) == (state, history, size)
            continue
        assert well_formed(ab.timeline) == []
        assert positions_agree(ab) == []
    assert made >= 10
    assert nbedit.Session(ab.path).state() == ab.state()
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(ab.recipe(), namespace)
    assert namespace["s"].state() == ab.state()
