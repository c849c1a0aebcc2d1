"""Tiny random-weight checkpoints, built from configs on this machine, for the tests, the demo and the benchmarks.

    >>> from nbedit.models.tiny import make_tiny
    >>> make_tiny("models")          # also: python models/make_tiny.py models, or nbedit models make-tiny models
    {'ltx-video': PosixPath('models/ltx-video'), 'ltx-video-v2': ..., 'ltx-2': ..., 'sd-img2img': ..., ...}

They are real diffusers folders (``model_index.json``, safetensors, configs, a tokenizer) a few hundred KB each, so
they load through exactly the code that loads a real checkpoint. Their pictures are noise: random weights.
``ltx-2`` is an LTX-2 folder (``LTX2Pipeline``: Gemma 3 text encoder, connectors, video and audio VAEs, vocoder),
shaped like the real one where nbedit depends on it: 32x in space, 8x in time.
Same seed, same bytes: the builds are seeded and save deterministically.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .cards import write_card
from .folders import folder_digest

LICENCE = "Apache-2.0 (random weights made by nbedit)"
NOTE = "A tiny random-weight checkpoint built by nbedit.models.tiny: for tests and demos, its pictures are noise."

LTX_DEFAULTS = {"steps": 4, "guidance": 3.0, "size": [64, 64], "fps": 24, "seconds": 1.0}
LTX2_DEFAULTS = {"steps": 2, "guidance": 3.0, "size": [64, 64], "fps": 24, "seconds": 1.0}
SD_DEFAULTS = {"steps": 4, "guidance": 7.5, "size": [64, 64], "strength": 0.6}


def make_tiny(folder: str | Path, *, names: Iterable[str] | None = None, force: bool = False) -> dict[str, Path]:
    """Build the tiny checkpoints (all, or ``names``) in ``folder``; folders there are kept unless ``force``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    builders = {
        "ltx-video": lambda p: _save(ltx_pipeline(seed=0), p),
        "ltx-video-v2": lambda p: _save(ltx_pipeline(seed=1), p),
        "ltx-2": lambda p: _save(ltx2_pipeline(seed=3), p),
        "sd-img2img": lambda p: _save(sd_img2img_pipeline(seed=2), p),
        "sepia-onnx": sepia_onnx,
    }
    cards = {
        "ltx-video": ("text-to-video", LTX_DEFAULTS),
        "ltx-video-v2": ("text-to-video", LTX_DEFAULTS),
        "ltx-2": ("text-to-video", LTX2_DEFAULTS),
        "sd-img2img": ("image-to-image", SD_DEFAULTS),
        "sepia-onnx": ("per-frame", {}),
    }
    unknown = set(names or ()) - set(builders)
    if unknown:
        raise ValueError(f"no tiny checkpoint named {sorted(unknown)} (there are {', '.join(builders)})")
    made = {}
    for name, build in builders.items():
        if names is not None and name not in names:
            continue
        path = folder / name
        if path.exists() and not force:
            made[name] = path
            continue
        tmp = folder / f".{name}.building"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            with _own_rng():
                build(tmp)
        except ImportError as e:  # the ONNX builder needs the onnx package; the rest needs only diffusers
            shutil.rmtree(tmp, ignore_errors=True)
            print(f"skipped {name}: {e}")
            continue
        task, defaults = cards[name]
        write_card(tmp, task=task, sha256=folder_digest(tmp), licence=LICENCE, defaults=defaults, note=NOTE)
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)  # a folder appears whole or not at all
        made[name] = path
    return made


def _save(pipe: Any, path: Path) -> None:
    pipe.save_pretrained(str(path), safe_serialization=True)


def byte_tokenizer(specials: list[str], *, bos: str | None, eos: str, max_length: int) -> Any:
    """A byte-level tokenizer with no merges: every prompt becomes tokens, built with no download."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(specials + sorted(pre_tokenizers.ByteLevel.alphabet()))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    single = f"{bos} $A {eos}" if bos else f"$A {eos}"
    marks = [(t, vocab[t]) for t in (bos, eos) if t]
    tok.post_processor = processors.TemplateProcessing(single=single, special_tokens=marks)
    extra = {"bos_token": bos} if bos else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token=eos, unk_token="<unk>", model_max_length=max_length, **extra
    )


def ltx_pipeline(seed: int) -> Any:
    """An LTX-Video pipeline: 8-channel VAE compressing 32x in space and 8x in time, as the real one does."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    tokenizer = byte_tokenizer(["<pad>", "</s>", "<unk>"], bos=None, eos="</s>", max_length=128)
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=16,
            d_kv=8,
            d_ff=32,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
            pad_token_id=0,
            eos_token_id=1,
        )
    )
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        patch_size=4,
        patch_size_t=1,
    )
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        num_layers=1,
        caption_channels=16,
    )
    scheduler = FlowMatchEulerDiscreteScheduler()
    return LTXPipeline(
        scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer
    )


