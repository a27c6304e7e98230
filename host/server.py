"""The request loop: one native-messaging connection, many requests, answered in order.

Every request gets exactly one reply with the request's `id`. Bad input becomes an error
envelope (codes in PROTOCOL.md) and the loop goes on; only a stream that cannot be trusted any
more (an over-long frame, a truncated frame) or a request that overran its time ends it.
"""

from __future__ import annotations

import math
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import host
from host import imageio, limits, log, protocol
from host.caller import Caller
from host.errors import HostError
from host.kinds import KINDS

# Exit codes of serve(); the browser ignores them, the log and tests read them.
EXIT_OK = 0  # stdin closed between frames
EXIT_TRUNCATED = 1  # stdin closed inside a frame
EXIT_FRAME_TOO_LARGE = 2
EXIT_NOT_ALLOWED = 3
EXIT_TIMEOUT = 4  # a request overran: its thread may still be running, so the process must go
EXIT_BROKEN_PIPE = 5  # the browser stopped reading


@dataclass
class _Outcome:
    reply: dict | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Server:
    """Serves requests from `reader` to `writer`. `load_solver` is called once, when first needed.

    `load_solver` returns an object with the Solver contract of docs/ARCHITECTURE.md; when it
    raises, the error is kept: `status` reports it and `solve` answers MODEL_ERROR.
    """

    def __init__(
        self,
        load_solver: Callable[[], Any],
        timeout: float = limits.REQUEST_TIMEOUT_S,
        caller: Caller | None = None,
        caller_allowed: bool = True,
    ) -> None:
        self._load_solver = load_solver
        self._solver: Any = None
        self._solver_error: str | None = None
        self._loaded = False
        self._load_lock = threading.Lock()
        self.timeout = timeout
        self.caller = caller
        self.caller_allowed = caller_allowed
        self.log = log.get()

    # -- the loop ---------------------------------------------------------------------------

    def serve(self, reader: BinaryIO, writer: BinaryIO) -> int:
        """Answer frames until the stream ends; returns one of the EXIT_* codes."""
        while True:
            try:
                payload = protocol.read_frame(reader)
            except protocol.EndOfStream:
                return EXIT_OK
            except protocol.TruncatedFrame as exc:
                self.log.warning("%s; exiting", exc)
                return EXIT_TRUNCATED
            except protocol.FrameTooLarge as exc:
                self.log.warning("%s; replying and exiting", exc)
                self._write(writer, error_reply(None, "FRAME_TOO_LARGE", str(exc)))
                return EXIT_FRAME_TOO_LARGE
            if not self.caller_allowed:
                who = self.caller.extension_id if self.caller else "?"
                self.log.warning("refused caller %r", who[:200])
                message = f"extension {who[:200]!r} is not allowed to use this host"
                self._write(writer, error_reply(None, "NOT_ALLOWED", message))
                return EXIT_NOT_ALLOWED
            reply, finished = self.handle_with_timeout(payload)
            if not self._write(writer, reply):
                return EXIT_BROKEN_PIPE
            if not finished:
                return EXIT_TIMEOUT

    def _write(self, writer: BinaryIO, reply: dict) -> bool:
        try:
            frame = protocol.encode_frame(reply)
        except (ValueError, TypeError) as exc:  # over 1 MB, or a non-JSON value: a bug
            self.log.error("cannot encode reply: %s", exc)
            fallback = error_reply(reply.get("id"), "INTERNAL", f"cannot encode reply: {exc}")
            try:
                frame = protocol.encode_frame(fallback)
            except (ValueError, TypeError):
                frame = protocol.encode_frame(error_reply(None, "INTERNAL", "cannot encode reply"))
        try:
            writer.write(frame)
            writer.flush()
        except (BrokenPipeError, ConnectionError, OSError) as exc:
            self.log.warning("cannot write reply (%s); the browser closed the port", exc)
            return False
        return True

    # -- one request ------------------------------------------------------------------------

    def handle_with_timeout(self, payload: bytes) -> tuple[dict, bool]:
        """The reply to one frame, and whether its work finished within the timeout.

        Parsing happens here; decoding and solving run on a worker thread so that a request
        that hangs (a pathological image, a stuck model) still gets a TIMEOUT reply.
        """
        try:
            request = parse_request(protocol_payload(payload))
        except HostError as exc:
            request_id = exc.request_id if isinstance(exc, RequestError) else None
            self.log.info("request %r: %s %s", request_id, exc.code, exc.message[:200])
            return error_reply(request_id, exc.code, exc.message), True
        self._ensure_solver()  # once per process, and not counted in the request's time
        outcome = _Outcome()

        def work() -> None:
            outcome.reply = self.handle(request)
            outcome.done.set()

        threading.Thread(target=work, name=f"request-{request.id}", daemon=True).start()
        if not outcome.done.wait(self.timeout):
            self.log.error("request %r overran %.1f s; exiting", request.id, self.timeout)
            message = f"request took longer than {self.timeout:g} s; the host will restart"
            return error_reply(request.id, "TIMEOUT", message), False
        assert outcome.reply is not None
        return outcome.reply, True

    def handle(self, request: Request) -> dict:
        """The reply to a parsed request (no timeout); never raises."""
        started = time.perf_counter()
        try:
            if request.action == "status":
                result = self.status()
            else:
                result = self.solve(request)
        except HostError as exc:
            self.log.info("request %r: %s %s", request.id, exc.code, exc.message[:200])
            return error_reply(request.id, exc.code, exc.message)
        except Exception as exc:  # a bug: say so, keep serving
            self.log.error("request %r failed:\n%s", request.id, traceback.format_exc())
            return error_reply(request.id, "INTERNAL", f"{type(exc).__name__}: {exc}")
        self.log.info(
            "request %r: %s ok in %.1f ms",
            request.id,
            request.action,
            (time.perf_counter() - started) * 1000,
        )
        return {"v": protocol.PROTOCOL_VERSION, "id": request.id, "ok": True, "result": result}

    def solve(self, request: Request) -> dict:
        images = [imageio.decode_png(imageio.decode_base64(text)) for text in request.images]
        solver = self._solver_or_error()
        try:
            answer = solver.solve(images, request.kind, request.method)
        except HostError:
            raise
        except Exception as exc:
            self.log.error("solver failed:\n%s", traceback.format_exc())
            message = f"model failed to run: {type(exc).__name__}: {exc}"
            raise HostError("MODEL_ERROR", message) from exc
        return answer.to_dict()

    def status(self) -> dict:
        result: dict[str, Any] = {
            "protocol": protocol.PROTOCOL_VERSION,
            "version": host.__version__,
            "executable": sys.executable,
            "frozen": bool(getattr(sys, "frozen", False)),
            "python": platform.python_version(),
            "caller": self.caller.extension_id if self.caller else None,
            "log": str(log.log_path()),
            "limits": limits_summary(),
        }
        if self._solver is None:
            result.update(runtime=None, models={"error": self._solver_error}, ready=False)
            return result
        details = self._solver.status()
        result["runtime"] = details.get("runtime")
        result["models"] = details.get("models", details)
        result["ready"] = models_ready(result["models"])
        for key, value in details.items():
            result.setdefault(key, value)
        return result

    # -- the solver -------------------------------------------------------------------------

    def preload(self) -> None:
        """Start loading the models now, while the browser prepares its first request."""
        threading.Thread(target=self._ensure_solver, name="load-models", daemon=True).start()

    def _ensure_solver(self) -> None:
        with self._load_lock:  # the first request waits here for a preload under way
            if not self._loaded:
                self._load()
                self._loaded = True

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            self._solver = self._load_solver()
        except Exception as exc:  # missing runtime, missing or corrupt models folder
            self._solver_error = f"{type(exc).__name__}: {exc}"[:500]
            self.log.error("models not loaded: %s", self._solver_error)
        else:
            ms = (time.perf_counter() - started) * 1000
            self.log.info("models loaded in %.0f ms", ms)

    def _solver_or_error(self) -> Any:
        if self._solver is None:
            raise HostError("MODEL_ERROR", f"models not loaded: {self._solver_error}")
        return self._solver


