"""The host over one native-messaging connection: pipelined throughput and round-trip time.

A real host process (`python -m host` or the bundle) with real framing on its pipes.
"""

from __future__ import annotations

import base64
import threading
import time

from bench import nmclient
from bench.stats import summarize


def _requests(pngs: list[bytes], count: int, kind: str | None, method: str) -> list[bytes]:
    b64 = [base64.b64encode(p).decode() for p in pngs]
    return [
        nmclient.encode(nmclient.solve_request(i, b64[i % len(b64)], kind, method))
        for i in range(count)
    ]


def _check(replies: list[dict]) -> dict:
    """Replies must come back in order with their ids; count the errors by code."""
    errors: dict[str, int] = {}
    for i, reply in enumerate(replies):
        if reply.get("id") != i:
            raise RuntimeError(f"reply {i} has id {reply.get('id')!r}: order or ids broken")
        if not reply.get("ok"):
            code = reply.get("error", {}).get("code", "?")
            errors[code] = errors.get(code, 0) + 1
    return errors


def pipelined(
    argv: list[str],
    pngs: list[bytes],
    count: int = 1000,
    kind: str | None = None,
    method: str = "auto",
    timeout: float = 300,
) -> dict:
    """Start the host, let it answer one request (so loading is not timed), then send `count`
    requests without waiting and time until the last reply. Returns requests per second."""
    frames = _requests(pngs, count, kind, method)
    proc = nmclient.spawn(argv)
    try:
        b64 = base64.b64encode(pngs[0]).decode()
        with nmclient.deadline(proc, timeout):
            proc.stdin.write(nmclient.encode(nmclient.solve_request("warm", b64, kind, method)))
            proc.stdin.flush()
            nmclient.read_frame(proc.stdout)

        def write_all() -> None:
            for frame in frames:
                proc.stdin.write(frame)
            proc.stdin.flush()

        writer = threading.Thread(target=write_all, daemon=True)
        with nmclient.deadline(proc, timeout):
            start = time.perf_counter()
            writer.start()
            replies = [nmclient.read_frame(proc.stdout) for _ in range(count)]
            elapsed = time.perf_counter() - start
        writer.join()
    finally:
        exit_code = nmclient.close(proc)
    return {
        "requests": count,
        "seconds": elapsed,
        "rps": count / elapsed,
        "errors": _check(replies),
        "exit_code": exit_code,
    }


def round_trips(
    argv: list[str],
    pngs: list[bytes],
    count: int = 200,
    kind: str | None = None,
    method: str = "auto",
    timeout: float = 300,
) -> dict:
    """One request at a time, as the extension sends them: ms from write to reply."""
    frames = _requests(pngs, count + 1, kind, method)
    proc = nmclient.spawn(argv)
    samples, replies = [], []
    try:
        with nmclient.deadline(proc, timeout):
            for i, frame in enumerate(frames):
                start = time.perf_counter()
                proc.stdin.write(frame)
                proc.stdin.flush()
                reply = nmclient.read_frame(proc.stdout)
                if i:  # the first one loads the models
                    samples.append((time.perf_counter() - start) * 1000)
                    replies.append(reply)
    finally:
        nmclient.close(proc)
    reply_ids = [{**r, "id": r.get("id", 0) - 1} for r in replies]
    return {**summarize(samples), "errors": _check(reply_ids)}