def gemma_tokenizer(max_length: int) -> Any:
    """A Gemma tokenizer with no merges: its byte fallback turns every prompt into byte tokens, with no download."""
    from transformers import GemmaTokenizer

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]  # Gemma's own order: pad 0, eos 1, bos 2
    vocab = {t: i for i, t in enumerate(specials + [f"<0x{b:02X}>" for b in range(256)])}
    return GemmaTokenizer(vocab=vocab, merges=[], add_bos_token=True, model_max_length=max_length)


def ltx2_pipeline(seed: int) -> Any:
    """An LTX-2 pipeline (video and audio): the VAE compresses 32x in space and 8x in time, as the real one does."""
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2Pipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors, LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    torch.manual_seed(seed)
    tokenizer = gemma_tokenizer(max_length=1024)
    n = len(tokenizer)
    text = Gemma3TextConfig(
        vocab_size=n,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        query_pre_attn_scalar=8,
        max_position_embeddings=1024,
        layer_types=["full_attention"],
    )
    # the real encoder is Gemma 3 with its vision tower; a 2x2-patch one keeps the class (and the folder) the same
    vision = SiglipVisionConfig(
        hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14
    )
    text_encoder = Gemma3ForConditionalGeneration(
        Gemma3Config(
            text_config=text,
            vision_config=vision,
            mm_tokens_per_image=4,
            boi_token_index=n - 3,  # image tokens inside the tiny vocabulary: prompts never contain them
            eoi_token_index=n - 2,
            image_token_index=n - 1,
        )
    )
    connectors = LTX2TextConnectors(
        caption_channels=16,
        text_proj_in_factor=text.num_hidden_layers + 1,  # every hidden state, the embeddings' included
        video_connector_num_attention_heads=2,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=2,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
    )
    transformer = LTX2VideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=1,
        caption_channels=16,
    )
    vae = AutoencoderKLLTX2Video(
        latent_channels=8,
        block_out_channels=(8, 8, 8),
        decoder_block_out_channels=(8, 8, 8),
        layers_per_block=(1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True),
        decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False,) * 4,
        downsample_type=("spatiotemporal",) * 3,
        upsample_type=("spatiotemporal",) * 3,
        upsample_residual=(False,) * 3,
        upsample_factor=(1,) * 3,
        patch_size=4,
        patch_size_t=1,
    )
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        mel_bins=8,
    )
    # 100 mel frames a second (16 kHz, hop 160), upsampled 4x: the sound it makes is 400 samples a second
    vocoder = LTX2Vocoder(
        in_channels=2 * 8,
        hidden_channels=16,
        out_channels=2,
        upsample_kernel_sizes=[4, 4],
        upsample_factors=[2, 2],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        output_sampling_rate=400,
    )
    return LTX2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        audio_vae=audio_vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        connectors=connectors,
        transformer=transformer,
        vocoder=vocoder,
    )


def sd_img2img_pipeline(seed: int) -> Any:
    """A Stable Diffusion image-to-image pipeline: tiny UNet, VAE and CLIP text encoder, no safety checker."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionImg2ImgPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    tokenizer = byte_tokenizer(["<pad>", "<s>", "</s>", "<unk>"], bos="<s>", eos="</s>", max_length=32)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=1,
            max_position_embeddings=32,
            projection_dim=16,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(8, 16),
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        latent_channels=4,
        block_out_channels=(8, 16),
        norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        sample_size=32,
    )
    return StableDiffusionImg2ImgPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(steps_offset=1, clip_sample=False),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]


def sepia_onnx(path: Path) -> None:
    """A per-frame ONNX model (a sepia colour matrix as a 1x1 convolution), any picture size."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.asarray(SEPIA, dtype=np.float32).reshape(3, 3, 1, 1), "sepia")
    nodes = [
        helper.make_node("Conv", ["image", "sepia"], ["mixed"]),
        helper.make_node("Clip", ["mixed", "low", "high"], ["styled"]),
    ]
    low = numpy_helper.from_array(np.asarray(0.0, dtype=np.float32), "low")
    high = numpy_helper.from_array(np.asarray(1.0, dtype=np.float32), "high")
    graph = helper.make_graph(
        nodes,
        "sepia",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [helper.make_tensor_value_info("styled", TensorProto.FLOAT, [1, 3, "height", "width"])],
        initializer=[weight, low, high],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="nbedit")
    model.ir_version = 8  # readable by every onnxruntime nbedit supports
    onnx.checker.check_model(model)
    onnx.save(model, str(path / "model.onnx"))


@contextlib.contextmanager
def _own_rng() -> Iterator[None]:
    """Seeding the weights must not reseed the caller's torch random numbers."""
    import torch

    with torch.random.fork_rng(devices=[]):
        yield
