"""Model folders: discovery, cards, checks before loading, residency, budgets and placement plans.

Every test loads real diffusers pipelines from the tiny random-weight checkpoints, through the code path a real
checkpoint takes. Placement plans for GPUs are pure functions of component sizes and budgets, tested as such.
"""

from __future__ import annotations

import json
import runpy
import shutil
import struct
import sys
from pathlib import Path

import pytest
from model_helpers import copy_model

import nbedit
from nbedit.models import ModelNotFoundError, ModelTaskError, PlacementNotice, WeightsError
from nbedit.models.cards import read_card
from nbedit.models.folders import folder_digest
from nbedit.models.placement import choose

pytest_plugins = ["tiny_models"]  # fixtures: the tiny checkpoints, and sessions that find them

GiB = 2**30


def unchanged(s: nbedit.Session):
    """A snapshot to compare with after a failing call: timeline, media pool and history."""
    return s.state(), [r.code for r in s.history]


def gen(s: nbedit.Session, model: str = "ltx-video", **kw):
    return s.generate("a red kite", model=model, seconds=0.4, seed=kw.pop("seed", 1), **kw)


# ---- finding models --------------------------------------------------------------------------------------


def test_a_model_in_the_sessions_models_folder_is_found(tmp_path, tiny_models):
    s = nbedit.Session(tmp_path / "project")
    copy_model(tiny_models, "ltx-video", s.path / "models")
    assert s.models.refresh().find("ltx-video").path == s.path / "models" / "ltx-video"


def test_the_sessions_folder_comes_before_nbedit_models_which_it_hides(gs, tiny_models):
    copy_model(tiny_models, "ltx-video-v2", gs.path / "models").rename(gs.path / "models" / "ltx-video")
    pool = gs.models.refresh()
    assert pool.find("ltx-video").path == gs.path / "models" / "ltx-video"
    assert [h.path for h in pool.hidden] == [tiny_models / "ltx-video"]
    assert "hidden" in repr(pool)


def test_an_explicit_path_is_used_as_it_is(gs, tiny_models):
    media = gs.generate("a kite", model=str(tiny_models / "ltx-video-v2"), seconds=0.4, seed=1)
    assert media.info.frame_count == 9
    assert gs.timeline.metadata["nbedit"]["media"][media.id]["generation"]["model"] == "ltx-video-v2"


def test_an_unknown_model_says_where_it_looked_and_changes_nothing(gs, tiny_models):
    before = unchanged(gs)
    with pytest.raises(ModelNotFoundError) as e:
        gs.generate("a kite", model="ltx-videoo", seed=1)
    message = str(e.value)
    assert str(gs.path / "models") in message and str(tiny_models) in message and "ltx-video" in message
    assert unchanged(gs) == before


def test_refresh_picks_up_a_folder_dropped_in(gs, tiny_models):
    with pytest.raises(ModelNotFoundError):
        gs.models.find("my-ltx")
    shutil.copytree(tiny_models / "ltx-video", gs.path / "models" / "my-ltx")
    assert gs.models.refresh().find("my-ltx").name == "my-ltx"


def test_a_checkpoint_swapped_in_place_is_reloaded_and_recorded_with_its_sha256(tmp_path, tiny_models, monkeypatch):
    folder = tmp_path / "models"
    copy_model(tiny_models, "ltx-video", folder)
    monkeypatch.setenv("NBEDIT_MODELS", str(folder))
    s = nbedit.Session(tmp_path / "project")
    first = gen(s)
    shutil.rmtree(folder / "ltx-video")
    shutil.copytree(tiny_models / "ltx-video-v2", folder / "ltx-video")  # same name, other weights
    second = gen(s)
    pool = s.timeline.metadata["nbedit"]["media"]
    assert pool[first.id]["generation"]["weights_sha256"] == folder_digest(tiny_models / "ltx-video")
    assert pool[second.id]["generation"]["weights_sha256"] == folder_digest(tiny_models / "ltx-video-v2")


# ---- cards --------------------------------------------------------------------------------------------------


