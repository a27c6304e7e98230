"""training/curve.py's scratch folder: N training images of a seeded shuffle + all validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training import curve, data, synth


def test_scratch_folders_nest_and_hold_the_whole_validation_split(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "ais3").mkdir(parents=True)
    png = synth.png_bytes(synth.generate("ais3", np.random.default_rng(0))[0], "ais3")
    for n in range(60):
        (real / "ais3" / f"{n:03d}.png").write_bytes(png)
    train, val = data.split(data.load_folder(real / "ais3", 3))
    chosen = {}
    for n in (5, 10):
        folder, n_train, n_val = curve.scratch_folder(real, "ais3", n, 0, tmp_path / f"n{n}")
        got_train, got_val = data.split(data.load_folder(folder / "ais3", 3))
        assert (n_train, n_val, len(got_train)) == (n, len(val), n)
        assert [s.answer for s in got_val] == [s.answer for s in val]
        assert all(p.is_symlink() for p in (folder / "ais3").iterdir())
        chosen[n] = {s.answer for s in got_train}
    assert chosen[5] < chosen[10] <= {s.answer for s in train}
    with pytest.raises(SystemExit):
        curve.scratch_folder(real, "ais3", len(train) + 1, 0, tmp_path / "too-many")
