"""Recipes as artefacts: what a recipe notebook carries, replaying it headless, comparing two, checking a render.

A recipe notebook (``s.to_notebook(...)``) is a header cell that makes the session, one cell per operation and a
render cell. Its metadata carries what the edit was made with: the versions of nbedit and of the libraries that
decide its frames, and the sha256 of every input file and model. Replaying one here says clearly what differs,
finds moved media by sha256, and stops at the first failing cell with its number::

    nbedit replay recipe.ipynb -o out.mp4 --search ~/footage
    nbedit diff before.ipynb after.ipynb --strip changes.png
    nbedit verify recipe.ipynb out.mp4
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from . import model
from .errors import NbeditError, ProjectError
from .folder import atomic_write
from .ops.edit import default_media_id
from .provenance import versions

if TYPE_CHECKING:
    from .session import Session


class RecipeError(NbeditError):
    """A recipe that cannot be read or replayed (the message names the cell)."""


# ---- reading a recipe ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, as Jupyter counts cells (markdown included)
    source: str
    tags: tuple[str, ...]

    @property
    def first_line(self) -> str:
        return next((line for line in self.source.splitlines() if line.strip()), "")


@dataclass
class Recipe:
    path: Path
    cells: list[Cell]
    meta: dict

    @property
    def operations(self) -> list[str]:
        return [c.source for c in self.cells if "operation" in c.tags]

    @property
    def render_cell(self) -> Cell | None:
        return next((c for c in self.cells if "render" in c.tags), None)


def read(path: str | os.PathLike) -> Recipe:
    import nbformat

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise RecipeError(f"{path} does not exist") from None
    except Exception as e:  # nbformat raises many kinds for a file that is not a notebook
        raise RecipeError(f"{path} is not a notebook: {e}") from None
    cells = [
        Cell(k, c.source, tuple(c.metadata.get("tags", [])))
        for k, c in enumerate(nb.cells, start=1)
        if c.cell_type == "code"
    ]
    return Recipe(path.absolute(), cells, model.recipe_info(nb))


# ---- replaying -----------------------------------------------------------------------------------------------


@dataclass
class Replay:
    """What a replay did: the session it rebuilt, what it had to say, the media it found elsewhere."""

    session: Session
    cells: int
    warnings: list[str] = field(default_factory=list)
    relinked: dict[str, str] = field(default_factory=dict)  # recorded path -> the file found with its sha256
    output: Path | None = None


def differences(meta: dict) -> list[str]:
    """A line per version that differs from the one the recipe was made with."""
    made = meta.get("versions") or {}
    now = versions()
    return [
        f"{name} {made[name]} made this recipe; this machine has {now.get(name, 'not installed')}: frames may differ"
        for name in sorted(made)
        if name in now and made[name] != now[name]
    ]


def _hash_index(roots: Iterable[Path], wanted: set[str], sizes: set[int | None]) -> dict[str, Path]:
    """sha256 -> a file under ``roots`` with it; only files of the recorded sizes are hashed (all, when a size is
    not recorded)."""
    from .media import sha256_file

    found: dict[str, Path] = {}
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                p = Path(dirpath) / name
                try:
                    if None not in sizes and p.stat().st_size not in sizes:
                        continue
                    digest = sha256_file(p)
                except OSError:
                    continue
                if digest in wanted and digest not in found:
                    found[digest] = p
    return found


def _imports(source: str) -> list[tuple[ast.Constant, str, bool]]:
    """(path literal, sha256, named) of each ``s.import_media(path, sha256=...)`` in a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("import_media", "relink")
            and node.args
        ):
            path = node.args[0] if node.func.attr == "import_media" else (node.args[1] if len(node.args) > 1 else None)
            sha = next((k.value for k in node.keywords if k.arg == "sha256"), None)
            named = node.func.attr != "import_media" or any(k.arg == "name" for k in node.keywords)
            if isinstance(path, ast.Constant) and isinstance(path.value, str) and isinstance(sha, ast.Constant):
                out.append((path, str(sha.value), named))
    return out


def _replace(source: str, node: ast.Constant, text: str, after: str = "") -> str:
    lines = source.splitlines(keepends=True)
    line = lines[node.lineno - 1]
    lines[node.lineno - 1] = line[: node.col_offset] + repr(text) + after + line[node.end_col_offset :]
    return "".join(lines)


