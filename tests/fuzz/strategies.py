"""Hypothesis strategies for hostile native-messaging input: frames, JSON, base64 and PNGs.

PNG inputs start from real-looking seeds (synthetic captchas of both kinds, every colour
mode, an interlaced one) and are mutated: bytes flipped, cut, inserted, chunks repeated, and
the declared width and height rewritten (decompression bombs).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from host import limits
from training import synth


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _mostly(common: st.SearchStrategy, rare: st.SearchStrategy) -> st.SearchStrategy:
    """`common` about 7 times in 8."""
    return st.integers(0, 7).flatmap(lambda n: rare if n == 0 else common)


def _seeds() -> list[bytes]:
    rng = np.random.default_rng(2024)
    seeds = []
    for kind in ("ais6", "ais3"):
        for _ in range(3):
            rgb, _ = synth.generate(kind, rng)
            seeds.append(synth.png_bytes(rgb, kind))
    rgb, _ = synth.generate("ais6", rng)
    for mode in ("RGBA", "L", "LA", "1", "I;16"):
        seeds.append(_png(Image.fromarray(rgb).convert(mode)))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 1)  # interlaced grey 8x8
    widths = (1, 1, 2, 2, 2, 4, 4, 4, 4, 4, 4, 8, 8, 8, 8)  # rows of the 7 passes
    raw = b"".join(b"\0" + bytes(range(w)) for w in widths)
    seeds.append(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )
    return seeds


SEEDS = _seeds()


@st.composite
def png_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "size", "repeat", "crc"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "size" and len(data) >= 24:
            width = draw(st.sampled_from([0, 1, 42, 104, 1000, 1001, 65535, 2**31 - 1, 2**32 - 1]))
            height = draw(st.sampled_from([0, 1, 30, 32, 1000, 65535, 2**31 - 1]))
            data[16:24] = struct.pack(">II", width, height)
        elif op == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        elif op == "crc" and len(data) >= 33:
            body = bytes(data[12:29])
            data[29:33] = struct.pack(">I", zlib.crc32(body))  # keep IHDR valid after "size"
    return bytes(data)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


image_strings = _mostly(
    st.one_of(
        png_bytes().map(_b64),
        png_bytes().map(lambda d: "data:image/png;base64," + _b64(d)),
    ),
    st.one_of(
        png_bytes().map(lambda d: _b64(d)[: len(_b64(d)) // 2]),
        st.binary(max_size=300).map(_b64),
        st.text(max_size=200),
        st.sampled_from(["", "=", "data:", "data:image/png;base64,", "data:image/png,"]),
        st.just("A" * (limits.MAX_IMAGE_BYTES // 3 * 4 + 4)),
    ),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# Mostly well-formed, so that most inputs get past validation to the decoder and the models.
request_ids = st.one_of(
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.text(max_size=12),
    st.integers(-(2**60), 2**60),
    st.text(max_size=300),
    st.floats(),
    json_values,
)


@st.composite
def requests(draw: st.DrawFn) -> dict:
    """A request object: mostly well-formed solve/status, with any field possibly wrong."""
    message: dict = {}
    if draw(st.integers(0, 5)):
        message["id"] = draw(request_ids)
    if draw(st.integers(0, 9)) == 0:
        message["v"] = draw(st.one_of(st.integers(-3, 5), json_values))
    message["action"] = draw(
        _mostly(
            st.sampled_from(["solve"] * 6 + ["status"]),
            st.one_of(st.text(max_size=10), json_values),
        )
    )
    choice = draw(st.integers(0, 5))
    if choice < 3:
        message["image"] = draw(image_strings)
    elif choice < 5:
        message["images"] = draw(
            _mostly(
                st.lists(image_strings, min_size=1, max_size=3),
                st.lists(image_strings, max_size=10),
            )
        )
    if draw(st.booleans()):
        message["kind"] = draw(_mostly(st.sampled_from(["ais6", "ais3", None]), json_values))
    if draw(st.booleans()):
        message["method"] = draw(_mostly(st.sampled_from(["auto", "ctc", "seg"]), json_values))
    if draw(st.integers(0, 3)) == 0:
        extra = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=2))
        for key, value in extra.items():
            message.setdefault(key, value)
    return message


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """One frame's payload: a request as JSON, or JSON or bytes mangled."""
    kind = draw(st.integers(0, 9))
    if kind < 6:
        text = json.dumps(draw(requests()), allow_nan=True)
        return text.encode("utf-8", "surrogatepass")
    if kind < 8:
        data = bytearray(json.dumps(draw(requests())).encode())
        for _ in range(draw(st.integers(1, 3))):
            if data:
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == 8:
        return json.dumps(draw(json_values)).encode()
    return draw(st.binary(max_size=200))


def frame(payload: bytes) -> bytes:
    return struct.pack("=I", len(payload)) + payload


@st.composite
def raw_streams(draw: st.DrawFn) -> bytes:
    """A whole stdin: good frames, then possibly a lying length, a cut frame or junk."""
    data = b"".join(frame(p) for p in draw(st.lists(payloads(), max_size=3)))
    tail = draw(st.integers(0, 4))
    if tail == 1:  # a length over the limit
        data += struct.pack("=I", draw(st.integers(limits.MAX_FRAME_BYTES + 1, 2**32 - 1)))
    elif tail == 2:  # a frame cut short
        whole = frame(draw(payloads()))
        data += whole[: draw(st.integers(0, max(0, len(whole) - 1)))]
    elif tail == 3:  # random bytes
        data += draw(st.binary(max_size=64))
    elif tail == 4:  # a length promising more than follows
        data += struct.pack("=I", draw(st.integers(1, 1 << 20))) + draw(st.binary(max_size=32))
    return data
