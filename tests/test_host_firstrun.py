"""The interactive first run (host/firstrun.py), driven through a real pseudo-terminal.

Whether the program waited for each Enter is read from the terminal itself, not from timing:
the test keeps the terminal's slave end open, so a keypress nobody read stays in its input
queue (FIONREAD) after the program has exited.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time
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
        with contextlib.suppress(OSError):
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
    assert "Installed." in screen and "Next step" in screen and "chrome://extensions" in screen
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
