"""A generation sweep: every prompt x seed x checkpoint as a take, here or on a Dask cluster, recorded as one cell.

    takes = s.generate_many(["a red kite", "a blue kite"], seeds=[1, 2, 3], models=["ltx-video", "ltx-video-v2"])
    takes                        # in a notebook: a grid of each take's middle frame, labelled prompt, seed, model
    s.append(takes[0], track="V2")
    s.generate_many([...], seeds=[...], models=[...], scheduler="dask", client=client)   # on the cluster's workers

Each take is exactly what ``s.generate(prompt, model=..., seed=...)`` makes: new media under ``generated/`` with
its provenance, reused when its key is there already. On Dask, each worker runs that same generation in a scratch
folder of its own, reaching the checkpoints by the paths found here (workers need nbedit and the model folders at
the same paths), and the file comes back as bytes; where it ran (device, library versions) is in its
provenance and its key, as for a local take. Frames are the same either way when the workers are machines of the
same kind. The call is recorded as one line with what it resolved (steps, sizes, each checkpoint's sha256);
reopening a project replays it without running a model, and a recipe run generates the same takes again.
"""

from __future__ import annotations

import base64
import functools
import html
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import folder as disk
from .. import model as schema
from ..errors import EditError, NbeditError
from ..model import MediaId
from ..models import WeightsError
from ..models import requests as req
from . import context, derived, edit
from .context import Edit
from .generate import generate

KNOBS = ("seconds", "size", "steps", "guidance")  # what a take resolves from its model's card when left out


@dataclass(frozen=True)
class Take:
    prompt: str
    seed: int
    model: str
    media: MediaId
    path: str


class Takes:
    """The takes of a sweep, in sweep order (checkpoint, then prompt, then seed): ``takes[0]`` is a media id.

    In a notebook it shows as a grid: one row per prompt and checkpoint, one column per seed, each cell the
    take's middle frame. ``takes.table`` lists (prompt, seed, model, media id)."""

    def __init__(self, takes: Sequence[Take]):
        self.takes = tuple(takes)

    def __len__(self) -> int:
        return len(self.takes)

    def __getitem__(self, k: int) -> MediaId:
        return self.takes[k].media

    def __iter__(self):
        return (t.media for t in self.takes)

    @property
    def table(self) -> list[tuple[str, int, str, str]]:
        return [(t.prompt, t.seed, t.model, str(t.media)) for t in self.takes]

    def __repr__(self) -> str:
        rows = "\n".join(f"  {m}: {p!r}, seed {s}, {mod}" for p, s, mod, m in self.table)
        return f"<nbedit.Takes: {len(self)} takes\n{rows}>"

    def _repr_html_(self) -> str:
        seeds = sorted({t.seed for t in self.takes})
        rows: dict[tuple[str, str], dict[int, Take]] = {}
        for t in self.takes:
            rows.setdefault((t.model, t.prompt), {})[t.seed] = t
        head = "".join(f"<th>seed {s}</th>" for s in seeds)
        body = []
        for (mod, prompt), by_seed in rows.items():
            cells = "".join(_cell(by_seed.get(s)) for s in seeds)
            label = f"<th style='text-align:left'>{html.escape(prompt)}<br><small>{html.escape(mod)}</small></th>"
            body.append(f"<tr>{label}{cells}</tr>")
        return f"<table class='nbedit-takes'><tr><th></th>{head}</tr>{''.join(body)}</table>"


def _cell(t: Take | None) -> str:
    if t is None:
        return "<td></td>"
    png = middle_frame_png(t.path)
    title = html.escape(f"{t.prompt} | seed {t.seed} | {t.model} | {t.media}")
    pic = (
        f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}' title='{title}' style='width:128px'>"
        if png is not None
        else "<div>offline</div>"
    )
    return f"<td style='text-align:center'>{pic}<br><small>{html.escape(str(t.media))}</small></td>"


