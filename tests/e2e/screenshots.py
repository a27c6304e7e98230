"""`python build.py screenshots [--tab | --toolbar]`: pictures of the popup, as PNGs in
dist/screenshots/, in Chromium and Firefox, in English and Traditional Chinese.

- Tab shots, dist/screenshots/<browser>-<lang>-<state>.png: every state (tests/e2e/popup.py
  STATES), in headless browsers, of the popup page opened in a tab and cropped to the popup
  (its body is the toolbar popup's fixed 360 px width).
- Toolbar shots, dist/screenshots/toolbar-<browser>-<lang>-<state>.png: the real popup opened
  from the toolbar, over the login page, at the size the browser gives it, for the key states
  (tests/e2e/toolbar.py STATES): the browsers run on an Xvfb display started for the purpose
  (Linux: needs xvfb and xdotool), the whole screen is grabbed and cropped to the window.
  Skipped, with the reason, where that cannot run.

Both by default; `--tab` or `--toolbar` for one kind only.
"""

from __future__ import annotations

import sys

from tests.e2e import popup, toolbar


def main(args: list[str]) -> int:
    unknown = set(args) - {"--tab", "--toolbar"}
    if unknown or len(args) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    written = []
    if "--toolbar" not in args:
        written += popup.screenshots()
    if "--tab" not in args:
        reason = toolbar.missing()
        if reason is None:
            written += toolbar.screenshots()
        elif "--toolbar" in args:
            print(f"no toolbar screenshots: this needs {reason}", file=sys.stderr)
            return 1
        else:
            print(f"toolbar screenshots skipped: they need {reason}")
    print(f"{len(written)} screenshots in {popup.DIST / 'screenshots'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
