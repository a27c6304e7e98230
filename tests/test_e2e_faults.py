"""Faults between the extension and the host, in real headless Chromium and Firefox.

The real extension (dist/) and the real PyInstaller bundle, registered by its own `--install`
in the test's HOME; the manifest's `path` is then pointed at tests/e2e/faulty_host.py, which
runs that same bundle behind a fault the test sets (see that file):

- the host dies mid-request once: the extension reconnects once, resends, and fills;
- the host dies on every request: the page is left untouched, the popup reports the failure;
- the page swaps the captcha while a (slow) request is in flight: the stale answer is dropped;
- the browser closes the port: the host exits 0 and no host process is left.

Captchas come from the AIS replica (tests/e2e/replica.py), which knows every answer it drew.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from host import ids
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
from tests.test_e2e_extension import ABSTAIN_RETRIES, LOGIN, OUTCOME_TIMEOUT, SETTLED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FAULTY_HOST = Path(__file__).resolve().parent / "e2e" / "faulty_host.py"
MANIFEST_NAME = f"{ids.HOST_NAME}.json"
NEW_IMAGE_LOADED = "return window.__e2e.loads.some((l) => l.src.endsWith(arguments[0]))"


# ---------------------------------------------------------------------------- the faulty host


@dataclass
class Faulty:
    """A browser whose native host is the real bundle behind tests/e2e/faulty_host.py."""

    browser: browsers.Browser
    state: replica.State
    manifest: dict
    config: Path
    log: Path

    @property
    def driver(self):
        return self.browser.driver

    @property
    def name(self) -> str:
        return self.browser.name

    def set_fault(
        self,
        kill: int = 0,
        kill_actions: tuple[str, ...] = ("solve",),
        hold: int = 0,
        release: bool = False,
    ) -> None:
        """See tests/e2e/faulty_host.py: `kill` requests die, `hold` solve replies wait (until
        a newer solve request, or `release`)."""
        settings = {"kill": kill, "kill_actions": list(kill_actions), "hold": hold}
        self.config.write_text(json.dumps({**settings, "release": release}))

    def release(self) -> None:
        """Let held replies go (the remaining fault budgets are kept)."""
        settings = json.loads(self.config.read_text() or "{}")
        self.config.write_text(json.dumps({**settings, "release": True}))

    def events(self, since: int = 0) -> list[dict]:
        """The wrappers' events (one JSON object per line), from the `since`-th on."""
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines[since:] if line.endswith("}")]

    def mark(self) -> int:
        return len(self.events())


def register_behind_wrapper(home: Path, browser: str, passthrough: bool) -> tuple[Path, Path]:
    """`decaptcha-host --install --in-place --browser NAME` in `home`, then the manifest's path
    is swapped for a launcher of the fault wrapper around that same bundle.
    Returns (config, log)."""
    env = browsers.private_env(home)
    out = subprocess.run(
        [str(HOST_EXE), "--install", "--in-place", "--browser", browser],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    manifests = list(home.rglob(MANIFEST_NAME))
    assert len(manifests) == 1, f"--install wrote {manifests}"
    config, log = home / "fault.json", home / "fault-events.jsonl"
    config.write_text("{}")
    command = [sys.executable, "-I", str(FAULTY_HOST)]
    command += ["--real", str(HOST_EXE), "--config", str(config), "--log", str(log)]
    command += ["--pass"] if passthrough else []
    launcher = home / "faulty-host.sh"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.join(command)} -- "$@"\n')
    launcher.chmod(0o700)
    body = json.loads(manifests[0].read_text())
    assert Path(body["path"]).resolve() == HOST_EXE.resolve()  # what --install registered
    body["path"] = str(launcher)
    manifests[0].write_text(json.dumps(body))
    return config, log


def start(
    name: str, home: Path, port: int, replica_state: replica.State, passthrough: bool = False
) -> Faulty:
    need(HOST_EXE.is_file(), f"no host bundle at {HOST_EXE}: run `python build.py`")
    extension = built_extension(name)
    manifest = json.loads((extension / "manifest.json").read_text())
    config, log = register_behind_wrapper(home, name, passthrough)
    return Faulty(launch(name, home, port, extension), replica_state, manifest, config, log)


# ---------------------------------------------------------------------------- page helpers


def js(f: Faulty, script: str, *args):
    return f.driver.execute_script(script, *args)


