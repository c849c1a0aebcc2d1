"""The optional ``nbedit.toml`` card of a model folder, and what a folder can do without one.

```toml
task = "text-to-video"        # what the model is for (see TASKS)
licence = "OpenRAIL-M"        # shown in s.models; "license" is read too
sha256 = "3f9a..."            # expected digest of the folder (nbedit.models.folders.folder_digest): checked on load
dtype = "bfloat16"            # on CUDA (float32 on the CPU unless the card says cpu_dtype)

[defaults]                    # used where a call leaves a parameter out; the value used is recorded
steps = 30
guidance = 3.0
size = [768, 512]
fps = 24
seconds = 4
negative_prompt = "worst quality, blurry"
strength = 0.6
```
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError
from .folders import CARD, MODEL_INDEX, ONNX_FILE

TASKS = (
    "text-to-video",
    "image-to-video",
    "video-to-video",
    "keyframes-to-video",
    "image-to-image",
    "per-frame",
    "frame-interpolation",
    "segmentation",
    "subject-detection",
    "face-detection",
    "person-segmentation",
    "speech-detection",
    "upscale",
)
"""What an operation may ask of a model. keyframes-to-video: frames given at positions (extend, fill_gap, retake)."""

# The LTX-Video and LTX-2 families: one checkpoint serves all of these through pipelines that share its components.
LTX = {"text-to-video", "image-to-video", "video-to-video", "keyframes-to-video"}
FAMILY_TASKS = {
    "LTXPipeline": LTX,
    "LTXImageToVideoPipeline": LTX,
    "LTXConditionPipeline": LTX,
    "LTX2Pipeline": LTX,
    "LTX2ImageToVideoPipeline": LTX,
    "LTX2ConditionPipeline": LTX,
    "StableDiffusionPipeline": {"image-to-image"},
    "StableDiffusionImg2ImgPipeline": {"image-to-image"},
    "StableDiffusionXLPipeline": {"image-to-image"},
    "StableDiffusionXLImg2ImgPipeline": {"image-to-image"},
    "AnimateDiffPipeline": {"text-to-video"},
    "AnimateDiffVideoToVideoPipeline": {"video-to-video"},
}

DEFAULTS: dict[str, Any] = {"steps": 30, "guidance": 3.0, "size": [768, 512], "fps": 24, "seconds": 4.0}
KNOWN_DEFAULTS = {"steps", "guidance", "size", "fps", "seconds", "negative_prompt", "strength"}


def tasks_of_class(class_name: str) -> set[str]:
    """What a diffusers pipeline class can do, from the family table or its name."""
    if class_name in FAMILY_TASKS:
        return set(FAMILY_TASKS[class_name])
    if "Img2Img" in class_name or "ImageToImage" in class_name:
        return {"image-to-image"}
    if "ImageToVideo" in class_name or "I2V" in class_name:
        return {"image-to-video"}
    if "VideoToVideo" in class_name or "V2V" in class_name:
        return {"video-to-video"}
    if "Video" in class_name or class_name.endswith(("AnimateDiffPipeline", "T2VPipeline")):
        return {"text-to-video"}
    return set()


@dataclass(frozen=True)
class Card:
    """What nbedit knows about a model folder: from its card, else from ``model_index.json``."""

    pipeline: str  # the diffusers pipeline class, or "onnxruntime"
    tasks: frozenset[str]
    task: str | None = None  # the card's own task, shown first
    licence: str | None = None
    sha256: str | None = None
    dtype: str | None = None
    cpu_dtype: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    def default(self, key: str) -> Any:
        return self.defaults.get(key, DEFAULTS.get(key))

    @property
    def tasks_text(self) -> str:
        ordered = ([self.task] if self.task else []) + sorted(self.tasks - {self.task})
        return ", ".join(ordered) or "unknown"


def read_card(folder: Path) -> Card:
    """The card of a model folder (a ModelError names the file and the fault when it cannot be read)."""
    data: dict[str, Any] = {}
    card_file = folder / CARD
    if card_file.exists():
        try:
            data = tomllib.loads(card_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ModelError(f"{card_file} is not valid TOML: {e}") from e
    pipeline = _pipeline_class(folder)
    task = data.get("task")
    if task is not None and task not in TASKS:
        raise ModelError(f"{card_file}: task must be one of {', '.join(TASKS)}, not {task!r}")
    tasks = tasks_of_class(pipeline) | ({task} if task else set())
    if pipeline == "onnxruntime" and not tasks:
        tasks = {"per-frame"}
    defaults = dict(data.get("defaults", {}))
    unknown = set(defaults) - KNOWN_DEFAULTS
    if unknown:
        raise ModelError(f"{card_file}: unknown defaults {sorted(unknown)} (known: {sorted(KNOWN_DEFAULTS)})")
    sha = data.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64):
        raise ModelError(f"{card_file}: sha256 must be 64 hex digits, not {sha!r}")
    return Card(
        pipeline=pipeline,
        tasks=frozenset(tasks),
        task=task,
        licence=data.get("licence", data.get("license")),
        sha256=sha,
        dtype=data.get("dtype"),
        cpu_dtype=data.get("cpu_dtype"),
        defaults=defaults,
    )


def _pipeline_class(folder: Path) -> str:
    index = folder / MODEL_INDEX
    if not index.exists():
        if (folder / ONNX_FILE).exists():
            return "onnxruntime"
        raise ModelError(f"{folder} has neither {MODEL_INDEX} nor {ONNX_FILE}")
    try:
        return str(json.loads(index.read_text(encoding="utf-8"))["_class_name"])
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError) as e:
        raise ModelError(f"{index} is not a diffusers model index ({e!r})") from e


def write_card(folder: Path, *, task: str, sha256: str, licence: str, defaults: dict[str, Any], note: str = "") -> Path:
    """Write an ``nbedit.toml`` (used by the tiny checkpoints; cards of real models are written by hand)."""
    lines = [f"# {note}"] if note else []
    lines += [f'task = "{task}"', f'licence = "{licence}"', f'sha256 = "{sha256}"', "", "[defaults]"]
    for k, v in defaults.items():
        lines.append(f"{k} = {json.dumps(v)}")
    path = folder / CARD
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
