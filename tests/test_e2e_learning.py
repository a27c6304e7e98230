"""Issue 14 end to end: how the AIS takes the answers, the pause, and keeping the captchas the
user typed. The built extension in headless Chromium and Firefox, the native host registered
in the test's HOME, on the AIS replica, whose login form answers like the AIS: the post-login
frameset, 驗證碼輸入錯誤! or 帳號或密碼錯誤 (tests/e2e/replica.py).

Keeping captchas needs a host with the `keep` action (host/PROTOCOL.md, branch learn): the
tests that write files skip, naming it, when the registered host's `status` has no `kept`.
`DECAPTCHA_E2E_HOST_SOURCE=<a source checkout>` registers that checkout's host (`python -m
host --install`, a launcher) instead of the bundle in dist/, e.g. to run them against a branch
whose host has not been bundled yet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import need
from tests.e2e import browsers, replica
from tests.e2e.fixtures import (  # noqa: F401  (fixtures)
    HOST_EXE,
    built_extension,
    homes,
    launch,
    server,
    state,
)
from tests.test_e2e_extension import (
    ABSTAIN_RETRIES,
    LOGIN,
    OUTCOME_TIMEOUT,
    Live,
    captcha_loaded,
    js,
    value,
    wait_outcome,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACCOUNT = "109000000"
PASSWORD = "not-a-real-password"
KEPT_FOLDER = Path(".local/share/nthu-ais-decaptcha-captchas")  # under HOME (PROTOCOL.md keep)
NO_KEEP = (
    "the registered host has no `keep` action (its `status` reports no `kept`): it comes with "
    "branch learn (host/PROTOCOL.md `keep`); set DECAPTCHA_E2E_HOST_SOURCE to a checkout of it"
)


# ---------------------------------------------------------------------------- set-up


def register(home: Path, browser: str) -> None:
    """Register the host for `browser` in `home`: the bundle, or DECAPTCHA_E2E_HOST_SOURCE's."""
    env = browsers.private_env(home)
    source = os.environ.get("DECAPTCHA_E2E_HOST_SOURCE")
    if source:
        command, cwd = [sys.executable, "-m", "host"], source
        env["PYTHONPATH"] = source
    else:
        need(HOST_EXE.is_file(), f"no host bundle at {HOST_EXE}: run `python build.py`")
        command, cwd = [str(HOST_EXE)], None
    out = subprocess.run(
        [*command, "--install", "--browser", browser],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


def start(name: str, home: Path, port: int, replica_state: replica.State) -> Live:
    extension = built_extension(name)
    manifest = json.loads((extension / "manifest.json").read_text())
    register(home, name)
    return Live(launch(name, home, port, extension), replica_state, manifest)


@pytest.fixture
def replica_state(state):  # noqa: F811
    """The replica as each test found it: no odd images, no prefill, no forced rejections."""
    yield state
    state.unreadable_login = False
    state.odd_size_login = False
    state.reject_login_captcha = False
    state.prefill = None
    state.image_delay = 0.0


@pytest.fixture(params=["chromium", "firefox"])
def fresh(request, homes, server, replica_state) -> Iterator[Live]:  # noqa: F811
    """A browser of its own: counters, pause and kept captchas start empty."""
    home = homes / f"learn-{request.param}-{request.node.name.split('[')[0]}"
    home.mkdir()
    session = start(request.param, home, server, replica_state)
    yield session
    session.browser.quit()


# ---------------------------------------------------------------------------- helpers


class Popup:
    """The popup page in a tab of its own (it follows the tab that last showed a captcha)."""

    def __init__(self, live: Live) -> None:
        self.live = live

    def __enter__(self) -> Popup:
        live = self.live
        self.page_tab = live.driver.current_window_handle
        live.browser.open_tab(live.browser.popup_url(live.manifest))
        WebDriverWait(live.driver, 15, 0.1).until(
            lambda _: js(live, "return document.body.hasAttribute('data-tab')")
        )
        return self

    def __exit__(self, *exc) -> None:
        self.live.driver.close()
        self.live.driver.switch_to.window(self.page_tab)

    def el(self, element_id: str):
        return self.live.driver.find_element(By.ID, element_id)

    def wait(self, condition, timeout: float = 15):
        return WebDriverWait(self.live.driver, timeout, 0.1).until(lambda _: condition())

    def counts(self, which: str) -> tuple[int, int]:
        data = js(self.live, f"return {{...document.getElementById('outcome-{which}').dataset}}")
        return int(data.get("accepted") or 0), int(data.get("all") or 0)

    def open_learning(self) -> None:
        """Open the closed "Learning from your logins" details as a user does (its summary)."""
        if not self.el("learning-details").get_attribute("open"):
            self.el("learning-summary").click()
        self.wait(lambda: self.el("learning-details").get_attribute("open") is not None)

    def switch(self, element_id: str, on: bool) -> None:
        if element_id == "keep-captchas":
            self.open_learning()
        box = self.wait(lambda: self.el(element_id))
        if box.is_selected() != on:
            box.click()
        self.wait(lambda: box.is_selected() == on)

    def kept_total(self) -> int | None:
        """The host's count of kept captchas, or None when the host does not report any."""
        self.open_learning()
        self.wait(lambda: self.el("kept-count").text.strip())
        total = self.el("kept-count").get_attribute("data-total")
        return int(total) if total else None


def open_login_filled(live: Live, password: str = PASSWORD) -> tuple[str, str]:
    """Load login pages (ID and password already there) until the helper fills one;
    returns (pwdstr, answer)."""
    live.state.prefill = (ACCOUNT, password)
    for _ in range(ABSTAIN_RETRIES):
        live.driver.get(LOGIN)
        pwdstr = live.driver.find_element(By.NAME, "fnstr").get_attribute("value")
        answer = live.state.login[pwdstr]
        if wait_outcome(live, "passwd2") == "filled":
            assert value(live, "passwd2") == answer
            return pwdstr, answer
    pytest.fail(f"{live.name}: the helper abstained on {ABSTAIN_RETRIES} login captchas")


def type_captcha(live: Live, text: str) -> None:
    field = live.driver.find_element(By.NAME, "passwd2")
    field.clear()
    field.send_keys(text)


def submit(live: Live) -> replica.Post:
    """Click the form's 登入 as the user does; wait for the AIS's answer page to load."""
    posts = len(live.state.posts)
    live.driver.find_element(By.NAME, "Submit").click()
    WebDriverWait(live.driver, 15, 0.1).until(lambda _: len(live.state.posts) > posts)
    WebDriverWait(live.driver, 15, 0.1).until(
        lambda d: (
            urlsplit(d.current_url).path == replica.LOGIN_POST
            and d.execute_script("return document.readyState") == "complete"
        )
    )
    return live.state.posts[-1]


def kept_files(live: Live) -> list[Path]:
    folder = live.browser.home / KEPT_FOLDER
    return sorted(p.relative_to(folder) for p in folder.rglob("*.png")) if folder.is_dir() else []


def wait_counts(live: Live, which: str, want: tuple[int, int]) -> None:
    with Popup(live) as popup:
        try:
            popup.wait(lambda: popup.counts(which) == want)
        except TimeoutException:
            pytest.fail(f"{live.name}: {which} counts {popup.counts(which)}, want {want}")


# ---------------------------------------------------------------------------- tests


def test_helper_answer_accepted_is_counted(fresh: Live) -> None:
    live = fresh
    open_login_filled(live)
    post = submit(live)
    assert post.fields["passwd2"] == live.state.login[post.fields["fnstr"]]
    assert js(live, "return !!document.querySelector('frameset')"), "no post-login frameset"
    wait_counts(live, "helper", (1, 1))
    wait_counts(live, "user", (0, 0))
    # A wrong password is not the captcha's fault: the helper's answer counts as accepted.
    open_login_filled(live, replica.WRONG_PASSWORD)
    submit(live)
    assert replica.WRONG_PASSWORD_TEXT in live.driver.page_source
    wait_counts(live, "helper", (2, 2))
    with Popup(live) as popup:
        popup.wait(lambda: "2" in popup.el("outcome-helper").text)


def open_login_typed(live: Live, text: str | None = None) -> str:
    """Load a login page (autofill off), wait for its captcha, type `text` (default: the
    right answer) as the user does; returns the right answer."""
    live.state.prefill = (ACCOUNT, PASSWORD)
    live.driver.get(LOGIN)
    pwdstr = live.driver.find_element(By.NAME, "fnstr").get_attribute("value")
    WebDriverWait(live.driver, 15, 0.05).until(lambda _: captcha_loaded(live))
    answer = live.state.login[pwdstr]
    type_captcha(live, answer if text is None else text(answer))
    return answer


def off_by_one(answer: str) -> str:
    return answer[:-1] + str((int(answer[-1]) + 1) % 10)


def test_typed_answers_kept_only_when_accepted_and_switched_on(fresh: Live) -> None:
    live = fresh
    live.driver.get(LOGIN)  # a login tab, so the popup has a page to follow
    with Popup(live) as popup:
        if popup.kept_total() is None:
            pytest.skip(NO_KEEP)
        assert not popup.el("keep-captchas").is_selected(), "the keep switch must start off"
        folder = popup.el("kept-folder").text
        popup.switch("autofill", False)  # the user types every captcha here
    assert Path(folder) == live.browser.home / KEPT_FOLDER, folder

    # Switch off (the default): a typed, accepted answer is counted, never kept.
    open_login_typed(live)
    submit(live)
    assert js(live, "return !!document.querySelector('frameset')"), "no post-login frameset"
    wait_counts(live, "user", (1, 1))
    assert kept_files(live) == [], "kept with the switch off"

    with Popup(live) as popup:
        popup.switch("keep-captchas", True)

    # Rejected: counted, nothing kept.
    open_login_typed(live, off_by_one)
    submit(live)
    assert replica.WRONG_CAPTCHA_TEXT in live.driver.page_source
    wait_counts(live, "user", (1, 2))
    assert kept_files(live) == [], "a rejected answer was kept"

    # Accepted with the switch on: exactly one file, named by the answer, of the kind's size.
    answer = open_login_typed(live)
    submit(live)
    wait_counts(live, "user", (2, 3))
    WebDriverWait(live.driver, 15, 0.2).until(lambda _: kept_files(live))
    time.sleep(0.5)  # a second file would have come with the first
    assert kept_files(live) == [Path("ais6") / f"{answer}.png"], kept_files(live)
    with Image.open(live.browser.home / KEPT_FOLDER / "ais6" / f"{answer}.png") as image:
        assert image.size == (104, 32)
    with Popup(live) as popup:
        popup.wait(lambda: popup.kept_total() == 1)
        # Delete them all, with a confirm step.
        popup.el("keep-delete").click()
        assert kept_files(live), "deleted before the confirm"
        popup.el("keep-delete-confirm").click()
        popup.wait(lambda: popup.kept_total() == 0)
    assert kept_files(live) == []


def test_unsure_run_pauses_autofill(fresh: Live) -> None:
    live = fresh
    live.driver.get(LOGIN)
    with Popup(live) as popup:
        popup.switch("submit-after-fill", True)
    live.state.prefill = (ACCOUNT, PASSWORD)
    posts = len(live.state.posts)
    # Captchas the models cannot read, one after another: after 3 (UNSURE_RUN_PAUSE), paused.
    live.state.unreadable_login = True
    for _ in range(3):
        live.driver.get(LOGIN)
        assert wait_outcome(live, "passwd2") == "low-confidence"
    live.state.unreadable_login = False
    with Popup(live) as popup:
        popup.wait(lambda: popup.el("paused").is_displayed())
        assert popup.el("paused").get_attribute("data-reason") == "unsure-run"
        assert popup.el("paused-title").text.strip()
        assert popup.el("paused-reason").text.strip()
    # A readable captcha now: not filled, not submitted; the popup says why.
    live.driver.get(LOGIN)
    assert wait_phase(live, "paused")
    time.sleep(1.5)  # every chance to (wrongly) fill or submit
    assert value(live, "passwd2") == ""
    assert js(live, "return document.querySelector('[name=passwd2]').dataset.decaptcha") is None
    assert len(live.state.posts) == posts, "submitted while paused"
    # Turned back on by the user: the captcha shown is filled (and, with the option, submitted).
    with Popup(live) as popup:
        popup.wait(lambda: popup.el("resume").is_displayed())
        popup.el("resume").click()
        popup.wait(lambda: not popup.el("paused").is_displayed())
    WebDriverWait(live.driver, OUTCOME_TIMEOUT, 0.1).until(
        lambda _: len(live.state.posts) > posts or _low(live)
    )


def _low(live: Live) -> bool:
    try:
        return js(live, "return document.querySelector('[name=passwd2]')?.dataset.decaptcha") == (
            "low-confidence"
        )
    except Exception:  # navigating to the form's target
        return False


def wait_phase(live: Live, phase: str) -> bool:
    with Popup(live) as popup:
        try:
            popup.wait(lambda: popup.el("page-status").get_attribute("data-phase") == phase)
        except TimeoutException:
            got = popup.el("page-status").get_attribute("data-phase")
            pytest.fail(f"{live.name}: page phase {got!r}, want {phase!r}")
        assert popup.el("page-status").text.strip()
    return True


def test_image_of_unknown_size_pauses_at_once(fresh: Live) -> None:
    live = fresh
    posts = len(live.state.posts)
    live.state.prefill = (ACCOUNT, PASSWORD)
    live.state.odd_size_login = True
    live.driver.get(LOGIN)
    assert wait_phase(live, "paused")
    with Popup(live) as popup:
        popup.wait(lambda: popup.el("paused").is_displayed())
        assert popup.el("paused").get_attribute("data-reason") == "unknown-size"
    assert value(live, "passwd2") == ""
    assert len(live.state.posts) == posts


def test_rejected_helper_answer_is_never_followed_by_another(fresh: Live) -> None:
    live = fresh
    live.driver.get(LOGIN)
    with Popup(live) as popup:
        popup.switch("submit-after-fill", True)
    # The AIS rejects every captcha now (as if its check had changed): the helper's
    # automatic login is rejected once.
    live.state.reject_login_captcha = True
    live.state.prefill = (ACCOUNT, PASSWORD)
    posts = len(live.state.posts)
    for _ in range(ABSTAIN_RETRIES):
        live.driver.get(LOGIN)
        WebDriverWait(live.driver, OUTCOME_TIMEOUT, 0.1).until(
            lambda _: len(live.state.posts) > posts or _low(live)
        )
        if len(live.state.posts) > posts:
            break
    else:
        pytest.fail("the helper abstained on every captcha")
    WebDriverWait(live.driver, 15, 0.1).until(lambda d: replica.WRONG_CAPTCHA_TEXT in d.page_source)
    wait_counts(live, "helper", (0, 1))
    # The next captcha: held, not filled, not submitted (the submit guard's 5 minutes are not
    # what stops it: the hold is).
    live.driver.get(LOGIN)
    assert wait_phase(live, "held")
    time.sleep(1.5)
    assert value(live, "passwd2") == ""
    assert len(live.state.posts) == posts + 1, "a second automatic login after a rejection"
    # The user types one and it is rejected too: within 15 minutes of the helper's, so paused.
    pwdstr = live.driver.find_element(By.NAME, "fnstr").get_attribute("value")
    type_captcha(live, live.state.login[pwdstr])
    submit(live)
    with Popup(live) as popup:
        popup.wait(lambda: popup.el("paused").is_displayed())
        assert popup.el("paused").get_attribute("data-reason") == "rejected-twice"
