"""host/browsers.py: where each browser looks, per OS, as data (fake homes and roots)."""

from __future__ import annotations

from pathlib import Path

import pytest

from host import browsers, ids, install, paths
from host.browsers import BROWSERS, Target
from tests.fake_hkcu import FakeHkcuKeys

NAME = f"{ids.HOST_NAME}.json"
# The real / could hold a Snap or Flatpak browser: Linux targets read a root that is empty.
NO_ROOT = Path("/nonexistent-decaptcha-test-root")


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
    target = Target("linux", tmp_path, {"XDG_CACHE_HOME": value}, root=NO_ROOT)
    assert target.cache_dir() == tmp_path / ".cache" / "nthu-ais-decaptcha"
    assert paths.cache_dir("linux", tmp_path, {"XDG_CACHE_HOME": value}) == target.cache_dir()
    absolute = Target("linux", tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "c")}, root=NO_ROOT)
    assert absolute.cache_dir() == tmp_path / "c" / "nthu-ais-decaptcha"


def test_the_data_dir_per_os(tmp_path: Path) -> None:
    local = tmp_path / "Local"
    assert Target("win32", tmp_path, {"LOCALAPPDATA": str(local)}).data_dir() == (
        local / "Programs" / "nthu-ais-decaptcha"
    )
    assert Target("darwin", tmp_path).data_dir() == (
        tmp_path / "Library/Application Support/nthu-ais-decaptcha"
    )
    assert (
        Target("linux", tmp_path, root=NO_ROOT).data_dir()
        == tmp_path / ".local/share/nthu-ais-decaptcha"
    )
    for value in ("", "share"):
        assert Target("linux", tmp_path, {"XDG_DATA_HOME": value}, root=NO_ROOT).data_dir() == (
            tmp_path / ".local/share/nthu-ais-decaptcha"
        )
    xdg = Target("linux", tmp_path, {"XDG_DATA_HOME": str(tmp_path / "d")}, root=NO_ROOT)
    assert xdg.data_dir() == tmp_path / "d/nthu-ais-decaptcha"


# -- Snap and Flatpak (data: fake roots and homes) ----------------------------------------------

SANDBOX_CASES = [
    # (files to create under root or home, expected (browser, kind, served))
    (["root:snap/bin/firefox"], [("firefox", "snap", True)]),
    (["home:snap/firefox/common/.mozilla/firefox"], [("firefox", "snap", True)]),
    (["root:snap/bin/chromium"], [("chromium", "snap", False)]),
    (["home:snap/chromium/common/chromium"], [("chromium", "snap", False)]),
    (["root:var/lib/flatpak/app/org.mozilla.firefox/"], [("firefox", "flatpak", False)]),
    (["home:.local/share/flatpak/app/com.google.Chrome/"], [("chrome", "flatpak", False)]),
    (
        ["root:var/lib/flatpak/app/org.chromium.Chromium/",
         "root:var/lib/flatpak/app/com.brave.Browser/",
         "home:.local/share/flatpak/app/com.microsoft.Edge/",
         "root:var/lib/flatpak/app/com.vivaldi.Vivaldi/"],
        [("chromium", "flatpak", False), ("brave", "flatpak", False), ("edge", "flatpak", False),
         ("vivaldi", "flatpak", False)],
    ),
    ([], []),
]  # fmt: skip


@pytest.mark.parametrize(("files", "expected"), SANDBOX_CASES)
def test_snap_and_flatpak_browsers_are_found(tmp_path: Path, files, expected) -> None:
    root, home = tmp_path / "root", tmp_path / "home"
    for spec in files:
        where, rel = spec.split(":", 1)
        path = (root if where == "root" else home) / rel
        if rel.endswith("/") or (rel.startswith("snap/") and where == "home"):
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("#!/bin/sh\n")
    found = browsers.sandboxed(Target("linux", home, root=root))
    assert sorted((s.browser.name, s.kind, s.served) for s in found) == sorted(expected)
    assert browsers.sandboxed(Target("darwin", home, root=root)) == []


def test_firefox_snap_counts_as_found_and_is_registered_in_dot_mozilla(tmp_path: Path) -> None:
    root, home = tmp_path / "root", tmp_path / "home"
    (root / "snap/bin").mkdir(parents=True)
    (root / "snap/bin/firefox").write_text("")
    (root / "snap/bin/chromium").write_text("")
    home.mkdir()
    target = Target("linux", home, root=root)
    assert [b.name for b in browsers.detect(target)] == ["firefox"]  # not the Chromium snap
    install.install(target)
    assert (home / ".mozilla/native-messaging-hosts" / NAME).is_file()
    assert not (home / ".config/chromium").exists()


def test_the_sandbox_notes_say_why_and_what_to_do(tmp_path: Path) -> None:
    from host import firstrun

    home, root = tmp_path / "home", tmp_path / "root"
    for app in ("org.mozilla.firefox", "com.google.Chrome"):
        (root / "var/lib/flatpak/app" / app).mkdir(parents=True)
    (root / "snap/bin").mkdir(parents=True)
    for snap in ("firefox", "chromium"):
        (root / "snap/bin" / snap).write_text("")
    notes = {(s.browser.name, s.kind): firstrun.sandbox_note(s)
             for s in browsers.sandboxed(Target("linux", home, root=root))}  # fmt: skip
    assert "~/.mozilla/native-messaging-hosts" in notes["firefox", "snap"][0]
    assert (
        "deb/rpm" in notes["chromium", "snap"][0]
        and "Google Chrome" in notes["chromium", "snap"][0]
    )
    for key in (("firefox", "flatpak"), ("chrome", "flatpak")):
        assert "sandbox" in notes[key][0] and "deb/rpm" in notes[key][0]
    assert "xdg-native-messaging-proxy" in notes["firefox", "flatpak"][0]
    assert all(zh and zh != en for en, zh in notes.values())  # both languages
