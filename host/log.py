"""Diagnostics: to stderr and to a small rotating log file in paths.cache_dir(). Never stdout.

The browser shows neither, so the log file is where a user (or a bug report) finds out why the
host failed. It holds error codes and timings, never image data.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from host import paths

LOG_NAME = "host.log"
MAX_LOG_BYTES = 256 * 1024
BACKUPS = 1

_FORMAT = "%(asctime)s %(process)d %(levelname)s %(message)s"


def log_path() -> Path:
    return paths.cache_dir() / LOG_NAME


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
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_LOG_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
            path.chmod(0o600)
        except OSError as exc:
            logger.warning("no log file (%s); logging to stderr only", exc)
        else:
            handler.setFormatter(logging.Formatter(_FORMAT))
            logger.addHandler(handler)
    return logger


def get() -> logging.Logger:
    return logging.getLogger("host")
