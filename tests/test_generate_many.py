"""Generation sweeps: prompts x seeds x checkpoints as takes, each exactly what ``s.generate`` makes, recorded as
one cell; here and on a LocalCluster of two worker processes; with the tiny random-weight checkpoints."""

from __future__ import annotations

import re

import pytest
from model_helpers import frames_sha

import nbedit
from nbedit.errors import EditError

pytest_plugins = ["tiny_models", "dask_cluster"]

SMALL = {"seconds": 0.4, "size": (32, 32)}  # 9 frames of 32 x 32: a take in about a second


def sweep(s: nbedit.Session, **kw):
    args = {"seeds": [1, 2], "models": ["ltx-video"], **SMALL, **kw}
    return s.generate_many(["a kite"], **args)


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)


def test_a_sweep_makes_a_take_for_each_prompt_seed_and_checkpoint(gs):
    takes = gs.generate_many(["a kite", "a boat"], seeds=[1, 2], models=["ltx-video"], **SMALL)
    assert takes.table == [
        ("a kite", 1, "ltx-video", "a-kite-s1"),
        ("a kite", 2, "ltx-video", "a-kite-s2"),
        ("a boat", 1, "ltx-video", "a-boat-s1"),
        ("a boat", 2, "ltx-video", "a-boat-s2"),
    ]
    for prompt, seed, model, mid in takes.table:
        gen = gs.generation(mid)
        assert (gen["prompt"], gen["seed"], gen["model"]) == (prompt, seed, model)
    assert len({frames_sha(gs.media[m].path) for m in takes}) == 4  # four different takes


def test_each_take_is_exactly_what_generate_makes(gs, tmp_path):
    takes = sweep(gs, models=["ltx-video-v2"], seeds=[5])
    other = nbedit.Session(tmp_path / "other")
    alone = other.generate("a kite", model="ltx-video-v2", seed=5, **SMALL)
    assert gs.generation(takes[0]) == other.generation(alone)
    assert frames_sha(gs.media[takes[0]].path) == frames_sha(alone.path)


def test_a_sweep_is_recorded_as_one_cell_with_what_it_resolved(gs, tiny_models):
    from nbedit.models.folders import folder_digest

    sweep(gs, seeds=[1], models=["ltx-video", "ltx-video-v2"])
    shas = tuple(folder_digest(tiny_models / m) for m in ("ltx-video", "ltx-video-v2"))
    assert [r.op for r in gs.history] == ["generate_many"]
    assert gs.history[-1].code == (
        "s.generate_many(('a kite',), seeds=(1,), models=('ltx-video', 'ltx-video-v2'), seconds=0.4, "
        f"size=(32, 32), steps=4, guidance=3.0, weights_sha256={shas!r})"
    )


def test_reopening_a_project_takes_the_sweeps_files_without_running_a_model(gs, tmp_path, monkeypatch):
    takes = sweep(gs)
    state = gs.state()
    gs.close()
    monkeypatch.setenv("NBEDIT_MODELS", str(tmp_path / "no-models-here"))  # a model run would fail to find one
    again = nbedit.Session(gs.path)
    assert again.state() == state
    assert [again.generation(m)["seed"] for m in takes] == [1, 2]


@pytest.mark.slow
def test_the_recorded_cell_run_again_makes_the_same_frames(gs, tmp_path):
    takes = sweep(gs)
    fresh = nbedit.Session(tmp_path / "recipe")
    again = eval(gs.history[-1].code, {"s": fresh})  # the cell, as a recipe runs it
    assert [frames_sha(fresh.media[m].path) for m in again] == [frames_sha(gs.media[m].path) for m in takes]


def test_the_grid_shows_a_middle_frame_of_each_take_labelled(gs):
    page = sweep(gs, models=["ltx-video", "ltx-video-v2"])._repr_html_()
    assert len(re.findall(r"<img src='data:image/png;base64,", page)) == 4  # two rows of two seeds
    assert "<th>seed 1</th><th>seed 2</th>" in page
    assert "a kite<br><small>ltx-video</small>" in page and "a kite<br><small>ltx-video-v2</small>" in page


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"seeds": []}, "seeds must be a non-empty list"),
        ({"seeds": [-1]}, "seed must be a whole number"),
        ({"models": []}, "models must be a non-empty list"),
        ({"weights_sha256": ["abc", "def"]}, "names 2 checkpoints for 1 models"),
        ({"scheduler": "cloud"}, "scheduler must be 'local' or 'dask'"),
    ],
)
def test_a_bad_sweep_is_a_clear_error_that_changes_nothing(gs, kw, message):
    before = unchanged(gs)
    with pytest.raises(EditError, match=message):
        sweep(gs, **kw)
    assert unchanged(gs) == before


def test_a_sweep_naming_a_missing_checkpoint_makes_no_take_at_all(gs):
    from nbedit.models import ModelNotFoundError

    before = unchanged(gs)
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        sweep(gs, models=["ltx-video", "no-such-model"])
    assert unchanged(gs) == before
    assert not (gs.path / "generated").exists()


def test_a_checkpoint_that_is_not_the_recorded_one_is_refused(gs):
    from nbedit.models import WeightsError

    before = unchanged(gs)
    with pytest.raises(WeightsError, match="is not the checkpoint"):
        sweep(gs, weights_sha256=["0" * 64])
    assert unchanged(gs) == before


# ---- on Dask -----------------------------------------------------------------------------------------------------


@pytest.mark.slow  # the workers import torch and load the checkpoints
def test_a_sweep_on_dask_gives_the_same_takes_as_here(gs, client, tmp_path):
    other = nbedit.Session(tmp_path / "other")
    for s in (gs, other):  # the workers generate at the project's edit rate
        s.set_format(width=64, height=64, fps=30)
    here = sweep(gs)
    there = sweep(other, scheduler="dask", client=client)
    assert other.media[there[0]].info.fps == 30
    assert [frames_sha(other.media[m].path) for m in there] == [frames_sha(gs.media[m].path) for m in here]
    assert [other.generation(m) for m in there] == [gs.generation(m) for m in here]
    # the same cell, but for where it ran; a Client is no literal: the cell names the default client
    assert other.history[-1].code == gs.history[-1].code[:-1] + ", scheduler='dask', client=None)"


def test_a_sweep_on_dask_without_a_client_says_how_to_start_one(gs, cluster):
    from nbedit.distributed import SchedulerError

    before = unchanged(gs)
    with pytest.raises(SchedulerError, match=r"Client\(\)"):
        sweep(gs, scheduler="dask")
    assert unchanged(gs) == before
