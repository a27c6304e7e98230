"""host/browsers.py: where each browser looks, per OS, as data (fake homes and roots)."""

from __future__ import annotations

from pathlib import Path

import pytest

from host import ids, install, paths
from host.browsers import BROWSERS, Target
from tests.fake_hkcu import FakeHkcuKeys

NAME = f"{ids.HOST_NAME}.json"


def test_every_browser_has_a_layout_on_every_os(tmp_path: Path) -> None:
    for os_name in ("linux", "darwin", "win32"):
        target = Target(os_name, tmp_path, {}, FakeHkcuKeys())
        paths = {install.manifest_path(target, b) for b in BROWSERS.values()}
        if os_name == "win32":
            assert len(paths) == 2  # one manifest per family
        else:
            assert len(paths) == len(BROWSERS)
        assert all(p.name == NAME and p.is_absolute() for p in paths)


@pytest.mark.parametrize("value", ["", "relative/cache", "."])
def test_a_non_absolute_xdg_cache_home_is_ignored(tmp_path: Path, value: str) -> None:
    # Browsers start the host in its own folder: a relative value would put the log there.
    target = Target("linux", tmp_path, {"XDG_CACHE_HOME": value})
    assert target.cache_dir() == tmp_path / ".cache" / "nthu-ais-decaptcha"
    assert paths.cache_dir("linux", tmp_path, {"XDG_CACHE_HOME": value}) == target.cache_dir()
    absolute = Target("linux", tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "c")})
    assert absolute.cache_dir() == tmp_path / "c" / "nthu-ais-decaptcha"


def test_the_data_dir_per_os(tmp_path: Path) -> None:
    local = tmp_path / "Local"
    assert Target("win32", tmp_path, {"LOCALAPPDATA": str(local)}).data_dir() == (
        local / "Programs" / "nthu-ais-decaptcha"
    )
    assert Target("darwin", tmp_path).data_dir() == (
        tmp_path / "Library/Application Support/nthu-ais-decaptcha"
    )
    assert Target("linux", tmp_path).data_dir() == tmp_path / ".local/share/nthu-ais-decaptcha"
    for value in ("", "share"):
        assert Target("linux", tmp_path, {"XDG_DATA_HOME": value}).data_dir() == (
            tmp_path / ".local/share/nthu-ais-decaptcha"
        )
    xdg = Target("linux", tmp_path, {"XDG_DATA_HOME": str(tmp_path / "d")})
    assert xdg.data_dir() == tmp_path / "d/nthu-ais-decaptcha"
