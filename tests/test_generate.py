"""Generative clips: recorded, deterministic, with provenance, on the timeline; real diffusers pipelines running
the tiny random-weight checkpoints (their pictures are noise, their plumbing is the real thing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest
from model_helpers import frames_of, frames_sha

import nbedit
from nbedit.errors import EditError, TimeRangeError
from nbedit.models.folders import folder_digest
from nbedit.models.tiny import SEPIA

pytest_plugins = ["tiny_models"]  # fixtures: the tiny checkpoints, and sessions that find them

KITE = "a red kite over a beach at dusk"


def kite(s: nbedit.Session, **kw) -> nbedit.Media:
    args = {"model": "ltx-video", "seconds": 1, "size": (64, 64), "seed": 7, **kw}
    return s.generate(KITE, **args)


def generation(s: nbedit.Session, what) -> dict:
    return s.generation(what)


def unchanged(s: nbedit.Session):
    return s.state(), [r.code for r in s.history], sorted(s.media)


# ---- generate ---------------------------------------------------------------------------------------------------


def test_generate_makes_media_whose_clips_carry_the_provenance(gs, tiny_models):
    media = kite(gs)
    clip = gs.append(media, track="V2")
    gen = gs.generation(clip)
    assert gen == gs.generation(media) and json.loads(json.dumps(gen)) == gen
    expected = {
        "model": "ltx-video",
        "pipeline": "LTXPipeline",
        "weights_sha256": folder_digest(tiny_models / "ltx-video"),
        "prompt": KITE,
        "negative_prompt": None,
        "seed": 7,
        "steps": 4,
        "guidance": 3.0,
        "fps": "24",
        "frames": 25,
        "device": gs.models.device.split(":")[0],  # cpu unless NBEDIT_TEST_DEVICE says otherwise
        "dtype": gs.models.plan("ltx-video").dtype,
    }
    assert {k: gen[k] for k in expected} == expected
    assert list(gen["size"]) == [64, 64]
    assert {"torch", "diffusers", "transformers", "nbedit"} <= set(gen["versions"])


def test_generate_records_what_it_used(gs, tiny_models):
    kite(gs)
    sha = folder_digest(tiny_models / "ltx-video")
    assert gs.history[-1].code == (
        f"s.generate({KITE!r}, model='ltx-video', seconds=1, size=(64, 64), seed=7, steps=4, guidance=3.0, "
        f"weights_sha256={sha!r})"
    )


def test_frames_and_size_snap_to_what_ltx_makes(gs):
    media = gs.generate("a kite", model="ltx-video", seconds=0.5, size=(70, 50), seed=1)  # 12 frames asked
    assert (media.info.frame_count, media.info.width, media.info.height) == (9, 64, 64)
    assert "seconds=0.5, size=(64, 64)" in gs.history[-1].code
    assert generation(gs, media.id)["frames"] == 9


def test_generated_media_runs_at_the_edit_rate(gs):
    gs.set_format(width=64, height=64, fps=30)
    media = gs.generate("a kite", model="ltx-video", seconds=0.6, seed=1)  # 18 frames asked, 17 made
    assert media.info.fps == Fraction(30) and media.info.frame_count == 17


def test_before_there_is_a_timeline_the_models_frame_rate_is_used(gs):
    assert kite(gs).info.fps == Fraction(24)


def test_the_file_holds_exactly_what_the_pipeline_made(gs, tiny_models):
    """Lossless: the decoded frames are the diffusers pipeline's own output, called directly, bit for bit."""
    import torch
    from diffusers import DiffusionPipeline

    from nbedit.models.loading import torch_dtype

    media = kite(gs)
    plan = gs.models.plan("ltx-video")
    pipe = DiffusionPipeline.from_pretrained(
        str(tiny_models / "ltx-video"), local_files_only=True, dtype=torch_dtype(plan.dtype)
    ).to(plan.device)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(
        prompt=KITE,
        width=64,
        height=64,
        num_frames=25,
        frame_rate=24.0,
        num_inference_steps=4,
        guidance_scale=3.0,
        generator=torch.Generator("cpu").manual_seed(7),
        output_type="np",
    ).frames[0]
    direct = np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
    assert np.array_equal(frames_of(media.path), direct)


