"""Write the round-trip table of docs/interchange.md from the round trips the tests run.

    python docs/interchange_table.py          # from the project root, with the shared samples beside it

Every shared sample is imported, exported to each format and imported back (``trip`` in
tests/test_interchange_roundtrip.py, the same code the tests run); the table between the two
``<!-- round trips -->`` lines gets one row per sample, and the list after it what each format left out.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_interchange_roundtrip import DOC, EXTS, FILES, cell, imported, name_of, trip  # noqa: E402

from nbedit.interchange import FORMATS  # noqa: E402

MARK = "<!-- round trips -->"


def what_left(lost: str) -> str:
    """One entry of ``Exported.lost`` without its counts and details, to list each kind once."""
    what = re.sub(r"\b\d+ ", "", lost.split(" (")[0].split(":")[0])
    return re.sub(r"frozen clip$", "frozen clips", re.sub(r"\bmarker outside", "markers outside", what))


def main() -> None:
    rows = ["| sample | " + " | ".join(f"`{e}`" for e in EXTS) + " |", "| --- |" + " :-: |" * len(EXTS)]
    left: dict[str, dict[str, None]] = {e: {} for e in EXTS}
    same = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, path in enumerate(FILES):
            s = imported(path, Path(tmp) / f"{k}")
            cells = []
            for ext in EXTS:
                out, t = trip(s, ext, Path(tmp) / f"{k}{ext}")
                cells.append(cell(t))
                same += t.same
                for x in out.lost:
                    left[ext][what_left(x)] = None
            s.close()  # before its folder goes with the temporary one
            rows.append(f"| `{name_of(path)}` | " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    notes = [""]
    for ext in EXTS:
        what = "; ".join(left[ext]) or "nothing"
        notes.append(f"- **{FORMATS[ext].name}** (`{ext}`) left out, in these samples: {what}.")
    total = len(FILES) * len(EXTS)
    summary = f"\n{same} of {total} round trips ({len(FILES)} samples, {len(EXTS)} formats) come back the same.\n"
    head, _, rest = DOC.read_text().partition(MARK)
    _, _, tail = rest.partition(MARK)
    DOC.write_text(
        head + MARK + "\n\n" + "\n".join(rows) + "\n" + "\n".join(notes) + "\n" + summary + "\n" + MARK + tail
    )


if __name__ == "__main__":
    main()
