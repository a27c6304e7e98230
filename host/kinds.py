"""The two AIS captcha kinds. Everything that depends on a kind looks it up here."""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):  # not a dataclass: ~10x cheaper at import (BENCHMARKS.md)
    name: str
    digits: int
    width: int
    height: int


KINDS: dict[str, Kind] = {
    "ais6": Kind("ais6", digits=6, width=104, height=32),  # login page
    "ais3": Kind("ais3", digits=3, width=42, height=30),  # course catalogue
}


def kind_for_size(width: int, height: int) -> Kind | None:
    """The kind whose native image size this is, or None."""
    for kind in KINDS.values():
        if (kind.width, kind.height) == (width, height):
            return kind
    return None