# -- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    id: str | int | float | None
    action: str
    images: tuple[str, ...] = ()
    kind: str | None = None
    method: str = protocol.AUTO


def protocol_payload(payload: bytes) -> object:
    try:
        return protocol.decode_payload(payload)
    except ValueError as exc:
        raise HostError("BAD_JSON", str(exc)) from exc


class RequestError(HostError):
    """A HostError about a request, carrying its id when the id could be read."""

    def __init__(self, request_id: object, code: str, message: str) -> None:
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


def parse_request(message: object) -> Request:
    """A validated Request, or HostError (carrying the id when it could be read)."""
    if not isinstance(message, dict):
        raise RequestError(None, "BAD_JSON", "a request must be a JSON object")
    request_id = message.get("id")
    if not valid_id(request_id):
        raise RequestError(
            None,
            "BAD_REQUEST",
            f"id must be a string of at most {limits.MAX_ID_CHARS} characters or a number",
        )

    def fail(code: str, text: str) -> RequestError:
        return RequestError(request_id, code, text)

    version = message.get("v", protocol.PROTOCOL_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail("BAD_REQUEST", "v must be a positive integer")
    if version > protocol.PROTOCOL_VERSION:
        raise fail("UNSUPPORTED_VERSION", f"this host speaks protocol {protocol.PROTOCOL_VERSION}")
    action = message.get("action")
    if not isinstance(action, str):
        raise fail("BAD_REQUEST", "action must be a string")
    if action == "status":
        return Request(request_id, action)
    if action != "solve":
        raise fail("UNKNOWN_ACTION", f"unknown action {action[:50]!r}; known: solve, status")

    if ("image" in message) == ("images" in message):
        raise fail("BAD_REQUEST", "solve needs exactly one of image or images")
    if "image" in message:
        images = [message["image"]]
    else:
        images = message["images"]
        if not isinstance(images, list) or not 1 <= len(images) <= limits.MAX_IMAGES:
            raise fail("BAD_REQUEST", f"images must be a list of 1 to {limits.MAX_IMAGES} strings")
    if not all(isinstance(text, str) for text in images):
        raise fail("BAD_REQUEST", "each image must be a string")
    kind = message.get("kind")
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise fail("BAD_REQUEST", f"kind must be one of {', '.join(KINDS)}")
    method = message.get("method", protocol.AUTO)
    if not isinstance(method, str) or method not in protocol.METHODS:
        raise fail("BAD_REQUEST", f"method must be one of {', '.join(protocol.METHODS)}")
    return Request(request_id, action, tuple(images), kind, method)


def error_reply(request_id: object, code: str, message: str) -> dict:
    return {
        "v": protocol.PROTOCOL_VERSION,
        "id": request_id if valid_id(request_id) else None,
        "ok": False,
        "error": {"code": code, "message": message[:500]},
    }


def limits_summary() -> dict:
    return {
        "frame_bytes": limits.MAX_FRAME_BYTES,
        "reply_bytes": limits.MAX_REPLY_BYTES,
        "image_bytes": limits.MAX_IMAGE_BYTES,
        "pixels": limits.MAX_PIXELS,
        "images": limits.MAX_IMAGES,
        "timeout_s": limits.request_timeout(),
    }


def models_ready(models: object) -> bool:
    """True when no model entry reports an error (the Solver's status shape, read loosely)."""
    if not isinstance(models, dict) or not models or "error" in models:
        return False
    for entry in models.values():
        if isinstance(entry, dict) and (entry.get("error") or entry.get("loaded") is False):
            return False
    return True
