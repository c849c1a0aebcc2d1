"""History, journal, recipes: every edit becomes one line of plain Python with literal arguments.

The same record serves three readers: ``Session.history`` (people), the append-only journal in the project folder
(crash recovery replays it) and the recipe script or notebook (anyone rebuilding the edit from its media).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from opentimelineio.opentime import RationalTime

# ---- literals -----------------------------------------------------------------------------------------


def literal(value: Any) -> Any:
    """Reduce an argument to a plain literal: handles (Clip, Media) become their id strings."""
    if hasattr(value, "_nbedit_literal"):
        return value._nbedit_literal()
    if isinstance(value, RationalTime):
        return RationalTime(value.value, value.rate)
    if isinstance(value, Fraction):
        return str(value) if value.denominator != 1 else value.numerator
    if isinstance(value, tuple | list):
        return tuple(literal(v) for v in value)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"cannot record {value!r}: a recorded dictionary has text keys")
        return {k: literal(v) for k, v in value.items()}
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return value.item()  # numpy scalars
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot record argument {value!r} of type {type(value).__name__} as a literal")


def source(value: Any) -> str:
    """Python source for a literal, such that ``eval(source(v)) == v``."""
    if isinstance(value, RationalTime):
        return f"RationalTime({value.value!r}, {value.rate!r})"
    if isinstance(value, tuple):
        inner = ", ".join(source(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {source(v)}" for k, v in value.items()) + "}"
    return repr(value)


def to_json(value: Any) -> Any:
    if isinstance(value, RationalTime):
        return {"RationalTime": [value.value, value.rate]}
    if isinstance(value, tuple):
        return {"tuple": [to_json(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": {k: to_json(v) for k, v in value.items()}}
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, dict) and "RationalTime" in value:
        return RationalTime(*value["RationalTime"])
    if isinstance(value, dict) and "tuple" in value:
        return tuple(from_json(v) for v in value["tuple"])
    if isinstance(value, dict) and "dict" in value:
        return {k: from_json(v) for k, v in value["dict"].items()}
    return value


# ---- records ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One operation as it was called: ``s.<op>(*args, **kwargs)``, and the ids it made."""

    op: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    made: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)  # journal-only data (a media probe, so reopening needs no re-hash)

    @property
    def code(self) -> str:
        parts = [source(a) for a in self.args] + [f"{k}={source(v)}" for k, v in self.kwargs.items()]
        line = f"s.{self.op}({', '.join(parts)})"
        if self.made:
            line += f"  # -> {', '.join(self.made)}"
        return line

    def uses_rational_time(self) -> bool:
        return any(isinstance(v, RationalTime) for v in (*self.args, *self.kwargs.values()))

    def to_json(self) -> dict:
        out: dict[str, Any] = {"op": self.op, "args": [to_json(a) for a in self.args]}
        out["kwargs"] = {k: to_json(v) for k, v in self.kwargs.items()}
        if self.made:
            out["made"] = list(self.made)
        if self.extra:
            out["extra"] = self.extra
        return out

    @classmethod
    def from_json(cls, d: dict) -> Record:
        return cls(
            op=d["op"],
            args=tuple(from_json(a) for a in d.get("args", [])),
            kwargs={k: from_json(v) for k, v in d.get("kwargs", {}).items()},
            made=tuple(d.get("made", ())),
            extra=d.get("extra", {}),
        )

    def __repr__(self) -> str:
        return f"<Record {self.code}>"


class History(list):
    """The operations that make the current state, oldest first; shown as the code that redoes them."""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def __str__(self) -> str:
        return "\n".join(r.code for r in self) or "(no operations yet)"


# ---- recipes ------------------------------------------------------------------------------------------


def header(name: str, folder: str, history: list[Record]) -> str:
    imports = "import nbedit"
    if any(r.uses_rational_time() for r in history):
        imports += "\nfrom opentimelineio.opentime import RationalTime"
    return f"{imports}\n\ns = nbedit.Session({folder!r}, name={name!r}, fresh=True)"


def recipe(name: str, history: list[Record], *, folder: str | None = None) -> str:
    """A runnable script that rebuilds the edit: imports, media (checked by sha256), then each operation."""
    folder = folder or f"{name}.recipe"
    lines = [
        f'"""nbedit recipe for {name!r}: rebuilds the edit from its media, operation by operation."""',
        "",
        header(name, folder, history),
        "",
        *(r.code for r in history),
        "",
    ]
    return "\n".join(lines)


