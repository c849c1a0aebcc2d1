"""Random valid and invalid operation sequences, found and shrunk by hypothesis: after every step the timeline is
well formed and the index agrees with a walk of the OTIO tracks, a refused call changed nothing (state, history,
journal), undo and redo give back exactly the states before and after, and reopening the folder gives the same
project, whose undo steps still lead back the same way.

The run is deterministic (``derandomize=True``, no example database) and sized to take about a minute here.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from test_random_edits import positions_agree, well_formed

import nbedit

FRAME = 1 / 24
BAD_TIMES = [-1.0, -FRAME, math.nan, math.inf, -math.inf, 1e308, 1e7, "soon", None]
BAD_IDS = ["c999", "", None, 3, "a", "V1"]
TRACKS = ["V1", "V1", "V2", "A1", "A2"]
BAD_TRACKS = ["X1", "", "V1\n", None, 7, "v1"]


def times(hi: float = 6.0) -> st.SearchStrategy:
    """Mostly times on the frame grid within ``hi`` seconds, sometimes a time no editor could mean."""
    return st.one_of(
        st.integers(0, int(hi * 24)).map(lambda k: k * FRAME),
        st.integers(0, int(hi * 24)).map(lambda k: k * FRAME),
        st.sampled_from(BAD_TIMES),
    )


def durations() -> st.SearchStrategy:
    return st.one_of(st.integers(1, 48).map(lambda k: k * FRAME), st.sampled_from([0.0, *BAD_TIMES]))


def factors(good: list[float], bad: list) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(bad))


class Editing(RuleBasedStateMachine):
    """One small session (media a and b, a clip of each on V1) and the states its undo and redo must give back."""

    footage: dict[str, str] = {}
    tally = {"made": 0, "refused": 0, "undone": 0, "reopened": 0}  # over the whole run: it really edited

    def __init__(self):
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="nbedit-hypothesis-"))
        self.s = nbedit.Session(self.root / "project")
        self.s.import_media(self.footage["a"])
        self.s.import_media(self.footage["b"])
        self.s.append("a", track="V1", src_in=0.5, src_out=2.0)
        self.s.append("b", track="V1", src_in=0.5, src_out=2.0)
        self.undo_states: list[str] = []  # the state before each step undo can take back (this run's steps only)
        self.redo_states: list[str] = []

    def teardown(self):
        state = self.s.state()
        self.s.close()
        reopened = nbedit.Session(self.root / "project")
        try:
            assert reopened.state() == state, "the folder reopened to another project"
        finally:
            reopened.close()
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- the one way every edit is tried ---------------------------------------------------------------------

    def before(self) -> tuple:
        journal = self.s.journal.path
        return self.s.state(), [r.code for r in self.s.history], journal.read_bytes() if journal.exists() else b""

    def attempt(self, call) -> None:
        """Run an edit: it succeeds (and undo must take it back) or raises an NbeditError and changes nothing."""
        was = self.before()
        try:
            call(self.s)
        except nbedit.NbeditError:
            assert self.before() == was, "a refused call changed the session or its journal"
            self.tally["refused"] += 1
            return
        if len(self.s.history) > len(was[1]):  # every call that returns is one undo step, even one that changed nothing
            self.undo_states.append(was[0])
            self.redo_states.clear()
            self.tally["made"] += 1

    def ids(self, data: st.DataObject, bad: bool = True) -> str:
        ids = [c.id for c in self.s.clips] or ["c1"]
        return data.draw(
            st.one_of(st.sampled_from(ids), st.sampled_from(ids), st.sampled_from(BAD_IDS if bad else ids))
        )

    def track(self, data: st.DataObject) -> str:
        return data.draw(st.one_of(st.sampled_from(TRACKS), st.sampled_from(TRACKS), st.sampled_from(BAD_TRACKS)))

    # ---- rules: placing media -------------------------------------------------------------------------------

    @rule(data=st.data(), media=st.sampled_from(["a", "b", "a", "nope"]))
    def append(self, data, media):
        track, src_in, duration = self.track(data), data.draw(times(1.5)), data.draw(durations())
        self.attempt(lambda s: s.append(media, track=track, src_in=src_in, duration=duration))

    @rule(data=st.data(), media=st.sampled_from(["a", "b"]), ripple=st.booleans())
    def insert_or_overwrite(self, data, media, ripple):
        track, at, src_in, duration = (
            self.track(data),
            data.draw(times()),
            data.draw(times(1.5)),
            data.draw(durations()),
        )
        verb = "insert" if ripple else "overwrite"
        self.attempt(lambda s: getattr(s, verb)(media, track=track, at=at, src_in=src_in, duration=duration))

    # ---- rules: changing clips ------------------------------------------------------------------------------

    @rule(data=st.data(), ripple=st.booleans(), end=st.booleans())
    def trim(self, data, ripple, end):
        clip, t = self.ids(data), data.draw(times(3))
        self.attempt(lambda s: s.trim(clip, **{"src_out" if end else "src_in": t}, ripple=ripple))

    @rule(data=st.data())
    def split(self, data):
        clip, at = self.ids(data), data.draw(times())
        self.attempt(lambda s: s.split(clip, at=at))

    @rule(data=st.data(), ripple=st.booleans())
    def delete(self, data, ripple):
        clip = self.ids(data)
        self.attempt(lambda s: s.delete(clip, ripple=ripple))

    @rule(data=st.data(), track=st.sampled_from([None, "V1", "V2", "A1", "Q7"]))
    def move(self, data, track):
        clip, to = self.ids(data), data.draw(times())
        self.attempt(lambda s: s.move(clip, to=to, track=track))

    @rule(data=st.data(), how=st.sampled_from(["slip", "slide"]), by=factors([-0.25, 0.125, 0.5], [math.nan, 1e308]))
    def slip_or_slide(self, data, how, by):
        clip = self.ids(data)
        self.attempt(lambda s: getattr(s, how)(clip, by=by))

    @rule(data=st.data(), by=factors([-0.25, 0.125], [math.inf, "x"]))
    def roll(self, data, by):
        a, b = self.ids(data), self.ids(data, bad=False)
        self.attempt(lambda s: s.roll(a, b, by=by))

    @rule(data=st.data(), factor=factors([0.5, 0.75, 1, 1.5, 2], [0, -1, math.nan, 1e308]))
    def speed(self, data, factor):
        clip = self.ids(data)
        self.attempt(lambda s: s.speed(clip, factor))

    @rule(data=st.data(), duration=factors([FRAME * 2, 0.25, 0.5], [0, 100, math.nan]))
    def crossfade(self, data, duration):
        a, b = self.ids(data), self.ids(data, bad=False)
        self.attempt(lambda s: s.crossfade(a, b, duration=duration))

    @rule(data=st.data(), value=factors([0.0, 0.5, 1.0], [2.0, -0.1, math.nan]))
    def opacity(self, data, value):
        clip = self.ids(data)
        self.attempt(lambda s: s.opacity(clip, value))

    @rule(data=st.data(), scale=factors([0.5, 1.0, 2.0], [0, -1, 1e6, math.inf]))
    def transform(self, data, scale):
        clip = self.ids(data)
        self.attempt(lambda s: s.transform(clip, scale=scale))

    @rule(data=st.data(), db=factors([-6.0, 0.0, 3.0], [math.nan, 1e308]))
    def gain(self, data, db):
        clip = self.ids(data)
        self.attempt(lambda s: s.gain(clip, db))

    @rule(data=st.data(), linked=st.booleans())
    def link_or_unlink(self, data, linked):
        a, b = self.ids(data), self.ids(data)
        self.attempt(lambda s: s.link(a, b) if linked else s.unlink(a))

    @rule(data=st.data(), kind=st.sampled_from(["blur", "blur", "sharpen", "melt"]))
    def effect(self, data, kind):
        clip, radius = self.ids(data), data.draw(factors([1.0, 4.0], [-1.0, math.nan, 1e5]))
        self.attempt(lambda s: s.effect(clip, kind, radius=radius) if kind == "blur" else s.effect(clip, kind))

    @rule(data=st.data(), on=st.sampled_from([True, False, "yes"]))
    def enable(self, data, on):
        clip = self.ids(data)
        self.attempt(lambda s: s.enable(clip, on))

    @rule(data=st.data(), name=st.sampled_from(["m", "", "scene 2"]))
    def add_marker(self, data, name):
        at = data.draw(times())
        self.attempt(lambda s: s.add_marker(at, name))

    # ---- rules: tracks ------------------------------------------------------------------------------------------

    @rule(data=st.data(), switch=st.sampled_from(["mute", "solo", "lock"]), on=st.booleans())
    def switch_track(self, data, switch, on):
        track = self.track(data)
        self.attempt(lambda s: getattr(s, switch)(track, on))

    @rule(name=st.sampled_from(["V2", "V3", "A2", *BAD_TRACKS]))
    def add_track(self, name):
        self.attempt(lambda s: s.add_track(name))

    @rule(name=st.sampled_from(["V2", "A1", "A2", "V9"]), force=st.booleans())
    def remove_track(self, name, force):
        self.attempt(lambda s: s.remove_track(name, force=force))

    # ---- rules: undo, redo, reopen ---------------------------------------------------------------------------

    @precondition(lambda self: self.undo_states)
    @rule(steps=st.integers(1, 4))
    def undo(self, steps):
        for _ in range(min(steps, len(self.undo_states))):
            now = self.s.state()
            self.s.undo()
            assert self.s.state() == self.undo_states.pop(), "undo did not give back the state before"
            self.redo_states.append(now)
            self.tally["undone"] += 1

    @precondition(lambda self: self.redo_states)
    @rule(steps=st.integers(1, 4))
    def redo(self, steps):
        for _ in range(min(steps, len(self.redo_states))):
            now = self.s.state()
            self.s.redo()
            assert self.s.state() == self.redo_states.pop(), "redo did not give back the state after"
            self.undo_states.append(now)

    @rule()
    def reopen(self):
        state = self.s.state()
        self.s.close()
        self.s = nbedit.Session(self.root / "project")
        assert self.s.state() == state, "reopening the folder gave another project"
        self.tally["reopened"] += 1

    @rule(data=st.data())
    def look(self, data):
        """Any time on the timeline shows a picture of the format; any other is a typed refusal."""
        t = data.draw(times(8))
        was = self.before()
        try:
            picture = self.s.frame(t)
        except nbedit.NbeditError:
            assert self.before() == was
            return
        assert picture.shape == (self.s.format["height"], self.s.format["width"], 3)

    @invariant()
    def sound(self):
        assert well_formed(self.s.timeline) == []
        assert positions_agree(self.s) == []


def test_random_operation_sequences_keep_every_invariant(footage):
    Editing.footage = footage
    Editing.tally = dict.fromkeys(Editing.tally, 0)
    run_state_machine_as_test(
        Editing,
        settings=settings(
            max_examples=80,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            print_blob=False,
        ),
    )
    tally = Editing.tally
    print(tally)
    assert tally["made"] >= 100 and tally["refused"] >= 100 and tally["undone"] >= 10 and tally["reopened"] >= 5, tally


@pytest.mark.parametrize("bad", [t for t in BAD_TIMES if t is not None])
def test_every_bad_time_the_machine_draws_is_refused_by_trim(ab, bad):
    """The machine's bad times really are bad: each one is refused, so its runs test refusals, not luck."""
    ab.append("a", track="V1", src_in=0.5, src_out=2.0)
    with pytest.raises(nbedit.NbeditError):
        ab.trim("c1", src_in=bad)


# ---- what the machine found, kept as examples ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["append", "move"])
def test_redoing_an_edit_that_made_a_track_keeps_that_tracks_index(ab, how):
    """Undo emptied the new track's index and retired it; redo must bring back that same index (an empty one is
    falsy), or later edits of the track splice one list while the index reads another."""
    ab.append("a", track="V1", src_in=0.5, src_out=2.0)
    if how == "append":
        ab.append("a", track="V2", src_in=0.5, src_out=2.0)
    else:
        ab.move("c1", to=4.25, track="V2")
    ab.undo()
    ab.redo()
    assert positions_agree(ab) == []
    ab.overwrite("a", track="V2", at=61 / 24, src_in=26 / 24, duration=22 / 24)
    assert positions_agree(ab) == [] and well_formed(ab.timeline) == []


def test_switching_off_a_switch_that_is_off_changes_nothing(ab):
    ab.append("a", track="V1")
    state = ab.state()
    ab.lock("V1", False)
    assert ab.state() == state


def test_undoing_a_tracks_first_switch_gives_back_the_state_exactly(ab):
    ab.append("a", track="V1")
    state = ab.state()
    ab.lock("V1")
    ab.undo()
    assert ab.state() == state
