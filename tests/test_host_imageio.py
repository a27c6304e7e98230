"""host/imageio.py: bounded base64 and PNG decoding into RGB uint8 (H, W, 3)."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from host import imageio, limits
from host.errors import HostError
from training import synth


def png(image: Image.Image, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **save)
    return out.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb(width: int, height: int) -> bytes:
    """A tiny grey PNG that declares width x height pixels, all zero (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compressobj(9)
    data = b""
    row = b"\0" * (width + 1)
    for _ in range(min(height, 4)):  # a real stream, but short: the header is what counts
        data += rows.compress(row)
    data += rows.flush()
    return (
        imageio.PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def code_of(call) -> str:
    with pytest.raises(HostError) as info:
        call()
    return info.value.code


# -- base64 ----------------------------------------------------------------------------------


def test_base64_and_data_url_give_the_same_bytes() -> None:
    data = png(Image.new("RGB", (4, 3), (1, 2, 3)))
    text = base64.b64encode(data).decode()
    assert imageio.decode_base64(text) == data
    assert imageio.decode_base64("data:image/png;base64," + text) == data
    assert imageio.decode_base64("DATA:Image/PNG;BASE64," + text) == data
    assert imageio.decode_base64(text.rstrip("=")) == data  # missing padding tolerated


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not base64!", "BAD_BASE64"),
        ("QUJD\x00RA==", "BAD_BASE64"),
        ("A", "BAD_BASE64"),
        ("", "BAD_IMAGE"),
        ("data:image/png,rawbytes", "BAD_BASE64"),
        ("data:image/jpeg;base64,/9j/4AAQ", "BAD_IMAGE"),
        ("data:text/html;base64,PGI+", "BAD_IMAGE"),
    ],
)
def test_bad_base64(text: str, code: str) -> None:
    assert code_of(lambda: imageio.decode_base64(text)) == code


def test_base64_over_the_byte_limit_is_refused_before_decoding() -> None:
    just_fits = base64.b64encode(b"\0" * 3000).decode()
    assert len(imageio.decode_base64(just_fits, limit=3000)) == 3000
    too_long = base64.b64encode(b"\0" * 3003).decode()
    assert code_of(lambda: imageio.decode_base64(too_long, limit=3000)) == "IMAGE_TOO_LARGE"
    # The default limit, with text that is not even valid base64: length is checked first.
    huge = "!" * (limits.MAX_IMAGE_BYTES // 3 * 4 + 8)
    assert code_of(lambda: imageio.decode_base64(huge)) == "IMAGE_TOO_LARGE"


def test_non_string_image_is_a_bad_request() -> None:
    assert code_of(lambda: imageio.decode_base64(123)) == "BAD_REQUEST"  # type: ignore[arg-type]


# -- PNG decoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"])
def test_every_png_mode_becomes_rgb_uint8(mode: str) -> None:
    rgb = imageio.decode_png(png(Image.new(mode, (7, 5))))
    assert rgb.shape == (5, 7, 3)
    assert rgb.dtype == np.uint8
    assert rgb.flags.c_contiguous


def test_pixels_survive_exactly() -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(30, 42, 3), dtype=np.uint8)
    assert np.array_equal(imageio.decode_png(png(Image.fromarray(pixels, "RGB"))), pixels)


def test_synthetic_captchas_decode_to_their_pixels() -> None:
    rng = np.random.default_rng(7)
    for kind in ("ais6", "ais3"):  # ais6 is an 8-bit palette PNG, ais3 RGB, as the real ones
        rgb, _ = synth.generate(kind, rng)
        assert np.array_equal(imageio.decode_png(synth.png_bytes(rgb, kind)), rgb)


def test_alpha_is_composited_on_white() -> None:
    image = Image.new("RGBA", (2, 1))
    image.putpixel((0, 0), (0, 0, 0, 0))  # transparent -> white
    image.putpixel((1, 0), (10, 20, 30, 255))  # opaque -> itself
    rgb = imageio.decode_png(png(image))
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [10, 20, 30]


def test_palette_transparency_is_composited_on_white() -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 0, 200, 0, 0])
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 1)
    rgb = imageio.decode_png(png(image, transparency=0))
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 1].tolist() == [200, 0, 0]


