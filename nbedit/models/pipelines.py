"""Running a resident model: one plain function per kind of request, frames in and out as numpy arrays.

Determinism. Every request seeds a fresh ``torch.Generator`` on the CPU, so the starting noise is the same bits
on every device, and runs under ``torch.use_deterministic_algorithms(True, warn_only=True)`` with cuDNN's
autotuner off (``CUBLAS_WORKSPACE_CONFIG=:4096:8`` is set before CUDA starts where the pool can).

- CPU: the same inputs, weights and seed give identical frames in any process (same torch build and thread
  count); the tests compare the frames of two processes.
- CUDA: two runs with the same seed gave identical frames (H200, torch 2.11 + CUDA 13, bfloat16; the same tests
  pass there with ``NBEDIT_TEST_DEVICE=cuda``), and so did model and sequential CPU offload against the model
  all on the GPU. Not bitwise stable: CUDA against the CPU (bfloat16 on the GPU, float32 on the CPU: up to
  4/255 apart on the tiny model), a text encoder run on the CPU against one on the GPU (so the cache key
  records where it ran), and across GPU models, drivers or library versions, whose kernels may sum in another
  order. Ops without a deterministic CUDA kernel warn instead of failing.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ModelError, ModelTaskError
from .loading import Loaded

LTX_VIEWS = {
    "text-to-video": "LTXPipeline",
    "image-to-video": "LTXImageToVideoPipeline",
    "keyframes-to-video": "LTXConditionPipeline",
    "video-to-video": "LTXConditionPipeline",
}
LTX2_VIEWS = {
    "text-to-video": "LTX2Pipeline",
    "image-to-video": "LTX2ImageToVideoPipeline",
    "keyframes-to-video": "LTX2ConditionPipeline",
    "video-to-video": "LTX2ConditionPipeline",
}


@dataclass(frozen=True)
class Keyframe:
    """Frames the output must show from output frame ``index`` on: one picture, or a run of 8k+1 frames."""

    frames: np.ndarray  # (n, H, W, 3) uint8
    index: int
    strength: float = 1.0


@dataclass(frozen=True)
class Request:
    """Everything a model call depends on besides the weights."""

    task: str
    prompt: str
    negative_prompt: str | None
    seed: int
    steps: int
    guidance: float
    width: int
    height: int
    frames: int
    fps: float
    strength: float | None = None
    image: np.ndarray | None = None  # image-to-video: (H, W, 3) uint8
    keyframes: tuple[Keyframe, ...] = ()  # keyframes-to-video
    video: np.ndarray | None = None  # video-to-video, image-to-image and per-frame: (T, H, W, 3) uint8


# ---- what a model accepts ------------------------------------------------------------------------------------


def multiples(m: Loaded) -> tuple[int, int]:
    """(pixels, frames): sizes must be multiples of the first; frame counts k * second + 1 when it is over 1."""
    if m.kind == "onnx":
        return 1, 1
    pipe = m.model
    spatial = getattr(pipe, "vae_spatial_compression_ratio", None) or getattr(pipe, "vae_scale_factor", None) or 8
    patch = getattr(pipe, "transformer_spatial_patch_size", 1) or 1
    temporal = getattr(pipe, "vae_temporal_compression_ratio", None) or getattr(pipe, "vae_scale_factor_temporal", 1)
    return int(spatial) * int(patch), int(temporal or 1)


def frames_for(n: int, temporal: int, *, at_least: bool = False) -> int:
    """The frame count the model can make nearest to ``n`` (or the smallest one not under it)."""
    if temporal <= 1:
        return max(1, n)
    k = math.ceil((n - 1) / temporal) if at_least else round((n - 1) / temporal)
    return max(0, k) * temporal + 1


def size_for(width: int, height: int, multiple: int) -> tuple[int, int]:
    """The nearest size whose sides are multiples of ``multiple`` (at least one multiple each)."""
    return max(multiple, round(width / multiple) * multiple), max(multiple, round(height / multiple) * multiple)


# ---- pipelines that share one checkpoint's components -------------------------------------------------------


def pipeline_for(m: Loaded, task: str) -> Any:
    """The pipeline object that does ``task`` with the model's components (made once, kept with the model)."""
    import diffusers

    base = m.model
    cls = type(base).__name__
    family = LTX_VIEWS if cls in LTX_VIEWS.values() else LTX2_VIEWS if cls in LTX2_VIEWS.values() else None
    if family is not None:
        want = family.get(task)
        if want is None:
            raise ModelTaskError(f"model {m.name!r} ({cls}) cannot do {task}")
    elif task == "image-to-image" and not _has_param(base, "image"):
        want = _image_to_image_class(cls)
    else:
        return base
    if want == cls:
        return base
    if want not in m.views:
        view_cls = getattr(diffusers, want, None)
        if view_cls is None:
            raise ModelTaskError(f"this diffusers ({diffusers.__version__}) has no {want} for {task} with {m.name!r}")
        expected, _ = view_cls._get_signature_keys(view_cls)
        parts = {k: v for k, v in base.components.items() if k in expected}
        view = view_cls(**parts)  # the same modules: no copy, no dtype change (from_pipe would cast to float32)
        for k, v in getattr(base, "_progress_bar_config", {}).items():
            view.set_progress_bar_config(**{k: v})
        m.views[want] = view
    return m.views[want]


