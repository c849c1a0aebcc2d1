"""Placement plans with diffusers' memory features: group offloading, fp8 storage, VAE tiling, card-sized plans.

The budgets are numbers here (a GPU's streams and memory caps are measured by bench/generate_full_size.py); fp8
storage and tiling run for real on the CPU with the tiny LTX-Video checkpoint.
"""

from __future__ import annotations

import pytest
import torch

import nbedit
from nbedit.models.placement import CARDS, GPU_SHARE, choose, for_card

pytest_plugins = ["tiny_models"]  # fixtures: the tiny checkpoints, and sessions that find them

GiB = 2**30
# LTX-Video 0.9 in bf16, from the parameter counts of its published configs (bench/generate_full_size.py builds
# them): transformer 1.92 B, T5-XXL encoder 4.89 B (with its embedding table), VAE 0.42 B
LTX = {"transformer": 1_923_385_472 * 2, "text_encoder": 4_893_906_944 * 2, "vae": 419_193_905 * 2}
TE = {"text_encoder"}


def card(name: str, fp8: bool = False):
    return for_card(name, "ltx-video", LTX, dtype="bfloat16", text_encoders=TE, fp8=fp8)


def test_a_24gb_card_holds_all_of_ltx_video_and_decodes_in_tiles():
    p = card("24GB")
    assert p.strategy == "on-device" and p.fits and p.peak == sum(LTX.values())
    assert p.tiling  # 20.4 GiB budget - 13.2 GiB of weights leaves under TILING_ROOM for a whole decode
    assert p.budget == int(24 * GiB * GPU_SHARE) and not p.fp8


def test_a_16gb_card_holds_it_with_a_little_room():
    p = card("16GB")
    assert p.strategy == "on-device" and p.fits and p.tiling


def test_a_12gb_card_keeps_the_text_encoder_in_ram():
    p = card("12GB")
    assert p.strategy == "text-encoder-on-cpu" and p.fits and p.tiling
    assert p.peak == LTX["transformer"] + LTX["vae"]


def test_fp8_storage_halves_the_transformer_in_the_plan():
    p = card("12GB", fp8=True)
    assert p.fp8 == ("transformer",) and p.strategy == "text-encoder-on-cpu"
    assert p.peak == LTX["transformer"] // 2 + LTX["vae"]
    assert "transformer stored in fp8" in p.summary


def test_every_card_plan_fits_its_budget():
    for name in CARDS:
        for fp8 in (False, True):
            p = card(name, fp8)
            assert p.fits and p.peak <= p.budget, (name, fp8, p.summary)


def test_group_offload_is_the_lean_plan_where_cuda_streams_exist():
    kw = {"device": "cuda:0", "dtype": "bfloat16", "budget": 3 * GiB, "text_encoders": TE}
    with_streams = choose("m", LTX, streams=True, **kw)
    assert with_streams.strategy == "group-offload" and with_streams.fits
    assert with_streams.resident == {"cpu": sum(LTX.values())} and 0 < with_streams.peak < 3 * GiB
    assert choose("m", LTX, **kw).strategy == "sequential-cpu-offload"  # no streams: as before
    asked = choose("m", LTX, strategy="group-offload", **kw)
    assert asked.strategy == "group-offload" and asked.chosen_by == "you"


def test_a_big_card_decodes_whole():
    p = choose("m", LTX, device="cuda:0", dtype="bfloat16", budget=120 * GiB, text_encoders=TE)
    assert p.strategy == "on-device" and not p.tiling
    assert choose("m", LTX, device="cuda:0", dtype="bfloat16", budget=120 * GiB, text_encoders=TE, tiling=True).tiling


def test_the_cpu_has_one_plan_but_honours_fp8_and_tiling():
    p = choose("m", LTX, device="cpu", dtype="bfloat16", budget=None, text_encoders=TE, fp8=True, tiling=True)
    assert p.strategy == "on-device" and set(p.components.values()) == {"cpu"}
    assert p.fp8 == ("transformer",) and p.tiling
    assert p.resident == {"cpu": sum(LTX.values()) - LTX["transformer"] // 2}
    assert not choose("m", LTX, device="cpu", dtype="bfloat16", budget=None, text_encoders=TE).tiling


# ---- on the CPU, for real ---------------------------------------------------------------------------------


def gen(s, seed=1):
    return s.generate("a kite", model="ltx-video", seconds=0.3, size=(64, 64), seed=seed, steps=2)


def test_fp8_storage_really_stores_fp8_weights_and_still_generates(gs):
    gs.models.set_device("cpu")
    plain = gs.generation(gen(gs))
    plan = gs.models.place("ltx-video", None, fp8=True)
    assert plan.fp8 == ("transformer",)
    pipe = gs.models.get("ltx-video").model
    dtypes = {p.dtype for p in pipe.transformer.parameters()}
    assert torch.float8_e4m3fn in dtypes  # the linear layers; norms stay float32 (diffusers' skip patterns)
    assert {p.dtype for p in pipe.text_encoder.parameters()} == {torch.float32}
    media = gen(gs)
    g = gs.generation(media)
    assert media.info.frame_count == 9 and g["fp8"] == ["transformer"] and g["key"] != plain["key"]
    assert {p.dtype for p in pipe.transformer.parameters()} == dtypes  # cast back to storage after running


def test_fp8_off_loads_the_weights_again(gs):
    gs.models.set_device("cpu")
    gs.models.place("ltx-video", None, fp8=True)
    gen(gs)
    gs.models.place("ltx-video", None, fp8=False)
    pipe = gs.models.get("ltx-video").model
    assert {p.dtype for p in pipe.transformer.parameters()} == {torch.float32}
    assert "fp8" not in gs.generation(gen(gs, seed=2))


def test_the_vae_decodes_in_tiles_when_the_plan_says_so(gs):
    gs.models.set_device("cpu")
    gen(gs)
    assert gs.models.get("ltx-video").model.vae.use_tiling is False
    plan = gs.models.place("ltx-video", None, tiling=True)
    assert plan.tiling and gs.models.get("ltx-video").model.vae.use_tiling is True
    g = gs.generation(gen(gs, seed=3))
    assert g["vae_tiling"] is True


def test_card_plans_of_a_model_folder(gs):
    plans = gs.models.cards("ltx-video")
    assert list(plans) == list(CARDS)
    assert all(p.device == "cuda:0" and p.strategy == "on-device" and p.fits for p in plans.values())  # tiny


def test_a_card_name_places_like_a_strategy_and_nonsense_is_refused(gs):
    gs.models.set_device("cpu")
    assert gs.models.place("ltx-video", "12GB").device == "cpu"  # on the CPU there is still one plan
    with pytest.raises(nbedit.models.ModelError, match="placement must be one of.*12GB"):
        gs.models.place("ltx-video", "11GB")
    with pytest.raises(nbedit.models.ModelError, match="fp8 must be"):
        gs.models.place("ltx-video", None, fp8="yes")


def test_the_full_size_bench_plan_table_is_built_from_the_real_configs():
    from bench.generate_full_size import sizes_at_real_config, table

    sizes, params = sizes_at_real_config()
    assert 1.85e9 < params["transformer"] < 1.95e9 and 4.7e9 < params["text_encoder"] < 4.95e9
    assert 0.4e9 < params["vae"] < 0.45e9
    rows = table()
    assert len(rows) == 2 + 2 * len(CARDS)
    assert any(r.startswith("12GB") and "text-encoder-on-cpu" in r for r in rows)
    assert any(r.startswith("24GB") and "on-device" in r for r in rows)
