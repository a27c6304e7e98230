"""Never install models that read the real validation split worse than the shipped ones.

After a run, each built model and the shipped model of the same name (models/) read the same
real validation split (the merged one of training/merge.py), through the host's readers. A
built model that reads fewer of them right is a regression: `python -m training` then says
so, exits non-zero and leaves models/ as it was. A shipped model that is missing or does not
load cannot be compared: the built one may replace it (the message says so). For a check
(the gate, host/gate.py, and the glyphs, host/glyph.py) "right" means passed: every real
validation captcha should be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from host.catalogue import GATE, GLYPH
from host.ctc import CtcReader
from host.gate import GateReader
from host.glyph import GlyphReader
from host.imageio import decode_png
from host.kinds import KINDS, Kind
from host.seg import SegReader
from training import data as dataset
from training import merge
from training.validate import read_split

READERS = {"ctc": CtcReader, "seg": SegReader, GATE: GateReader, GLYPH: GlyphReader}


@dataclass(frozen=True)
class Comparison:
    model: str  # e.g. "seg_ais6"
    images: int
    built: int  # right answers of the built model
    shipped: int | None  # of the shipped model; None: there is none that loads

    @property
    def worse(self) -> bool:
        return self.shipped is not None and self.built < self.shipped

    def line(self) -> str:
        shipped = (
            "no shipped model to compare"
            if self.shipped is None
            else (f"shipped {self.shipped}/{self.images}")
        )
        verdict = "WORSE" if self.worse else "ok"
        return f"{self.model}: built {self.built}/{self.images}, {shipped}: {verdict}"


def compare(
    built: Path, shipped: Path, results: dict[str, dict], data: merge.Folders
) -> list[Comparison]:
    """Each built model of `results` against its shipped namesake on the real validation split.

    `built` holds one folder per method (training/out/models/<method>), `shipped` models/.
    """
    comparisons = []
    for method, result in results.items():
        for name, entry in result["models"].items():
            kind = KINDS[entry["kind"]]
            _, val, _ = merge.real_split(data, kind)
            if not val:
                continue
            ours = right(method, built / method, kind, val)
            try:
                theirs = right(method, shipped, kind, val)
            except Exception:  # missing, corrupt, another shape: nothing to compare with
                theirs = None
            comparisons.append(Comparison(name, len(val), ours, theirs))
    return comparisons


def right(method: str, folder: Path, kind: Kind, val: list[dataset.Sample]) -> int:
    """How many of `val` the model of `method` in `folder` reads right (a check: passes)."""
    reader = READERS[method].from_folder(folder, kind)
    if isinstance(reader, GateReader):
        return sum(reader.passes(decode_png(s.path.read_bytes())) for s in val)
    return read_split(reader, kind, val)["correct"]


def verdict(comparisons: list[Comparison]) -> tuple[bool, str]:
    """(whether the built models may be installed, the lines to print)."""
    lines = [c.line() for c in comparisons]
    if not comparisons:
        return False, "no real validation images: nothing shows the built models are as good"
    worse = [c.model for c in comparisons if c.worse]
    if worse:
        lines.append(
            f"refusing to install: {', '.join(worse)} read the real validation split worse"
            " than the shipped models; models/ is left as it was"
        )
    return not worse, "\n".join(lines)
