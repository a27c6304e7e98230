"""Who started the host: the browser passes the calling extension on the command line.

Chromium-family browsers pass the origin `chrome-extension://ID/` (on Windows followed by
`--parent-window=N`); Firefox passes the manifest's path and the add-on id. The browser already
refuses extensions its manifest does not list; the host checks again so that a manifest edited
or planted by someone else cannot make it serve another extension.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from host import ids

CHROMIUM_ORIGIN = "chrome-extension://"


class Caller(NamedTuple):  # not a dataclass: ~10x cheaper at import (BENCHMARKS.md)
    browser: str  # "chromium" or "firefox"
    extension_id: str


def from_argv(argv: Sequence[str]) -> Caller | None:
    """The calling extension when `argv` is what a browser passes, else None."""
    if not argv:
        return None
    first = argv[0]
    if first.startswith(CHROMIUM_ORIGIN):
        return Caller("chromium", first[len(CHROMIUM_ORIGIN) :].rstrip("/"))
    if len(argv) >= 2 and first.lower().endswith(".json") and not argv[1].startswith("-"):
        return Caller("firefox", argv[1])
    return None


def allowed_ids(extra: Iterable[str] = ()) -> set[str]:
    """Our own ids (host/ids.py) plus those registered with `--install --extension-id`."""
    return {ids.CHROMIUM_EXTENSION_ID, ids.FIREFOX_ADDON_ID, *extra}


def is_allowed(caller: Caller | None, allowed: set[str]) -> bool:
    """No caller (started by hand, from a terminal or a test) is the user themself: allowed."""
    return caller is None or caller.extension_id in allowed