def middle_frame_png(path: str) -> bytes | None:
    """PNG bytes of the middle frame of a video file (None: the file is gone)."""
    from ..media import VideoReader
    from ..render import to_png

    if not Path(path).exists():
        return None
    with VideoReader(path) as r:
        return to_png(r.frame(len(r) // 2))


# ---- the operation --------------------------------------------------------------------------------------------


def generate_many(
    e: Edit,
    prompts: str | Sequence[str],
    *,
    seeds: int | Sequence[int] = (0,),
    models: str | Sequence[str],
    seconds: float | None = None,
    size: tuple[int, int] | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    negative_prompt: str | None = None,
    weights_sha256: Sequence[str] | None = None,
    scheduler: str = "local",
    client: Any = None,
) -> Takes:
    """A take for every prompt x seed x checkpoint, as new media, each as ``s.generate`` makes it.

    ``s.generate_many(["a red kite", "a blue kite"], seeds=[1, 2], models=["ltx-video", "ltx-video-v2"])``
    records ``..., steps=4, guidance=3.0, weights_sha256=('…', '…')``: what the takes resolved, one sha256 per
    checkpoint. ``scheduler="dask"`` runs the takes on a Dask cluster (``client``, else the default client; a
    client object is recorded as ``client=None``, the default client of whoever runs the cell again).
    """
    prompts = _texts([prompts] if isinstance(prompts, str) else prompts, "prompts")
    seeds = [req.checked_seed(s) for s in _many([seeds] if isinstance(seeds, int) else seeds, "seeds")]
    models = _texts([models] if isinstance(models, str) else models, "models")
    if scheduler not in ("local", "dask"):
        raise EditError(f"scheduler must be 'local' or 'dask', not {scheduler!r}")
    if weights_sha256 is not None:
        weights_sha256 = _texts(weights_sha256, "weights_sha256")
        if len(weights_sha256) != len(models):
            raise EditError(f"weights_sha256 names {len(weights_sha256)} checkpoints for {len(models)} models")
    if client is not None:
        e.pin(client=None)  # a Client is no literal: the cell names the default client of whoever runs it
    if e.replaying and "takes" in e.saved:  # reopening: the files as recorded, no model runs
        return _replayed(e, e.saved["takes"])
    knobs = {"seconds": seconds, "size": size, "steps": steps, "guidance": guidance, "negative_prompt": negative_prompt}
    jobs = [
        (prompt, seed, k)
        for k in range(len(models))
        for prompt in prompts
        for seed in seeds  # one checkpoint after another: each is loaded once
    ]
    wanted = {k: (None if weights_sha256 is None else weights_sha256[k]) for k in range(len(models))}
    _check_models(e, models, wanted)
    from tqdm.auto import tqdm

    with tqdm(total=len(jobs), unit="take", desc="generate_many", disable=not e.env.progress) as bar:
        if scheduler == "local":
            made = []
            for prompt, seed, k in jobs:
                made.append(_here(e, prompt, seed, models[k], wanted[k], knobs))
                bar.update(1)
        else:
            made = _on_dask(e, jobs, models, wanted, knobs, client, bar)
    return _finish(e, jobs, models, made)


def _check_models(e: Edit, models: list[str], wanted: dict) -> None:
    """Every checkpoint found, able to make video from text, and the recorded one, before any take is made: a
    sweep that cannot finish writes nothing."""
    pool = e.env.models()
    for k, name in enumerate(models):
        found, _, sha = pool.describe(name, task="text-to-video", op="generate_many")
        if wanted[k] is not None and sha != wanted[k]:
            raise WeightsError(
                f"model {found.name!r} at {found.path} is not the checkpoint this call was recorded with: its sha256 "
                f"is {sha}, the call names {wanted[k]}. Put that checkpoint back, or drop weights_sha256."
            )


def _here(e: Edit, prompt: str, seed: int, model: str, sha: str | None, knobs: dict) -> tuple[MediaId, dict, dict]:
    """One take made by ``generate`` in this process: its media id, and the pins and journal data it made."""
    outer = e.pins, e.kept
    e.pins, e.kept = {}, {}
    try:
        mid = generate(e, prompt, model=model, seed=seed, weights_sha256=sha, **knobs)
        return mid, e.pins, e.kept
    finally:
        e.pins, e.kept = outer


def _on_dask(e: Edit, jobs: list, models: list, wanted: dict, knobs: dict, client: Any, bar: Any) -> list:
    """Each take made on a worker; the files come back as bytes and go into the project as a local take's do."""
    from ..distributed import SchedulerError, client_for

    client = client_for(client)
    pool = e.env.models()
    paths = [str(pool.find(m).path) for m in models]  # workers reach the checkpoints by path
    fmt = None if e.format is None else schema.plain(e.format)
    futures = [
        client.submit(make_take, prompt, paths[k], seed, wanted[k], knobs, fmt, pure=False) for prompt, seed, k in jobs
    ]
    made = []
    try:
        for (prompt, seed, k), future in zip(jobs, futures, strict=True):
            try:
                out = future.result()
            except NbeditError:
                raise
            except Exception as err:  # nbedit or a checkpoint missing there, a worker lost: say what workers need
                raise SchedulerError(
                    f"a Dask worker failed to generate {prompt!r} (seed {seed}, {models[k]}): "
                    f"{type(err).__name__}: {err} (workers need nbedit installed and the model folders at the same "
                    "paths)"
                ) from err
            made.append(_arrived(e, models[k], out))
            bar.update(1)
    finally:
        client.cancel([f for f in futures if not f.done()])
    return made


def _arrived(e: Edit, model: str, out: dict) -> tuple[MediaId, dict, dict]:
    """A take made on a worker, written into the project (unless it holds those frames already) and added."""
    gen, name = out["generation"], out["name"]
    path = derived.path_for(e, "generate", gen["key"])
    info = derived.cached(e, path, gen["key"])
    if info is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        disk.atomic_write(path, out["bytes"])
        info = derived.made(path, gen["key"], gen)
    mid = derived.add(e, path, name, gen, info)
    pins = {k: v for k, v in out["pins"].items() if k in (*KNOBS, "weights_sha256")}
    found = e.env.models().find(model)
    if Path(found.path).is_relative_to(e.folder / "models"):  # as generate pins a project's own checkpoint
        pins["model"] = str(found.path)
    return mid, pins, {"info": info.to_dict(), "name": name, "generation": gen}


def _finish(e: Edit, jobs: list, models: list, made: list) -> Takes:
    """Pin what the takes resolved (a knob when every take agrees; each checkpoint's sha256) and keep what a
    replay needs to take the files as they are."""
    for knob in KNOBS:
        values = {repr(pins.get(knob)) for _, pins, _ in made}
        if len(values) == 1 and knob in made[0][1]:
            e.pin(**{knob: made[0][1][knob]})
    sha = {}
    names = list(models)
    for (_, _, k), (_, pins, _) in zip(jobs, made, strict=True):
        sha[k] = pins["weights_sha256"]
        names[k] = pins.get("model", names[k])
    e.pin(weights_sha256=tuple(sha[k] for k in range(len(models))))
    if names != list(models):
        e.pin(models=tuple(names))
    kept = [kept for _, _, kept in made]
    e.keep(takes=kept)
    return Takes(_take(mid, k) for mid, _, k in made)


def _take(mid: MediaId, kept: dict) -> Take:
    gen = kept["generation"]
    return Take(gen["prompt"], int(gen["seed"]), str(gen["model"]), mid, kept["info"]["path"])


def _replayed(e: Edit, saved: list) -> Takes:
    saved = [schema.plain(k) for k in saved]
    takes = []
    for kept in saved:
        mid = derived.add(e, Path(kept["info"]["path"]), kept["name"], kept["generation"], kept["info"])
        takes.append(_take(mid, kept))
    e.keep(takes=saved)
    return Takes(takes)


# ---- on a worker ----------------------------------------------------------------------------------------------


def make_take(
    prompt: str, model: str, seed: int, weights_sha256: str | None, knobs: dict, fmt: dict | None
) -> dict[str, Any]:
    """On a worker: one take, made by ``generate`` in a scratch project of this worker's, returned as the file's
    bytes with its provenance, pool name and the values the call resolved."""
    pool = _worker_models()
    with tempfile.TemporaryDirectory(prefix="nbedit-take-") as d:
        state = context.State(schema.new_timeline("take"))
        env = context.Env(folder=Path(d), models=lambda: pool, progress=False)
        if fmt:  # the project's edit rate is the take's frame rate
            context.run(state, env, "set_format", edit.set_format, (), dict(fmt))
        kw = {"model": model, "seed": seed, "weights_sha256": weights_sha256, **knobs}
        out = context.run(state, env, "generate", generate, (prompt,), kw)
        entry = schema.media_entry(state.timeline, out.result)
        return {
            "bytes": Path(entry["path"]).read_bytes(),
            "name": out.record.extra["name"],
            "generation": schema.plain(out.record.extra["generation"]),
            "pins": dict(out.record.kwargs),
        }


@functools.cache
def _worker_models() -> Any:
    """The worker's models, loaded once and kept resident across its takes."""
    from ..models import ModelPool

    pool = ModelPool()
    pool.progress = False
    return pool


def _texts(values: Any, what: str) -> list[str]:
    return [req.text(v, what) for v in _many(values, what)]


def _many(values: Any, what: str) -> list:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise EditError(f"{what} must be a non-empty list, not {values!r}")
    return list(values)
