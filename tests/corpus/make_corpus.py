"""The hostile corpus: broken media, hostile timeline files and damaged model folders, generated (never committed).

``python tests/corpus/make_corpus.py OUT`` writes every file into OUT; ``tests/test_corpus.py`` builds the same
files into a temp folder with :func:`build` and runs one case on each. Every file is made from a fixed seed, so
two builds give the same bytes.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

SEED = 11  # issue 11

MAKERS: dict[str, Callable[[Path, Path], Path]] = {}
"""File name -> maker(folder, good video) that writes it into folder and returns its path."""


def maker(name: str) -> Callable[[Callable[[Path, Path], bytes | str]], Callable[[Path, Path], bytes | str]]:
    def register(fn: Callable[[Path, Path], bytes | str]) -> Callable[[Path, Path], bytes | str]:
        def make(folder: Path, good: Path) -> Path:
            data = fn(folder, good)
            path = folder / name
            path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
            return path

        MAKERS[name] = make
        return fn

    return register


def noise(n: int, salt: int = 0) -> bytes:
    return random.Random(SEED * 1000 + salt).randbytes(n)


def good_video(folder: Path) -> Path:
    """The one valid file the damaged ones start from: 2 s of 64x48 H.264 and AAC."""
    from nbedit import media

    return Path(media.testsrc(folder / "good.mp4", seconds=2, fps=24, size=(64, 48), variant=0, tone_hz=440))


# ---- media ----------------------------------------------------------------------------------------------------


@maker("zero-byte.mp4")
def zero_byte(folder: Path, good: Path) -> bytes:
    return b""


@maker("truncated-half.mp4")
def truncated_half(folder: Path, good: Path) -> bytes:
    data = good.read_bytes()
    return data[: len(data) // 2]


@maker("truncated-header.mp4")
def truncated_header(folder: Path, good: Path) -> bytes:
    return good.read_bytes()[:600]


@maker("random-bytes.mp4")
def random_mp4(folder: Path, good: Path) -> bytes:
    return noise(64 * 1024, 1)


@maker("random-bytes.png")
def random_png(folder: Path, good: Path) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + noise(8 * 1024, 2)


@maker("text.mov")
def text_mov(folder: Path, good: Path) -> str:
    return "this is a shopping list, not a film\n"


@maker("corrupt-packets.mp4")
def corrupt_packets(folder: Path, good: Path) -> bytes:
    """The container intact (moov first or last, untouched), the compressed picture data in the middle scrambled."""
    data = bytearray(good.read_bytes())
    mdat = data.find(b"mdat")
    lo, hi = mdat + 8 + 2000, mdat + 8 + 2000 + (len(data) - mdat) // 3
    rnd = random.Random(SEED)
    for i in range(lo, min(hi, len(data) - 4096), 7):
        data[i] = rnd.randrange(256)
    return bytes(data)


def png(width: int, height: int, bit_depth: int, color: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    head = struct.pack(">IIBBBBB", width, height, bit_depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@maker("huge-dimensions.png")
def huge_png(folder: Path, good: Path) -> bytes:
    """A valid 16000x16000 black picture, 1 bit a pixel: tens of KB on disk, 768 MB as RGB frames."""
    side = 16000
    z = zlib.compressobj(9)
    row = b"\x00" * (1 + side // 8)  # filter byte, then the row
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return png(side, side, 1, 0, body)


@maker("lying-header.png")
def lying_png(folder: Path, good: Path) -> bytes:
    """A header that says 100000x100000 in front of a few bytes of picture."""
    return png(100_000, 100_000, 8, 2, zlib.compress(b"\x00" * 64))


@maker("tiny.png")
def tiny_png(folder: Path, good: Path) -> bytes:
    """A valid 2x2 RGB picture."""
    return png(2, 2, 8, 2, zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2))


@maker("$(touch pwned) `id`; rm -rf x.mp4")
def shell_name(folder: Path, good: Path) -> bytes:
    return good.read_bytes()


def audio_only(folder: Path) -> Path:
    from nbedit import media

    return Path(media.tone(folder / "audio-only.wav", seconds=2, hz=330))


# ---- timeline files --------------------------------------------------------------------------------------------


def rt(value: float, rate: float = 24.0) -> dict:
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": rate, "value": value}


def tr(start: float, duration: float, rate: float = 24.0) -> dict:
    return {"OTIO_SCHEMA": "TimeRange.1", "start_time": rt(start, rate), "duration": rt(duration, rate)}


def clip(name: str, url: str, start: float, duration: float, rate: float = 24.0) -> dict:
    ref = {"OTIO_SCHEMA": "ExternalReference.1", "target_url": url, "available_range": tr(0, 48, rate)}
    return {"OTIO_SCHEMA": "Clip.1", "name": name, "source_range": tr(start, duration, rate), "media_reference": ref}


def timeline(*items: dict, kind: str = "Video") -> str:
    track = {"OTIO_SCHEMA": "Track.1", "name": "V1", "kind": kind, "children": list(items)}
    stack = {"OTIO_SCHEMA": "Stack.1", "name": "tracks", "children": [track]}
    return json.dumps({"OTIO_SCHEMA": "Timeline.1", "name": "hostile", "tracks": stack})


@maker("deep-50000.otio")
def deep_otio(folder: Path, good: Path) -> str:
    """50,000 stacks each inside the last: OTIO's C++ reader overflows its stack on this."""
    depth = 50_000
    head = '{"OTIO_SCHEMA": "Stack.1", "name": "s", "children": ['
    return '{"OTIO_SCHEMA": "Timeline.1", "name": "deep", "tracks": ' + head * depth + "]}" * depth + "}"