def _image_to_image_class(cls: str) -> str:
    try:
        from diffusers.pipelines.auto_pipeline import AUTO_IMAGE2IMAGE_PIPELINES_MAPPING, _get_task_class

        return _get_task_class(AUTO_IMAGE2IMAGE_PIPELINES_MAPPING, cls).__name__
    except (ImportError, ValueError) as e:
        raise ModelTaskError(f"{cls} has no image-to-image counterpart in diffusers") from e


def _has_param(pipe: Any, name: str) -> bool:
    return name in inspect.signature(pipe.__call__).parameters


# ---- running ----------------------------------------------------------------------------------------------


@contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic kernels (warning where torch has none) and no cuDNN autotuning, for one call."""
    import torch

    was = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    bench = torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was[0], warn_only=was[1])
        torch.backends.cudnn.benchmark = bench


def generator(seed: int) -> Any:
    """A CPU generator: the starting noise is drawn on the CPU, so it is the same bits on every device."""
    import torch

    return torch.Generator(device="cpu").manual_seed(int(seed))


def run(m: Loaded, req: Request, *, progress: bool = True, desc: str = "") -> np.ndarray:
    """Frames (T, H, W, 3) uint8 made by the model for the request."""
    with deterministic():
        try:
            if m.kind == "onnx":
                return _per_frame_onnx(m, req, progress, desc)
            if req.task == "image-to-image":
                return _image_to_image(m, req, progress, desc)
            return _video(m, req, progress, desc)
        finally:
            if m.kind == "diffusers" and m.plan.strategy == "model-cpu-offload":
                m.model.maybe_free_model_hooks()  # views share its hooks: send every component back to RAM


def _video(m: Loaded, req: Request, progress: bool, desc: str) -> np.ndarray:
    pipe = pipeline_for(m, req.task)
    pipe.set_progress_bar_config(**_bar(desc or m.name, progress))
    args: dict[str, Any] = {
        "prompt": req.prompt,
        "negative_prompt": req.negative_prompt,
        "width": req.width,
        "height": req.height,
        "num_frames": req.frames,
        "frame_rate": req.fps,
        "num_inference_steps": req.steps,
        "guidance_scale": req.guidance,
        "generator": generator(req.seed),
        "output_type": "pt",  # frames stay on the device until they are uint8: a quarter of the bytes to move
    }
    if req.task == "image-to-video":
        args["image"] = _pil(req.image)
    elif req.task == "keyframes-to-video":
        args["conditions"] = _conditions(pipe, req.keyframes)
    elif req.task == "video-to-video":
        args.update(_video_input(pipe, req))
    out = _call(pipe, args)
    # LTX-2 also returns sound (out.audio); the lossless writer and the pool keep pictures only, so it is dropped
    frames = getattr(out, "frames", None)
    if frames is None:
        raise ModelError(f"{type(pipe).__name__} returned no frames")
    return to_uint8(frames[0], channels_first=True)


def _video_input(pipe: Any, req: Request) -> dict[str, Any]:
    """Video-to-video: LTX and LTX-2 take the clip as a condition at frame 0 (its strength: how much stays)."""
    strength = 0.5 if req.strength is None else req.strength
    if type(pipe).__name__ == "LTX2ConditionPipeline":
        whole = Keyframe(np.asarray(req.video), 0, 1.0 - strength)
        return {"conditions": _conditions(pipe, (whole,), req.frames)}
    video = [_pil(f) for f in _pad(req.video, req.frames)]
    if type(pipe).__name__ == "LTXConditionPipeline":
        return {"video": video, "frame_index": 0, "strength": 1.0 - strength}
    return {"video": video, "strength": strength}


def _pad(video: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames: the video, its last frame repeated (the model's frame counts are k * 8 + 1)."""
    if len(video) >= n:
        return video[:n]
    return np.concatenate([video, np.repeat(video[-1:], n - len(video), axis=0)])


