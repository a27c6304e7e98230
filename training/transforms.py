"""Pure image transforms that turn a captcha (or nothing) into something that is not one.

The one home of these pixels: bench/garbage.py builds its seeded test set from them and
training/train_gate.py its negatives (from training-split images and other seeds), so the
gate learns exactly the transforms the benchmark measures without training on its images.
numpy and Pillow only; the host never imports this (a test enforces it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

STRIPS = 12
# The transforms of an existing captcha, in bench/garbage.py's order.
FROM_CAPTCHA = ("rot180", "hflip", "vflip", "strips", "crop-resize", "crop-pad")


def strips(rgb: np.ndarray, rng: np.random.Generator, n: int = STRIPS) -> np.ndarray:
    """`rgb` cut into `n` vertical strips put back in a shuffled (never the same) order."""
    parts = np.array_split(np.arange(rgb.shape[1]), n)
    order = rng.permutation(n)
    while np.array_equal(order, np.arange(n)):
        order = rng.permutation(n)
    return np.ascontiguousarray(rgb[:, np.concatenate([parts[i] for i in order])])


def crop(rgb: np.ndarray, rng: np.random.Generator, pad: bool) -> np.ndarray:
    """The left 45-75% of `rgb` (the last digit cut at least in half), stretched back to
    its size or padded with white."""
    h, w = rgb.shape[:2]
    keep = round(w * rng.uniform(0.45, 0.75))
    left = Image.fromarray(np.ascontiguousarray(rgb[:, :keep]), "RGB")
    if pad:
        canvas = Image.new("RGB", (w, h), (255, 255, 255))
        canvas.paste(left, (0, 0))
        return np.asarray(canvas, dtype=np.uint8).copy()
    return np.asarray(left.resize((w, h), Image.BILINEAR), dtype=np.uint8).copy()


def transform(rgb: np.ndarray, how: str, rng: np.random.Generator) -> np.ndarray:
    """One of FROM_CAPTCHA applied to a captcha."""
    if how == "rot180":
        return np.ascontiguousarray(rgb[::-1, ::-1])
    if how == "hflip":
        return np.ascontiguousarray(rgb[:, ::-1])
    if how == "vflip":
        return np.ascontiguousarray(rgb[::-1])
    if how == "strips":
        return strips(rgb, rng)
    if how in ("crop-resize", "crop-pad"):
        return crop(rgb, rng, pad=how == "crop-pad")
    raise ValueError(f"not a transform of a captcha: {how!r}")


# ---- images made from nothing --------------------------------------------------------------


def noise(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """Random pixels, or (every other draw) dark specks and short dashes on white."""
    if rng.random() < 0.5:
        return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    out = np.full((h, w, 3), 255, np.uint8)
    for _ in range(int(rng.integers(20, 120))):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        length = int(rng.integers(1, 5))
        out[y, x : x + length] = rng.integers(0, 170, size=3)
    return out


def blank(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """White, black or a random colour."""
    choice = int(rng.integers(0, 3))
    colour = (
        (255, 255, 255) if choice == 0 else (0, 0, 0) if choice == 1 else rng.integers(0, 256, 3)
    )
    return np.tile(np.asarray(colour, np.uint8), (h, w, 1))


def gradient(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth two-colour gradient with a few soft blobs and a little grain."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    angle = rng.uniform(0, 2 * np.pi)
    t = (np.cos(angle) * xx / w + np.sin(angle) * yy / h + 1) / 2
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    img = a + (b - a) * t[..., None]
    for _ in range(int(rng.integers(1, 5))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = rng.uniform(3, max(w, h) / 2)
        weight = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
        img = img * (1 - weight) + rng.uniform(0, 255, 3) * weight
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


MADE: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "noise": noise,
    "blank": blank,
    "gradient": gradient,
}
