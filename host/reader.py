"""What the readers and the checks share: one .tflite model bound to one captcha kind.

A reader is made for one catalogue entry (host/catalogue.py) or, in training, for one file;
it knows its kind, so `read(rgb)` needs nothing else. A subclass says which method it is,
which tensor shapes it can use, and how an image becomes probabilities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from host.catalogue import GATE, GLYPH, Entry, read_catalogue
from host.kinds import KINDS, Kind
from host.runtime import make_interpreter


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`, in float64."""
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Element-wise logistic of `logits`, in float64 (clipped: no overflow warnings)."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -60.0, 60.0)))


class ModelReader:
    method: ClassVar[str] = ""  # "ctc", "seg", "gate" or "glyph": the catalogue entries it reads
    xnnpack: ClassVar[bool] = True  # run by the XNNPACK delegate (host/runtime.py)

    def __init__(self, path: Path, kind: Kind, temperature: float = 1.0) -> None:
        """Load the .tflite file at `path` for `kind`; raise if it cannot read that kind."""
        self.kind = kind
        self.temperature = temperature
        self._interpreter: Any = make_interpreter(path, self.xnnpack)
        inp = self._interpreter.get_input_details()[0]
        out = self._interpreter.get_output_details()[0]
        self.check_shapes(path, kind, tuple(inp["shape"]), tuple(out["shape"]))
        if inp["dtype"] != np.float32 or out["dtype"] != np.float32:
            raise ValueError(f"{path.name}: input and output must be float32")
        self._input, self._output = inp["index"], out["index"]

    @classmethod
    def for_entry(cls, folder: Path, entry: Entry) -> Self:
        """The reader of one catalogue entry of the models folder `folder`."""
        return cls(Path(folder) / entry.file, KINDS[entry.kind], entry.temperature)

    @classmethod
    def from_folder(cls, folder: Path, kind: Kind) -> Self:
        """This method's reader for `kind` from `folder`/models.json (tests, training)."""
        return cls.for_entry(folder, read_catalogue(folder).entry(cls.method, kind.name))

    def check_shapes(self, path: Path, kind: Kind, inp: tuple, out: tuple) -> None:
        """Raise ValueError when a model with these tensor shapes cannot read `kind`."""
        raise NotImplementedError

    def invoke(self, x: np.ndarray) -> np.ndarray:
        """The model run on input `x`: a copy of its whole output tensor."""
        self._interpreter.set_tensor(self._input, x)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()

    def read(self, rgb: np.ndarray) -> np.ndarray | None:
        """Per-position digit probabilities (kind.digits, 10), or None when the model cannot
        produce exactly kind.digits digits."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """One run on a white image: a model that loads but cannot run fails here, at load
        time, not in the user's first request."""
        self.read(np.full((self.kind.height, self.kind.width, 3), 255, np.uint8))


def reader_class(method: str) -> type[ModelReader]:
    """The reader of `method` (or of a check, GATE or GLYPH), imported only when asked: one
    broken module disables only its own models."""
    if method == "ctc":
        from host.ctc import CtcReader

        return CtcReader
    if method == "seg":
        from host.seg import SegReader

        return SegReader
    if method == GATE:
        from host.gate import GateReader

        return GateReader
    if method == GLYPH:
        from host.glyph import GlyphReader

        return GlyphReader
    raise ValueError(f"no reader for method {method!r}")