def _conditions(pipe: Any, keyframes: tuple[Keyframe, ...], frames: int | None = None) -> list[Any]:
    if type(pipe).__name__ == "LTX2ConditionPipeline":
        return _ltx2_conditions(keyframes, pipe.vae_temporal_compression_ratio, frames)
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    out = []
    for k in keyframes:
        if len(k.frames) == 1:
            out.append(LTXVideoCondition(image=_pil(k.frames[0]), frame_index=k.index, strength=k.strength))
        else:
            out.append(LTXVideoCondition(video=[_pil(f) for f in k.frames], frame_index=k.index, strength=k.strength))
    return out


def _ltx2_conditions(keyframes: tuple[Keyframe, ...], temporal: int, frames: int | None) -> list[Any]:
    """LTX-2 places a condition at a latent frame, not an output frame: the one whose frames hold ``index``."""
    from diffusers.pipelines.ltx2 import LTX2VideoCondition

    out = []
    for k in keyframes:
        shown = k.frames if frames is None else _pad(k.frames, frames)
        pictures = _pil(shown[0]) if len(shown) == 1 else [_pil(f) for f in shown]
        out.append(LTX2VideoCondition(frames=pictures, index=latent_index(k.index, temporal), strength=k.strength))
    return out


def latent_index(frame: int, temporal: int) -> int:
    """The latent frame holding output frame ``frame``: 0 holds frame 0, k > 0 holds frames 8(k-1)+1 .. 8k."""
    return 0 if frame <= 0 else (frame - 1) // temporal + 1


def _image_to_image(m: Loaded, req: Request, progress: bool, desc: str) -> np.ndarray:
    """Each frame through the image-to-image model with the same seed: the same noise on every frame."""
    from tqdm.auto import tqdm

    pipe = pipeline_for(m, "image-to-image")
    pipe.set_progress_bar_config(disable=True)
    out = []
    for frame in tqdm(req.video, unit="frame", **_bar(desc or m.name, progress)):
        args = {
            "prompt": req.prompt,
            "negative_prompt": req.negative_prompt,
            "image": _pil(frame, (req.width, req.height)),
            "strength": 0.5 if req.strength is None else req.strength,
            "num_inference_steps": req.steps,
            "guidance_scale": req.guidance,
            "generator": generator(req.seed),
            "output_type": "pt",
        }
        images = getattr(_call(pipe, args), "images", None)
        if images is None:
            raise ModelError(f"{type(pipe).__name__} returned no images")
        out.append(to_uint8(images[0], channels_first=True))
    return np.stack(out)


def _per_frame_onnx(m: Loaded, req: Request, progress: bool, desc: str) -> np.ndarray:
    """An ONNX model that maps a (1, 3, H, W) float picture in 0..1 to another, frame by frame."""
    from tqdm.auto import tqdm

    session = m.model
    name = session.get_inputs()[0].name
    out = []
    for frame in tqdm(req.video, unit="frame", **_bar(desc or m.name, progress)):
        if frame.shape[:2] != (req.height, req.width):
            frame = np.asarray(_pil(frame, (req.width, req.height)))
        x = np.ascontiguousarray(frame.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0
        y = session.run(None, {name: x})[0]
        out.append(to_uint8(y[0], channels_first=True))
    return np.stack(out)


def _bar(desc: str, progress: bool) -> dict[str, Any]:
    """tqdm settings: off when asked, else tqdm's defaults (so TQDM_DISABLE=1 and the like still apply)."""
    return {"desc": desc, "leave": False, **({} if progress else {"disable": True})}


def _call(pipe: Any, args: dict[str, Any]) -> Any:
    """Call a pipeline with the arguments it takes (a model without negative prompts is not given one)."""
    params = inspect.signature(pipe.__call__).parameters
    try:
        return pipe(**{k: v for k, v in args.items() if k in params})
    except (ValueError, TypeError, RuntimeError) as e:  # diffusers' own checks of sizes, frames and inputs
        raise ModelError(f"{type(pipe).__name__} refused the request: {e}") from e


def _pil(img: np.ndarray, size: tuple[int, int] | None = None) -> Any:
    from PIL import Image

    pic = Image.fromarray(np.ascontiguousarray(img))
    if size is not None and pic.size != tuple(size):
        pic = pic.resize(tuple(size), Image.Resampling.BICUBIC)
    return pic


def to_uint8(frames: Any, *, channels_first: bool = False) -> np.ndarray:
    """Pictures in 0..1 (a torch tensor or numpy array, channels last or first) as (..., H, W, 3) uint8, rounded.

    Rounding is half to even, on float32, the same on every device: ``np.rint(x * 255)`` of the pipeline's own
    ``output_type="np"`` frames gives the same bytes.
    """
    if hasattr(frames, "detach"):
        import torch

        x = frames.detach().to(torch.float32).mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
        if channels_first:
            x = x.movedim(-3, -1)
        return x.cpu().numpy()
    arr = np.asarray(frames, dtype=np.float32)
    if channels_first:
        arr = np.moveaxis(arr, -3, -1)
    return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
