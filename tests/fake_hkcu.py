"""A fake HKEY_CURRENT_USER for the Windows layout tests (host/winreg_keys.py's interface)."""

from __future__ import annotations


class FakeHkcuKeys:
    """HKEY_CURRENT_USER as a dict `defaults` of key -> default value."""

    def __init__(self) -> None:
        self.defaults: dict[str, str] = {}

    def get_default(self, key: str) -> str | None:
        return self.defaults.get(key)

    def set_default(self, key: str, value: str) -> None:
        self.defaults[key] = value

    def delete_key(self, key: str) -> None:
        self.defaults.pop(key, None)
