"""The code twin of PROTOCOL.md: frames, the version, requests and their validation, replies.

Frames are a 4-byte native-order length, then that many bytes of UTF-8 JSON. The stream is the
only channel to the browser, so this module also owns stdout: `claim_stdio` moves the real
stdout somewhere only the host can write, and points file descriptor 1 (and `sys.stdout`) at
stderr, so a stray print from Python or C++ code can never corrupt a frame; `write_frame` is
the one way a frame is written.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import sys
from typing import Any, BinaryIO, NamedTuple

from host import limits
from host.errors import Code, HostError
from host.kinds import KINDS
from host.limits import MAX_FRAME_BYTES, MAX_REPLY_BYTES

PROTOCOL_VERSION = 1

SOLVE = "solve"
STATUS = "status"
KEEP = "keep"  # store a labeled captcha for retraining (host/keep.py), or delete them all
ACTIONS = (SOLVE, STATUS, KEEP)

USER = "user"  # a `keep` answer the user typed (or corrected) and AIS accepted
HELPER = "helper"  # a `keep` answer the helper filled and AIS accepted: the model's own label
SOURCES = (USER, HELPER)

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


def write_frame(stream: BinaryIO, reply: dict) -> str | None:
    """Write one reply frame and flush it (the browser waits for each reply); OSError passes.

    A reply that cannot be encoded (over MAX_REPLY_BYTES, or not JSON) is a bug: an INTERNAL
    error with the same id goes instead, and the reason is returned for the log.
    """
    problem = None
    try:
        frame = encode_frame(reply)
    except (ValueError, TypeError) as exc:
        problem = f"cannot encode reply: {exc}"
        try:
            frame = encode_frame(error_reply(reply.get("id"), Code.INTERNAL, problem))
        except (ValueError, TypeError):
            frame = encode_frame(error_reply(None, Code.INTERNAL, "cannot encode reply"))
    stream.write(frame)
    stream.flush()
    return problem


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


# -- requests -------------------------------------------------------------------------------


class Request(NamedTuple):  # not a dataclass: ~10x cheaper at import (BENCHMARKS.md)
    id: str | int | float | None
    action: str
    images: tuple[str, ...] = ()
    kind: str | None = None
    method: str = AUTO
    answer: str | None = None  # keep: the accepted answer, exactly the kind's digits
    source: str | None = None  # keep: one of SOURCES
    delete: bool = False  # keep: delete every kept captcha instead
    brief: bool = False  # status: protocol and version only, without waiting for the models


class RequestError(HostError):
    """A HostError about a request, carrying its id when the id could be read."""

    def __init__(self, request_id: object, code: Code, message: str) -> None:
        super().__init__(code, message)
        self.request_id = request_id


def valid_id(value: object) -> bool:
    """Ids are echoed verbatim, so they must be small and valid JSON: bounded strings, finite
    numbers that survive a JavaScript double (|n| <= 2**53), or null."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value) <= limits.MAX_ID_CHARS
    if isinstance(value, int):
        return abs(value) <= 2**53
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) <= 2**53
    return False


def check_kind(kind: object) -> str | None:
    """`kind` if it is null or a known kind; HostError BAD_REQUEST otherwise."""
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise HostError(Code.BAD_REQUEST, f"kind must be one of {', '.join(KINDS)}")
    return kind


def check_method(method: object) -> str:
    """`method` if it is one of METHODS; HostError BAD_REQUEST otherwise."""
    if not isinstance(method, str) or method not in METHODS:
        raise HostError(Code.BAD_REQUEST, f"method must be one of {', '.join(METHODS)}")
    return method


def parse_payload(payload: bytes) -> Request:
    """The Request in one frame's payload; RequestError (BAD_JSON, BAD_REQUEST...) otherwise."""
    try:
        message = decode_payload(payload)
    except ValueError as exc:
        raise RequestError(None, Code.BAD_JSON, str(exc)) from exc
    return parse_request(message)


