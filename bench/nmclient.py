"""A native-messaging client, written independently of host/protocol.py on purpose:
the benchmark talks to the host from outside, exactly as a browser does."""

from __future__ import annotations

import contextlib
import json
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from host.ids import CHROMIUM_EXTENSION_ID

# Chromium starts a host with the calling origin as its only argument.
CHROMIUM_ORIGIN = f"chrome-extension://{CHROMIUM_EXTENSION_ID}/"


def encode(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack("=I", len(body)) + body


def read_frame(stream: IO[bytes]) -> dict:
    """One reply; EOFError when the host closed its stdout."""
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError("host closed stdout")
    (length,) = struct.unpack("=I", head)
    body = stream.read(length)
    if len(body) < length:
        raise EOFError("host closed stdout mid-frame")
    return json.loads(body)


def spawn(argv: list[str], cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """Start a host as a browser would: pipes on stdin/stdout, stderr discarded."""
    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
    )


def solve_request(rid: Any, image_b64: str, kind: str | None = None, method: str = "auto") -> dict:
    request = {"v": 1, "id": rid, "action": "solve", "image": image_b64, "method": method}
    if kind:
        request["kind"] = kind
    return request


def close(proc: subprocess.Popen, timeout: float = 10) -> int:
    """Close stdin (the host then exits 0) and wait; kill it if it hangs."""
    try:
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9
    finally:
        if proc.stdout:
            proc.stdout.close()


@contextlib.contextmanager
def deadline(proc: subprocess.Popen, seconds: float) -> Iterator[None]:
    """Kill a host that has not finished within `seconds`: a benchmark must never hang.
    The pending read then ends with EOFError."""
    timer = threading.Timer(seconds, proc.kill)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
