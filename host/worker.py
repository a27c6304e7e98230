"""One request on a worker thread with a time limit, so a request that hangs still gets a reply.

Whatever the request dies of, the reply comes at once: `SystemExit` or `KeyboardInterrupt`
raised inside it (seen: PyInstaller's lazy import failing after the bundle was deleted under
a running host) is caught too, and the thread always says it is done.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from host import log, protocol
from host.errors import Code


class _Outcome:  # not a dataclass: cheaper at import (docs/BENCHMARKS.md, issue 13)
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.reply: dict | None = None
        self.done = threading.Event()


def run(
    handle: Callable[[protocol.Request], dict], request: protocol.Request, timeout: float
) -> tuple[dict, bool]:
    """`handle(request)`'s reply, and whether it finished within `timeout` seconds.

    Past the timeout the reply is TIMEOUT and the thread is abandoned (a daemon: the caller
    must end the process, as the thread may still be running model code).
    """
    outcome = _Outcome()

    def work() -> None:
        try:
            outcome.reply = handle(request)
        except BaseException as exc:  # a dead thread must not stall the host
            outcome.reply = protocol.error_reply(
                request.id, Code.INTERNAL, f"request failed: {type(exc).__name__}: {exc}"
            )
            log.get().error("request %r died:\n%s", request.id, traceback.format_exc())
        finally:
            outcome.done.set()

    threading.Thread(target=work, name=f"request-{request.id}", daemon=True).start()
    if not outcome.done.wait(timeout):
        log.get().error("request %r overran %.1f s; exiting", request.id, timeout)
        message = f"request took longer than {timeout:g} s; the host will restart"
        return protocol.error_reply(request.id, Code.TIMEOUT, message), False
    if outcome.reply is None:  # the handler's own error path failed: still one reply
        return protocol.error_reply(request.id, Code.INTERNAL, "request failed"), True
    return outcome.reply, True
