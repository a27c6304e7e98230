"""The one exception the host's layers raise; `code` is a stable code from PROTOCOL.md."""

from __future__ import annotations


class HostError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