def test_the_card_gives_task_defaults_licence_and_sha256(tiny_models):
    card = read_card(tiny_models / "ltx-video")
    assert card.task == "text-to-video" and card.pipeline == "LTXPipeline"
    assert card.default("steps") == 4 and card.default("size") == [64, 64]
    assert card.licence and card.sha256 == folder_digest(tiny_models / "ltx-video")


def test_without_a_card_the_tasks_come_from_the_pipeline_class(tmp_path, tiny_models):
    folder = copy_model(tiny_models, "sd-img2img", tmp_path)
    (folder / "nbedit.toml").unlink()
    card = read_card(folder)
    assert card.tasks == {"image-to-image"} and card.sha256 is None


def test_a_card_that_is_not_toml_is_a_model_error(gs, tmp_path, tiny_models):
    folder = copy_model(tiny_models, "ltx-video", gs.path / "models")
    (folder / "nbedit.toml").write_text("task = [unclosed")
    before = unchanged(gs)
    with pytest.raises(nbedit.models.ModelError, match="not valid TOML"):
        gs.models.refresh()
        gen(gs)
    assert unchanged(gs) == before


# ---- checks before loading: each a typed error, the session unchanged ------------------------------------------


def damaged(gs: nbedit.Session, tiny_models: Path, name: str = "ltx-video") -> Path:
    """A copy of a checkpoint in the session's models/ (hiding the good one), with no sha256 on its card."""
    folder = copy_model(tiny_models, name, gs.path / "models")
    card = folder / "nbedit.toml"
    card.write_text("\n".join(line for line in card.read_text().splitlines() if not line.startswith("sha256")))
    gs.models.refresh()
    return folder


def test_a_truncated_safetensors_file_is_refused(gs, tiny_models):
    weights = damaged(gs, tiny_models) / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    before = unchanged(gs)
    with pytest.raises(WeightsError, match="truncated"):
        gen(gs)
    assert unchanged(gs) == before and gs.models.loaded() == []


def test_a_corrupt_safetensors_header_is_refused(gs, tiny_models):
    weights = damaged(gs, tiny_models) / "vae" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    assert struct.unpack("<Q", data[:8])[0] > 16
    data[8 : 8 + 16] = b"\x00garbage\xff" * 2
    weights.write_bytes(bytes(data))
    before = unchanged(gs)
    with pytest.raises(WeightsError, match="corrupt"):
        gen(gs)
    assert unchanged(gs) == before


def pickled_copy(gs: nbedit.Session, tiny_models: Path) -> Path:
    """The tiny LTX checkpoint with its transformer saved as a pickled .bin instead of safetensors."""
    from diffusers import LTXVideoTransformer3DModel

    folder = damaged(gs, tiny_models)
    transformer = LTXVideoTransformer3DModel.from_pretrained(folder / "transformer")
    shutil.rmtree(folder / "transformer")
    transformer.save_pretrained(folder / "transformer", safe_serialization=False)
    assert (folder / "transformer" / "diffusion_pytorch_model.bin").exists()
    return folder


def test_a_pickled_checkpoint_is_refused(gs, tiny_models):
    pickled_copy(gs, tiny_models)
    before = unchanged(gs)
    with pytest.raises(WeightsError, match="pickled"):
        gen(gs)
    assert unchanged(gs) == before


def test_a_pickled_checkpoint_loads_with_allow_pickle(gs, tiny_models):
    pickled_copy(gs, tiny_models)
    media = gen(gs, allow_pickle=True)
    assert media.info.frame_count == 9
    assert "allow_pickle=True" in gs.history[-1].code


def test_a_resident_pickled_model_is_still_refused_without_allow_pickle(gs, tiny_models):
    pickled_copy(gs, tiny_models)
    gen(gs, allow_pickle=True)
    before = unchanged(gs)
    with pytest.raises(WeightsError, match="pickled"):
        gen(gs, seed=2)
    assert unchanged(gs) == before


def test_weights_that_do_not_match_the_cards_sha256_are_refused(gs, tiny_models):
    folder = copy_model(tiny_models, "ltx-video", gs.path / "models")
    config = folder / "scheduler" / "scheduler_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "shift": 2.0}))
    gs.models.refresh()
    before = unchanged(gs)
    with pytest.raises(WeightsError, match="card expects"):
        gen(gs)
    assert unchanged(gs) == before