def test_decompression_bomb_is_refused_from_the_header() -> None:
    data = bomb(50_000, 50_000)  # 2.5 gigapixels in a few hundred bytes
    assert len(data) < 2000
    assert code_of(lambda: imageio.decode_png(data)) == "IMAGE_TOO_LARGE"


def test_pixel_limit_is_exact() -> None:
    at_limit = bomb(1000, 1000)
    assert 1000 * 1000 == limits.MAX_IMAGE_PIXELS
    # At the limit: not refused for size (its data is short, so it is a BAD_IMAGE at worst).
    assert code_of(lambda: imageio.decode_png(at_limit)) == "BAD_IMAGE"
    assert code_of(lambda: imageio.decode_png(bomb(1000, 1001))) == "IMAGE_TOO_LARGE"
    small = png(Image.new("L", (20, 10)))
    assert code_of(lambda: imageio.decode_png(small, max_pixels=199)) == "IMAGE_TOO_LARGE"
    assert imageio.decode_png(small, max_pixels=200).shape == (10, 20, 3)


def test_image_byte_limit() -> None:
    data = png(Image.new("L", (20, 10)))
    assert code_of(lambda: imageio.decode_png(data, limit=len(data) - 1)) == "IMAGE_TOO_LARGE"


@pytest.mark.parametrize("cut", [8, 20, 33, 40, -13, -1])
def test_truncated_png_is_bad_image(cut: int) -> None:
    rgb, _ = synth.generate("ais6", np.random.default_rng(3))
    data = synth.png_bytes(rgb, "ais6")
    assert code_of(lambda: imageio.decode_png(data[:cut])) == "BAD_IMAGE"


def test_corrupt_png_is_bad_image() -> None:
    rgb, _ = synth.generate("ais3", np.random.default_rng(4))
    data = bytearray(synth.png_bytes(rgb, "ais3"))
    start = data.index(b"IDAT") + 4
    data[start : start + 40] = bytes(40)  # zeroed compressed data: zlib or CRC error
    assert code_of(lambda: imageio.decode_png(bytes(data))) == "BAD_IMAGE"


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "BMP", "WEBP"])
def test_other_formats_are_bad_image(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format=fmt)
    assert code_of(lambda: imageio.decode_png(out.getvalue())) == "BAD_IMAGE"


def test_zero_size_and_missing_header_are_bad_image() -> None:
    header = struct.pack(">IIBBBBB", 0, 10, 8, 0, 0, 0, 0)
    zero = imageio.PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    assert code_of(lambda: imageio.decode_png(zero)) == "BAD_IMAGE"
    assert code_of(lambda: imageio.decode_png(imageio.PNG_SIGNATURE)) == "BAD_IMAGE"
    assert code_of(lambda: imageio.decode_png(b"")) == "BAD_IMAGE"


def interlaced_grey_png(pixels: np.ndarray) -> bytes:
    """An Adam7-interlaced 8-bit grey PNG (Pillow cannot write one)."""
    height, width = pixels.shape
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2))
    raw = b""
    for x0, y0, dx, dy in (*passes, (0, 1, 1, 2)):
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + row.tobytes() for row in sub)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1)
    return (
        imageio.PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("width", "height"), [(104, 32), (42, 30), (3, 5), (1, 1)])
def test_interlaced_png_decodes_to_its_pixels(width: int, height: int) -> None:
    grey = np.random.default_rng(width).integers(0, 256, size=(height, width), dtype=np.uint8)
    data = interlaced_grey_png(grey)
    rgb = imageio.decode_png(data)
    assert np.array_equal(rgb[..., 0], grey)
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_png_with_missing_rows_is_bad_image() -> None:
    """Pillow fills missing rows with black; the host refuses the image instead."""
    rgb, _ = synth.generate("ais3", np.random.default_rng(5))
    image = Image.fromarray(rgb, "RGB")
    full = png(image)
    start = full.index(b"IDAT")
    (length,) = struct.unpack(">I", full[start - 4 : start])
    raw = zlib.decompress(full[start + 4 : start + 4 + length])
    half = zlib.compress(raw[: len(raw) // 2])
    broken = full[: start - 4] + chunk(b"IDAT", half) + full[start + 8 + length :]
    with Image.open(io.BytesIO(broken)) as lenient:
        lenient.load()  # Pillow accepts it...
    assert code_of(lambda: imageio.decode_png(broken)) == "BAD_IMAGE"  # ...the host does not
