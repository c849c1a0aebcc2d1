"""The project folder: ``project.json`` (its name), ``journal.jsonl`` (the truth) and a snapshot of the timeline.

The journal holds every edit, fsynced before the edit returns. ``timeline.otio`` is a plain OTIO file of the
timeline as it stood after the first ``entries`` journal entries, written every so many edits and when the
session has been idle a moment; ``snapshot.json`` says which entries those were (with the sha256 of that part of
the journal and of the timeline file). Reopening loads the snapshot and replays only the journal after it; a
snapshot that does not match its journal, or a missing one, means replaying the whole journal. The snapshot is
written after the timeline file, so a crash between the two leaves a snapshot that no longer matches: safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import ProjectError, ProjectLockedError

LOCK = "lock"
JOURNAL = "journal.jsonl"
PROJECT = "project.json"
TIMELINE = "timeline.otio"
SNAPSHOT = "snapshot.json"
# what a project folder keeps for itself: no render, export or save may write over one of these
BOOKKEEPING = (LOCK, JOURNAL, PROJECT, TIMELINE, SNAPSHOT)


def project_file(path: str | os.PathLike) -> str | None:
    """Why ``path`` (through symlinks) is a project's own bookkeeping file, or None when it is not."""
    p = Path(os.path.realpath(path))
    if p.name in BOOKKEEPING and (p.parent / PROJECT).exists():
        return f"it is the project's own {p.name} (the project folder {p.parent} keeps it)"
    return None


def atomic_write(path: Path, text: str | bytes) -> None:
    """Write a file whole or not at all (a temporary file renamed over it; removed again when the write fails)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if isinstance(text, bytes):
            tmp.write_bytes(text)
        else:
            tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ProjectError(f"cannot write {path}: {why(e)}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def why(e: OSError) -> str:
    """An OS error as an editor reads it: a full disk says so (and what to do), others keep the OS's words."""
    import errno

    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({e.strerror}): free some space and try again"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "no permission to write there"
    return e.strerror or str(e)


# ---- temp files of writers that died -----------------------------------------------------------------------
# Every writer makes its file under a temp name beside it and renames it when whole; a killed process leaves the
# temp file behind. Only names that are provably ours are ever removed: those that carry the writer's pid
# (renders, unpacked imports: ``.<name>.<pid>-<random>.partial...``) once that process is gone, and the fixed temp
# names of the project's own files (its snapshot, the made media in generated/ and tools/), which only the
# process holding the writer lock writes: when a process takes the lock, any of those is a dead writer's.

_PID = re.compile(r"^\..+\.(\d+)-[a-z0-9_]{8}\.partial(\.[A-Za-z0-9]+)?$")  # mkstemp's 8 random characters
_PROJECT = re.compile(r"^\.(project\.json|timeline\.otio|snapshot\.json|journal\.damaged-[\w-]+\.jsonl)\.tmp$")
_MADE = re.compile(r"^\.[a-z_]+-[0-9a-f]{16}(\.partial\.(mp4|avi)|\.json\.partial)$")
_STILL = re.compile(r"^\.[0-9a-f]{16}\.png\.partial$")  # generated/stills: the pictures image_to_video starts from
MADE = ("generated", "tools")  # the project's folders of made media (ops.derived)


def temp_prefix(path: Path) -> str:
    """The ``mkstemp`` prefix of a temp file for ``path`` that names the writing process, so that a later
    cleaner can tell a dead writer's file: ``.<stem>.<pid>-`` (give ``.partial<suffix>`` as the suffix)."""
    return f".{path.stem}.{os.getpid()}-"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def stale(path: Path, *, project: Path | None = None) -> bool:
    """True for a temp file or unpacking folder of ours that no live writer will finish. ``project``: the
    project folder whose writer lock this process holds, where the fixed temp names count too."""
    m = _PID.match(path.name)
    if m is not None:
        return int(m.group(1)) != os.getpid() and not alive(int(m.group(1)))
    if project is None:
        return False
    if path.parent == project:
        return bool(_PROJECT.match(path.name))
    if path.parent.parent == project and path.parent.name in MADE:
        return bool(_MADE.match(path.name))
    return path.parent == project / MADE[0] / "stills" and bool(_STILL.match(path.name))


