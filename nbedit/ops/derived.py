"""Media an operation makes (generated clips, interpolated frames, masks): the one path from a content key to a
pool entry, for every family of operations.

    key = derived.key_of(job)                              # sha256 of everything the frames depend on
    path = derived.path_for(e, "generate", key)           # <project>/generated/generate-<key[:16]>.mp4
    info = derived.cached(e, path, key)                    # the file's probe when it holds those frames, else None
    if info is None:
        derived.write_video(path, frames, fps)             # lossless, whole or not at all
        info = derived.made(path, key, provenance)         # probe it and write the .json sidecar beside it
    mid = derived.add(e, path, name, provenance, info)     # the pool entry (ops.edit.add_file), with provenance
    derived.remember(e, info, name, provenance)            # e.keep(info=, name=, generation=): replays reuse it

and when the journal is replayed (reopening a project) nothing is worked out again:

    mid = derived.reuse(e)                                 # the recorded file and probe, or None (not replaying)

Files live in a folder of the project per family (``generated/`` for generation, ``tools/`` for the AI tools),
named ``<op>-<key[:16]>`` with a ``.json`` sidecar that names the key (and the file's sha256 and size), so a
later call with the same inputs takes the file instead of making it again. The journal keeps ``info`` (the
probe), ``name`` and ``generation`` (the provenance) for each call, the keys operations always stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import folder as disk
from .. import media as media_mod
from .. import model
from ..errors import EditError, ProjectError
from ..model import MediaId
from .context import Edit

GENERATED = "generated"  # the project sub-folder of generated media (and the stills they start from)
TOOLS = "tools"  # the project sub-folder of the AI tools' media
SUFFIX = {GENERATED: ".mp4", TOOLS: ".avi"}  # H.264 RGB qp 0 / FFV1: both lossless, frame times exact


def key_of(job: dict) -> str:
    """The sha256 naming an output: everything its frames depend on, as sorted JSON."""
    return hashlib.sha256(json.dumps(job, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def folder_of(e: Edit, folder: str = GENERATED) -> Path:
    """The project folder that holds one family's media (``generated``, ``tools``)."""
    return e.folder / folder


def path_for(e: Edit, kind: str, key: str, *, folder: str = GENERATED, suffix: str | None = None) -> Path:
    """Where the output of ``kind`` (the op that names the file: "generate", "mask"...) with ``key`` lives:
    ``<project>/<folder>/<kind>-<key[:16]><suffix>`` (the suffix is the folder's own by default)."""
    return folder_of(e, folder) / f"{kind}-{key[:16]}{SUFFIX.get(folder, '.mp4') if suffix is None else suffix}"


def cached(e: Edit | None, path: Path, key: str) -> media_mod.MediaInfo | None:
    """The probe of ``path`` when it holds the output of ``key`` (its sidecar names the key, and the file's sha256
    or size still match), else None. Sidecars written by older versions (generation's, the tools') count too.

    None means the caller writes the file there, so a path that is other media of the project (through a symlink
    too) is refused first with an EditError: made media never replaces a source."""
    side = path.with_suffix(".json")
    if not (path.exists() and side.exists()):
        return _writable(e, path)
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return _writable(e, path)
    if not isinstance(meta, dict) or meta.get("key") != key or not ("sha256" in meta or "bytes" in meta):
        return _writable(e, path)
    if "bytes" in meta and meta["bytes"] != path.stat().st_size:
        return _writable(e, path)
    info = media_mod.probe(str(path))  # hashes the file: the pool entry needs the sha256 anyway
    if "sha256" in meta and meta["sha256"] != info.sha256:
        return _writable(e, path)
    return info


def _writable(e: Edit | None, path: Path) -> None:
    if e is not None and (why := model.overwrites_source(e.timeline, path)):
        raise EditError(f"cannot write the new media to {path}: {why}; move that media out of {path.parent} first")