SCRIPT = textwrap.dedent(
    """
    import hashlib, sys
    import nbedit
    from nbedit import media
    s = nbedit.Session(sys.argv[1])
    m = s.generate("a red kite over a beach at dusk", model="ltx-video", seconds=1, size=(64, 64), seed=7)
    with media.VideoReader(m.path) as r:
        print(hashlib.sha256(b"".join(r.frame(i).tobytes() for i in range(len(r)))).hexdigest())
    """
)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_frames_in_two_processes(tmp_path, tiny_models):
    device = os.environ.get("NBEDIT_TEST_DEVICE", "cpu")
    env = {**os.environ, "NBEDIT_MODELS": str(tiny_models), "HF_HUB_OFFLINE": "1", "NBEDIT_DEVICE": device}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(tmp_path / f"p{i}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [r.communicate(timeout=300) for r in runs]
    assert all(r.returncode == 0 for r in runs), [o[1][-2000:] for o in outs]
    hashes = [o[0].strip().splitlines()[-1] for o in outs]
    assert hashes[0] == hashes[1] and len(hashes[0]) == 64


def test_different_seeds_give_different_frames(gs):
    assert frames_sha(kite(gs, seed=1).path) != frames_sha(kite(gs, seed=2).path)


def test_a_seed_left_out_is_chosen_and_recorded(gs):
    media = gs.generate("a kite", model="ltx-video", seconds=0.4, size=(64, 64))
    seed = generation(gs, media.id)["seed"]
    assert f"seed={seed}," in gs.history[-1].code


@pytest.mark.parametrize(
    "bad",
    [{"steps": 0}, {"size": (0, 64)}, {"seed": -1}, {"seconds": 0}, {"guidance": "high"}, {"negative_prompt": 3}],
)
def test_bad_parameters_are_edit_errors_and_change_nothing(gs, bad):
    before = unchanged(gs)
    with pytest.raises(EditError):
        kite(gs, **bad)
    assert unchanged(gs) == before


def test_a_keyboard_interrupt_leaves_the_session_as_it_was(gs):
    gs.append(kite(gs), track="V1")
    before = unchanged(gs)
    files = sorted(os.listdir(gs.path / "generated"))
    transformer = gs.models.get("ltx-video").model.transformer
    calls = []

    def ctrl_c(*_):
        calls.append(1)
        if len(calls) == 2:  # in the middle of the denoising loop, as Ctrl-C would
            raise KeyboardInterrupt

    handle = transformer.register_forward_hook(ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):
            kite(gs, seed=99)
    finally:
        handle.remove()
    assert unchanged(gs) == before
    assert sorted(os.listdir(gs.path / "generated")) == files  # no half-written file
    assert kite(gs, seed=99).info.frame_count == 25  # and the next call works


def test_each_generation_shows_a_progress_bar(gs, capfd):
    kite(gs)
    err = capfd.readouterr().err
    assert "generate a-red-kite-over-a-beach" in err and "0/4" in err  # the bar counts the 4 steps


# ---- recorded, replayed, cached ----------------------------------------------------------------------------------


def test_the_recipe_regenerates_the_same_frames_in_a_fresh_folder(gs, tmp_path):
    from nbedit.record import recipe

    gs.append(kite(gs), track="V1")
    namespace: dict = {}
    exec(recipe(gs.name, gs.history, folder=str(tmp_path / "again")), namespace)
    again = namespace["s"]
    (mid,) = again.media
    assert again.media[mid].path != gs.media[mid].path  # made again, not copied
    assert frames_sha(again.media[mid].path) == frames_sha(gs.media[mid].path)
    assert again.state().replace(str(again.path), "") == gs.state().replace(str(gs.path), "")


def test_reopening_a_project_runs_no_model_and_needs_none(gs, monkeypatch):
    gs.append(kite(gs), track="V1")
    monkeypatch.setenv("NBEDIT_MODELS", str(gs.path / "nowhere"))  # the checkpoints are gone
    again = nbedit.Session(gs.path)
    assert again.state() == gs.state()
    assert again.models.loaded() == []


def test_the_journal_keeps_the_provenance(gs):
    media = kite(gs)
    entry = json.loads(gs.journal.path.read_text().splitlines()[-1])
    assert entry["op"] == "generate" and entry["extra"]["generation"]["key"] == generation(gs, media.id)["key"]


def test_the_same_call_again_reuses_the_file(gs):
    first = kite(gs)
    stamp = os.stat(first.path).st_mtime_ns
    gs.undo()
    second = kite(gs)
    assert second.path == first.path and os.stat(second.path).st_mtime_ns == stamp


def test_undo_takes_the_generated_media_back(gs):
    before = unchanged(gs)
    kite(gs)
    gs.undo()
    assert unchanged(gs) == before


# ---- image to video ------------------------------------------------------------------------------------------------


def test_image_to_video_saves_the_picture_and_records_its_path_and_sha256(gs):
    gs.append(kite(gs), track="V1")
    still = gs.frame(0.5)
    moving = gs.image_to_video(still, "slow push in", model="ltx-video", seconds=0.4, seed=1)
    (source,) = generation(gs, moving.id)["sources"]
    assert source["role"] == "image" and source["path"].startswith(str(gs.path / "generated" / "stills"))
    assert np.array_equal(frames_of(source["path"])[0], still)
    code = gs.history[-1].code
    assert code.startswith(f"s.image_to_video({source['path']!r}, 'slow push in',")
    assert f"image_sha256={source['sha256']!r}" in code
    assert moving.info.frame_count == 9


def test_image_to_video_takes_an_image_file(gs, tmp_path):
    from nbedit.render import to_png

    path = tmp_path / "still.png"
    path.write_bytes(to_png(np.full((48, 80, 3), 120, np.uint8)))
    moving = gs.image_to_video(str(path), "drift", model="ltx-video", seconds=0.4, seed=1)
    assert generation(gs, moving.id)["sources"][0]["path"] == str(path)
    assert (moving.info.width, moving.info.height) == (96, 64)  # its shape, scaled to the model's area


# ---- stylize -------------------------------------------------------------------------------------------------------


def still_clip(s: nbedit.Session, tmp_path, seconds: float = 0.25) -> nbedit.Clip:
    from nbedit.render import to_png

    rng = np.random.default_rng(0)
    path = tmp_path / "still.png"
    path.write_bytes(to_png(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)))
    return s.append(s.import_media(str(path)), track="V1", duration=seconds)