def _with_folder(source: str, folder: Path) -> str:
    """The set-up cell with its ``nbedit.Session(<folder>, ...)`` pointed at ``folder``."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "Session":
            if node.args and isinstance(node.args[0], ast.Constant):
                return _replace(source, node.args[0], str(folder))
    raise RecipeError("the recipe's set-up cell makes no nbedit.Session(<folder>, ...)")


def _render_to(source: str, output: Path, *, progress: bool = True) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "render" and node.args:
            if isinstance(node.args[0], ast.Constant):
                # a quiet replay is quiet all through: the render cell's own bar too (a recipe never records one)
                quiet = not progress and all(k.arg != "progress" for k in node.keywords)
                return _replace(source, node.args[0], str(output), ", progress=False" if quiet else "")
    raise RecipeError("the recipe's render cell is not s.render(<path>, ...)")


def replay(
    path: str | os.PathLike,
    *,
    output: str | os.PathLike | None = None,
    project: str | os.PathLike | None = None,
    search: Iterable[str | os.PathLike] = (),
    progress: bool = True,
) -> Replay:
    """Run a recipe's cells in order, headless, in a fresh project (a scratch one unless ``project`` is given).

    ``nbedit replay recipe.ipynb -o out.mp4 --search ~/footage``: media whose recorded path is gone is looked for
    by sha256 under ``search``; versions that differ from the recipe's are warned about; the first cell that fails
    stops the replay with a RecipeError naming its number. With ``output`` the render cell renders there (with its
    own settings); without, nothing is rendered.
    """
    from tqdm.auto import tqdm

    recipe = read(path)
    setup = next((c for c in recipe.cells if "setup" in c.tags), None)
    if setup is None:
        raise RecipeError(f"{recipe.path} is not an nbedit recipe: no set-up cell (tagged 'setup')")
    if project is not None and Path(project).exists():
        raise ProjectError(f"{project} exists: replay builds a fresh project and never writes over a folder")
    out = None if output is None else Path(output).absolute()
    warnings = differences(recipe.meta)
    todo = [c for c in recipe.cells if "render" not in c.tags or out is not None]
    # media gone from its recorded place: look for it by content
    sizes = {m["sha256"]: m.get("size") for m in recipe.meta.get("media", [])}
    missing = {
        sha
        for c in todo
        for node, sha, _named in _imports(c.source)
        if not os.path.exists(os.path.join(recipe.path.parent, node.value))
    }
    relinked: dict[str, str] = {}
    found = {}
    if missing and search:
        found = _hash_index([Path(p).expanduser() for p in search], missing, {sizes.get(sha) for sha in missing})
    scratch = None
    if project is None:
        scratch = tempfile.mkdtemp(prefix="nbedit-replay-")
        project = Path(scratch) / "project"
    namespace: dict[str, Any] = {"__name__": "__nbedit_recipe__"}
    cwd = os.getcwd()
    os.chdir(recipe.path.parent)
    bar = tqdm(total=len(todo), unit="cell", desc=f"replay {recipe.path.name}", disable=not progress)
    try:
        for c in todo:
            source = c.source
            if c is setup:
                source = _with_folder(source, Path(project).absolute())
            for node, sha, named in reversed(_imports(source)):  # from the end: earlier offsets stay right
                if sha in found and not os.path.exists(node.value):
                    relinked[node.value] = str(found[sha])
                    # the media keeps the id it had, which later cells name
                    keep_id = "" if named else f", name={default_media_id(node.value)!r}"
                    source = _replace(source, node, str(found[sha]), keep_id)
            if "render" in c.tags and out is not None:
                source = _render_to(source, out, progress=progress)
            try:
                exec(compile(source, f"{recipe.path.name}, cell {c.number}", "exec"), namespace)  # noqa: S102
            except Exception as e:
                _discard(namespace, Path(project))  # a replay that failed leaves no half-built project behind
                where = f"cell {c.number} ({c.first_line[:60]})"
                hint = ""
                if missing - set(found):
                    hint = "; media has moved? pass --search FOLDER to find it by sha256"
                raise RecipeError(f"{recipe.path.name}: {where} failed: {e}{hint}") from e
            bar.update(1)
    finally:
        bar.close()
        os.chdir(cwd)
        if scratch is not None and not Path(project).exists():
            shutil.rmtree(scratch, ignore_errors=True)
    sessions = _sessions(namespace)
    if not sessions:
        raise RecipeError(f"{recipe.path.name} made no nbedit.Session")
    return Replay(sessions[-1], len(todo), warnings, relinked, out if out is not None and out.exists() else None)


def _sessions(namespace: dict) -> list[Session]:
    """The sessions a recipe's cells made (known by what they do: this module sits below Session)."""
    return [v for v in namespace.values() if all(hasattr(v, a) for a in ("history", "timeline", "recipe", "close"))]


