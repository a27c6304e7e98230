"""A native host that runs the REAL bundled host behind a fault, for tests/test_e2e_faults.py.

The test registers the bundle with its own `--install`, then points the manifest's `path` at a
launcher that runs this file. The browser starts it like any host; it starts the real bundle
with the same arguments (so the caller check still applies) and sits on the pipes between them:

  proxy mode (default): every frame passes through, and the fault in the config file applies:
    kill N         the next N request frames of `kill_actions` reach the real host, which is then
                   SIGKILLed (and this wrapper exits 70) before any reply: a host dying mid-request
    hold N         the next N `solve` replies are held until a newer `solve` request has come in
                   or the config says `"release": true` (at most HOLD_MAX_S): a slow host,
                   answering after the page moved on
  pass mode (`--pass`): no proxy at all, the real host reads and writes the browser's own pipes;
    this wrapper only waits for it and records its exit code.

The config file (JSON) is read again for every frame, so a test can change the fault while the
browser keeps its port open. Every event goes as one JSON line into the log file, for the
test to read: start, request (id, action), killed, reply (id, ok, text or code), exit (code).
Standard library only; never writes anything but frames to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import BinaryIO

KILLED_EXIT = 70  # the wrapper's exit code after a simulated crash
HOLD_MAX_S = 20.0  # a held reply goes out after this long anyway


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.pid = os.getpid()

    def __call__(self, event: str, **fields: object) -> None:
        line = json.dumps({"t": time.time(), "pid": self.pid, "event": event, **fields})
        # O_APPEND and one write per line: lines from several wrappers do not interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def read_exact(stream: BinaryIO, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(stream: BinaryIO) -> bytes | None:
    header = read_exact(stream, 4)
    if header is None:
        return None
    (length,) = struct.unpack("=I", header)
    return read_exact(stream, length)


def frame(payload: bytes) -> bytes:
    return struct.pack("=I", len(payload)) + payload


def parse(payload: bytes) -> dict:
    try:
        message = json.loads(payload)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def spend(config: Path, budget: str, action: str | None) -> bool:
    """Whether the fault `budget` ("kill" or "hold") applies to a frame of `action`; if so,
    one unit of it is spent (under a file lock: the config outlives each wrapper)."""
    with config.open("r+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        settings = json.load(f)
        actions = settings.get("kill_actions", ["solve"]) if budget == "kill" else ["solve"]
        if settings.get(budget, 0) <= 0 or action not in actions:
            return False
        settings[budget] -= 1
        f.seek(0)
        f.truncate()
        json.dump(settings, f)
        return True


def released(config: Path) -> bool:
    """Whether the test has released held replies (`"release": true` in the config)."""
    try:
        return bool(json.loads(config.read_text()).get("release"))
    except (OSError, ValueError):
        return False


def proxy(real: list[str], config: Path, record: Recorder) -> int:
    child = subprocess.Popen(real, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    record("start", mode="proxy", child=child.pid, argv=real[1:])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # request id -> (action, how many solve requests had come in with it): which replies to hold
    requests: dict[str, tuple[str | None, int]] = {}
    solves = [0]
    arrived = threading.Condition()
    write_lock = threading.Lock()

    def replies() -> None:
        while (payload := read_frame(child.stdout)) is not None:
            reply = parse(payload)
            action, nth = requests.get(json.dumps(reply.get("id")), (None, 0))
            held = spend(config, "hold", action)
            if held:
                deadline = time.monotonic() + HOLD_MAX_S
                with arrived:
                    while solves[0] <= nth and not released(config):
                        if time.monotonic() > deadline:
                            break
                        arrived.wait(0.05)
            result, error = reply.get("result") or {}, reply.get("error") or {}
            # Recorded before it is written: the browser may answer it (a new request, a
            # filled field the test then reads the events for) before a later record lands.
            record(
                "reply",
                id=reply.get("id"),
                ok=reply.get("ok"),
                text=result.get("text"),
                code=error.get("code"),
                held=held,
            )
            with write_lock:
                stdout.write(frame(payload))
                stdout.flush()

    forwarder = threading.Thread(target=replies, daemon=True)
    forwarder.start()
    while (payload := read_frame(stdin)) is not None:
        request = parse(payload)
        action = request.get("action")
        record("request", id=request.get("id"), action=action)  # before any reply it releases
        with arrived:
            solves[0] += action == "solve"
            requests[json.dumps(request.get("id"))] = (action, solves[0])
            arrived.notify_all()
        if not spend(config, "kill", action):
            child.stdin.write(frame(payload))
            child.stdin.flush()
            continue
        # Die mid-request: the real host gets the request, and no reply ever leaves
        # (the lock is held until exit, so the reply thread cannot pass one on).
        write_lock.acquire()
        child.stdin.write(frame(payload))
        child.stdin.flush()
        child.send_signal(signal.SIGKILL)
        child.wait()
        record("killed", id=request.get("id"), action=action, child=child.pid)
        os._exit(KILLED_EXIT)  # no clean-up, as a crash would
    # The browser closed the port: so does the real host's stdin.
    child.stdin.close()
    code = child.wait()
    forwarder.join(10)
    record("exit", child=child.pid, code=code)
    return code


def passthrough(real: list[str], record: Recorder) -> int:
    child = subprocess.Popen(real)  # inherits the browser's pipes as its stdin and stdout
    record("start", mode="pass", child=child.pid, argv=real[1:])
    # Only the real host holds the pipes now, so the browser sees exactly its behaviour.
    for fd in (0, 1):
        with contextlib.suppress(OSError):
            os.close(fd)
    code = child.wait()
    record("exit", child=child.pid, code=code)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="the bundled decaptcha-host")
    parser.add_argument("--config", type=Path, required=True, help="fault settings (JSON)")
    parser.add_argument("--log", type=Path, required=True, help="event log (JSON lines)")
    parser.add_argument("--pass", dest="passthrough", action="store_true")
    parser.add_argument("browser_args", nargs="*", help="what the browser passed")
    args = parser.parse_args()
    real = [str(args.real), *args.browser_args]
    record = Recorder(args.log)
    if args.passthrough:
        return passthrough(real, record)
    return proxy(real, args.config, record)


if __name__ == "__main__":
    sys.exit(main())
