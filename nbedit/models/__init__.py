"""Model folders: discovery, checks, loading, residency and placement, and running them on frames.

``s.models`` (a :class:`ModelPool`) is the way in from a session; ``nbedit.models.tiny.make_tiny(dir)`` builds
the tiny checkpoints the tests and the demo use. Layout of a model folder: ``models/README.md``.

    folders.py    where model folders are found, and the sha256 that names one
    cards.py      the optional nbedit.toml card; what a pipeline class can do
    weights.py    checks before loading: whole safetensors, no pickles, the expected sha256
    loading.py    diffusers from_pretrained, local files only; ONNX Runtime sessions
    placement.py  which component on which device, from the memory budget
    pool.py       resident models, budgets, least-recently-used eviction, the s.models table
    pipelines.py  one function per kind of request: frames in, frames out, deterministic
    requests.py   a generation's arguments as checked values (prompts, seeds, sizes), and labels
    jobs.py       a generation as data: cache key and provenance
    lossless.py   generated frames as a lossless video file (written through nbedit.ops.derived)
    tiny.py       tiny random-weight checkpoints
"""

from .errors import ModelError, ModelNotFoundError, ModelTaskError, WeightsError
from .placement import STRATEGIES, PlacementNotice, Plan
from .pool import ModelPool

__all__ = [
    "ModelPool",
    "Plan",
    "PlacementNotice",
    "STRATEGIES",
    "ModelError",
    "ModelNotFoundError",
    "ModelTaskError",
    "WeightsError",
]