def wait_for(f: Faulty, condition: Callable, timeout: float, what: str):
    try:
        return WebDriverWait(f.driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        events = "\n".join(json.dumps(e) for e in f.events()[-12:])
        pytest.fail(f"{f.name}: {what} within {timeout} s; last host events:\n{events}")


def field(f: Faulty) -> dict:
    return js(
        f,
        "const e = document.querySelector('[name=passwd2]');"
        "return {value: e.value, phase: e.dataset.decaptcha || null,"
        " seq: Number(e.dataset.decaptchaSeq || 0)};",
    )


def wait_outcome(f: Faulty) -> str:
    """The first outcome the extension settles on for this page's login captcha."""
    return wait_for(
        f,
        lambda _: (s := field(f))["phase"] in SETTLED and s["seq"] > 0 and s["phase"],
        OUTCOME_TIMEOUT,
        "no outcome for passwd2",
    )


def open_login(f: Faulty) -> str:
    """Load the login page (returns at DOMContentLoaded); its pwdstr."""
    f.driver.get(LOGIN)
    return f.driver.find_element(By.NAME, "fnstr").get_attribute("value")


def inputs(f: Faulty) -> list[str]:
    """Every value the answer field had at an `input` event (the replica's page probe)."""
    script = "return window.__e2e.inputs.filter((i) => i.name === 'passwd2').map((i) => i.value)"
    return js(f, script)


def of(events: list[dict], kind: str, **match) -> list[dict]:
    return [e for e in events if e["event"] == kind and match.items() <= e.items()]


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=["chromium", "firefox"])
def faulty(request, homes, server, state) -> Iterator[Faulty]:  # noqa: F811
    home = homes / f"faults-{request.param}"
    home.mkdir()
    session = start(request.param, home, server, state)
    yield session
    session.browser.quit()


@pytest.fixture
def fault(faulty: Faulty) -> Iterator[Faulty]:
    """The module's browser, with no fault set again after the test."""
    yield faulty
    faulty.set_fault()


# ---------------------------------------------------------------------------- tests


def test_one_solve_request_per_image(fault: Faulty) -> None:
    """The first captcha of a fresh browser, then course pages in a frame of an AIS page: the
    host gets one request per image the page shows (plus the vote, when renderings were
    fetched for one), never the same image twice."""
    f = fault
    since = f.mark()
    pwdstr = open_login(f)
    wait_outcome(f)
    solves = of(f.events(since), "request", action="solve")
    renderings = [s for s in f.state.served if s.kind == "ais6" and s.key == pwdstr]
    # One rendering served: no vote, so one request; more: the vote is the second.
    assert len(solves) == (1 if len(renderings) == 1 else 2), (len(solves), len(renderings))
    assert field(f)["seq"] == 1

    for i in range(5):
        session = f"e2e{f.name}framed{i}"
        since = f.mark()
        f.driver.get(f"https://www.ccxp.nthu.edu.tw{replica.FRAMED_COURSE}?ACIXSTORE={session}")
        course_outcome_in_frame(f)
        images = [s for s in f.state.served if s.kind == "ais3" and s.key == session]
        solves = of(f.events(since), "request", action="solve")
        assert len(solves) == len(images), f"{f.name}: {len(solves)} requests, {len(images)} images"


def course_outcome_in_frame(f: Faulty) -> str:
    """In the page's first frame: wait for the course captcha's outcome; returns the phase."""
    wait_for(f, lambda d: d.find_elements(By.TAG_NAME, "iframe"), 15, "no frame")
    f.driver.switch_to.frame(0)
    try:
        return wait_for(
            f,
            lambda _: js(
                f,
                "const e = document.querySelector('[name=auth_num]');"
                "return e && ['filled', 'low-confidence'].includes(e.dataset.decaptcha)"
                " && e.dataset.decaptcha;",
            ),
            OUTCOME_TIMEOUT,
            "no outcome for auth_num in the frame",
        )
    finally:
        f.driver.switch_to.default_content()


