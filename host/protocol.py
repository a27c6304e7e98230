"""Native-messaging framing: a 4-byte native-order length, then that many bytes of UTF-8 JSON.

The stream is the only channel to the browser, so this module also owns stdout: `claim_stdio`
moves the real stdout somewhere only the host can write, and points file descriptor 1 (and
`sys.stdout`) at stderr, so a stray print from Python or C++ code can never corrupt a frame.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from typing import BinaryIO

from host.limits import MAX_FRAME_BYTES, MAX_REPLY_BYTES

PROTOCOL_VERSION = 1

AUTO = "auto"  # both models, combined by the solver
METHODS = (AUTO, "ctc", "seg")  # a request's `method`; the first is the default

_HEADER = struct.Struct("=I")  # native byte order, unsigned 32-bit, no padding


class EndOfStream(Exception):
    """stdin closed cleanly between frames: the browser closed the port."""


class TruncatedFrame(Exception):
    """stdin closed in the middle of a frame."""


class FrameTooLarge(Exception):
    """The declared length is over the limit; the rest of the stream cannot be trusted."""

    def __init__(self, length: int) -> None:
        super().__init__(f"declared frame length {length} is over the limit of {MAX_FRAME_BYTES}")
        self.length = length


def _read_exactly(stream: BinaryIO, count: int) -> bytes:
    """`count` bytes, or fewer only when the stream ends first."""
    chunks = []
    remaining = count
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO, limit: int = MAX_FRAME_BYTES) -> bytes:
    """The next frame's payload. Raises EndOfStream, TruncatedFrame or FrameTooLarge.

    The length is checked before the payload is read, so memory stays bounded by `limit`.
    """
    header = _read_exactly(stream, _HEADER.size)
    if not header:
        raise EndOfStream
    if len(header) < _HEADER.size:
        raise TruncatedFrame(f"stream ended inside a length header ({len(header)} of 4 bytes)")
    (length,) = _HEADER.unpack(header)
    if length > limit:
        raise FrameTooLarge(length)
    payload = _read_exactly(stream, length)
    if len(payload) < length:
        raise TruncatedFrame(f"stream ended after {len(payload)} of {length} payload bytes")
    return payload


def encode_frame(message: dict) -> bytes:
    """The bytes of one frame; ValueError if the JSON would be over MAX_REPLY_BYTES.

    `allow_nan=False`: NaN and Infinity are not JSON, and the browser would reject the frame.
    `ensure_ascii`: a string echoed from the request may hold a lone surrogate (valid as a JSON
    escape, not encodable as UTF-8); escaped, it goes back exactly as it came.
    """
    payload = json.dumps(message, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    data = payload.encode("utf-8")
    if len(data) > MAX_REPLY_BYTES:
        raise ValueError(f"reply of {len(data)} bytes is over the limit of {MAX_REPLY_BYTES}")
    return _HEADER.pack(len(data)) + data


def write_frame(stream: BinaryIO, message: dict) -> None:
    """Write one frame and flush it: the browser waits for each reply."""
    stream.write(encode_frame(message))
    stream.flush()


def decode_payload(payload: bytes) -> object:
    """The JSON value of a payload; ValueError when it is not UTF-8 JSON.

    Deep nesting (RecursionError) and over-long integers (ValueError) are reported the same way.
    """
    try:
        text = payload.decode("utf-8")
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"frame is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    except ValueError as exc:
        raise ValueError(f"frame is not JSON: {str(exc)[:200]}") from exc


def claim_stdio() -> tuple[BinaryIO, BinaryIO]:
    """Take the protocol's stdin and stdout for the host alone; returns (reader, writer).

    File descriptor 1 is re-pointed at stderr and fd 0 at the null device, at the OS level,
    so output from C/C++ libraries (TFLite logs to stdout on some builds) and accidental reads
    cannot touch the protocol stream; `sys.stdout` becomes stderr for the same reason.
    """
    if sys.stdout is not None:
        sys.stdout.flush()
    out_fd = os.dup(1)
    in_fd = os.dup(0)
    os.dup2(2, 1)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.close(null_fd)
    if sys.platform == "win32":
        import msvcrt  # frames are binary: no "\n" -> "\r\n" translation

        msvcrt.setmode(out_fd, os.O_BINARY)
        msvcrt.setmode(in_fd, os.O_BINARY)
    sys.stdout = sys.stderr
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: PTH123 - lives with the process
    reader = os.fdopen(in_fd, "rb", buffering=0)
    writer = os.fdopen(out_fd, "wb", buffering=0)
    return reader, writer