def test_stylize_gives_every_frame_the_same_noise(gs, tmp_path):
    clip = still_clip(gs, tmp_path)  # six identical frames in, so six identical frames out
    styled = gs.stylize(clip, "charcoal drawing", model="sd-img2img", strength=0.5, seed=3)
    frames = frames_of(styled.path)
    assert len(frames) == 6 and all(np.array_equal(f, frames[0]) for f in frames)
    gen = generation(gs, styled.id)
    assert gen["task"] == "image-to-image" and gen["strength"] == 0.5 and gen["seed"] == 3
    assert gen["sources"][0]["media"] == clip.media and gen["sources"][0]["count"] == 6


def test_stylize_reads_the_frames_the_clip_shows(gs, footage):
    pytest.importorskip("onnx")
    a = gs.import_media(footage["a"])
    clip = gs.append(a, track="V1", src_in=1.0, src_out=1.25)
    styled = gs.stylize(clip, model="sepia-onnx")
    with nbedit.media.VideoReader(footage["a"]) as reader:
        source = np.stack([reader.frame(24 + i) for i in range(6)]).astype(np.float32) / 255
    expected = np.clip(np.rint(np.clip(source @ np.asarray(SEPIA, np.float32).T, 0, 1) * 255), 0, 255)
    assert np.abs(frames_of(styled.path).astype(int) - expected.astype(int)).max() <= 1


def test_stylize_with_a_video_model_takes_the_clip_whole(gs, footage):
    clip = gs.append(gs.import_media(footage["a"]), track="V1", src_out=0.5)
    styled = gs.stylize(clip, "watercolour", model="ltx-video", strength=0.4, seed=2)
    gen = generation(gs, styled.id)
    assert gen["task"] == "video-to-video" and gen["frames"] == 17 and list(gen["keep"]) == [0, 12]
    assert styled.info.frame_count == 12


# ---- regenerate ----------------------------------------------------------------------------------------------------


def test_regenerate_with_another_checkpoint_is_a_new_take(gs, tiny_models):
    original = kite(gs)
    clip = gs.append(original, track="V1")
    take = gs.regenerate(clip, model="ltx-video-v2")
    old, new = generation(gs, original.id), generation(gs, take.id)
    assert new["take_of"] == original.id and new["model"] == "ltx-video-v2"
    assert new["weights_sha256"] == folder_digest(tiny_models / "ltx-video-v2") != old["weights_sha256"]
    assert {k: new[k] for k in ("prompt", "seed", "steps", "guidance", "frames")} == {
        k: old[k] for k in ("prompt", "seed", "steps", "guidance", "frames")
    }
    assert frames_sha(take.path) != frames_sha(original.path)


