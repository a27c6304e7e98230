"""What the ctc and seg readers share: one calibrated .tflite model per captcha kind.

models.json names each model `<method>_<kind>` with its file and softmax temperature;
a subclass says which method it is and which tensor shapes it can use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from host.kinds import KINDS, Kind
from host.runtime import make_interpreter


class _Model(NamedTuple):
    interpreter: Any
    input_index: int
    output_index: int
    temperature: float


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature`, in float64."""
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class ModelReader:
    method = ""  # "ctc" or "seg": the prefix of the models.json entries

    def __init__(self, models_dir: Path, kinds: list[Kind] | None = None) -> None:
        """Load the model of every kind in `kinds` (default all); raise if one fails."""
        meta = json.loads((models_dir / "models.json").read_text(encoding="utf-8"))["models"]
        self._models: dict[str, _Model] = {}
        for kind in kinds if kinds is not None else list(KINDS.values()):
            entry = meta[f"{self.method}_{kind.name}"]
            temperature = float(entry.get("calibration", {}).get("temperature", 1.0))
            self._load(models_dir / entry["file"], kind, temperature)

    @classmethod
    def for_file(cls, path: Path, kind: Kind, temperature: float = 1.0) -> Any:
        """A reader of one .tflite file outside models.json (training compares variants)."""
        reader = cls.__new__(cls)
        reader._models = {}
        reader._load(path, kind, temperature)
        return reader

    def check_shapes(self, path: Path, kind: Kind, inp: tuple, out: tuple) -> None:
        """Raise ValueError when a model with these tensor shapes cannot read `kind`."""
        raise NotImplementedError

    def _load(self, path: Path, kind: Kind, temperature: float) -> None:
        interpreter = make_interpreter(path)
        inp = interpreter.get_input_details()[0]
        out = interpreter.get_output_details()[0]
        self.check_shapes(path, kind, tuple(inp["shape"]), tuple(out["shape"]))
        if inp["dtype"] != np.float32 or out["dtype"] != np.float32:
            raise ValueError(f"{path.name}: input and output must be float32")
        self._models[kind.name] = _Model(interpreter, inp["index"], out["index"], temperature)

    def temperature(self, kind: Kind) -> float:
        return self._models[kind.name].temperature

    def invoke(self, x: np.ndarray, kind: Kind) -> np.ndarray:
        """The kind's model run on input `x`: a copy of its whole output tensor."""
        model = self._models[kind.name]
        model.interpreter.set_tensor(model.input_index, x)
        model.interpreter.invoke()
        return model.interpreter.get_tensor(model.output_index).copy()