def write_video(
    path: str | os.PathLike, frames: np.ndarray | Iterable[np.ndarray], fps: Fraction | int | str, *, gray: bool = False
) -> Path:
    """Write frames losslessly to ``path``, whole or not at all: ``.mp4`` is H.264 in RGB at qp 0 (the generated
    media's, frames (T, H, W, 3) uint8), ``.avi`` is FFV1 (the tools', frames any iterable; ``gray=True`` for
    (H, W) masks). Same frames, same bytes."""
    path = Path(path)
    fps = Fraction(fps)
    if gray and path.suffix != ".avi":
        raise ValueError("grey frames are written as FFV1: give an .avi path")
    try:  # both writers remove their temp file when they fail
        if path.suffix == ".avi":
            from ..tools.video import write_lossless as ffv1

            return ffv1(path, frames, fps, gray=gray)
        from ..models.lossless import write_lossless as x264rgb

        return x264rgb(path, frames if isinstance(frames, np.ndarray) else np.stack(list(frames)), fps)
    except OSError as e:  # PyAV's errors of the file system are OSErrors too (a full disk)
        raise ProjectError(f"cannot write the new media {path.name} into {path.parent}: {disk.why(e)}") from e


def write_sidecar(path: Path, key: str, provenance: dict, *, sha256: str | None = None) -> None:
    """``<file>.json`` beside an output: the key, the file's size and sha256 (what :func:`cached` checks), and
    the whole provenance, for people."""
    side = {"key": key, "bytes": path.stat().st_size, "provenance": provenance}
    if sha256 is not None:
        side["sha256"] = sha256
    tmp = path.with_name(f".{path.stem}.json.partial")
    try:
        tmp.write_text(json.dumps(side, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path.with_suffix(".json"))
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ProjectError(f"cannot write {path.with_suffix('.json').name} into {path.parent}: {disk.why(e)}") from e


def made(path: Path, key: str, provenance: dict) -> media_mod.MediaInfo:
    """A file just written: its probe (one pass over the file), with the sidecar that lets later calls reuse it."""
    info = media_mod.probe(str(path))
    write_sidecar(path, key, provenance, sha256=info.sha256)
    return info


def add(
    e: Edit,
    path: str | os.PathLike,
    name: str,
    generation: dict,
    info: media_mod.MediaInfo | dict | None = None,
    *,
    replace: bool = False,
) -> MediaId:
    """The pool id of a made file: probed (or ``info``, the recorded probe, on replay: no re-hash, and a file that
    went away becomes offline media), added through ``ops.edit.add_file`` with ``generation`` as its provenance.

    When the pool has the file already (the same frames made again), its entry keeps the provenance it came with
    unless it has none or ``replace`` is True."""
    from .edit import add_file

    if info is None:
        info = media_mod.probe(os.path.abspath(os.fspath(path)))
    elif isinstance(info, dict):
        info = media_mod.MediaInfo.from_dict(info)
    mid = add_file(e, info, name, generation)
    entry = e.entry(mid)
    if "generation" not in entry or (replace and model.plain(entry["generation"]) != generation):
        e.add_media(mid, {**model.plain(entry), "generation": generation})
    return mid


def remember(e: Edit, info: media_mod.MediaInfo | dict, name: str, generation: dict) -> None:
    """Keep what a replay of this call needs to take the file as it is (the journal's ``extra``)."""
    e.keep(info=info.to_dict() if isinstance(info, media_mod.MediaInfo) else info, name=name, generation=generation)


def reuse(e: Edit, *, replace: bool = False) -> MediaId | None:
    """Replaying a call that made media: the recorded file and probe, nothing worked out again (None when not
    replaying, or when the journal holds no file for it). What was kept is kept again."""
    saved = e.saved if e.replaying else {}
    if "info" not in saved:
        return None
    generation = model.plain(saved["generation"])
    mid = add(e, Path(saved["info"]["path"]), saved["name"], generation, saved["info"], replace=replace)
    e.keep(**saved)
    return mid


def provenance(e: Edit, media_id: str) -> dict | None:
    """The provenance of media in the pool, as plain Python values (None if no operation made it)."""
    data = e.entry(media_id).get("generation")
    return None if data is None else model.plain(data)