def nested(levels: int, good: Path) -> str:
    """Compound clips ``levels`` deep (a stack in a track in a stack ...), the shape an editor's nesting makes."""
    head = '{"OTIO_SCHEMA": "Stack.1", "name": "compound", "children": [{"OTIO_SCHEMA": "Track.1", "name": "V1", '
    head += '"kind": "Video", "children": ['
    inner = json.dumps(clip("leaf", good.as_uri(), 0, 24))
    text = timeline(clip("placeholder", "", 0, 1))
    return text.replace(json.dumps(clip("placeholder", "", 0, 1)), head * levels + inner + "]}]}" * levels)


@maker("nested-3000-compound.otio")
def nested_3000(folder: Path, good: Path) -> str:
    return nested(3000, good)


@maker("nested-150-compound.otio")
def nested_150(folder: Path, good: Path) -> str:
    return nested(150, good)


@maker("wide-2000-clips.otio")
def wide_otio(folder: Path, good: Path) -> str:
    """2,000 one-second clips of the good file: big, but a real timeline."""
    return timeline(*(clip(f"c{k}", good.as_uri(), (k % 2) * 12, 24) for k in range(2000)))


@maker("wrong-schema.otio")
def wrong_schema(folder: Path, good: Path) -> str:
    return json.dumps({"OTIO_SCHEMA": "Spreadsheet.7", "cells": [[1, 2], [3, 4]]})


@maker("a-clip-not-a-timeline.otio")
def clip_otio(folder: Path, good: Path) -> str:
    return json.dumps(clip("alone", good.as_uri(), 0, 24))


@maker("not-json.otio")
def not_json(folder: Path, good: Path) -> str:
    return '{"OTIO_SCHEMA": "Timeline.1", "tracks": {{{'


@maker("empty.otio")
def empty_otio(folder: Path, good: Path) -> str:
    return ""


@maker("a-list.otio")
def list_otio(folder: Path, good: Path) -> str:
    return "[1, 2, 3]"


@maker("gap-31-years.otio")
def gap_years(folder: Path, good: Path) -> str:
    gap = {"OTIO_SCHEMA": "Gap.1", "source_range": tr(0, 31 * 365.25 * 86400 * 24)}
    return timeline(gap, clip("after", good.as_uri(), 0, 24))


@maker("negative-duration.otio")
def negative_duration(folder: Path, good: Path) -> str:
    return timeline(clip("backwards", good.as_uri(), 0, -48))


@maker("rate-zero.otio")
def rate_zero(folder: Path, good: Path) -> str:
    return timeline(clip("no rate", good.as_uri(), 0, 24, rate=0.0))