def _discard(namespace: dict, project: Path) -> None:
    for v in _sessions(namespace):
        v.close()
    shutil.rmtree(project, ignore_errors=True)


# ---- frames and their hashes -------------------------------------------------------------------------------------


def frame_hashes(session: Session, *, progress: bool = False) -> list[str]:
    """sha256 of every frame the timeline shows, in order (the picture, as the preview and render see it)."""
    from tqdm.auto import tqdm

    out = []
    rate = session.fps
    for n in tqdm(range(session.end_frame()), unit="frame", desc="frames", disable=not progress):
        out.append(hashlib.sha256(session.frame(Fraction(n) / rate).tobytes()).hexdigest())
    return out


def file_hashes(path: str | os.PathLike) -> list[str]:
    """sha256 of each decoded video frame of a file, in order (its planes as decoded: no conversion)."""
    out = []
    try:
        with av.open(str(path)) as c:
            for frame in c.decode(video=0):
                h = hashlib.sha256()
                for plane in frame.planes:
                    h.update(bytes(plane))
                out.append(h.hexdigest())
    except (av.FFmpegError, OSError) as e:
        raise RecipeError(f"cannot read the video {path}: {e}") from e
    return out


def changed_ranges(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """The [start, end) frame ranges where two hash lists differ (a longer list's tail is a change)."""
    ranges: list[tuple[int, int]] = []
    n = max(len(a), len(b))
    start = None
    for i in range(n + 1):
        differ = i < n and (i >= len(a) or i >= len(b) or a[i] != b[i])
        if differ and start is None:
            start = i
        elif not differ and start is not None:
            ranges.append((start, i))
            start = None
    return ranges


# ---- verify --------------------------------------------------------------------------------------------------


@dataclass
class Verified:
    same: bool
    frames: int
    first_difference: int | None
    replay: Replay

    def __str__(self) -> str:
        if self.same:
            return f"same: all {self.frames} frames decode to the same pictures"
        return f"different: frame {self.first_difference} is the first that differs ({self.frames} frames compared)"


def verify(
    recipe: str | os.PathLike,
    video: str | os.PathLike,
    *,
    search: Iterable[str | os.PathLike] = (),
    progress: bool = True,
) -> Verified:
    """Replay the recipe, render it with its own render cell, and compare decoded frame hashes with ``video``.

    ``nbedit verify recipe.ipynb out.mp4``
    """
    theirs = file_hashes(video)
    with tempfile.TemporaryDirectory(prefix="nbedit-verify-") as d:
        out = Path(d) / ("again" + Path(video).suffix)
        r = replay(recipe, output=out, project=Path(d) / "project", search=search, progress=progress)
        if r.output is None:
            raise RecipeError(f"{Path(recipe).name} has no render cell (tagged 'render') to verify a video against")
        ours = file_hashes(out)
        r.session.close()
    diff = changed_ranges(ours, theirs)
    return Verified(not diff, max(len(ours), len(theirs)), diff[0][0] if diff else None, r)


# ---- diff ------------------------------------------------------------------------------------------------------


@dataclass
class RecipeDiff:
    operations: list[str]  # unified-diff lines of the operation cells
    frames: list[tuple[int, int]]  # [start, end) output frame ranges that change
    fps: Any
    strip: Path | None = None

    def __str__(self) -> str:
        lines = ["operations:"] + (["  the same"] if not self.operations else ["  " + x for x in self.operations])
        if not self.frames:
            lines.append("frames: every frame is the same")
        else:
            lines.append("frames that change:")
            for a, b in self.frames:
                lines.append(f"  {a}..{b - 1} ({float(a / self.fps):.3f} s to {float(b / self.fps):.3f} s)")
        if self.strip is not None:
            lines.append(f"before/after strip: {self.strip}")
        return "\n".join(lines)


def _thumb(img: np.ndarray, width: int = 192) -> np.ndarray:
    import cv2

    h = max(2, round(img.shape[0] * width / img.shape[1]))
    return cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)