def clean_stale(folder: Path, *, project: Path | None = None, depth: int = 2) -> list[Path]:
    """Remove the temp files dead writers left in ``folder`` and its sub-folders (``depth`` levels down, but not
    ``proxies/``, whose manager knows its own); returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        path = Path(entry.path)
        if stale(path, project=project):
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
            except OSError:
                pass  # removed by another cleaner meanwhile
        elif depth > 0 and entry.is_dir(follow_symlinks=False) and entry.name != "proxies":
            removed += clean_stale(path, project=project, depth=depth - 1)
    return removed


def clear(path: Path) -> None:
    """Empty a project folder for ``fresh=True``, refusing folders that are not nbedit projects."""
    if not path.exists():
        return
    if not (path / PROJECT).exists() and any(path.iterdir()):
        raise ProjectError(f"{path} holds files but no nbedit project: refusing to clear it")
    hold(path)  # clearing is writing: not while another process edits it
    release(path)
    shutil.rmtree(path)


def open_name(path: Path, name: str | None) -> str:
    """The project's name, from its ``project.json``; a new project gets one (the folder's name by default)."""
    meta_file = path / PROJECT
    if meta_file.exists():
        try:
            return json.loads(meta_file.read_text())["name"]
        except (OSError, ValueError, KeyError) as e:
            raise ProjectError(f"{meta_file} is not an nbedit project file: {e}") from e
    if any(path.iterdir()):
        raise ProjectError(f"{path} is not empty and holds no nbedit project: choose another folder")
    name = name or path.name
    atomic_write(meta_file, json.dumps({"nbedit": 1, "name": name}, indent=1))
    return name


_held: dict[str, int] = {}  # project folder -> the descriptor holding its lock, one per process


def hold(path: Path) -> None:
    """Take the project's writer lock for this process, or say which process has it.

    One process edits a project at a time: two kernels appending to one journal would interleave their edits and
    collide on clip ids. The lock (``flock`` on ``lock`` in the folder) goes with the process, however it ends.
    """
    key = os.path.realpath(path)
    if key in _held:
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        return
    try:
        fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ProjectError(f"cannot lock {path} for editing: {e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ProjectLockedError(
            f"{path} is open for editing in another process (pid {pid}): close that session (s.close()) or its "
            "kernel first, or open the project here with read_only=True"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = fd
    clean_stale(Path(key), project=Path(key))  # the writer now: what dead writers left here is nobody's


def release(path: Path) -> None:
    fd = _held.pop(os.path.realpath(path), None)
    if fd is not None:
        os.close(fd)  # closing the descriptor drops the flock


class Journal:
    """Append-only JSON lines, each flushed and fsynced before the operation returns.

    It counts its entries and bytes and keeps a running sha256, so a snapshot can name the part it covers."""

    def __init__(self, path: Path):
        self.path = path
        self.entries = 0
        self.size = 0
        self._hash = hashlib.sha256()

    def append(self, entry: dict) -> None:
        line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            with open(self.path, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            self._cut_back()
            raise ProjectError(f"cannot write the journal {self.path}: {why(e)}") from e
        self.entries += 1
        self.size += len(line)
        self._hash.update(line)

    def _cut_back(self) -> None:
        """After a failed write (a full disk), take back whatever part of the line reached the file, so the next
        entry does not land on a torn line."""
        try:
            if self.path.is_file() and self.path.stat().st_size > self.size:
                os.truncate(self.path, self.size)
        except OSError:
            pass  # the repair on the next open cuts a torn last line too

    def digest(self) -> str:
        return self._hash.hexdigest()

    def repair(self) -> bool:
        """Cut off a torn last line (a crash in the middle of a write: that operation never returned), so the
        next entry starts on a line of its own. True if there was one."""
        if not self.path.exists():
            return False
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return False
        self._truncate(data.rfind(b"\n") + 1)
        return True

    def _truncate(self, size: int) -> None:
        """Cut the journal to ``size`` bytes, on the disk before this returns."""
        try:
            with open(self.path, "r+b") as f:
                f.truncate(size)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise ProjectError(f"cannot repair the journal {self.path}: {e}") from e

    def read(self, *, salvage: bool = False) -> list[dict]:
        """Every entry; a line that is not one is an error naming it, or (``salvage``) where reading stops:
        ``self.damage`` is then (line number, byte offset) of the first bad line, and the entries before it count.

        Reading also sets the counts and running hash, so later appends continue them."""
        self.entries, self.size, self._hash, self.damage = 0, 0, hashlib.sha256(), None
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        out, pos = [], 0
        for n, line in enumerate(data.split(b"\n"), 1):
            end = min(pos + len(line) + 1, len(data))
            if line.strip():
                try:
                    entry = json.loads(line)
                    if not isinstance(entry, dict) or not isinstance(entry.get("op"), str):
                        raise ValueError("an entry is an object naming its op")
                    shape = {"args": list, "kwargs": dict, "extra": dict, "made": list}
                    if bad := [k for k, kind in shape.items() if not isinstance(entry.get(k, kind()), kind)]:
                        raise ValueError(f"its {bad[0]} is not a {shape[bad[0]].__name__}")
                except ValueError as e:
                    if not salvage:
                        raise ProjectError(f"{self.path}, line {n}: not a journal entry ({e})") from e
                    self.damage = (n, pos)
                    break
                out.append(entry)
            self._hash.update(data[pos:end])
            pos = end
        self.size = pos
        self.entries = len(out)
        return out

    def set_aside(self, offset: int, stamp: str) -> Path:
        """Move the journal's bytes from ``offset`` on into ``journal.damaged-<stamp>.jsonl``; the journal keeps
        what came before. Returns the new file."""
        aside = self.path.with_name(f"{self.path.stem}.damaged-{stamp}{self.path.suffix}")
        k = 1
        while aside.exists():  # set aside twice in one second (a torn tail, then the whole journal): keep both
            k += 1
            aside = self.path.with_name(f"{self.path.stem}.damaged-{stamp}-{k}{self.path.suffix}")
        data = self.path.read_bytes()
        atomic_write(aside, data[offset:])
        self._truncate(offset)
        return aside

    def prefix_digest(self, size: int) -> str:
        with open(self.path, "rb") as f:
            return hashlib.sha256(f.read(size)).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    entries: int
    journal_bytes: int
    journal_sha256: str
    timeline_sha256: str


def write_snapshot(folder: Path, timeline_json: str, journal: Journal) -> None:
    data = timeline_json.encode("utf-8")
    atomic_write(folder / TIMELINE, data)
    snap = {
        "entries": journal.entries,
        "journal_bytes": journal.size,
        "journal_sha256": journal.digest(),
        "timeline_sha256": hashlib.sha256(data).hexdigest(),
    }
    atomic_write(folder / SNAPSHOT, json.dumps(snap, indent=1))


def snapshot_ahead(folder: Path, journal: Journal) -> tuple[Snapshot, str] | None:
    """The snapshot and its timeline JSON when they hold more edits than the journal does now (the journal was
    deleted, emptied or cut short): the snapshot is then the newest state there is."""
    try:
        snap = Snapshot(**json.loads((folder / SNAPSHOT).read_text()))
        text = (folder / TIMELINE).read_bytes()
    except (OSError, ValueError, TypeError):
        return None
    if snap.entries <= journal.entries or hashlib.sha256(text).hexdigest() != snap.timeline_sha256:
        return None
    return snap, text.decode("utf-8")


def read_snapshot(folder: Path, journal: Journal) -> tuple[Snapshot, str] | None:
    """The snapshot and its timeline JSON, if both are there and match the journal as it is now."""
    try:
        snap = Snapshot(**json.loads((folder / SNAPSHOT).read_text()))
        text = (folder / TIMELINE).read_bytes()
    except (OSError, ValueError, TypeError):
        return None
    if snap.entries > journal.entries or snap.journal_bytes > journal.size:
        return None
    if hashlib.sha256(text).hexdigest() != snap.timeline_sha256:
        return None
    if snap.journal_bytes and journal.prefix_digest(snap.journal_bytes) != snap.journal_sha256:
        return None
    return snap, text.decode("utf-8")


def umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:  # Linux says it without changing it (os.umask can only be read by setting it, racing other threads)
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
