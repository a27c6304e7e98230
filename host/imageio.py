"""Bounded image decoding: base64 / data URL -> PNG bytes -> RGB uint8 array (H, W, 3).

Images come from web pages, so every step is bounded before it costs memory: the base64
text by length, the PNG by its byte count, and the pixels by the width and height declared in
the PNG header, read by hand before Pillow inflates anything (a decompression bomb is a few
KB of PNG that declares gigapixels).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
import warnings
import zlib

import numpy as np
from PIL import Image, PngImagePlugin

from host.errors import Code, HostError
from host.limits import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the empty IEND chunk with its CRC
_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*),", re.IGNORECASE)

# Pillow's own bomb guard, as a second line behind our header check: over this it raises.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

# Only the PNG plugin, imported now, at start-up, so a request never runs an import (in a
# bundle deleted under a running host, one raised SystemExit). Image.open would import
# Pillow's BMP, GIF, JPEG and PPM plugins too (and subprocess with JPEG) for nothing: the
# signature is checked before Pillow sees the bytes, and only PNG is ever read.


def decode_base64(text: str, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes of a base64 string or a `data:image/png;base64,` URL, at most `limit` of them."""
    if not isinstance(text, str):
        raise HostError(Code.BAD_REQUEST, "an image must be a string")
    match = _DATA_URL.match(text[:200])
    if match:
        mime, params = match.group(1).strip().lower(), match.group(2).lower()
        if mime != "image/png":
            raise HostError(
                Code.BAD_IMAGE, f"data URL of type {mime[:40]!r}; only image/png is read"
            )
        if ";base64" not in params:
            raise HostError(Code.BAD_BASE64, "data URL is not base64-encoded")
        text = text[match.end() :]
    # Check the length before decoding: 4 characters carry 3 bytes.
    if len(text) > (limit + 2) // 3 * 4:
        raise HostError(Code.IMAGE_TOO_LARGE, f"image is over the limit of {limit} bytes")
    if len(text) % 4:
        text += "=" * (-len(text) % 4)  # tolerate missing padding, as browsers' atob does
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HostError(Code.BAD_BASE64, f"image is not valid base64: {exc}") from exc
    if not data:
        raise HostError(Code.BAD_IMAGE, "image is empty")
    if len(data) > limit:
        raise HostError(Code.IMAGE_TOO_LARGE, f"image is over the limit of {limit} bytes")
    return data


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the PNG signature and IHDR chunk, without decoding anything."""
    if not data.startswith(PNG_SIGNATURE):
        raise HostError(Code.BAD_IMAGE, "not a PNG image (wrong signature)")
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise HostError(Code.BAD_IMAGE, "PNG has no IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    if width == 0 or height == 0:
        raise HostError(Code.BAD_IMAGE, f"PNG declares an empty image ({width}x{height})")
    return width, height


def decode_png(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS, limit: int = MAX_IMAGE_BYTES):
    """An RGB uint8 array (H, W, 3) from PNG bytes; palette, grey and alpha are handled.

    Transparent pixels are composited on white, as the page shows them. Raises HostError:
    IMAGE_TOO_LARGE before decoding when the bytes or declared pixels are over the limits,
    BAD_IMAGE when the PNG is not readable.
    """
    if len(data) > limit:
        raise HostError(Code.IMAGE_TOO_LARGE, f"image is over the limit of {limit} bytes")
    width, height = png_size(data)
    if width * height > max_pixels:
        raise HostError(
            Code.IMAGE_TOO_LARGE,
            f"PNG declares {width}x{height} pixels, over the limit of {max_pixels}",
        )
    check_complete(data, width, height)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with PngImagePlugin.PngImageFile(io.BytesIO(data)) as image:
                Image._decompression_bomb_check(image.size)  # what Image.open does here
                image.load()
                rgb = _to_rgb(image)
    except HostError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise HostError(Code.IMAGE_TOO_LARGE, str(exc)[:200]) from exc
    except Exception as exc:  # Pillow raises many types for corrupt input; all mean the same
        raise HostError(
            Code.BAD_IMAGE, f"unreadable PNG: {type(exc).__name__}: {exc}"[:300]
        ) from exc
    if rgb.shape != (height, width, 3):
        raise HostError(Code.BAD_IMAGE, f"PNG decoded to {rgb.shape}, header said {width}x{height}")
    return rgb


# Samples per pixel for each PNG colour type (grey, RGB, palette, grey+alpha, RGBA).
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def check_complete(data: bytes, width: int, height: int) -> None:
    """BAD_IMAGE unless the PNG ends with IEND and its pixel data has every row.

    Pillow quietly decodes a PNG whose compressed data stops early (the missing rows come out
    black), which would hand the models half a captcha; the expected size is bounded by the
    pixel limit already checked, so inflating it here costs at most a few MB.
    """
    if PNG_END not in data:
        raise HostError(Code.BAD_IMAGE, "PNG is truncated (no IEND chunk)")
    depth, colour, interlace = data[24], data[25], data[28]
    if colour not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise HostError(Code.BAD_IMAGE, f"PNG has an invalid colour type {colour} / depth {depth}")
    bits = depth * _CHANNELS[colour]

    def raw_size(w: int, h: int) -> int:
        return h * (1 + (w * bits + 7) // 8) if w and h else 0

    if interlace:
        expected = sum(
            raw_size((width - x + dx - 1) // dx, (height - y + dy - 1) // dy)
            for x, y, dx, dy in _ADAM7
        )
    else:
        expected = raw_size(width, height)
    idat, offset = [], 8
    while offset + 8 <= len(data):
        length, name = struct.unpack(">I4s", data[offset : offset + 8])
        if name == b"IDAT":
            idat.append(data[offset + 8 : offset + 8 + length])
        elif name == b"IEND":
            break
        offset += 12 + length
    try:
        raw = zlib.decompressobj().decompress(b"".join(idat), expected + 1)
    except zlib.error as exc:
        raise HostError(Code.BAD_IMAGE, f"PNG pixel data is corrupt: {exc}") from exc
    if len(raw) != expected:
        raise HostError(Code.BAD_IMAGE, f"PNG pixel data has {len(raw)} of {expected} bytes")


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Any PNG mode -> contiguous uint8 RGB; alpha (or palette transparency) over white."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit grey: keep the top 8 bits (Pillow's convert would clip instead of scale).
        grey = np.asarray(image, dtype=np.uint32) >> 8
        image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb)
