"""`python build.py screenshots`: the popup in every state (tests/e2e/popup.py STATES), in
headless Chromium and Firefox, in English and Traditional Chinese, as PNGs in
dist/screenshots/<browser>-<lang>-<state>.png.

Taken of the popup page in a tab, cropped to the popup (its body is the toolbar popup's fixed
360 px width), not of the toolbar popup itself: headless browsers have no toolbar.
"""

from __future__ import annotations

import sys

from tests.e2e import popup


def main() -> int:
    written = popup.screenshots()
    print(f"{len(written)} screenshots in {popup.DIST / 'screenshots'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