def test_ais_page_framed_by_another_site_is_left_alone(fault: Faulty, server: int) -> None:  # noqa: F811
    f = fault
    since = f.mark()
    # Another site (https://localhost:<port>) frames the AIS course page.
    f.driver.get(f"https://localhost:{server}{replica.FOREIGN_FRAME}?ACIXSTORE=e2e{f.name}foreign")
    page = f.driver.current_window_handle
    wait_for(f, lambda d: d.find_elements(By.TAG_NAME, "iframe"), 15, "no frame")
    f.driver.switch_to.frame(0)
    loaded = "return window.__e2e && window.__e2e.loads.some((l) => l.src.includes('auth_img'))"
    wait_for(f, lambda _: js(f, loaded), 15, "the framed captcha did not load")
    f.driver.switch_to.default_content()

    # Then, in another tab, the same page framed by an AIS page is solved: by the time its
    # answer is back, a request from the foreign-framed page (sent as its image loaded) would
    # have reached the host before it.
    f.driver.switch_to.new_window("tab")
    session = f"e2e{f.name}framedcontrol"
    f.driver.get(f"https://www.ccxp.nthu.edu.tw{replica.FRAMED_COURSE}?ACIXSTORE={session}")
    course_outcome_in_frame(f)
    control = [s for s in f.state.served if s.kind == "ais3" and s.key == session]
    solves = of(f.events(since), "request", action="solve")
    assert len(solves) == len(control), f"{f.name}: the foreign-framed captcha was sent to the host"
    f.driver.close()
    f.driver.switch_to.window(page)
    f.driver.switch_to.frame(0)
    try:
        untouched = js(
            f,
            "const e = document.querySelector('[name=auth_num]');"
            "return [e.value, e.dataset.decaptcha ?? null, document.forms[0].outerHTML,"
            " window.__e2e.snapshot];",
        )
    finally:
        f.driver.switch_to.default_content()
    value, phase, form, snapshot = untouched
    assert (value, phase) == ("", None)
    assert form == snapshot, "the foreign-framed page was changed"


def test_host_killed_mid_request_reconnects_once_and_fills(fault: Faulty) -> None:
    f = fault
    for _ in range(ABSTAIN_RETRIES):
        f.set_fault(kill=1)  # the next solve request kills the host
        since = f.mark()
        pwdstr = open_login(f)
        phase = wait_outcome(f)
        got, answer = field(f)["value"], f.state.login[pwdstr]
        events = f.events(since)

        [killed] = of(events, "killed")  # exactly one host died, on a solve request
        assert killed["action"] == "solve"
        after = events[events.index(killed) :]
        assert len(of(after, "start")) == 1, "the extension did not reconnect exactly once"
        resent = of(after, "request", id=killed["id"])
        assert len(resent) == 1 and resent[0]["pid"] != killed["pid"], "not resent to a new host"
        [reply] = of(after, "reply", id=killed["id"])
        assert reply["ok"] is True and reply["pid"] == resent[0]["pid"]

        if phase == "filled":
            assert got == answer, f"{f.name}: filled {got!r}, the captcha says {answer!r}"
            assert of(after, "reply", text=answer), "the field's answer is not the host's"
            return
        assert phase == "low-confidence" and got == "", (phase, got)
    pytest.fail(f"{f.name}: the model abstained on {ABSTAIN_RETRIES} captchas")


def test_host_dying_on_every_request_leaves_page_untouched_and_popup_reports(
    fault: Faulty,
) -> None:
    f = fault
    f.set_fault(kill=1000, kill_actions=("solve", "status"))
    since = f.mark()
    open_login(f)
    page = f.driver.current_window_handle

    def solve_given_up(_) -> list[dict] | bool:
        killed = of(f.events(since), "killed", action="solve")
        return len(killed) >= 2 and killed

    killed = wait_for(f, solve_given_up, OUTCOME_TIMEOUT, "the host was not killed twice")
    assert killed[0]["id"] == killed[1]["id"], "the second attempt was not the same request"
    assert killed[0]["pid"] != killed[1]["pid"]

    # The popup, as a page of its own (it follows the tab that last showed a captcha).
    f.browser.open_tab(f.browser.popup_url(f.manifest))
    status = f.driver.find_element(By.ID, "page-status")
    wait_for(f, lambda _: status.get_attribute("data-phase") == "error", 15, "no error phase")
    footer = f.driver.find_element(By.ID, "host-status")
    wait_for(f, lambda _: footer.get_attribute("data-ok") == "false", 15, "host status not bad")
    # The code is for bug reports: in the (closed) diagnostics section, not in the words shown.
    diagnostics = js(f, "return document.getElementById('diagnostics-text').textContent")
    assert "HOST_UNAVAILABLE" in diagnostics
    assert "HOST_UNAVAILABLE" not in footer.text
    # A helper that keeps dying is the one thing the popup shows: its card, with the steps.
    help_box = f.driver.find_element(By.ID, "host-help")
    assert help_box.is_displayed(), "no install help for a host that keeps dying"
    assert f.driver.find_element(By.ID, "host-help-title").text.strip(), "the popup says nothing"
    f.driver.close()
    f.driver.switch_to.window(page)

    # Untouched: the form is exactly as parsed, before any extension could touch it.
    assert field(f) == {"value": "", "phase": None, "seq": 0}
    snapshot = js(f, "return window.__e2e.snapshot")
    assert snapshot and js(f, "return document.forms[0].outerHTML") == snapshot
    assert inputs(f) == []
    # One retry per request, never a loop.
    solves = of(f.events(since), "request", action="solve")
    assert [e["id"] for e in solves] == [killed[0]["id"]] * 2


