"""The error codes of PROTOCOL.md, and the one exception the host's layers raise."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every stable error code of protocol v1 (PROTOCOL.md's table; extension/src/shared/config.js
    ERRORS lists the same values, pinned by tests/test_shared_vocabulary.py)."""

    BAD_JSON = "BAD_JSON"
    BAD_REQUEST = "BAD_REQUEST"
    UNKNOWN_ACTION = "UNKNOWN_ACTION"
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    BAD_BASE64 = "BAD_BASE64"
    BAD_IMAGE = "BAD_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    BAD_SIZE = "BAD_SIZE"
    NO_ANSWER = "NO_ANSWER"
    MODEL_ERROR = "MODEL_ERROR"
    FRAME_TOO_LARGE = "FRAME_TOO_LARGE"
    TIMEOUT = "TIMEOUT"
    NOT_ALLOWED = "NOT_ALLOWED"
    KEEP_FULL = "KEEP_FULL"
    NOT_WRITABLE = "NOT_WRITABLE"
    INTERNAL = "INTERNAL"


# Codes only the extension produces (the host cannot be reached, does not answer in time, the
# page's image cannot be captured, or the host speaks another protocol); never sent by the host.
EXTENSION_CODES = ("HOST_UNAVAILABLE", "HOST_TIMEOUT", "CAPTURE", "HOST_OUTDATED")


class HostError(Exception):
    def __init__(self, code: Code, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = Code(code)  # an undocumented code is a bug, caught where it is raised
        self.message = message
