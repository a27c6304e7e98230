"""The request loop: one native-messaging connection, many requests, answered in order.

Every request gets exactly one reply with the request's `id`. Bad input becomes an error
envelope (host/protocol.py, codes in PROTOCOL.md) and the loop goes on; only a stream that
cannot be trusted any more (an over-long frame, a truncated frame) or a request that overran
its time ends it. Each request runs on a worker (host/worker.py) through the Handler
(host/handler.py); the solver is created once, lazily (host/lazy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from host import limits, log, protocol, worker
from host.caller import Caller
from host.errors import Code
from host.handler import Handler
from host.lazy import LazySolver

# Exit codes of serve(); the browser ignores them, the log and tests read them.
EXIT_OK = 0  # stdin closed between frames
EXIT_TRUNCATED = 1  # stdin closed inside a frame
EXIT_FRAME_TOO_LARGE = 2
EXIT_NOT_ALLOWED = 3
EXIT_TIMEOUT = 4  # a request overran: its thread may still be running, so the process must go
EXIT_BROKEN_PIPE = 5  # the browser stopped reading


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
        self.solver = LazySolver(load_solver)
        self._solved = False  # the last frame answered was a solve request
        self.handler = Handler(self.solver, caller)
        self.timeout = timeout
        self.caller = caller
        self.caller_allowed = caller_allowed
        self.log = log.get()

    def preload(self) -> None:
        """Start loading the models now, while the browser prepares its first request."""
        self.solver.preload()

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
                self._write(writer, protocol.error_reply(None, Code.FRAME_TOO_LARGE, str(exc)))
                return EXIT_FRAME_TOO_LARGE
            if not self.caller_allowed:
                who = self.caller.extension_id if self.caller else "?"
                self.log.warning("refused caller %r", who[:200])
                message = f"extension {who[:200]!r} is not allowed to use this host"
                self._write(writer, protocol.error_reply(None, Code.NOT_ALLOWED, message))
                return EXIT_NOT_ALLOWED
            reply, finished = self.answer(payload)
            if not self._write(writer, reply):
                return EXIT_BROKEN_PIPE
            if self._solved and finished:
                self.solver.answered()  # the first answer is out: the other models may load
            if not finished:
                return EXIT_TIMEOUT

    def answer(self, payload: bytes) -> tuple[dict, bool]:
        """The reply to one frame, and whether its work finished within the timeout.

        Parsing happens here; decoding and solving run on a worker thread so that a request
        that hangs (a pathological image, a stuck model) still gets a TIMEOUT reply.
        """
        self._solved = False
        try:
            request = protocol.parse_payload(payload)
        except protocol.RequestError as exc:
            self.log.info("request %r: %s %s", exc.request_id, exc.code, exc.message[:200])
            return protocol.error_reply(exc.request_id, exc.code, exc.message), True
        # Loading is not counted in the request's time: the solver once per process, then the
        # models the request needs (a solve of a named kind: that kind's; status: every one).
        if request.action == protocol.SOLVE:
            self._solved = True
            self.solver.prepare([request.kind] if request.kind else [])
        elif not request.brief:  # a brief status is the caller's version check: no models
            self.solver.prepare(None)
        return worker.run(self.handler.handle, request, self.timeout)

    def _write(self, writer: BinaryIO, reply: dict) -> bool:
        try:
            problem = protocol.write_frame(writer, reply)
        except (BrokenPipeError, ConnectionError, OSError) as exc:
            self.log.warning("cannot write reply (%s); the browser closed the port", exc)
            return False
        if problem:
            self.log.error("%s", problem)
        return True
