"""The interactive first run (host/firstrun.py), driven through a real pseudo-terminal.

Whether the program waited for each Enter is read from the terminal itself, not from timing:
the test keeps the terminal's slave end open, so a keypress nobody read stays in its input
queue (FIONREAD) after the program has exited.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time
import unicodedata
from pathlib import Path

import pytest

from host import ids
from tests.fuzz.hostpipe import REPO, host_env

NAME = f"{ids.HOST_NAME}.json"
NO_ROOT = "/nonexistent-decaptcha-test-root"


class Console:
    """`python -m host ARGS` on a pseudo-terminal (stdin, stdout and stderr)."""

    def __init__(self, home: Path, *args: str) -> None:
        self.master, self.slave = os.openpty()
        env = host_env(home, DECAPTCHA_MODELS=str(home / "no-models"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "host", *args],
            cwd=REPO,
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            env=env,
            close_fds=True,
        )
        self.screen = ""

    def expect(self, text: str, deadline_s: float = 60) -> str:
        """Read until `text` has appeared (the deadline only stops a hung test)."""
        end = time.monotonic() + deadline_s
        while text not in self.screen:
            ready, _, _ = select.select([self.master], [], [], max(0, end - time.monotonic()))
            if not ready:
                raise AssertionError(f"no {text!r} on screen:\n{self.screen}")
            self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
        return self.screen

    def press_enter(self) -> None:
        os.write(self.master, b"\r")

    def unread(self) -> int:
        """Bytes typed that the program has not read."""
        return struct.unpack("i", fcntl.ioctl(self.slave, termios.FIONREAD, b"\0\0\0\0"))[0]

    def finish(self) -> tuple[int, int]:
        """(exit code, bytes typed that the program never read)."""
        code = self.proc.wait(timeout=60)
        while select.select([self.master], [], [], 0)[0]:  # what is left, without blocking
            self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
        unread = self.unread()
        os.close(self.master)
        os.close(self.slave)
        return code, unread


@pytest.fixture
def home(tmp_path: Path) -> Path:
    for folder in (".config/google-chrome", ".mozilla/firefox"):
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


def test_first_run_lists_browsers_installs_on_enter_and_waits_to_close(home: Path) -> None:
    console = Console(home, "--root", NO_ROOT)
    screen = console.expect("Press Enter to install")
    assert "NTHU AIS Decaptcha helper" in screen and "清大" in screen
    assert "Google Chrome" in screen and "Firefox" in screen and "Chromium\r\n" not in screen
    chrome = home / ".config/google-chrome/NativeMessagingHosts" / NAME
    assert not chrome.exists()  # nothing before Enter
    console.press_enter()
    screen = console.expect("Press Enter to close")
    assert "Installed for: Google Chrome, Firefox." in screen and "Next step" in screen
    assert "chrome://extensions" in screen and "wrote" not in screen  # a summary, not paths
    assert json.loads(chrome.read_text())["name"] == ids.HOST_NAME
    assert (home / ".mozilla/native-messaging-hosts" / NAME).is_file()
    console.press_enter()
    assert console.finish() == (0, 0)  # and both Enters were read: it waited for each


def test_first_run_with_no_browser_says_so_and_exits_non_zero(tmp_path: Path) -> None:
    console = Console(tmp_path, "--root", NO_ROOT)
    screen = console.expect("Press Enter to close")
    assert "No supported browser" in screen and "找不到" in screen
    console.press_enter()
    assert console.finish() == (1, 0)
    assert not (tmp_path / ".local").exists()


def test_yes_installs_without_asking(home: Path) -> None:
    console = Console(home, "--root", NO_ROOT, "--yes")
    console.expect("Next step")
    assert console.finish()[0] == 0
    assert "Press Enter" not in console.screen
    assert (home / ".config/google-chrome/NativeMessagingHosts" / NAME).is_file()


def test_a_browser_caller_is_served_even_on_a_terminal(tmp_path: Path) -> None:
    # Started by a browser the host serves frames; a terminal on stdin does not change that.
    console = Console(tmp_path, f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/")
    os.write(console.master, b"\x04")  # end of input: the port closed
    assert console.finish()[0] == 0
    assert "Press Enter" not in console.screen and "NTHU AIS Decaptcha helper" not in console.screen


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_every_text_fits_an_80_column_window() -> None:
    from host import firstrun

    pairs = [*firstrun.NEXT_STEP, *firstrun.ANTIVIRUS, firstrun.NO_BROWSER, firstrun.WHAT]
    out = io.StringIO()
    for pair in pairs:
        firstrun._say(out, pair, indent="  ")
    assert max(columns(line) for line in out.getvalue().splitlines()) <= 80


def test_the_antivirus_advice_is_shown_on_windows_only(tmp_path: Path) -> None:
    from host import firstrun
    from host.browsers import Target
    from tests.fake_hkcu import FakeHkcuKeys

    (tmp_path / "AppData/Local/Google/Chrome/User Data").mkdir(parents=True)
    (tmp_path / ".config/google-chrome").mkdir(parents=True)
    shown = {}
    for os_name in ("win32", "linux"):
        out = io.StringIO()
        target = Target(os_name, tmp_path, {}, FakeHkcuKeys(), root=Path(NO_ROOT))
        assert firstrun.run(target, False, lambda: [], out=out) == 0
        shown[os_name] = "antivirus" in out.getvalue() and "quarantine" in out.getvalue()
    assert shown == {"win32": True, "linux": False}
