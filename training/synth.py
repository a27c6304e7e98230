"""Seedable synthetic AIS captchas for both kinds, for training and as test fixtures.

The look was matched by eye and by palette statistics against ../shared/data:
dark coloured digits (each channel 0-170) of varying size, height and slight rotation,
neighbours touching or overlapping, on white, with small pastel six-armed asterisks
drawn both under and over the digits. Drawing happens at 4x and is box-filtered down,
which gives the soft antialiased edges of the real images. ais6 images are then reduced
to an adaptive palette, as the real 8-bit palette PNGs are; ais3 images stay RGB.

Only numpy, pillow and host/kinds.py (the sizes) are needed, and the font ships in
training/fonts/ (DejaVu Sans Condensed, its digits only; Bitstream Vera licence), so a fresh
clone renders the same pixels on every OS. It is the AIS font's look: a 1 with a foot, narrow
digits. Until synth VERSION 3 the replica drew Liberation Sans, an Arial twin; Helvetica and
Arial look-alikes are now fonts the AIS does not use (the gate's negatives: training/train_gate.py).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from host.kinds import KINDS, Kind

FONTS = Path(__file__).resolve().parent / "fonts"
FONT_FILES = ("DejaVuSansCondensed-digits.ttf", "DejaVuSansCondensed-Bold-digits.ttf")
VERSION = 3  # bump when the look changes: training caches key on it
SCALE = 4  # supersampling factor
CAP_HEIGHT = 0.77  # the font size per pixel of digit height (DejaVu's digits: 0.73-0.76 em)


@dataclass(frozen=True)
class Style:
    """How one kind (its size and digit count: host/kinds.py) is drawn, in output pixels."""

    kind: Kind
    digit_height: tuple[float, float]  # glyph height range
    margin: float  # left/right margin of the digit slots
    jitter: float  # horizontal jitter of each digit's centre
    rotation: float  # max rotation, degrees
    noise: tuple[int, int]  # asterisk count range [lo, hi)
    palette: bool  # saved as an 8-bit palette PNG (ais6) or RGB (ais3)

    @property
    def width(self) -> int:
        return self.kind.width

    @property
    def height(self) -> int:
        return self.kind.height

    @property
    def digits(self) -> int:
        return self.kind.digits


STYLES: dict[str, Style] = {
    "ais6": Style(KINDS["ais6"], (14.0, 20.0), 2.0, 2.0, 12.0, (8, 24), True),
    "ais3": Style(KINDS["ais3"], (14.0, 20.0), 3.0, 1.5, 10.0, (4, 12), False),
}


# A font source: (index into FONT_FILES, i.e. 0 regular or 1 bold; size in pixels) -> font.
FontSource = Callable[[int, int], ImageFont.FreeTypeFont]


@cache
def _font(index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / FONT_FILES[index]), size)


def _dark_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    # Real digit colours: every channel below ~170, never near-white.
    while True:
        c = rng.integers(0, 171, size=3)
        if c.sum() < 420:
            return int(c[0]), int(c[1]), int(c[2])


def _pastel_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    c = rng.integers(150, 256, size=3)
    return int(c[0]), int(c[1]), int(c[2])


def _digit_layer(
    digit: str, height_px: float, rng: np.random.Generator, style: Style, fonts: FontSource
) -> Image.Image:
    """One glyph as an 'L' mask at SCALE, cropped to its ink and rotated."""
    size = max(4, round(height_px / CAP_HEIGHT * SCALE))
    font = fonts(int(rng.random() < 0.2), size)
    left, top, right, bottom = font.getbbox(digit)
    mask = Image.new("L", (right - left + 4 * SCALE, bottom - top + 4 * SCALE), 0)
    ImageDraw.Draw(mask).text((2 * SCALE - left, 2 * SCALE - top), digit, fill=255, font=font)
    angle = float(rng.uniform(-style.rotation, style.rotation))
    mask = mask.rotate(angle, resample=Image.BICUBIC, expand=True)
    box = mask.getbbox()
    return mask.crop(box) if box else mask


def _asterisk(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    """A small six-armed star: three strokes through one centre."""
    cx, cy = rng.uniform(0, w) * SCALE, rng.uniform(0, h) * SCALE
    radius = rng.uniform(2.5, 4.2) * SCALE
    width = max(1, round(rng.uniform(0.8, 1.3) * SCALE))
    colour = _pastel_colour(rng)
    base = rng.uniform(0, math.pi / 3) if rng.random() < 0.3 else 0.0
    for k in range(3):
        a = base + k * math.pi / 3
        dx, dy = radius * math.cos(a), radius * math.sin(a)
        draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=colour, width=width)


def _render(style: Style, text: str, rng: np.random.Generator, fonts: FontSource) -> Image.Image:
    w, h = style.width, style.height
    canvas = Image.new("RGB", (w * SCALE, h * SCALE), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    n_noise = int(rng.integers(*style.noise))
    under = int(rng.integers(0, n_noise + 1))
    for _ in range(under):
        _asterisk(draw, rng, w, h)
    pitch = (w - 2 * style.margin) / style.digits
    for i, digit in enumerate(text):
        mask = _digit_layer(digit, rng.uniform(*style.digit_height), rng, style, fonts)
        mw, mh = mask.size
        cx = (style.margin + (i + 0.5) * pitch + rng.uniform(-style.jitter, style.jitter)) * SCALE
        # Vertical position: anywhere that keeps the glyph (almost) inside the image.
        slack = h * SCALE - mh
        top = rng.uniform(min(0, slack), max(0, slack)) if slack else 0
        x0 = round(cx - mw / 2)
        canvas.paste(_dark_colour(rng), (x0, round(top)), mask)
    for _ in range(n_noise - under):
        _asterisk(draw, rng, w, h)
    return canvas.resize((w, h), Image.BOX)


def generate(
    kind: str, rng: np.random.Generator, text: str | None = None, fonts: FontSource = _font
) -> tuple[np.ndarray, str]:
    """One synthetic captcha: (RGB uint8 array of shape (H, W, 3), its answer).

    `text` (digits only, the kind's length) fixes the answer; otherwise it is drawn from
    `rng`. The same generator state always gives the same pixels. `fonts` replaces the
    AIS-like font (bench/garbage.py draws captchas in other fonts, which are not AIS's).
    """
    style = STYLES[kind]
    if text is None:
        text = "".join(str(d) for d in rng.integers(0, 10, size=style.digits))
    if len(text) != style.digits or not text.isdigit():
        raise ValueError(f"{kind} needs {style.digits} digits, got {text!r}")
    image = _render(style, text, rng, fonts)
    if style.palette:
        # Like the real server: an adaptive palette (the real files have ~100 colours).
        image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).convert("RGB")
    return np.asarray(image, dtype=np.uint8).copy(), text


def png_bytes(rgb: np.ndarray, kind: str) -> bytes:
    """PNG bytes like the server: 8-bit palette for ais6 (lossless to 256 colours), RGB for ais3."""
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    if STYLES[kind].palette:
        flat = rgb.reshape(-1, 3)
        colours, index = np.unique(flat, axis=0, return_inverse=True)
        if len(colours) <= 256:
            image = Image.fromarray(index.reshape(rgb.shape[:2]).astype(np.uint8), "P")
            image.putpalette(colours.astype(np.uint8).tobytes())
        else:
            image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def batch(kind: str, count: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    """`count` captchas from one seed: the convenient form for training and tests."""
    rng = np.random.default_rng(seed)
    images, texts = [], []
    for _ in range(count):
        rgb, text = generate(kind, rng)
        images.append(rgb)
        texts.append(text)
    return images, texts


def main(argv: list[str] | None = None) -> int:
    """`python -m training.synth --out FILE [--kind ais6] [--seed N]`: draw one captcha as a
    PNG and print its answer (build.py's sample check uses it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m training.synth", description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--kind", choices=sorted(STYLES), default="ais6")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rgb, text = generate(args.kind, np.random.default_rng(args.seed))
    args.out.write_bytes(png_bytes(rgb, args.kind))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
