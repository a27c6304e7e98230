"""The bit of the Windows registry the installer uses: default values of keys under
HKEY_CURRENT_USER. An interface, so tests (and every other OS) use a fake."""

from __future__ import annotations

import contextlib
from typing import Protocol


class HkcuKeys(Protocol):
    """Default values of keys under HKEY_CURRENT_USER."""

    def get_default(self, key: str) -> str | None: ...
    def set_default(self, key: str, value: str) -> None: ...
    def delete_key(self, key: str) -> None: ...


class WinregHkcuKeys:
    """HKCU through winreg (Windows only)."""

    def __init__(self) -> None:
        import winreg

        self._w = winreg

    def get_default(self, key: str) -> str | None:
        try:
            with self._w.OpenKey(self._w.HKEY_CURRENT_USER, key) as handle:
                value, _ = self._w.QueryValueEx(handle, "")
        except OSError:
            return None
        return str(value)

    def set_default(self, key: str, value: str) -> None:
        with self._w.CreateKeyEx(self._w.HKEY_CURRENT_USER, key, 0, self._w.KEY_WRITE) as handle:
            self._w.SetValueEx(handle, "", 0, self._w.REG_SZ, value)

    def delete_key(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._w.DeleteKey(self._w.HKEY_CURRENT_USER, key)