def parse_request(message: object) -> Request:
    """A validated Request, or RequestError (carrying the id when it could be read)."""
    if not isinstance(message, dict):
        raise RequestError(None, Code.BAD_JSON, "a request must be a JSON object")
    request_id = message.get("id")
    if not valid_id(request_id):
        raise RequestError(
            None,
            Code.BAD_REQUEST,
            f"id must be a string of at most {limits.MAX_ID_CHARS} characters or a number",
        )

    def fail(code: Code, text: str) -> RequestError:
        return RequestError(request_id, code, text)

    version = message.get("v", PROTOCOL_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail(Code.BAD_REQUEST, "v must be a positive integer")
    if version > PROTOCOL_VERSION:
        raise fail(Code.UNSUPPORTED_VERSION, f"this host speaks protocol {PROTOCOL_VERSION}")
    action = message.get("action")
    if not isinstance(action, str):
        raise fail(Code.BAD_REQUEST, "action must be a string")
    if action == STATUS:
        brief = message.get("brief", False)
        if not isinstance(brief, bool):
            raise fail(Code.BAD_REQUEST, "brief must be true or false")
        return Request(request_id, action, brief=brief)
    if action == KEEP:
        try:
            return parse_keep(request_id, message)
        except HostError as exc:
            raise fail(exc.code, exc.message) from None
    if action != SOLVE:
        known = ", ".join(sorted(ACTIONS))
        raise fail(Code.UNKNOWN_ACTION, f"unknown action {action[:50]!r}; known: {known}")

    if ("image" in message) == ("images" in message):
        raise fail(Code.BAD_REQUEST, "solve needs exactly one of image or images")
    if "image" in message:
        images = [message["image"]]
    else:
        images = message["images"]
        if not isinstance(images, list) or not 1 <= len(images) <= limits.MAX_IMAGES:
            raise fail(
                Code.BAD_REQUEST, f"images must be a list of 1 to {limits.MAX_IMAGES} strings"
            )
    if not all(isinstance(text, str) for text in images):
        raise fail(Code.BAD_REQUEST, "each image must be a string")
    try:
        kind = check_kind(message.get("kind"))
        method = check_method(message.get("method", AUTO))
    except HostError as exc:
        raise fail(exc.code, exc.message) from None
    return Request(request_id, action, tuple(images), kind, method)


_DIGITS = re.compile(r"[0-9]+")


def parse_keep(request_id: object, message: dict) -> Request:
    """A `keep` request: `delete: true` alone, or kind + answer + image + source."""
    delete = message.get("delete", False)
    if not isinstance(delete, bool):
        raise HostError(Code.BAD_REQUEST, "delete must be true or false")
    if delete:
        return Request(request_id, KEEP, delete=True)
    kind = message.get("kind")
    if kind is None:
        raise HostError(Code.BAD_REQUEST, f"keep needs a kind: one of {', '.join(KINDS)}")
    check_kind(kind)
    digits = KINDS[kind].digits
    answer = message.get("answer")
    if not isinstance(answer, str) or len(answer) != digits or not _DIGITS.fullmatch(answer):
        raise HostError(Code.BAD_REQUEST, f"answer must be {digits} digits 0-9 for {kind}")
    source = message.get("source")
    if not isinstance(source, str) or source not in SOURCES:
        raise HostError(Code.BAD_REQUEST, f"source must be one of {', '.join(SOURCES)}")
    image = message.get("image")
    if not isinstance(image, str):
        raise HostError(Code.BAD_REQUEST, "keep needs one image (a string)")
    return Request(request_id, KEEP, (image,), kind, answer=answer, source=source)


# -- replies --------------------------------------------------------------------------------


def ok_reply(request_id: object, result: dict[str, Any]) -> dict:
    return {"v": PROTOCOL_VERSION, "id": request_id, "ok": True, "result": result}


def error_reply(request_id: object, code: Code, message: str) -> dict:
    """The error envelope; an id that is not valid is replaced by null, the message bounded."""
    return {
        "v": PROTOCOL_VERSION,
        "id": request_id if valid_id(request_id) else None,
        "ok": False,
        "error": {"code": str(code), "message": message[:500]},
    }
