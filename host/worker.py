"""One request on a worker thread with a time limit, so a request that hangs still gets a reply."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from host import log, protocol
from host.errors import Code


@dataclass
class _Outcome:
    reply: dict | None = None
    done: threading.Event = field(default_factory=threading.Event)


def run(
    handle: Callable[[protocol.Request], dict], request: protocol.Request, timeout: float
) -> tuple[dict, bool]:
    """`handle(request)`'s reply, and whether it finished within `timeout` seconds.

    Past the timeout the reply is TIMEOUT and the thread is abandoned (a daemon: the caller
    must end the process, as the thread may still be running model code).
    """
    outcome = _Outcome()

    def work() -> None:
        outcome.reply = handle(request)
        outcome.done.set()

    threading.Thread(target=work, name=f"request-{request.id}", daemon=True).start()
    if not outcome.done.wait(timeout):
        log.get().error("request %r overran %.1f s; exiting", request.id, timeout)
        message = f"request took longer than {timeout:g} s; the host will restart"
        return protocol.error_reply(request.id, Code.TIMEOUT, message), False
    assert outcome.reply is not None
    return outcome.reply, True