@maker("time-1e308.otio")
def time_huge(folder: Path, good: Path) -> str:
    return timeline(clip("forever", good.as_uri(), 0, 1e308))


LAUGHS = "".join(f'<!ENTITY lol{k} "{f"&lol{k - 1};" * 10}">' for k in range(1, 10))


def fcp7(doctype: str, name: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE xmeml [{doctype}]>
<xmeml version="4"><sequence id="s1"><name>{name}</name><duration>48</duration>
<rate><timebase>24</timebase><ntsc>FALSE</ntsc></rate>
<media><video><track><clipitem id="c1"><name>{name}</name><duration>48</duration>
<rate><timebase>24</timebase><ntsc>FALSE</ntsc></rate><start>0</start><end>48</end><in>0</in><out>48</out>
</clipitem></track></video></media></sequence></xmeml>
"""


@maker("billion-laughs.xml")
def billion_laughs(folder: Path, good: Path) -> str:
    return fcp7('<!ENTITY lol0 "lol">' + LAUGHS, "&lol9;")


@maker("xxe.xml")
def xxe(folder: Path, good: Path) -> str:
    secret = folder / "secret.txt"
    secret.write_text("THE-SECRET-OF-THE-HOST")
    return fcp7(f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">', "&xxe;")


def fcpx(duration: str, prolog: str = "", name: str = "a") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml{prolog}>
<fcpxml version="1.8"><resources>
<format id="r1" frameDuration="1/24s" width="64" height="48"/>
<asset id="r2" name="{name}" src="file:///nowhere/a.mp4" start="0s" duration="{duration}" hasVideo="1" format="r1"/>
</resources><library><event name="e"><project name="p"><sequence format="r1" duration="{duration}" tcStart="0s">
<spine><asset-clip ref="r2" offset="0s" name="{name}" duration="{duration}" start="0s"/></spine>
</sequence></project></event></library></fcpxml>
"""


@maker("bad-duration.fcpxml")
def fcpx_bad_duration(folder: Path, good: Path) -> str:
    return fcpx("two seconds")


@maker("negative-duration.fcpxml")
def fcpx_negative(folder: Path, good: Path) -> str:
    return fcpx("-48/24s")


@maker("zero-denominator.fcpxml")
def fcpx_zero_denominator(folder: Path, good: Path) -> str:
    return fcpx("48/0s")


@maker("billion-laughs.fcpxml")
def fcpx_laughs(folder: Path, good: Path) -> str:
    return fcpx("48/24s", ' [<!ENTITY lol0 "lol">' + LAUGHS + "]", "&lol9;")


@maker("garbage.edl")
def garbage_edl(folder: Path, good: Path) -> bytes:
    return noise(4096, 3)


@maker("bad-timecode.edl")
def bad_timecode_edl(folder: Path, good: Path) -> str:
    event = "001  AX       V     C        99:99:99:99 00:00:0x:00 00:00:00:00 -1:00:00:00"
    return f"TITLE: hostile\nFCM: NON-DROP FRAME\n\n{event}\n"


@maker("random.otioz")
def random_otioz(folder: Path, good: Path) -> bytes:
    return b"PK\x03\x04" + noise(4096, 4)


@maker("zip-slip.otioz")
def zip_slip(folder: Path, good: Path) -> bytes:
    """An .otioz whose media member climbs out of the folder it is unpacked into."""
    path = folder / "zip-slip.tmp"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("version.txt", "1.0.0")
        z.writestr("content.otio", timeline(clip("out", "media/../../../escaped.mp4", 0, 24)))
        z.writestr("media/../../../escaped.mp4", good.read_bytes())
    data = path.read_bytes()
    path.unlink()
    return data


@maker("timeline.xyz")
def unknown_extension(folder: Path, good: Path) -> str:
    return "neither a timeline nor anything else\n"


# ---- model folders: each damages a copy of a tiny checkpoint in place ----------------------------------------------

SENTINEL = "code-ran-from-a-model-folder"
"""The file any code planted in a model folder would write: a case fails if it appears."""


def _without_sha(folder: Path) -> None:
    card = folder / "nbedit.toml"
    card.write_text("\n".join(line for line in card.read_text().splitlines() if not line.startswith("sha256")))


class _Payload:
    """Unpickling this runs a shell command: what a hostile .bin checkpoint does."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def pickled(folder: Path) -> None:
    _without_sha(folder)
    part = folder / "transformer"
    (part / "diffusion_pytorch_model.safetensors").unlink()
    (part / "diffusion_pytorch_model.bin").write_bytes(pickle.dumps(_Payload(folder / SENTINEL)))


def wrong_sha256(folder: Path) -> None:
    card = folder / "nbedit.toml"
    lines = [line for line in card.read_text().splitlines() if not line.startswith("sha256")]
    card.write_text("\n".join([f'sha256 = "{"0" * 64}"', *lines]))


def truncated(folder: Path) -> None:
    _without_sha(folder)
    weights = folder / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])


def lying_header(folder: Path) -> None:
    """A safetensors header length far beyond the file."""
    _without_sha(folder)
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(struct.pack("<Q", 2**40) + data[8:])


def offsets_beyond(folder: Path) -> None:
    """A header that parses and whose tensors end past the data the file holds."""
    _without_sha(folder)
    weights = folder / "vae" / "diffusion_pytorch_model.safetensors"
    data = weights.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"][1] += 10**9
    body = json.dumps(header).encode()
    weights.write_bytes(struct.pack("<Q", len(body)) + body + data[8 + n :])


def class_from_os(folder: Path) -> None:
    """model_index.json naming ``os.system`` as a component's class."""
    _without_sha(folder)
    index = folder / "model_index.json"
    spec = json.loads(index.read_text())
    spec["scheduler"] = ["os", "system"]
    index.write_text(json.dumps(spec))


def custom_pipeline_code(folder: Path) -> None:
    """A pipeline class from a .py file in the folder, which writes the sentinel when it is imported."""
    _without_sha(folder)
    (folder / "evil.py").write_text(f"open({str(folder / SENTINEL)!r}, 'w').close()\nclass EvilPipeline: ...\n")
    index = folder / "model_index.json"
    spec = json.loads(index.read_text())
    spec["_class_name"] = ["evil", "EvilPipeline"]
    index.write_text(json.dumps(spec))


def config_code(folder: Path) -> None:
    """The text encoder's config.json mapping AutoModel to a class in a .py file beside it (transformers'
    remote code), which writes the sentinel when it is imported."""
    _without_sha(folder)
    part = folder / "text_encoder"
    (part / "evil.py").write_text(f"open({str(folder / SENTINEL)!r}, 'w').close()\nclass EvilModel: ...\n")
    config = json.loads((part / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}
    (part / "config.json").write_text(json.dumps(config))
    index = folder / "model_index.json"
    spec = json.loads(index.read_text())
    spec["text_encoder"] = ["transformers", "AutoModel"]
    index.write_text(json.dumps(spec))


def card_not_toml(folder: Path) -> None:
    (folder / "nbedit.toml").write_text("task = [unclosed")


def empty_folder(folder: Path) -> None:
    import shutil

    for child in folder.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "LTXPipeline"}))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "pickled-bin": pickled,
    "wrong-sha256": wrong_sha256,
    "truncated-safetensors": truncated,
    "lying-header": lying_header,
    "offsets-beyond-the-file": offsets_beyond,
    "os-system-as-class": class_from_os,
    "pipeline-code-in-the-folder": custom_pipeline_code,
    "code-in-a-config": config_code,
    "card-not-toml": card_not_toml,
    "index-and-nothing-else": empty_folder,
}
"""Damage name -> what it does to a copy of the tiny LTX checkpoint."""


def build(folder: Path) -> dict[str, Path]:
    """Write every corpus file into ``folder``; {name: path}, with the good video as "good.mp4"."""
    folder.mkdir(parents=True, exist_ok=True)
    good = good_video(folder)
    files = {"good.mp4": good, "audio-only.wav": audio_only(folder)}
    for name, make in MAKERS.items():
        files[name] = make(folder, good)
    return files


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")
    for name, path in build(out).items():
        print(f"{path.stat().st_size:>10}  {name}")
