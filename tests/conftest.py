"""Shared fixtures. Per-area fixtures live beside their tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from training.data import shared_data_dir  # noqa: E402

# In CI every tool the suite needs is installed, so a missing one is a failure, not a skip.
STRICT = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip the test when `condition` is false, or fail it in CI, where nothing may be missing."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"CI must have this: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data, or skip: the suite must pass on a fresh clone without it."""
    folder = shared_data_dir()
    need(folder is not None, "no ../shared/data (real captchas) beside the repo")
    return folder


# Run by the Python in $DECAPTCHA_TFLITE214_PYTHON (tflite-runtime 2.14): each model over the
# items of its saved array, one invoke per item, each item a whole input tensor.
TFLITE214_SCRIPT = """
import json, sys
import numpy as np
from tflite_runtime.interpreter import Interpreter
out = {}
for path, npy in json.loads(sys.argv[1]):
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    res = []
    for tensor in np.load(npy):
        it.set_tensor(it.get_input_details()[0]["index"], tensor)
        it.invoke()
        res.append(it.get_tensor(it.get_output_details()[0]["index"]).tolist())
    out[path] = res
print(json.dumps(out))
"""


def tflite214_outputs(tmp_path: Path, inputs: dict[Path, np.ndarray]) -> dict[Path, np.ndarray]:
    """Each model's outputs in tflite-runtime 2.14, one per input tensor of `inputs[model]`
    (its first axis); skip (fail in CI) without $DECAPTCHA_TFLITE214_PYTHON."""
    python = os.environ.get("DECAPTCHA_TFLITE214_PYTHON", "")
    need(bool(python) and Path(python).exists(), "DECAPTCHA_TFLITE214_PYTHON is not set")
    jobs = []
    for i, (model, tensors) in enumerate(inputs.items()):
        npy = tmp_path / f"tflite214-{i}.npy"
        np.save(npy, tensors)
        jobs.append((str(model), str(npy)))
    done = subprocess.run(
        [python, "-c", TFLITE214_SCRIPT, json.dumps(jobs)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout)
    return {model: np.array(got[str(model)]) for model in inputs}


def copy_models(to: Path, drop: str | None = None, corrupt: str | None = None) -> None:
    """models/ copied into `to`, without the entry `drop` or with the file of `corrupt` spoilt."""
    need((REPO / "models" / "models.json").exists(), "models/ is not built yet")
    meta = json.loads((REPO / "models" / "models.json").read_text())
    meta["models"].pop(drop, None)
    for entry in meta["models"].values():
        shutil.copy(REPO / "models" / entry["file"], to / entry["file"])
    if corrupt is not None:
        (to / meta["models"][corrupt]["file"]).write_bytes(b"TFL3 but not a model" * 10)
    (to / "models.json").write_text(json.dumps(meta))