def strip(a: Session, b: Session, ranges: list[tuple[int, int]], path: str | os.PathLike, *, most: int = 6) -> Path:
    """A PNG of the middle frame of each changed range: before (top row) over after (bottom row)."""
    from .render import to_png

    columns = []
    for lo, hi in ranges[:most]:
        n = (lo + hi - 1) // 2
        pair = []
        for s in (a, b):
            if n < s.end_frame():
                pair.append(_thumb(s.frame(Fraction(n) / s.fps)))
            else:
                pair.append(None)
        shape = next(p.shape for p in pair if p is not None)
        pair = [p if p is not None and p.shape == shape else np.zeros(shape, np.uint8) for p in pair]
        columns.append(np.concatenate([pair[0], np.full((4, shape[1], 3), 255, np.uint8), pair[1]], axis=0))
    height = max(c.shape[0] for c in columns)
    columns = [np.pad(c, ((0, height - c.shape[0]), (0, 0), (0, 0))) for c in columns]
    gap = np.full((height, 4, 3), 255, np.uint8)
    picture = np.concatenate([x for c in columns for x in (c, gap)][:-1], axis=1)
    path = Path(path)
    atomic_write(path, to_png(picture))
    return path


def diff(
    a: str | os.PathLike,
    b: str | os.PathLike,
    *,
    strip_to: str | os.PathLike | None = None,
    search: Iterable[str | os.PathLike] = (),
    progress: bool = True,
) -> RecipeDiff:
    """Which operations differ between two recipes, and which frame ranges of their output change.

    ``nbedit diff before.ipynb after.ipynb --strip changes.png``
    """
    ra, rb = read(a), read(b)
    ops = list(difflib.unified_diff(ra.operations, rb.operations, str(a), str(b), lineterm="", n=1))
    with tempfile.TemporaryDirectory(prefix="nbedit-diff-") as d:
        sa = replay(a, project=Path(d) / "a", search=search, progress=progress).session
        sb = replay(b, project=Path(d) / "b", search=search, progress=progress).session
        try:
            frames = changed_ranges(frame_hashes(sa, progress=progress), frame_hashes(sb, progress=progress))
            picture = strip(sa, sb, frames, strip_to) if strip_to is not None and frames else None
            fps = sb.fps if sb.format else sa.fps
        finally:
            sa.close()
            sb.close()
    return RecipeDiff(ops, frames, fps, picture)


# ---- the recipe inside a render ---------------------------------------------------------------------------------


def recipe_of_render(video: str | os.PathLike, to: str | os.PathLike | None = None) -> Path:
    """Write the recipe a rendered file carries as a notebook (beside the video unless ``to``); never over a file.

    ``nbedit recipe out.mp4`` writes ``out.recipe.ipynb``.
    """
    from .provenance import read_render_tags

    video = Path(video)
    try:
        with av.open(str(video)) as c:
            tags = dict(c.metadata)
    except (av.FFmpegError, OSError) as e:
        raise RecipeError(f"cannot read {video}: {e}") from e
    data = read_render_tags(tags)
    if data is None:
        raise RecipeError(f"{video.name} holds no nbedit recipe (it was rendered with recipe=False, or elsewhere)")
    target = Path(to) if to is not None else video.with_name(video.stem + ".recipe.ipynb")
    if target.exists():
        raise RecipeError(f"{target} exists: choose another name (-o), nothing is written over a file")
    atomic_write(target, data["recipe"])
    return target


def summary_of_render(video: str | os.PathLike) -> dict | None:
    """The compact timeline summary a rendered file carries (None when it has no recipe)."""
    from .provenance import read_render_tags

    with av.open(str(video)) as c:
        data = read_render_tags(dict(c.metadata))
    return None if data is None else data.get("summary")
