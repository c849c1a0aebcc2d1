"""Scrub proxies: all-intra, reduced-size copies of long-GOP media, made in the background for the preview only.

A frame-exact seek in a long-GOP file decodes up to a whole GOP (a median 261 ms for 1080p H.264 with GOP 250);
in an all-intra proxy every frame is a keyframe, so any frame decodes on its own. A proxy copies the media's frame
timestamps tick for tick (same time base, same pts from the first frame), whatever the rate and also for variable
frame rates, so frame i of the proxy is frame i of the media and ``index_at(t)`` picks the same frame in both.
Renders never read proxies.

    >>> proxies = Proxies(Path("project/proxies"))
    >>> proxies.request(list(pool(session.timeline).values()))
    >>> proxies.wait(60)
    True
    >>> proxies.status()[sha256]
    ProxyStatus(state='ready', reason='', progress=1.0, path=PosixPath('project/proxies/...-640.mp4'), detail='')

A build writes a temp file next to its proxy and renames it when done; a failed or stopped build removes it, and
a new manager removes those left by a process that was killed (:func:`clean_stale`).
"""

from __future__ import annotations

import atexit
import errno
import itertools
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

from . import media
from .cache import DISK
from .errors import MediaError, ProxyError
from .model import media_at_path

MAX_WIDTH = 640
# In proxy file names: proxies of an older format (FORMAT 1 rounded frame times to 1/24 s) are rebuilt, not used.
FORMAT = 2
# A temp file of another live process counts as abandoned once it has not grown for this long (a live build
# writes frame after frame, so its file changes many times a second).
STALE_AFTER = 120.0
# How long the interpreter's exit waits for running builds to stop and remove their temp files.
EXIT_WAIT = 5.0

# Reasons in ProxyStatus (decoding and writing failures name their frame instead).
OFFLINE = "The media file is offline, so there is nothing to make a proxy from."
NOT_NEEDED = "No proxy needed: the media seeks fast (short GOP) and its picture is small."
STOPPED = "The build was stopped before it finished (the preview was closed)."
CHANGED = "The media file changed since it was imported, so a proxy of it would show other pictures."
EVICTED = "Removed to keep the proxies within their disk budget (nbedit.cache.DISK): the preview reads the media."
UNREADABLE = "The media file could not be opened as video."
UNEXPECTED = "An unexpected error stopped the build."
IS_SOURCE = "The proxy's file name is taken by media of the project, so no proxy is made over it."

