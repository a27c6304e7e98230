"""The synthetic captcha generator: sizes, labels, determinism, PNG form."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from host.kinds import KINDS
from training import synth


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_size_and_label(kind: str) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        rgb, text = synth.generate(kind, rng)
        k = KINDS[kind]
        assert rgb.shape == (k.height, k.width, 3)
        assert rgb.dtype == np.uint8
        assert len(text) == k.digits and text.isdigit()
        # Mostly white background, but with ink.
        assert (rgb == 255).all(axis=2).mean() > 0.4
        assert (rgb.max(axis=2) < 180).sum() > 30


@pytest.mark.parametrize("kind", ["ais6", "ais3"])
def test_seeded_runs_repeat(kind: str) -> None:
    a, ta = synth.batch(kind, 5, seed=7)
    b, tb = synth.batch(kind, 5, seed=7)
    c, _ = synth.batch(kind, 5, seed=8)
    assert ta == tb
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_given_text_keeps_leading_zeros() -> None:
    rng = np.random.default_rng(1)
    _, text = synth.generate("ais6", rng, "000120")
    assert text == "000120"
    _, text = synth.generate("ais3", rng, "007")
    assert text == "007"


@pytest.mark.parametrize("bad", ["12345", "1234567", "12a456", ""])
def test_wrong_text_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        synth.generate("ais6", np.random.default_rng(0), bad)


@pytest.mark.parametrize(("kind", "mode"), [("ais6", "P"), ("ais3", "RGB")])
def test_png_mimics_server_format_and_round_trips(kind: str, mode: str) -> None:
    rgb, _ = synth.generate(kind, np.random.default_rng(3))
    image = Image.open(io.BytesIO(synth.png_bytes(rgb, kind)))
    assert image.mode == mode
    assert image.size == (KINDS[kind].width, KINDS[kind].height)
    assert np.array_equal(np.asarray(image.convert("RGB")), rgb)


def test_command_line_writes_the_png_it_names(tmp_path) -> None:
    import contextlib

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert synth.main(["--out", str(tmp_path / "c.png"), "--kind", "ais3", "--seed", "5"]) == 0
    rgb, text = synth.generate("ais3", np.random.default_rng(5))
    assert out.getvalue().strip() == text
    assert (tmp_path / "c.png").read_bytes() == synth.png_bytes(rgb, "ais3")