def test_regenerate_with_the_same_checkpoint_and_seed_is_the_same_file(gs):
    original = kite(gs)
    before = generation(gs, original)
    assert gs.regenerate(original).path == original.path
    assert generation(gs, original) == before  # not marked as a take of itself


def test_a_recipe_finds_the_models_in_the_projects_own_folder(tmp_path, tiny_models, monkeypatch):
    import shutil

    monkeypatch.delenv("NBEDIT_MODELS", raising=False)
    monkeypatch.setenv("NBEDIT_DEVICE", "cpu")
    s = nbedit.Session(tmp_path / "p")
    shutil.copytree(tiny_models / "ltx-video", s.path / "models" / "mine")
    s.generate("a red kite", model="mine", seconds=0.4, seed=1)
    assert f"model={str(s.path / 'models' / 'mine')!r}" in s.history[-1].code
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(s.recipe(), namespace)
    again = namespace["s"]
    (mid,) = again.media
    assert again.generation(mid)["weights_sha256"] == s.generation(mid)["weights_sha256"]
    assert frames_sha(again.media[mid].path) == frames_sha(s.media[mid].path)


def test_the_recorded_line_reads_the_same_after_a_reopen(gs):
    kite(gs)
    assert [r.code for r in nbedit.Session(gs.path).history] == [r.code for r in gs.history]


def test_only_generated_media_can_be_regenerated(gs, footage):
    a = gs.import_media(footage["a"])
    with pytest.raises(EditError, match="was not generated"):
        gs.regenerate(a)


# ---- on the timeline -----------------------------------------------------------------------------------------------


def test_extend_continues_a_clip_right_after_it(gs):
    first = gs.append(kite(gs), track="V1")
    after = gs.append(kite(gs, seed=8), track="V1")
    new = gs.extend(first, seconds=0.5)  # prompt and model: the clip's own
    assert (new.start, new.duration, new.track) == (first.end, 0.5, "V1")
    assert after.start == pytest.approx(new.end)  # later clips moved along
    gen = generation(gs, new.otio.metadata["nbedit"]["media"])
    (source,) = gen["sources"]
    assert (source["media"], source["count"], source["index"]) == (first.media, 9, 0)
    assert Fraction(source["start"]) == Fraction(16, 24)  # its last nine frames
    assert gen["prompt"] == KITE and list(gen["keep"]) == [9, 21]


def test_fill_gap_bridges_the_clips_either_side(gs):
    left = gs.append(kite(gs), track="V1")
    right = gs.overwrite(kite(gs, seed=8), track="V1", at=left.end + 0.5)
    filled = gs.fill_gap("V1", at=left.end + 0.2, prompt="waves", model="ltx-video", seed=5)
    assert (filled.start, filled.duration) == (left.end, 0.5)
    assert right.start == pytest.approx(filled.end)
    kinds = [type(item).__name__ for item in gs.timeline.tracks[0]]
    assert kinds == ["Clip", "Clip", "Clip"]
    first, last = generation(gs, filled.media)["sources"]
    assert (first["media"], Fraction(first["start"]), first["index"]) == (left.media, Fraction(24, 24), 0)
    assert (last["media"], Fraction(last["start"]), last["index"]) == (right.media, Fraction(0), 13)


def test_fill_gap_needs_a_gap(gs):
    gs.append(kite(gs), track="V1")
    before = unchanged(gs)
    with pytest.raises(EditError, match="no gap"):
        gs.fill_gap("V1", at=0.5, prompt="waves", model="ltx-video")
    assert unchanged(gs) == before


def test_retake_regenerates_a_range_in_place(gs):
    clip = gs.append(kite(gs), track="V1")
    take = gs.retake(clip, 0.25, 0.75, prompt="the kite dives", seed=4)
    assert (take.start, take.duration) == (0.25, 0.5)
    pieces = [c for c in gs.clips if c.track == "V1"]
    spans = [round(t * 24) for p in pieces for t in (p.start, p.duration)]  # in frames
    assert spans == [0, 6, 6, 12, 18, 7]
    assert pieces[2].src_in == pytest.approx(0.75)  # the rest of the clip plays on as before
    before, after = generation(gs, take.media)["sources"]
    assert (Fraction(before["start"]), Fraction(after["start"])) == (Fraction(5, 24), Fraction(18, 24))


def test_retake_outside_the_clip_is_an_error(gs):
    clip = gs.append(kite(gs), track="V1")
    before = unchanged(gs)
    with pytest.raises(TimeRangeError):
        gs.retake(clip, 0.5, 2.0)
    assert unchanged(gs) == before