def test_a_call_recorded_with_other_weights_is_refused(gs, tiny_models):
    other = folder_digest(tiny_models / "ltx-video-v2")
    before = unchanged(gs)
    with pytest.raises(WeightsError, match="not the checkpoint this call was recorded with"):
        gen(gs, weights_sha256=other)
    assert unchanged(gs) == before


def test_a_model_asked_for_a_task_it_does_not_do_is_refused(gs):
    before = unchanged(gs)
    with pytest.raises(ModelTaskError, match="image-to-image.*needs text-to-video.*ltx-video"):
        gen(gs, model="sd-img2img")
    assert unchanged(gs) == before


# ---- residency ------------------------------------------------------------------------------------------------


def test_a_model_is_loaded_once_and_stays_resident(gs):
    gen(gs, seed=1)
    pipe = gs.models.get("ltx-video").model
    gen(gs, seed=2)
    assert gs.models.get("ltx-video").model is pipe
    assert gs.models.loaded() == ["ltx-video"]


def test_a_full_device_evicts_the_least_recently_used_model(gs):
    """On the CPU it is unloaded; from a GPU it moves to CPU RAM (offloaded), and back when used again."""
    device = gs.models.device
    gen(gs, model="ltx-video")
    one = gs.models.resident()[device]
    gs.models.set_budget(device, int(one * 1.5))
    gen(gs, model="ltx-video-v2")
    rows = {r["name"]: r["device"] for r in gs.models.rows()}
    assert rows["ltx-video-v2"] == device and rows["ltx-video"] in ("-", f"cpu (offloaded from {device})")
    assert gs.models.resident()[device] <= int(one * 1.5)


def test_unload_frees_a_model_until_its_next_use(gs):
    gen(gs)
    gs.models.unload("ltx-video")
    assert "ltx-video" not in gs.models
    gen(gs, seed=2)
    assert gs.models.loaded() == ["ltx-video"]


def test_the_table_shows_what_each_model_is_and_holds(gs):
    gen(gs)
    text = repr(gs.models)
    for column in ("name", "task", "pipeline", "device", "dtype", "resident MiB", "sha256"):
        assert column in text
    row = next(line for line in text.splitlines() if line.startswith("ltx-video "))
    plan = gs.models.plan("ltx-video")
    assert "LTXPipeline" in row and plan.device in row and plan.dtype in row
    assert folder_digest(gs.models.find("ltx-video").path)[:12] in row
    assert "not loaded" in next(line for line in text.splitlines() if line.startswith("sd-img2img"))
    html = gs.models._repr_html_()
    assert html.startswith("<table>") and "StableDiffusionImg2ImgPipeline" in html


def test_a_model_over_its_budget_still_loads_and_says_so(gs):
    gs.models.set_device("cpu").set_budget("cpu", "1KiB")
    with pytest.warns(PlacementNotice, match="over the CPU budget.*loaded anyway"):
        media = gen(gs)
    assert media.info.frame_count == 9 and gs.models.loaded() == ["ltx-video"]


def test_a_budget_must_be_a_size(gs):
    with pytest.raises(nbedit.models.ModelError, match="budget"):
        gs.models.set_budget("cpu", "lots")
    assert gs.models.set_budget("cpu", "1.5GiB").budgets["cpu"] == int(1.5 * GiB)


def test_on_the_cpu_every_component_is_in_ram(gs):
    gs.models.set_device("cpu")
    plan = gs.models.plan("ltx-video")
    assert plan.device == "cpu" and plan.strategy == "on-device"
    assert set(plan.components) == {"transformer", "vae", "text_encoder"}
    assert set(plan.components.values()) == {"cpu"}


def test_the_onnx_model_is_resident_like_the_others(gs, footage):
    pytest.importorskip("onnx")
    clip = gs.append(gs.import_media(footage["a"]), track="V1", src_out=0.25)
    gs.stylize(clip, model="sepia-onnx")
    row = next(line for line in repr(gs.models).splitlines() if line.startswith("sepia-onnx"))
    assert "onnxruntime" in row and "cpu" in row and "not loaded" not in row


