"""Talk to a real `python -m host` over real native-messaging framing (tests and the fuzzer).

The host's stderr goes to a file, not a pipe: a pipe nobody drains would fill and stall it.
Every read has a deadline, so a hung host fails a test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEADER = struct.Struct("=I")


class HostHung(Exception):
    """No complete reply within the deadline."""


def frame(message: object) -> bytes:
    """A frame around a JSON value, or around raw bytes as they are."""
    data = message if isinstance(message, bytes) else json.dumps(message).encode()
    return HEADER.pack(len(data)) + data


def split_frames(data: bytes) -> tuple[list[dict], bytes]:
    """(the whole frames in `data`, parsed; the bytes left over that are not a whole frame)."""
    replies, i = [], 0
    while len(data) - i >= 4:
        (length,) = HEADER.unpack_from(data, i)
        if len(data) - i - 4 < length:
            break
        replies.append(json.loads(data[i + 4 : i + 4 + length].decode("utf-8")))
        i += 4 + length
    return replies, data[i:]


def host_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with a private HOME (the log lands there), nothing else of the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DECAPTCHA_"))}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


class HostProcess:
    def __init__(self, args: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self._home = tempfile.TemporaryDirectory(prefix="decaptcha-home-")
        home = Path(self._home.name)
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "host", *(args or [])],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env=env or host_env(home),
        )
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _fill(self, deadline: float) -> bool:
        """Read what stdout has; False at end of stream."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HostHung(f"no reply in time; have {len(self.buffer)} bytes")
        ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
        if not ready:
            raise HostHung(f"no reply in time; have {len(self.buffer)} bytes")
        chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
        self.buffer += chunk
        return bool(chunk)

    def read_reply(self, timeout: float = 60.0) -> dict | None:
        """The next reply, or None when stdout ended first (the host exited)."""
        deadline = time.monotonic() + timeout
        while True:
            replies, _ = split_frames(self.buffer)
            if replies:
                (length,) = HEADER.unpack_from(self.buffer, 0)
                self.buffer = self.buffer[4 + length :]
                return replies[0]
            if not self._fill(deadline):
                return None

    def request(self, message: object, timeout: float = 60.0) -> dict:
        self.send(frame(message))
        reply = self.read_reply(timeout)
        assert reply is not None, f"host exited: {self.stderr()[-2000:]}"
        return reply

    def close(self, timeout: float = 30.0) -> tuple[int, bytes]:
        """Close stdin, wait; (exit code, stdout bytes not part of any reply already read)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        code = self.proc.wait(max(0.1, deadline - time.monotonic()))
        self._home.cleanup()
        return code, self.buffer

    def stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._home.cleanup()


def run_host(
    data: bytes,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> tuple[int, bytes, str]:
    """Feed `data` to a fresh host and close stdin: (exit code, stdout, stderr)."""
    with tempfile.TemporaryDirectory(prefix="decaptcha-home-") as home:
        proc = subprocess.run(
            [sys.executable, "-m", "host", *(args or [])],
            cwd=REPO,
            input=data,
            capture_output=True,
            env=env or host_env(Path(home)),
            timeout=timeout,
        )
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")
