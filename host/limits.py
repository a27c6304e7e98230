"""Every bound the host enforces on what it reads, in one place (documented in PROTOCOL.md).

Real AIS captchas are about 1-3 KB of PNG and at most 104x32 pixels, so these limits leave
a wide margin for honest callers while keeping memory and time bounded for hostile input.
"""

from __future__ import annotations

import os

# Largest request frame read. Chromium may send up to 64 MiB, Firefox 4 GiB: we refuse early.
MAX_FRAME_BYTES = 8 * 1024 * 1024

# Largest reply written. Chromium refuses host messages over 1 MiB; replies are tiny anyway.
MAX_REPLY_BYTES = 1_000_000

# Largest PNG accepted, in decoded (binary) bytes, per image.
MAX_IMAGE_BYTES = 1024 * 1024

# Largest width * height decoded; checked from the PNG header before any pixel is inflated.
MAX_IMAGE_PIXELS = 1_000_000

# Renderings of one captcha in a single `solve`.
MAX_IMAGES = 8

# Longest string `id` echoed back (numbers must be finite and within +-2**53).
MAX_ID_CHARS = 256

# Seconds one request may take (decoding + solving) before the host gives up on it.
REQUEST_TIMEOUT_S = 10.0


def request_timeout() -> float:
    """REQUEST_TIMEOUT_S, or $DECAPTCHA_REQUEST_TIMEOUT (seconds) when set to a positive number."""
    raw = os.environ.get("DECAPTCHA_REQUEST_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return REQUEST_TIMEOUT_S
    return value if value > 0 else REQUEST_TIMEOUT_S


# Captchas the `keep` action stores, in all (both kinds, the user's and the helper's answers):
# enough to retrain from (docs/TRAINING.md), small enough (a few MB) to never fill a disk.
MAX_KEPT_FILES = 3000

# Renderings kept of one answer: `<answer>.png`, then `<answer>_01.png` ... `_99`.
MAX_KEPT_RENDERINGS = 100
