"""One parsed request -> its reply: `solve` decodes the images and asks the solver, `status`
describes the host. No I/O and no timeout here (host/server.py and host/worker.py)."""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

import host
from host import imageio, limits, log, paths, protocol
from host.caller import Caller
from host.errors import Code, HostError
from host.keep import Keeper
from host.kinds import KINDS
from host.lazy import LazySolver


class Handler:
    def __init__(
        self, solver: LazySolver, caller: Caller | None = None, keeper: Keeper | None = None
    ) -> None:
        self.solver = solver
        self.caller = caller
        self.keeper = keeper or Keeper(paths.captchas_dir())
        self.log = log.get()

    def handle(self, request: protocol.Request) -> dict:
        """The reply to a parsed request; an Exception becomes an error reply."""
        started = time.perf_counter()
        try:
            if request.action == protocol.STATUS:
                result = self.brief_status() if request.brief else self.status()
            elif request.action == protocol.KEEP:
                result = self.keep(request)
            else:
                result = self.solve(request)
        except HostError as exc:
            self.log.info("request %r: %s %s", request.id, exc.code, exc.message[:200])
            return protocol.error_reply(request.id, exc.code, exc.message)
        except Exception as exc:  # a bug: say so, keep serving
            self.log.error("request %r failed:\n%s", request.id, traceback.format_exc())
            return protocol.error_reply(request.id, Code.INTERNAL, f"{type(exc).__name__}: {exc}")
        ms = (time.perf_counter() - started) * 1000
        self.log.info("request %r: %s ok in %.1f ms", request.id, request.action, ms)
        return protocol.ok_reply(request.id, result)

    def solve(self, request: protocol.Request) -> dict:
        images = [imageio.decode_png(imageio.decode_base64(text)) for text in request.images]
        solver = self.solver.get()
        try:
            answer = solver.solve(images, request.kind, request.method)
        except HostError:
            raise
        except Exception as exc:
            self.log.error("solver failed:\n%s", traceback.format_exc())
            message = f"model failed to run: {type(exc).__name__}: {exc}"
            raise HostError(Code.MODEL_ERROR, message) from exc
        return answer.to_dict()

    def keep(self, request: protocol.Request) -> dict:
        """Store one labeled captcha (host/keep.py), or delete them all."""
        if request.delete:
            return self.keeper.delete()
        assert request.kind and request.answer and request.source  # parse_keep checked them
        kind = KINDS[request.kind]
        return self.keeper.keep(kind, request.answer, request.source, request.images[0])

    def brief_status(self) -> dict:
        """`status` with `brief: true`: what a caller's version check needs, answered without
        waiting for the models (the extension asks it before its first solve; a full status
        loads every model first, and the first solve would wait behind it)."""
        return {"protocol": protocol.PROTOCOL_VERSION, "version": host.__version__}

    def status(self) -> dict:
        import platform  # here, not at the top: a cold host's first answer does not need it

        result: dict[str, Any] = {
            **self.brief_status(),
            "executable": sys.executable,
            "frozen": bool(getattr(sys, "frozen", False)),
            "python": platform.python_version(),
            "caller": self.caller.extension_id if self.caller else None,
            "log": str(log.log_path()),
            "limits": limits_summary(),
            "kept": self.kept(),
        }
        result.update(self.solver.status())
        return result

    def kept(self) -> dict:
        """The kept captchas' folder and counts; a folder that cannot be read is reported."""
        try:
            return self.keeper.counts()
        except OSError as exc:
            return {"folder": str(self.keeper.root), "error": f"{type(exc).__name__}: {exc}"}


def limits_summary() -> dict:
    return {
        "frame_bytes": limits.MAX_FRAME_BYTES,
        "reply_bytes": limits.MAX_REPLY_BYTES,
        "image_bytes": limits.MAX_IMAGE_BYTES,
        "pixels": limits.MAX_IMAGE_PIXELS,
        "images": limits.MAX_IMAGES,
        "timeout_s": limits.request_timeout(),
        "kept_files": limits.MAX_KEPT_FILES,
    }
