"""Drive the built extension's popup through every state in a real browser, for
tests/test_e2e_popup.py (measurements) and `python build.py screenshots` (pictures); its states
are also opened from the real toolbar by tests/e2e/toolbar.py.

The native host is tests/e2e/fake_host.py, registered by hand in the browser's private HOME, so
each state is set exactly (a confident answer, an unsure one, an older or incompatible helper, a
broken one, none at all) without models. The AIS pages come from the replica
(tests/e2e/replica.py). The popup is measured as a page in a tab of its own (popup.html, which
follows the tab that last showed a captcha, or ?tab=N) at the popup's own width: its body is a
fixed 360 px wide, as in the toolbar.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from host import ids
from tests.e2e import browsers

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"
FAKE_HOST = Path(__file__).resolve().parent / "fake_host.py"
LOGIN = "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/"
LANGS = {"en": "en-US", "zh_TW": "zh-TW"}
BROWSERS = ("chromium", "firefox")
TIMEOUT = 20
POPUP_MAX_HEIGHT = 600  # Chromium's and Firefox's limit for a toolbar popup
POPUP_WIDTH = 360  # the popup's body, fixed in popup.css
KEPT_FOLDER = "/home/student/.local/share/nthu-ais-decaptcha-captchas"  # the fake host's `kept`

MEASURE = """
const html = document.documentElement, body = document.body;
const cut = [...document.querySelectorAll('body *')].filter((e) => {
  if (e.closest('[hidden]') || e.closest('details:not([open]) > :not(summary)')) return false;
  const s = getComputedStyle(e);
  return s.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'PRE';
}).map((e) => e.id || e.tagName);
const resolve = document.getElementById('resolve');
return {
  view: body.dataset.view,
  lang: html.lang,
  height: html.getBoundingClientRect().height,
  width: body.getBoundingClientRect().width,
  overflowX: body.scrollWidth - body.clientWidth,
  cut,
  fontSize: parseFloat(getComputedStyle(body).fontSize),
  fontFamily: getComputedStyle(body).fontFamily,
  buttonFontSize: parseFloat(getComputedStyle(document.querySelector('button')).fontSize),
  selectFontSize: parseFloat(getComputedStyle(document.getElementById('method')).fontSize),
  answerText: document.getElementById('answer').textContent,
  resolveShown: Boolean(resolve.offsetParent),
  pausedShown: Boolean(document.getElementById('paused').offsetParent),
  pausedAboveStatus: document.getElementById('paused').getBoundingClientRect().bottom
    <= document.getElementById('page-status').getBoundingClientRect().top,
  phase: document.getElementById('page-status').dataset.phase,
  outcomes: document.getElementById('outcomes').getBoundingClientRect().height,
  status: document.getElementById('page-status').textContent,
  title: document.getElementById('host-help-title').textContent,
  tab: body.dataset.tab,
};
"""


@dataclass
class Session:
    """One browser in one UI language, with the fake host registered in its HOME."""

    name: str
    lang: str  # "en" | "zh_TW"
    browser: browsers.Browser
    home: Path
    config: Path
    manifest_path: Path
    manifest: dict
    page_tab: str = ""
    popup_tab: str = ""
    log: list[str] = field(default_factory=list)

    @property
    def driver(self):
        return self.browser.driver

    def set_host(self, **config: object) -> None:
        self.config.write_text(json.dumps(config))

    def requests(self) -> list[str]:
        """The actions the fake host has been asked for, in order."""
        log = self.config.with_suffix(".log")
        return log.read_text().split() if log.exists() else []

    def unregister(self) -> None:
        self.manifest_path.unlink(missing_ok=True)

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def open_login(self) -> None:
        """The AIS login page in the page tab (reloaded), focused."""
        self.driver.switch_to.window(self.page_tab)
        self.driver.get(LOGIN)

    def wait_field_none(self) -> None:
        """The login page's captcha shown and left alone (paused or held: nothing filled)."""
        WebDriverWait(self.driver, TIMEOUT, 0.1).until(
            lambda _: self.js("return document.readyState") == "complete"
        )

    def field_phase(self) -> str | None:
        return self.js("return document.querySelector('[name=passwd2]')?.dataset.decaptcha ?? null")

    def wait_field(self, phase: str) -> None:
        WebDriverWait(self.driver, TIMEOUT, 0.1).until(
            lambda _: self.field_phase() == phase, f"{self.name}: field never {phase}"
        )

    def popup(self, view: str, query: str = "") -> dict:
        """Open (or reopen) the popup page, wait for `view`, return its measurements."""
        self.close_popup()
        url = self.browser.popup_url(self.manifest) + query
        self.popup_tab = self.browser.open_tab(url)
        try:
            WebDriverWait(self.driver, TIMEOUT, 0.1).until(
                lambda _: (
                    self.js("return document.body?.dataset.view") == view
                    and self.js("return document.getElementById('host-status')?.dataset.ok")
                )
            )
        except TimeoutException:
            shown = self.js("return document.body.dataset.view")
            diagnostics = self.js("return document.getElementById('diagnostics-text').textContent")
            raise AssertionError(
                f"{self.name} {self.lang}: the popup never showed {view} (showed {shown}; "
                f"the host was asked {self.requests()[-6:]})\n{diagnostics}"
            ) from None
        if view in ("paused", "held"):
            shown = "paused" if view == "paused" else "page-status"
            WebDriverWait(self.driver, TIMEOUT, 0.1).until(
                lambda _: self.js(f"return !document.getElementById('{shown}').hidden")
            )
        if "learning-open" in query:
            self.js("document.getElementById('learning-details').open = true")
            WebDriverWait(self.driver, TIMEOUT, 0.1).until(
                lambda _: self.js("return !document.getElementById('kept-folder-box').hidden")
            )
        time.sleep(0.3)  # fonts and the image settle (screenshots only; nothing is timed)
        return self.js(MEASURE)

    def in_popup(self, script: str) -> None:
        """Run `script` in an extension page (the popup, opened on no tab), then close it."""
        self.popup("none", "?tab=999999")
        self.js(script)
        self.close_popup()

    def badge(self) -> str:
        """The toolbar badge of the page tab, read with the extension's own API in the popup."""
        return self.driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const ext = globalThis.browser ?? globalThis.chrome;
            const tabId = Number(document.body.dataset.tab);
            Promise.resolve(ext.action.getBadgeText({tabId}))
                .then(done, (e) => done('error: ' + e));
            """
        )

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.find_element(By.TAG_NAME, "body").screenshot(str(path))

    def close_popup(self) -> None:
        if self.popup_tab:
            self.driver.switch_to.window(self.popup_tab)
            self.driver.close()
            self.popup_tab = ""
        self.driver.switch_to.window(self.page_tab)

    def quit(self) -> None:
        self.browser.quit()


def register_fake_host(home: Path, name: str) -> tuple[Path, Path]:
    """The fake host's manifest where this browser reads it; returns (config, manifest)."""
    config = home / "fake-host.json"
    config.write_text("{}")
    launcher = home / "fake-host.sh"
    command = [sys.executable, "-I", str(FAKE_HOST), str(config)]
    launcher.write_text(f"#!/bin/sh\nexec {shlex.join(command)}\n")
    launcher.chmod(0o700)
    body = {
        "name": ids.HOST_NAME,
        "description": "fake host",
        "path": str(launcher),
        "type": "stdio",
    }
    if name == "chromium":
        folder = home / ".config" / "chromium" / "NativeMessagingHosts"
        body["allowed_origins"] = [f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/"]
    else:
        folder = home / ".mozilla" / "native-messaging-hosts"
        body["allowed_extensions"] = [ids.FIREFOX_ADDON_ID]
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / f"{ids.HOST_NAME}.json"
    manifest.write_text(json.dumps(body))
    return config, manifest


def start(name: str, lang: str, home: Path, port: int, **launch: object) -> Session:
    """`launch`: more keywords for browsers.chromium / browsers.firefox (display=...)."""
    config, manifest_path = register_fake_host(home, name)
    if name == "chromium":
        browser = browsers.chromium(home, DIST / "chromium", port, lang=LANGS[lang], **launch)
    else:
        browser = browsers.firefox(
            home, DIST / "nthu-ais-decaptcha-firefox.zip", port, lang=LANGS[lang], **launch
        )
    manifest = json.loads((DIST / name / "manifest.json").read_text())
    session = Session(name, lang, browser, home, config, manifest_path, manifest)
    session.page_tab = browser.driver.current_window_handle
    return session


# Every state, in an order that needs no restart: (state, expected view, how to get there).
Step = Callable[[Session], None]


def _filled(s: Session) -> None:
    s.set_host(confidence=0.995)
    s.open_login()
    s.wait_field("filled")


def _unsure(s: Session) -> None:
    s.set_host(confidence=0.34, text="001719")
    s.open_login()
    s.wait_field("low-confidence")


def _kept(s: Session) -> None:
    s.set_host(confidence=0.995, delay=2.0)  # time to type before the answer comes
    s.open_login()
    s.driver.find_element(By.NAME, "passwd2").send_keys("12")
    s.wait_field("kept-user-input")
    s.set_host(confidence=0.995)


def _off(s: Session) -> None:
    s.in_popup("(globalThis.browser ?? globalThis.chrome).storage.local.set({autofill: false})")
    s.open_login()
    WebDriverWait(s.driver, TIMEOUT, 0.1).until(
        lambda _: s.js("return document.readyState") == "complete"
    )


def _gate(s: Session, **gate: object) -> None:
    """Set issue 14's gate (storage.local pause / hold) as the background would, then load the
    login page: its controller reads the gate and neither fills nor submits."""
    s.in_popup(
        "(globalThis.browser ?? globalThis.chrome).storage.local.set(" + json.dumps(gate) + ")"
    )
    s.open_login()


def _paused(s: Session) -> None:
    s.set_host(confidence=0.995, kept={"folder": KEPT_FOLDER, "total": 12})
    _gate(s, pause={"reason": "unsure-run", "kind": "ais6", "at": 0})
    s.wait_field_none()


def _held(s: Session) -> None:
    s.set_host(confidence=0.995, kept={"folder": KEPT_FOLDER, "total": 12})
    _gate(s, hold=True)
    s.wait_field_none()


def _filled_learning(s: Session) -> None:
    """Filled, with counters, a host reporting kept captchas, the learning details open."""
    s.set_host(confidence=0.995, kept={"folder": KEPT_FOLDER, "total": 12})
    counts = {
        "ais6": {"helperAccepted": 57, "helperRejected": 0, "userAccepted": 2, "userRejected": 1}
    }
    s.in_popup(
        "(globalThis.browser ?? globalThis.chrome).storage.local.remove(['pause', 'hold'])"
        ".then(() => (globalThis.browser ?? globalThis.chrome).storage.local.set("
        + json.dumps({"counts": counts, "keepCaptchas": True})
        + "))"
    )
    s.open_login()
    s.wait_field("filled")


def _ungate(s: Session) -> None:
    s.js("(globalThis.browser ?? globalThis.chrome).storage.local.remove(['pause', 'hold'])")


def _autofill_on(s: Session) -> None:
    s.js("(globalThis.browser ?? globalThis.chrome).storage.local.set({autofill: true})")


def _older(s: Session) -> None:
    s.set_host(confidence=0.995, version="0.0.1")
    s.open_login()
    s.wait_field("filled")


def _incompatible(s: Session) -> None:
    s.set_host(confidence=0.995, protocol=2, version="9.0.0")


def _failing(s: Session) -> None:
    s.set_host(exit=True)


def _missing(s: Session) -> None:
    s.set_host(exit=True)  # the running host goes, and none is found any more
    s.unregister()


STATES: list[tuple[str, str, Step, str]] = [
    # (state, expected popup view, setup, popup query)
    ("filled", "filled", _filled, ""),
    ("paused", "paused", _paused, ""),
    ("held", "held", _held, ""),
    ("filled-learning-open", "filled", _filled_learning, "#learning-open"),
    ("unsure", "unsure", _unsure, ""),
    ("typed-by-user", "kept", _kept, ""),
    ("autofill-off", "off", _off, ""),
    ("not-ais-page", "none", lambda s: None, "?tab=999999"),
    ("helper-older", "filled", _older, ""),
    ("helper-incompatible", "incompatible", _incompatible, ""),
    ("helper-failing", "failing", _failing, ""),
    ("helper-missing", "missing", _missing, ""),
]


def run_states(session: Session) -> Iterator[tuple[str, dict]]:
    """Put the popup in each state in turn; yields (state, measurements) with the popup open."""
    for state, view, setup, query in STATES:
        session.close_popup()
        setup(session)
        measured = session.popup(view, query)
        if state == "autofill-off":
            _autofill_on(session)
        elif state in ("paused", "held"):
            _ungate(session)
        yield state, measured


def shown_captchas(seed: int):
    """Captchas whose answer is the fake host's, drawn synthetically: in a screenshot (the
    README shows two) the image must show the answer the popup gives, or it reads as wrong."""
    from host.kinds import KINDS
    from tests.e2e import fake_host, replica

    class ShownCaptchas(replica.Captchas):
        def new_answer(self, kind: str, many_renderings: bool = False) -> str:
            return fake_host.TEXT[: KINDS[kind].digits]

    return ShownCaptchas(None, seed=seed)  # synthetic: a real image has an answer of its own


def replica_server(tmp: Path):
    """The AIS replica on loopback, outside pytest (the screenshots command)."""
    from tests.e2e import replica

    state = replica.State(shown_captchas(seed=7))
    cert, key = replica.make_certificate(tmp)
    server, thread = replica.start(state, cert, key)
    return server, thread


def every_session(prefix: str, **launch: object) -> Iterator[tuple[str, str, Session]]:
    """(browser, language, session) for both browsers x both languages, each a fresh browser
    in a private HOME against one replica server; every browser and the server stop after
    (use it under contextlib.closing, so they stop on an error too). `launch`: more keywords
    for `start` (the toolbar's display)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server, thread = replica_server(Path(tmp))
        try:
            for name in BROWSERS:
                for lang in LANGS:
                    home = browsers.random_home(Path(tmp), f"{name}-{lang}")
                    session = start(name, lang, home, server.port, **launch)
                    try:
                        yield name, lang, session
                    finally:
                        session.quit()
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)


def screenshots(out: Path | None = None) -> list[Path]:
    """Every state x both browsers x both languages, as PNGs in dist/screenshots/."""
    out = out or DIST / "screenshots"
    written: list[Path] = []
    with closing(every_session("popup-shots-")) as sessions:
        for name, lang, session in sessions:
            for state, measured in run_states(session):
                path = out / f"{name}-{lang}-{state}.png"
                session.screenshot(path)
                written.append(path)
                print(f"{path.relative_to(REPO)}  {measured['height']:.0f} px high")
    return written