State = Literal["queued", "building", "ready", "failed", "skipped"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ProxyStatus:
    """Where one media's proxy stands, for the editor to show.

    ``state`` is ``queued``, ``building``, ``ready``, ``failed`` or ``skipped`` (no proxy needed, or the media is
    offline); ``reason`` says why in a sentence for failed and skipped ones; ``progress`` is the fraction of
    frames written (1.0 when ready); ``path`` is the proxy file once ready; ``detail`` keeps the underlying error
    text (FFmpeg's, the OS's) for bug reports, never meant for the UI.

        >>> ProxyStatus("failed", "Frame 36 of 72 (at 1.50 s) of the media could not be decoded.").state
        'failed'
    """

    state: State
    reason: str = ""
    progress: float = 0.0
    path: Path | None = None
    detail: str = ""


def proxy_size(width: int, height: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """Fit inside ``max_width`` keeping the aspect; even sizes for yuv420p.

    >>> proxy_size(1920, 1080), proxy_size(321, 241)
    ((640, 360), (320, 240))
    """
    if width <= max_width:
        return max(2, width // 2 * 2), max(2, height // 2 * 2)
    return max_width // 2 * 2, max(2, round(height * max_width / width / 2) * 2)


def needs_proxy(reader: media.VideoReader, max_width: int = MAX_WIDTH) -> bool:
    """Worth a proxy: a long GOP (slow seeks) or a picture much larger than the preview shows."""
    return len(reader) > 1 and (reader.keyframes * 4 < len(reader) or reader.info.width > 2 * max_width)


# ---- building one proxy ------------------------------------------------------------------------------------


def build(
    source: str | os.PathLike[str],
    target: Path,
    *,
    max_width: int = MAX_WIDTH,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> bool:
    """Write an all-intra H.264 proxy of ``source`` to ``target`` atomically; False if ``stop`` was set first.

    ``progress(done, total)`` is called after each frame. Raises :class:`ProxyError`, whose message says why in
    a sentence; a failed or stopped build leaves no file behind.

        >>> build("long-gop.mp4", Path("proxies/long-gop.mp4"), max_width=320)
        True
    """
    try:
        reader = media.VideoReader(source)
    except MediaError as e:
        raise ProxyError(UNREADABLE) from e
    with reader:
        return build_from(reader, target, max_width=max_width, stop=stop, progress=progress)


def build_from(
    reader: media.VideoReader,
    target: Path,
    *,
    max_width: int = MAX_WIDTH,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> bool:
    """:func:`build` from an open reader (which it leaves open)."""
    size = proxy_size(reader.info.width, reader.info.height, max_width)
    with _temp_file(target) as tmp:
        if not _encode(reader, tmp, size, stop, progress):
            return False
        _check(reader, tmp)
        try:
            os.replace(tmp, target)
        except OSError as e:
            raise ProxyError(f"The finished proxy could not be moved into {target.parent}{_os_why(e)}.") from e
    return True


def _encode(
    reader: media.VideoReader, tmp: Path, size: tuple[int, int], stop: threading.Event | None, progress: Progress | None
) -> bool:
    n, done = len(reader), 0
    try:
        with av.open(str(tmp), "w", format="mp4") as out:
            stream = _add_stream(out, reader, size)
            for i in range(n):
                if stop is not None and stop.is_set():
                    return False
                out.mux(stream.encode(_proxy_frame(reader, i, size)))
                done = i + 1
                if progress is not None:
                    progress(done, n)
            out.mux(stream.encode(None))
    except (av.FFmpegError, OSError) as e:
        where = "after the last frame" if done == n else f"at frame {done} of {n}"
        raise ProxyError(f"Writing the proxy failed {where}{_os_why(e)}.") from e
    return True


def _add_stream(out: av.container.OutputContainer, reader: media.VideoReader, size: tuple[int, int]) -> av.VideoStream:
    # The media's own time base, codec and stream alike, so the encoder keeps every pts as given: a coarser
    # one (the old fixed rate=24) rounds frames of faster media onto the same tick and the muxer rejects them.
    stream = out.add_stream("libx264", rate=reader.info.fps or Fraction(24))
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.time_base = stream.codec_context.time_base = reader.time_base
    # g=1: every frame a keyframe; fastdecode: no CABAC or deblocking, cheap to decode
    stream.options = {"g": "1", "preset": "ultrafast", "tune": "fastdecode", "crf": "23"}
    return stream


def _proxy_frame(reader: media.VideoReader, i: int, size: tuple[int, int]) -> av.VideoFrame:
    try:
        img = reader.frame(i)  # display rotation applied: the proxy is stored upright
    except MediaError as e:
        at = float(reader.frame_times[i])
        raise ProxyError(f"Frame {i} of {len(reader)} (at {at:.2f} s) of the media could not be decoded.") from e
    frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(width=size[0], height=size[1], format="yuv420p")
    frame.pts = int(reader.frame_pts[i])
    frame.time_base = reader.time_base
    return frame


def _check(reader: media.VideoReader, tmp: Path) -> None:
    """The proxy must index like the media (same frames, same times) and be all-intra, or the preview lies."""
    try:
        with media.VideoReader(tmp) as proxy:
            count, keys, times = len(proxy), proxy.keyframes, proxy.frame_times
    except MediaError as e:
        raise ProxyError("The written proxy could not be read back.") from e
    if count != len(reader) or keys != count:
        raise ProxyError(f"The proxy came out with {count} frames ({keys} keyframes) for {len(reader)} in the media.")
    if not np.allclose(times, reader.frame_times, rtol=0, atol=1e-10):
        raise ProxyError("The proxy's frame times do not match the media's.")


def _os_why(e: BaseException) -> str:
    """': no space left on device' for the OS errors a user can act on; nothing for codec internals."""
    code = getattr(e, "errno", None)
    return f": {os.strerror(code).lower()}" if code is not None and code in _ACTIONABLE else ""


_ACTIONABLE = {getattr(errno, name, None) for name in ("ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "ENOENT")}


# ---- temp files --------------------------------------------------------------------------------------------

# Temp files this process is writing right now (a second manager of the same folder must not remove them).
_writing: set[Path] = set()
_writing_lock = threading.Lock()
_serial = itertools.count()
# `.{proxy name}.{pid}-{serial}.partial`: the pid tells a new manager whose file it is.
_PARTIAL = re.compile(r"\.(\d+)-\d+\.partial$")
# `{sha256[:20]}-{max_width}.mp4`: a FORMAT 1 proxy.
_OUTDATED = re.compile(r"^[0-9a-f]{20}-\d+\.mp4$")


@contextmanager
def _temp_file(target: Path) -> Iterator[Path]:
    """A fresh temp path beside ``target``, removed on the way out whatever happened (renamed ones are gone)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{next(_serial)}.partial")
    with _writing_lock:
        _writing.add(tmp)
    try:
        yield tmp
    finally:
        try:
            tmp.unlink(missing_ok=True)
        finally:
            with _writing_lock:
                _writing.discard(tmp)


def clean_stale(folder: Path, *, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove the temp files of builds that will never finish, and outdated proxies; returns what it removed.

    A temp file is stale when written by an earlier nbedit (no owner in the name), by this process but no longer
    being written (an aborted build), by a process that is gone (killed, crashed), or untouched for
    ``older_than`` seconds. Proxies of FORMAT 1 are outdated: their frame times may not be the media's.

        >>> clean_stale(Path("project/proxies"))
        [PosixPath('project/proxies/.3f2a...-640-v2.mp4.41235-0.partial')]
    """
    removed = []
    for path in sorted(folder.iterdir()):
        if _OUTDATED.match(path.name) or (path.name.endswith(".partial") and _is_stale(path, older_than)):
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # its build just finished or removed it
            except OSError:
                continue  # not ours to remove (permissions): the next manager tries again
            removed.append(path)
    return removed


def _is_stale(path: Path, older_than: float) -> bool:
    with _writing_lock:
        if path in _writing:
            return False
    owner = _PARTIAL.search(path.name)
    if owner is None or int(owner[1]) == os.getpid() or not _alive(int(owner[1])):
        return True
    try:
        return time.time() - path.stat().st_mtime > older_than
    except FileNotFoundError:
        return False


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill would end the process there: the file's age decides instead
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


# ---- the background manager --------------------------------------------------------------------------------

# Managers whose running builds the interpreter's exit stops, so they remove their temp files.
_managers: weakref.WeakSet[Proxies] = weakref.WeakSet()


class Proxies:
    """Proxy files of a project's media, built one at a time in a background thread.

        >>> proxies = Proxies(Path("project/proxies"))      # removes stale temp files there
        >>> proxies.request([entry])                         # pool entries: queued, built in the background
        >>> proxies.status()[entry["sha256"]].state         # queued, building, ready, failed or skipped
        'building'
        >>> proxies.ready(entry["sha256"])                  # the proxy's path once it exists
        >>> proxies.close()
    """

    def __init__(self, folder: Path, *, max_width: int = MAX_WIDTH):
        self.folder = folder
        self.max_width = max_width
        self._status: dict[str, ProxyStatus] = {}
        self._queue: list[tuple[str, str]] = []
        self._sources: dict[str, dict] = {}  # path -> entry of all requested: never written over
        self._busy = False
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # called (from the building thread) when a proxy's state changes or its progress moves by a tenth
        self.listeners: list[Callable[[], None]] = []
        if folder.is_dir():
            clean_stale(folder)
        _managers.add(self)

    def path(self, sha256: str) -> Path:
        return self.folder / f"{sha256[:20]}-{self.max_width}-v{FORMAT}.mp4"

    def ready(self, sha256: str) -> Path | None:
        """The proxy's path once it exists. Cheap enough to ask for every frame: a requested media's answer comes
        from its status, without touching the disk."""
        st = self._status.get(sha256)
        if st is not None:
            return st.path if st.state == "ready" else None
        p = self.path(sha256)
        return p if p.exists() else None

    def status(self) -> dict[str, ProxyStatus]:
        """Where the proxy of each requested media stands, by sha256 (a snapshot: poll it to follow builds).

            >>> {sha[:8]: (st.state, st.reason) for sha, st in proxies.status().items()}
            {'3f2a9c1e': ('ready', ''), '77b0d4aa': ('failed', 'Frame 36 of 72 (at 1.50 s) of the media ...')}
        """
        with self._lock:
            return dict(self._status)

    @property
    def skipped(self) -> dict[str, str]:
        """sha256 -> why there is no proxy, for the failed and skipped ones (see :meth:`status`)."""
        return {sha: st.reason for sha, st in self.status().items() if st.state in ("failed", "skipped")}

    def request(self, entries: list[dict]) -> None:
        """Queue proxies for these pool entries (video media only; done ones and duplicates are skipped)."""
        with self._lock:
            if self._stop.is_set():
                return  # closed: nothing would build them
            # the paths alone, copied: a pool entry is a view of the timeline's metadata, gone once the entry is
            # replaced (a relink) or the timeline is (an import)
            self._sources.update({str(e["path"]): {"path": str(e["path"])} for e in entries if "path" in e})
            known = len(self._status)
            for e in entries:
                if e.get("kind") == "video":
                    self._request(e["sha256"], e["path"])
            if self._queue and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nbedit-proxies", daemon=True)
                self._thread.start()
            self._wake.notify()
            news = len(self._status) != known
        if news:
            self._tell()

    def _request(self, sha: str, source: str) -> None:
        old = self._status.get(sha)
        if old is not None and old.reason != OFFLINE:
            return  # queued, building, or settled for this manager's life
        if media_at_path(self._sources, self.path(sha)) is not None:
            self._status[sha] = ProxyStatus("failed", IS_SOURCE)
        elif self.path(sha).exists():
            self._status[sha] = ProxyStatus("ready", progress=1.0, path=self.path(sha))
        elif not os.path.exists(source):
            self._status[sha] = ProxyStatus("skipped", OFFLINE)  # asked again once it is back
        else:
            self._status[sha] = ProxyStatus("queued")
            self._queue.append((sha, source))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the queue is empty (for tests and benchmarks); False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._queue and not self._busy:
                    return True
            if end is not None and time.monotonic() > end:
                return False
            time.sleep(0.02)

    def close(self, timeout: float = 0.0) -> None:
        """Stop building (the running build removes its temp file); wait up to ``timeout`` s for it to stop."""
        self._stop.set()
        with self._lock:
            self._wake.notify()
        if timeout > 0 and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stop.is_set():
                    self._wake.wait()
                if self._stop.is_set():
                    return
                sha, source = self._queue[0]
                self._busy = True
            try:
                done = self._make(sha, source)
            except ProxyError as e:
                done = ProxyStatus("failed", str(e), detail=_cause(e))
            except MediaError as e:
                done = ProxyStatus("failed", UNREADABLE, detail=str(e))
            except Exception as e:  # a proxy is an optimisation: the preview falls back to the media itself
                done = ProxyStatus("failed", UNEXPECTED, detail=repr(e))
            with self._lock:
                self._status[sha] = done
                self._queue.pop(0)
                self._busy = False
            self._tell()

    def _make(self, sha: str, source: str) -> ProxyStatus:
        if not os.path.exists(source):
            return ProxyStatus("skipped", OFFLINE)
        with media.VideoReader(source) as reader:
            if reader.info.sha256 != sha:
                return ProxyStatus("failed", CHANGED)
            if not needs_proxy(reader, self.max_width):
                return ProxyStatus("skipped", NOT_NEEDED)
            self._set(sha, ProxyStatus("building"))
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.path(sha)
            if not build_from(reader, target, max_width=self.max_width, stop=self._stop, progress=self._progress(sha)):
                return ProxyStatus("failed", STOPPED)
        gone = set(DISK.trim(self.folder, keep=target))  # proxies count into the disk budget: the oldest make room
        if gone:  # what this manager said was ready is not any more (and is not built again, to no end)
            with self._lock:
                for other, st in list(self._status.items()):
                    if st.path in gone:
                        self._status[other] = ProxyStatus("skipped", EVICTED)
        return ProxyStatus("ready", progress=1.0, path=target)

    def _set(self, sha: str, st: ProxyStatus) -> None:
        with self._lock:
            self._status[sha] = st
        self._tell()

    def _progress(self, sha: str) -> Progress:
        def update(done: int, total: int) -> None:
            with self._lock:
                self._status[sha] = replace(self._status[sha], progress=done / total)
            if done * 10 // total != (done - 1) * 10 // total:
                self._tell()

        return update

    def _tell(self) -> None:
        for fn in list(self.listeners):
            try:
                fn()
            except Exception:  # a view that cannot hear of it must not stop the build
                pass


def summary(statuses: list[ProxyStatus]) -> tuple[str, str]:
    """One state and line for the editor over a timeline's proxies: "building" (with the share done), "failed"
    (with the first reason), "ready" once every one needed is built, "" when none is needed.

        >>> summary([ProxyStatus("ready", progress=1.0), ProxyStatus("building", progress=0.5)])
        ('building', 'proxy 75%')
    """
    if not statuses:
        return "", ""
    active = [st for st in statuses if st.state in ("queued", "building")]
    if active:
        done = sum(st.progress for st in statuses if st.state in ("queued", "building", "ready"))
        total = sum(1 for st in statuses if st.state in ("queued", "building", "ready"))
        return "building", f"proxy {done / total:.0%}"
    failed = [st for st in statuses if st.state == "failed"]
    if failed:
        return "failed", f"proxy failed: {failed[0].reason}"
    if any(st.state == "ready" for st in statuses):
        return "ready", "proxy ready"
    return "", ""


def _cause(e: BaseException) -> str:
    cause = e.__cause__
    return "" if cause is None else f"{type(cause).__name__}: {cause}"


@atexit.register
def _stop_builds() -> None:
    # Daemon threads die without unwinding at exit; stopping them first lets each remove its temp file.
    end = time.monotonic() + EXIT_WAIT
    for proxies in list(_managers):
        proxies.close(timeout=max(0.0, end - time.monotonic()))
