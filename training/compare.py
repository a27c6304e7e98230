"""Render real captchas beside synthetic ones, so a reader can judge the generator.

    python -m training.compare                 # training/out/real-vs-synthetic.png
    python -m training.compare --synthetic-only docs/synthetic-samples.png

The real-vs-synthetic picture contains real captchas, so it is written to training/out/
(gitignored) and never committed; docs/ holds only the synthetic-only picture.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from host.imageio import decode_png
from host.kinds import KINDS
from training import data as dataset
from training import synth

ZOOM = 3
ROWS = 8


def _column(images: list[np.ndarray], title: str) -> Image.Image:
    h, w = images[0].shape[:2]
    col = Image.new("RGB", (w * ZOOM, h * ZOOM * len(images) + 14), "white")
    ImageDraw.Draw(col).text((2, 1), title, fill="black")
    for i, rgb in enumerate(images):
        tile = Image.fromarray(rgb).resize((w * ZOOM, h * ZOOM), Image.NEAREST)
        col.paste(tile, (0, 14 + i * h * ZOOM))
    return col


def _sheet(columns: list[Image.Image]) -> Image.Image:
    gap = 8
    width = sum(c.width for c in columns) + gap * (len(columns) - 1)
    sheet = Image.new("RGB", (width, max(c.height for c in columns)), (128, 128, 128))
    x = 0
    for c in columns:
        sheet.paste(c, (x, 0))
        x += c.width + gap
    return sheet


def render(real: Path | None, seed: int = 0) -> Image.Image:
    """Per kind: a column of real captchas (if `real`) and one of synthetic captchas."""
    columns = []
    for kind in KINDS:
        if real is not None:
            samples = dataset.load_folder(real / kind)
            pick = np.random.default_rng(seed).choice(len(samples), ROWS, replace=False)
            reals = [decode_png(samples[i].path.read_bytes()) for i in sorted(pick)]
            columns.append(_column(reals, f"real {kind}"))
        fakes, _ = synth.batch(kind, ROWS, seed=seed)
        columns.append(_column(fakes, f"synthetic {kind}"))
    return _sheet(columns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.compare")
    parser.add_argument("--synthetic-only", type=Path, metavar="PNG", help="no real images")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.synthetic_only:
        render(None, args.seed).save(args.synthetic_only)
        print(args.synthetic_only)
        return 0
    real = dataset.shared_data_dir()
    if real is None:
        print("no real data (../shared/data or $DECAPTCHA_DATA)", file=sys.stderr)
        return 2
    out = dataset.REPO / "training" / "out" / "real-vs-synthetic.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    render(real, args.seed).save(out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