def test_stale_answer_dropped_when_image_replaced_in_flight(fault: Faulty) -> None:
    """The page draws a new captcha while the first one's request is in flight: the new image
    waits (one request in flight per page), the late answer is dropped, the new one filled."""
    f = fault
    for _ in range(ABSTAIN_RETRIES):
        # The next solve reply waits until the test releases it: a slow host.
        f.set_fault(hold=1)
        since = f.mark()
        open_login(f)

        def first_solve(_, since: int = since) -> dict | bool:
            solves = of(f.events(since), "request", action="solve")
            return solves[0] if solves else False

        old = wait_for(f, first_solve, OUTCOME_TIMEOUT, "no solve request for the first image")
        # The request is in flight (its reply is held): the page draws a new captcha.
        new = f.state.new_pwdstr()
        js(f, "document.querySelector('img[src*=auth_img]').src = arguments[0]",
           f"auth_img.php?pwdstr={new}")  # fmt: skip
        wait_for(f, lambda _, new=new: js(f, NEW_IMAGE_LOADED, new), 15, "no new captcha loaded")
        solves = of(f.events(since), "request", action="solve")
        assert [e["id"] for e in solves] == [old["id"]], f"{f.name}: a second request in flight"
        f.release()
        phase = wait_outcome(f)
        got, answer = field(f)["value"], f.state.login[new]
        events = f.events(since)

        [stale] = of(events, "reply", id=old["id"])
        assert stale["ok"] is True and stale["held"], "the host did not answer the first image"
        newer = [e for e in of(events, "request", action="solve") if e["id"] != old["id"]]
        assert newer and events.index(stale) < events.index(newer[0]), (
            "the new image was not sent after the late answer"
        )
        if stale["text"] != answer:
            assert stale["text"] not in inputs(f), f"{f.name}: the stale answer reached the field"
        if phase == "filled":
            assert got == answer, f"{f.name}: filled {got!r}, the new captcha says {answer!r}"
            return
        assert phase == "low-confidence" and got == "", (phase, got)
    pytest.fail(f"{f.name}: the model abstained on {ABSTAIN_RETRIES} captchas")


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for init to reap it is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def hosts_in(home: Path) -> list[int]:
    """Live processes of the bundled host (or the wrapper) started with HOME=`home`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = HOST_EXE.name.encode() in cmdline or FAULTY_HOST.name.encode() in cmdline
        if ours and f"HOME={home}".encode() in environ and running(int(proc.name)):
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("name", ["chromium", "firefox"])
def test_browser_closing_port_host_exits_cleanly(name, homes, server, state) -> None:  # noqa: F811
    need(sys.platform == "linux", "reads /proc")
    home = homes / f"close-{name}"
    home.mkdir()
    # Pass mode: the real host holds the browser's own pipes; the wrapper only records its exit.
    f = start(name, home, server, state, passthrough=True)
    try:
        open_login(f)
        wait_outcome(f)  # the host is up and has answered
        [started] = of(f.events(), "start")
        assert running(started["child"]) and not of(f.events(), "exit")
    finally:
        f.browser.quit()  # the browser closes the port as it exits

    exited = wait_for(f, lambda _: of(f.events(), "exit"), 20, "the host did not exit")
    assert exited[0]["child"] == started["child"]
    assert exited[0]["code"] == 0, f"{name}: the host exited with {exited[0]['code']}"
    wait_for(
        f,
        lambda _: not running(started["child"]) and not running(started["pid"]),
        10,
        "a host process is still running",
    )
    assert hosts_in(home) == [], "a host process was left running"