# ---- placement plans (GPU budgets as numbers) ----------------------------------------------------------------

LTX_2B = {"transformer": int(3.8 * GiB), "text_encoder": int(8.9 * GiB), "vae": int(0.8 * GiB)}
TE = {"text_encoder"}


def plan(sizes: dict, budget: float, strategy: str | None = None):
    return choose(
        "m", sizes, device="cuda:0", dtype="bfloat16", budget=int(budget * GiB), text_encoders=TE, strategy=strategy
    )


def test_a_model_that_fits_goes_whole_on_the_gpu():
    p = plan(LTX_2B, 20)
    assert p.strategy == "on-device" and p.fits and p.resident == {"cuda:0": sum(LTX_2B.values())}


def test_the_text_encoder_stays_on_the_cpu_when_the_rest_fits():
    p = plan(LTX_2B, 10.2)  # a 12 GB card at 85%: 13.5 GiB of weights do not fit, 4.6 GiB do
    assert p.strategy == "text-encoder-on-cpu" and p.fits
    assert p.components == {"transformer": "cuda:0", "text_encoder": "cpu", "vae": "cuda:0"}


def test_model_offload_when_only_one_component_at_a_time_fits():
    p = plan({"transformer": 6 * GiB, "text_encoder": 5 * GiB, "vae": 1 * GiB}, 6.5)
    assert p.strategy == "model-cpu-offload" and p.fits and p.resident == {"cpu": 12 * GiB}


def test_sequential_offload_when_no_component_fits_whole():
    p = plan(LTX_2B, 2)
    assert p.strategy == "sequential-cpu-offload" and p.fits


def test_a_plan_is_never_a_refusal():
    p = plan(LTX_2B, 0.0000001)
    assert p.strategy == "sequential-cpu-offload"
    p = choose("m", LTX_2B, device="cpu", dtype="float32", budget=GiB, text_encoders=TE)
    assert p.strategy == "on-device" and not p.fits and "loaded anyway" in p.summary


def test_your_strategy_overrides_the_budget():
    p = plan(LTX_2B, 20, strategy="model-cpu-offload")
    assert p.strategy == "model-cpu-offload" and p.chosen_by == "you" and "chosen by you" in p.summary


def test_a_plan_shows_each_component_and_where_it_goes():
    text = str(plan(LTX_2B, 10.2))
    assert "text-encoder-on-cpu on cuda:0" in text
    assert any(line.split() == ["text_encoder", "cpu"] for line in text.splitlines())
    assert "<table>" in plan(LTX_2B, 10.2)._repr_html_()


# ---- tiny checkpoints ----------------------------------------------------------------------------------------


def test_tiny_checkpoints_are_the_same_bytes_every_build(tmp_path, tiny_models):
    from nbedit.models.tiny import make_tiny

    made = make_tiny(tmp_path / "again")
    for name, folder in made.items():
        assert folder_digest(folder) == folder_digest(tiny_models / name) == read_card(folder).sha256


def test_tiny_checkpoints_are_a_few_hundred_kilobytes(tiny_models):
    for folder in tiny_models.iterdir():
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        assert size < 2**20, f"{folder.name}: {size} bytes"


def test_nbedit_models_make_tiny_and_list(tmp_path, capsys, monkeypatch):
    from nbedit import cli

    assert cli.main(["models", "make-tiny", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "ltx-video" / "model_index.json").exists()
    monkeypatch.setenv("NBEDIT_MODELS", str(tmp_path / "m"))
    assert cli.main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "ltx-video-v2" in out and "StableDiffusionImg2ImgPipeline" in out


def test_the_make_tiny_script_builds_them_too(tmp_path, monkeypatch):
    script = Path(__file__).parents[1] / "models" / "make_tiny.py"
    monkeypatch.setattr(sys, "argv", [str(script), str(tmp_path / "m")])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(script), run_name="__main__")
    assert e.value.code == 0
    assert (tmp_path / "m" / "sd-img2img" / "nbedit.toml").exists()
