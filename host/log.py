"""Diagnostics: to stderr and to a small rotating log file in paths.cache_dir(). Never stdout.

The browser shows neither, so the log file is where a user (or a bug report) finds out why the
host failed. It holds error codes and timings, never image data.

Several hosts write the same file (one per browser is normal), so the file handler appends
(O_APPEND), notices when another host has rotated the file, and rotates only under an
exclusive lock after re-checking the size on disk. Log files are created user-only (0600),
also after rotation. A file that fails (full disk) is dropped after the first failure, said
once on stderr: the host keeps answering.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from host import paths

LOG_NAME = "host.log"
LOCK_NAME = "host.log.lock"
MAX_LOG_BYTES = 256 * 1024
BACKUPS = 1

_FORMAT = "%(asctime)s %(process)d %(levelname)s %(message)s"


def log_path() -> Path:
    return paths.cache_dir() / LOG_NAME


def _open_private(path: Path, flags: int) -> int:
    """Open `path` creating it 0600, and tighten a regular file that is looser."""
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), 0o600)
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)
    return fd


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between the hosts sharing this log folder (flock; on Windows a
    locked byte), released when the block ends."""
    fd = _open_private(path, os.O_RDWR | os.O_CREAT)
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases either lock


class SharedRotatingHandler(logging.Handler):
    """A size-rotated log file that several processes append to safely."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__()
        self.path, self.max_bytes, self.backups = path, max_bytes, backups
        self.lock_path = path.with_name(LOCK_NAME)
        self.stream = self._open()
        self.failed = False

    def _open(self) -> TextIO:
        fd = _open_private(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return os.fdopen(fd, "a", encoding="utf-8")

    def _stale(self) -> bool:
        """Another host rotated the file under us (or removed it)."""
        try:
            on_disk = self.path.stat()
        except FileNotFoundError:
            return True
        mine = os.fstat(self.stream.fileno())
        return (on_disk.st_dev, on_disk.st_ino) != (mine.st_dev, mine.st_ino)

    def _reopen(self) -> None:
        self.stream.close()
        self.stream = self._open()

    def _rotate_if_full(self, incoming: int) -> None:
        if self._stale():
            self._reopen()
        if os.fstat(self.stream.fileno()).st_size + incoming <= self.max_bytes:
            return
        with _locked(self.lock_path):
            if self._stale():  # rotated by another host while we waited for the lock
                self._reopen()
                return
            if self.path.stat().st_size + incoming <= self.max_bytes:
                return
            try:
                for n in range(self.backups - 1, 0, -1):
                    older = self.path.with_name(f"{self.path.name}.{n}")
                    if older.exists():
                        older.replace(self.path.with_name(f"{self.path.name}.{n + 1}"))
                if self.backups:
                    self.path.replace(self.path.with_name(f"{self.path.name}.1"))
                else:
                    self.path.unlink()
            except OSError:
                return  # Windows: another host holds it open; keep appending, rotate later
            self._reopen()

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        try:
            line = self.format(record) + "\n"
            self._rotate_if_full(len(line.encode("utf-8")))
            self.stream.write(line)
            self.stream.flush()
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """Drop the file after its first failure, and say so once (not a traceback a record)."""
        if self.failed:
            return
        self.failed = True
        exc = sys.exc_info()[1]
        err = sys.__stderr__ or sys.stderr
        with contextlib.suppress(Exception):
            err.write(f"decaptcha-host: WARNING log file {self.path} failed ({exc}); "
                      "logging to stderr only from now on\n")  # fmt: skip
            err.flush()
        with contextlib.suppress(Exception):
            self.stream.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stream.close()
        super().close()


def setup(to_file: bool = True, level: int = logging.INFO) -> logging.Logger:
    """The host's logger, writing to stderr and (when it can) to the rotating log file.

    A log file that cannot be opened (read-only home, full disk) is not an error: the host
    must still answer, so it logs to stderr alone and says so. `$DECAPTCHA_DEBUG=1` logs at
    debug level: the time of each start-up phase (imports, catalogue, each interpreter and
    its XNNPACK set-up, warm-up reads).
    """
    if os.environ.get("DECAPTCHA_DEBUG") == "1":
        level = logging.DEBUG
    logger = logging.getLogger("host")
    logger.setLevel(level)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    stderr = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    stderr.setFormatter(logging.Formatter("decaptcha-host: %(levelname)s %(message)s"))
    logger.addHandler(stderr)
    if to_file:
        path = log_path()
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handler = SharedRotatingHandler(path, MAX_LOG_BYTES, BACKUPS)
        except OSError as exc:
            logger.warning("no log file (%s); logging to stderr only", exc)
        else:
            handler.setFormatter(logging.Formatter(_FORMAT))
            logger.addHandler(handler)
    return logger


def get() -> logging.Logger:
    return logging.getLogger("host")
