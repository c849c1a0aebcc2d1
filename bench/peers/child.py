"""One contender in a process of its own, so its peak memory is its own.

    python -m bench.peers.child NAME spec.json out.mp4

Prints one JSON line: wall seconds from the first call of the tool to a finished file (imports excluded),
the process's own peak RSS (VmHWM) and what the contender adds (frames, build time).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from .edit import Spec

# name -> (module, function); the modules are imported only in the child that runs them
CONTENDERS = {
    "nbedit": ("bench.peers.nbedit_side", "render"),
    "moviepy": ("bench.peers.moviepy_side", "render"),
    "movis": ("bench.peers.movis_side", "render"),
    "ffmpeg": ("bench.peers.ffmpeg_side", "render"),
    "pyav-floor": ("bench.peers.pyav_side", "floor"),
    "pyav-numpy": ("bench.peers.pyav_side", "composited"),
}


def vm_hwm() -> int:
    """This process's peak RSS in bytes (not ru_maxrss: Linux carries that over exec from the parent)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def main() -> None:
    name, spec_path, out = sys.argv[1:4]
    spec = Spec.from_json(Path(spec_path).read_text())
    module, fn = CONTENDERS[name]
    run = getattr(importlib.import_module(module), fn)
    t0 = time.perf_counter()
    got = run(spec, Path(out))
    wall = time.perf_counter() - t0
    extra = got if isinstance(got, dict) else {"frames": got}
    print(json.dumps({"wall_s": wall, "self_peak_rss": vm_hwm(), **extra}))


if __name__ == "__main__":
    main()