def notebook(
    name: str,
    history: list[Record],
    *,
    folder: str | None = None,
    render_to: str | None = None,
    render_options: dict | None = None,
) -> dict:
    """The recipe as a notebook (nbformat 4.5 as plain data): a header, a set-up cell, one cell per operation, a
    render cell (``s.render(render_to, **render_options)``). ``writes`` turns it into the file's text.

    Built without nbformat: importing it loads jsonschema and its format checkers (2 to 9 s here), which every
    render would pay for the recipe it carries."""
    folder = folder or f"{name}.recipe"
    render_to = render_to or f"{name}.mp4"
    cells = [
        _markdown_cell(
            f"# Recipe: {name}\n\n"
            "Run all cells to rebuild this edit from its media, one operation per cell. Each media file is "
            "checked against the sha256 it had when it was imported, and the last cell renders the result.\n\n"
            "Edits you make from here on are recorded too: `s.recipe()` prints them all."
        ),
        _code_cell(header(name, folder, history), tags=["setup"]),
    ]
    cells += [_code_cell(r.code, tags=["operation"]) for r in history]
    options = "".join(f", {k}={source(literal(v))}" for k, v in (render_options or {}).items())
    cells.append(_code_cell(f"s.render({render_to!r}{options})", tags=["render"]))
    for k, cell in enumerate(cells):
        cell["id"] = f"nbedit-{k}"  # not random ids: the same edit makes the same notebook, byte for byte
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}


def writes(nb: dict) -> str:
    """A notebook's file text, as nbformat writes it (sorted keys, one-space indent, sources as lists of lines)."""
    cells = [{**c, "source": c["source"].splitlines(keepends=True)} for c in nb["cells"]]
    return json.dumps({**nb, "cells": cells}, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": "))


def _code_cell(code: str, *, tags: list[str]) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {"tags": tags}, "outputs": [], "source": code}


def _markdown_cell(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


# ---- emitting cells from operations made outside a cell -------------------------------------------------


class CellEmitter:
    """Shows operations made outside a cell (from a widget, say) as a new input cell below the running one.

    ``insert``, when a front end offers one (JupyterLab and Notebook 7 through ipylab), puts the code in a new
    cell at once. Otherwise IPython's ``set_next_input`` payload does it: it travels with the reply of the cell
    being executed, one per reply, so everything emitted during a cell goes out as one new cell when that cell
    finishes (``post_run_cell``), and code emitted while no cell runs (a widget message) waits in ``pending`` for
    the next executed cell. Code is written with the name the notebook uses for the session (``s`` in recipes).

    The edit of an emitted cell is already applied: running that cell (its source exactly as emitted) in this kernel
    would make it twice. So every delivered code waits in ``applied`` until a cell with exactly that source runs;
    an IPython input transformer then runs ``print("already applied from the editor: ...")`` in its place, once.
    A fresh kernel has nothing waiting, so there the cell runs: the notebook replays the edit.
    """

    NOTE = "already applied from the editor: "

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.delivered: list[str] = []
        self.applied: list[str] = []  # delivered, its edit made, its cell not yet run
        self.insert: Callable[[str], bool] | None = None
        self._shell: Any = None
        self._guarded: Any = None
        self._skipping: str | None = None

    def emit(self, code: str, session: Any = None) -> None:
        code = _as_named(code, session)
        shell = _ipython()
        self._guard(shell)
        if self.insert is not None:
            try:
                if self.insert(code):
                    self.delivered.append(code)
                    self.applied.append(code.strip())
                    return
            except Exception:  # the front end went away: fall back to the payload
                self.insert = None
        self.pending.append(code)
        if shell is not None and shell is not self._shell:
            shell.events.register("post_run_cell", self.flush)
            self._shell = shell

    def _guard(self, shell: Any) -> None:
        if shell is None or shell is self._guarded or not hasattr(shell, "input_transformers_post"):
            return
        shell.input_transformers_post.append(self.skip_applied)
        shell.events.register("pre_run_cell", self._pre_run)
        shell.events.register("post_run_cell", self._post_run)
        self._guarded = shell

    def _pre_run(self, info: Any) -> None:
        """A cell starts: when its source is an applied code, this run (and only this one) prints the note."""
        source = (getattr(info, "raw_cell", None) or "").strip()
        self._skipping = None
        if source and source in self.applied:
            self.applied.remove(source)
            self._skipping = source

    def _post_run(self, *_: Any) -> None:
        self._skipping = None

    def skip_applied(self, lines: list[str]) -> list[str]:
        """An input transformer: a cell that is exactly an emitted code whose edit is applied prints a note instead
        of making the edit again (once: run it again and it runs). ipykernel transforms a cell twice (once to see
        whether it awaits), so this only rewrites; ``pre_run_cell`` decides which run skips."""
        source = "".join(lines).strip()
        if not source or (source != self._skipping and source not in self.applied):
            return lines
        return [f"print({(self.NOTE + source)!r})\n"]

    def flush(self, *_: Any) -> None:
        if self._shell is None or not self.pending:
            return
        text = "\n".join(self.pending)
        self._shell.payload_manager.write_payload(
            {"source": "set_next_input", "text": text, "replace": False}, single=True
        )
        self.delivered.append(text)
        self.applied.append(text.strip())
        self.pending = []


def _as_named(code: str, session: Any) -> str:
    """``s.trim(...)`` with ``s`` replaced by the notebook's own name for the session, when it has one."""
    shell = _ipython()
    if session is None or shell is None or not code.startswith("s."):
        return code
    names = [k for k, v in shell.user_ns.items() if v is session and not k.startswith("_")]
    return code if not names or "s" in names else f"{names[0]}.{code[2:]}"


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return None
    return get_ipython()
