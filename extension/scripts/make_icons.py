"""Draw the extension icons (src/icons/icon-N.png). Run once; the PNGs are committed.

A purple rounded square (NTHU's colour) with a white check mark over three dots:
"a captcha, read". Drawn at 8x and downsampled so small sizes stay smooth.
"""

from pathlib import Path

from PIL import Image, ImageDraw

SIZES = (16, 32, 48, 128)
OUT = Path(__file__).resolve().parent.parent / "src" / "icons"
PURPLE = (124, 58, 237, 255)
WHITE = (255, 255, 255, 255)


def draw(size: int) -> Image.Image:
    s = size * 8
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s // 5, fill=PURPLE)
    r = s // 14
    for i in range(3):
        cx = s * (0.28 + 0.22 * i)
        d.ellipse((cx - r, s * 0.3 - r, cx + r, s * 0.3 + r), fill=WHITE)
    w = max(s // 10, 8)
    d.line(
        [(s * 0.24, s * 0.62), (s * 0.42, s * 0.8), (s * 0.78, s * 0.48)],
        fill=WHITE,
        width=w,
        joint="curve",
    )
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
