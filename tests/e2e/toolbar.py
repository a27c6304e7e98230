"""The real toolbar popup, as a user sees it: Chromium and Firefox NOT headless, on an Xvfb
display started here, the popup opened from the toolbar over the AIS replica's login page, the
whole X screen grabbed and cropped to the browser window (and the popup, where it sticks out).
For tests/test_e2e_toolbar.py (sizes) and `python build.py screenshots` (pictures,
dist/screenshots/toolbar-<browser>-<lang>-<state>.png).

The states, the fake host and the browsers are tests/e2e/popup.py's and browsers.py's; what is
new is opening the popup from the toolbar, running script in it and grabbing the screen:

- Chromium: `chrome.action.openPopup()` evaluated in the extension's service worker through
  its DevTools target (the debugger address chromedriver already has). It needs no user
  gesture in today's Chromium (Chrome's release notes open it to every extension from 127,
  policy-installed ones only in 118-126: from memory, not found in the docs searched; it works
  on Debian's Chromium 156, and tests/test_e2e_toolbar.py fails if it stops working). Script in
  the popup goes through the popup's own DevTools target. No pinning needed: Chromium shows the
  action in the toolbar while its popup is open.
- Firefox: a real click on the toolbar button with xdotool (XTEST, so a genuine user gesture),
  after pinning the button to the navigation bar with CustomizableUI from Marionette's chrome
  context (as a user pins it; MV3 actions start in the Extensions menu). `action.openPopup()`
  without a gesture needs the pref extensions.openPopupWithoutUserGesture.enabled and an
  extension page to call it from, which would take the focus (and the active tab) from the
  window the popup belongs to. Script in the popup: a frame script loaded into the popup's
  <browser> (it runs in the extension process; chrome context cannot reach it directly).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from selenium.webdriver.support.ui import WebDriverWait

from host import ids
from tests.e2e import popup

XVFB = shutil.which("Xvfb")
XDOTOOL = shutil.which("xdotool")
SCREEN = (1280, 1024)  # the Xvfb screen: room for a 1000x800 window and the popup beside it
WINDOW = (0, 0, 1000, 800)  # x, y, width, height of the browser window
# The states photographed from the toolbar (popup.STATES' names): a confident answer, the
# tallest (learning details open), an unsure answer, no helper. "not-ais-page" cannot be
# reached this way (its ?tab= query is for the popup page in a tab).
STATES = ("filled", "filled-learning-open", "unsure", "helper-missing")
# States met on a freshly loaded page, as a user meets them (the popup page in a tab does not
# need it): no helper, so the page is left alone and the badge says "!".
RELOAD = ("helper-missing",)
# Firefox's widget id for the action: makeWidgetId(add-on id) + "-browser-action".
FIREFOX_WIDGET = (
    "".join(c if c.isalnum() or c in "_-" else "_" for c in ids.FIREFOX_ADDON_ID.lower())
    + "-browser-action"
)
# What the popup reports about itself (JSON text: the same code runs through DevTools and a
# Firefox frame script): popup.MEASURE's measurements, its viewport and where it is on screen.
MEASURE = (
    "JSON.stringify({...(() => {" + popup.MEASURE + "})(), innerWidth: window.innerWidth,"
    " innerHeight: window.innerHeight, scrollHeight: document.documentElement.scrollHeight,"
    " screenLeft: window.mozInnerScreenX ?? window.screenX,"
    " screenTop: window.mozInnerScreenY ?? window.screenY})"
)


def missing() -> str | None:
    """Why the toolbar popup cannot be photographed here, or None."""
    if not XVFB:
        return "Xvfb (the xvfb package) for the toolbar popup"
    if not XDOTOOL:
        return "xdotool for clicking Firefox's toolbar button"
    from PIL import features

    if not features.check("xcb"):
        return "Pillow with XCB support, to grab the X screen"
    return None


@contextmanager
def xvfb() -> Iterator[str]:
    """An Xvfb display of its own (Xvfb picks a free number: -displayfd); yields ":N"."""
    read, write = os.pipe()
    size = f"{SCREEN[0]}x{SCREEN[1]}x24"
    command = [XVFB, "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"]
    server = subprocess.Popen(command, pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit code {server.poll()})")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def grab(display: str):
    """The whole X screen, as a Pillow image."""
    from PIL import ImageGrab

    return ImageGrab.grab(xdisplay=display)


@dataclass
class Toolbar:
    """The real popup of one popup.Session's browser, on `display`."""

    session: popup.Session
    display: str

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def driver(self):
        return self.session.driver

    def prepare(self) -> None:
        """The window where the grab expects it; Firefox's button pinned to the toolbar."""
        self.driver.set_window_rect(*WINDOW)
        if self.name == "firefox":
            with self.driver.context(self.driver.CONTEXT_CHROME):
                self.driver.execute_script(
                    "window.CustomizableUI.addWidgetToArea(arguments[0], "
                    "window.CustomizableUI.AREA_NAVBAR)",
                    FIREFOX_WIDGET,
                )

    # Chromium: DevTools targets, through the debugger address chromedriver uses.
    def _targets(self) -> list[dict]:
        address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/list", timeout=10) as response:
            return json.load(response)

    def _target(self, kind: str, path: str) -> dict | None:
        base = f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/{path}"
        return next(
            (t for t in self._targets() if t["type"] == kind and t["url"].startswith(base)),
            None,
        )

    @staticmethod
    def _evaluate(target: dict, expression: str):
        import websocket  # websocket-client, a dependency of selenium

        ws = websocket.create_connection(
            target["webSocketDebuggerUrl"], timeout=popup.TIMEOUT, suppress_origin=True
        )
        try:
            params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
            ws.send(json.dumps({"id": 1, "method": "Runtime.evaluate", "params": params}))
            while True:
                message = json.loads(ws.recv())
                if message.get("id") == 1:
                    break
        finally:
            ws.close()
        result = message.get("result", {})
        if "exceptionDetails" in result or "error" in message:
            raise RuntimeError(f"DevTools: {message}")
        return result["result"].get("value")

    @staticmethod
    def _popup_browser_script(body: str, none: str = "return null;") -> str:
        """Firefox chrome-context script: the open popup's <browser> as `b`, then `body`;
        `none` when no popup is open."""
        return (
            "const b = document.querySelector('browser.webextension-popup-browser');"
            "if (!b || b.closest('panel')?.state !== 'open') {" + none + "}" + body
        )

    def is_open(self) -> bool:
        if self.name == "chromium":
            return self._target("page", "popup/") is not None
        with self.driver.context(self.driver.CONTEXT_CHROME):
            return bool(self.driver.execute_script(self._popup_browser_script("return true;")))

    def run(self, expression: str):
        """Evaluate `expression` in the open popup; its value (JSON-able), None if none."""
        if self.name == "chromium":
            target = self._target("page", "popup/")
            return None if target is None else self._evaluate(target, expression)
        # A frame script with `expression` in its source (the popup's CSP forbids eval and
        # Function, even there), run with the popup's window, document and getComputedStyle.
        frame = (
            "(function (window, document, getComputedStyle) {"
            f" try {{ sendAsyncMessage(NAME, {{value: ({expression})}}); }}"
            " catch (e) { sendAsyncMessage(NAME, {error: String(e)}); }"
            " })(content, content.document, content.getComputedStyle.bind(content));"
        )
        with self.driver.context(self.driver.CONTEXT_CHROME):
            answer = self.driver.execute_async_script(
                self._popup_browser_script(
                    """
                    const done = arguments[arguments.length - 1], mm = b.messageManager;
                    const name = 'toolbar-' + Math.random();
                    const listener = (m) => { mm.removeMessageListener(name, listener);
                                              done(m.data); };
                    mm.addMessageListener(name, listener);
                    mm.loadFrameScript('data:,' + encodeURIComponent(
                        'const NAME = ' + JSON.stringify(name) + ';' + arguments[0]), false);
                    """,
                    none="return arguments[arguments.length - 1]({value: null});",
                ),
                frame,
            )
        if "error" in answer:
            raise RuntimeError(f"in Firefox's popup: {answer['error']}")
        return answer["value"]

    def open(self, view: str, learning_open: bool = False) -> dict:
        """Open the popup from the toolbar over the page tab, wait for `view`; measurements."""
        self.driver.switch_to.window(self.session.page_tab)
        if self.name == "chromium":
            worker = self._target("service_worker", "background/")
            if worker is None:  # asleep: any extension page wakes it
                self.session.in_popup("")
                worker = self._target("service_worker", "background/")
            self._evaluate(worker, "chrome.action.openPopup()")
        else:
            self._click_firefox_button()
        ready = (
            "document.body?.dataset.view === " + json.dumps(view) + " && "
            "Boolean(document.getElementById('host-status')?.dataset.ok)"
        )
        self._wait(ready, f"the toolbar popup never showed {view}")
        if learning_open:
            self.run("(document.getElementById('learning-details').open = true)")
            self._wait("!document.getElementById('kept-folder-box').hidden", "no kept folder")
        time.sleep(0.8)  # the browser resizes the popup to its content; fonts settle
        return json.loads(self.run(MEASURE))

    def _wait(self, expression: str, what: str) -> None:
        def true(_) -> bool:
            try:
                return bool(self.run(expression))
            except Exception:  # the popup's document is not there yet
                return False

        try:
            WebDriverWait(self.driver, popup.TIMEOUT, 0.2).until(true)
        except Exception:
            try:
                shown = self.run("document.body?.dataset.view ?? 'no document'")
            except Exception as error:  # only for the message
                shown = f"nothing: {error}"
            raise AssertionError(
                f"{self.name} {self.session.lang}: {what} (the popup shows {shown}; "
                f"the host was asked {self.session.requests()[-6:]})"
            ) from None

    def _click_firefox_button(self) -> None:
        with self.driver.context(self.driver.CONTEXT_CHROME):
            x, y = self.driver.execute_script(
                "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                "return [window.mozInnerScreenX + r.x + r.width / 2,"
                " window.mozInnerScreenY + r.y + r.height / 2];",
                FIREFOX_WIDGET,
            )
        env = {**os.environ, "DISPLAY": self.display}
        click = [XDOTOOL, "mousemove", str(round(x)), str(round(y)), "click", "1"]
        subprocess.run(click, env=env, check=True, timeout=30)
        # Off the button again, so no tooltip covers the popup in the picture.
        subprocess.run([XDOTOOL, "mousemove", "0", str(SCREEN[1] - 1)], env=env, timeout=30)

    def close(self) -> None:
        if self.name == "chromium":
            if self.is_open():
                self.run("window.close()")
        else:  # as a click elsewhere would (window.close() leaves no frame script to answer)
            with self.driver.context(self.driver.CONTEXT_CHROME):
                self.driver.execute_script(
                    self._popup_browser_script("b.closest('panel').hidePopup();")
                )
        WebDriverWait(self.driver, popup.TIMEOUT, 0.2).until(lambda _: not self.is_open())

    def picture(self, measured: dict):
        """The screen cropped to the browser window and the popup (where it sticks out)."""
        screen = grab(self.display)
        x, y, width, height = WINDOW
        left = min(x, measured["screenLeft"] - 8)
        top = min(y, measured["screenTop"] - 8)
        right = max(x + width, measured["screenLeft"] + measured["innerWidth"] + 8)
        bottom = max(y + height, measured["screenTop"] + measured["innerHeight"] + 8)
        box = (max(0, left), max(0, top), min(SCREEN[0], right), min(SCREEN[1], bottom))
        return screen.crop(tuple(round(v) for v in box))


def run_states(toolbar: Toolbar, names: tuple[str, ...] = STATES) -> Iterator[tuple[str, dict]]:
    """popup.STATES in order, those in `names` only; yields (state, measurements) with the real
    popup open over the page tab (closed again when the caller moves on)."""
    session = toolbar.session
    for state, view, setup, query in popup.STATES:
        if state not in names:
            continue
        if "?" in query:
            raise ValueError(f"{state}: the toolbar popup takes no query ({query})")
        setup(session)
        if state in RELOAD:
            session.open_login()
            session.wait_field_none()
            time.sleep(1)  # the page warms the (absent) helper; the badge follows (pictures only)
        measured = toolbar.open(view, learning_open="learning-open" in query)
        try:
            yield state, measured
        finally:
            toolbar.close()


def screenshots(out: Path | None = None) -> list[Path]:
    """STATES x both browsers x both languages from the toolbar, as PNGs in dist/screenshots/
    (toolbar-<browser>-<lang>-<state>.png)."""
    reason = missing()
    if reason:
        raise RuntimeError(f"no toolbar screenshots without {reason}")
    out = out or popup.DIST / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with (
        xvfb() as display,
        closing(popup.every_session("toolbar-shots-", display=display)) as sessions,
    ):
        for name, lang, session in sessions:
            toolbar = Toolbar(session, display)
            toolbar.prepare()
            for state, measured in run_states(toolbar):
                path = out / f"toolbar-{name}-{lang}-{state}.png"
                toolbar.picture(measured).save(path)
                written.append(path)
                size = f"{measured['innerWidth']}x{measured['innerHeight']}"
                content = f"{measured['height']:.1f} px of content"
                print(f"{path.relative_to(popup.REPO)}  popup {size}, {content}")
    return written
