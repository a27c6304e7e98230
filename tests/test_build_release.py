"""`python build.py release` on Linux (issue 10): every artifact, checked, then installed the
way a student would, and used by real Chromium and Firefox.

The release is made once per run from the bundle and dist/<family>/ that `build.py test` has
just built (`build.make_release`: no second PyInstaller run), into a temporary folder.
- The .tar.gz: extracted to a temporary folder, `--install --yes` in a temporary HOME, the
  extracted folder deleted, then the e2e through the installed copy; `--uninstall` after.
- The .deb: `dpkg -i` (root only: CI runs as root), the e2e with no per-user registration at
  all (Chromium reads /etc/chromium/native-messaging-hosts, Firefox
  /usr/lib/mozilla/native-messaging-hosts), then `dpkg -r` removes every file it installed.
  While it is installed every browser on this machine sees the host: the package stays only
  for this module's tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import host
from host import ids
from tests.conftest import REPO, need
from tests.e2e import browsers, replica
from tests.e2e.fixtures import homes, need_browser, server, state  # noqa: F401  (fixtures)
from tests.test_build import build
from tests.test_e2e_extension import Live, solve_login

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the Linux release files")

VERSION = host.__version__
PACKAGE = build.PACKAGE
MANIFEST_NAME = f"{ids.HOST_NAME}.json"
# The system-wide folders the .deb fills, one per browser (host/browsers.py has the list).
SYSTEM_DIRS = {
    "/etc/chromium/native-messaging-hosts",
    "/etc/opt/chrome/native-messaging-hosts",
    "/etc/opt/edge/native-messaging-hosts",
    "/etc/opt/brave.com/brave/native-messaging-hosts",
    "/etc/opt/vivaldi/native-messaging-hosts",
    "/usr/lib/mozilla/native-messaging-hosts",
}


def web_ext() -> list[str]:
    need(shutil.which("node") is not None, "node (for web-ext)")
    script = REPO / "extension" / "node_modules" / "web-ext" / "bin" / "web-ext.js"
    need(script.is_file(), "extension/node_modules (npm ci)")
    return [str(a) for a in build.web_ext()]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need(build.HOST_EXE.is_file(), f"no host bundle at {build.HOST_EXE}: run `python build.py`")
    for family in build.FAMILIES:
        folder = build.DIST / family
        need((folder / "manifest.json").is_file(), f"no {folder}: run `python build.py`")
    need(shutil.which("dpkg-deb") is not None, "dpkg-deb (package dpkg)")
    web_ext()
    out = tmp_path_factory.mktemp("release")
    build.make_release(build.HOST_DIR, out)
    return out


def names(release: Path) -> dict[str, Path]:
    return {p.name: p for p in release.iterdir()}


def host_tarball(release: Path) -> Path:
    return release / f"{PACKAGE}-host-{VERSION}-{build.release_platform()}.tar.gz"


def deb(release: Path) -> Path:
    return release / f"{PACKAGE}_{VERSION}_{build.debian_arch()}.deb"


def zip_manifest(archive: Path) -> dict:
    with zipfile.ZipFile(archive) as z:
        return json.loads(z.read("manifest.json"))


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root` with its kind, mode and content (or link target)."""
    out: dict[str, tuple] = {}
    for p in sorted(root.rglob("*")):
        mode = p.lstat().st_mode
        if p.is_symlink():
            out[str(p.relative_to(root))] = ("link", str(p.readlink()))
        elif p.is_dir():
            out[str(p.relative_to(root))] = ("dir", mode)
        else:
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            out[str(p.relative_to(root))] = ("file", mode, digest)
    return out


def extract(archive: Path, into: Path) -> Path:
    """Extract as a student would; the "data" filter (Python 3.11.4+) also refuses unsafe
    members (absolute paths, links out of the folder)."""
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(archive) as tar:
        tar.extractall(into, **safe)
    (top,) = into.iterdir()
    return top


def host_supports(*flags: str) -> None:
    """The installer's contract (branch install): skipped locally, a failure in CI."""
    text = subprocess.run([str(build.HOST_EXE), "--help"], capture_output=True, text=True).stdout
    missing = [f for f in flags if f not in text]
    need(not missing, f"the bundled host has no {' '.join(missing)} yet")


# ---------------------------------------------------------------------------- the files


def test_every_linux_artifact(release: Path) -> None:
    plat, arch = build.release_platform(), build.debian_arch()
    assert set(names(release)) == {
        f"{PACKAGE}-host-{VERSION}-{plat}.tar.gz",
        f"{PACKAGE}_{VERSION}_{arch}.deb",
        f"{PACKAGE}-chromium-{VERSION}.zip",
        f"{PACKAGE}-chromium-store-{VERSION}.zip",
        f"{PACKAGE}-firefox-{VERSION}.xpi",
        "SHA256SUMS",
    }


def test_sha256sums_cover_and_match_everything(release: Path) -> None:
    listed = {}
    for line in (release / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(" *")
        listed[name] = digest
    assert set(listed) == set(names(release)) - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, name
    checker = shutil.which("sha256sum")
    need(checker is not None, "sha256sum (coreutils)")
    out = subprocess.run([checker, "-c", "SHA256SUMS"], cwd=release, capture_output=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_versions_agree(release: Path) -> None:
    for name in ("chromium", "chromium-store"):
        assert zip_manifest(release / f"{PACKAGE}-{name}-{VERSION}.zip")["version"] == VERSION
    assert zip_manifest(release / f"{PACKAGE}-firefox-{VERSION}.xpi")["version"] == VERSION
    field = subprocess.run(
        ["dpkg-deb", "--field", str(deb(release)), "Version"], capture_output=True, text=True
    )
    assert field.stdout.strip() == VERSION


def test_store_zip_is_the_unpacked_zip_without_key(release: Path) -> None:
    unpacked = release / f"{PACKAGE}-chromium-{VERSION}.zip"
    store = release / f"{PACKAGE}-chromium-store-{VERSION}.zip"
    with zipfile.ZipFile(unpacked) as a, zipfile.ZipFile(store) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != "manifest.json":
                assert a.read(name) == b.read(name), name
    with_key, without = zip_manifest(unpacked), zip_manifest(store)
    assert with_key["key"] == ids.CHROMIUM_EXTENSION_KEY
    assert "key" not in without
    assert {k: v for k, v in with_key.items() if k != "key"} == without
    assert with_key == build.manifest("chromium")


def test_xpi_is_the_firefox_build_and_lint_clean(release: Path, tmp_path: Path) -> None:
    xpi = release / f"{PACKAGE}-firefox-{VERSION}.xpi"
    with zipfile.ZipFile(xpi) as z:
        z.extractall(tmp_path / "xpi")
    built = build.DIST / "firefox"
    assert snapshot(tmp_path / "xpi").keys() == snapshot(built).keys()
    assert zip_manifest(xpi) == build.manifest("firefox")
    env = dict(os.environ, NO_UPDATE_NOTIFIER="1")
    lint = [*web_ext(), "lint", "--source-dir", str(tmp_path / "xpi"), "--warnings-as-errors"]
    out = subprocess.run(lint, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_host_archive_is_the_bundle_in_one_folder(release: Path) -> None:
    top = f"{PACKAGE}-host-{VERSION}-{build.release_platform()}"
    with tarfile.open(host_tarball(release)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        install = tar.extractfile(f"{top}/INSTALL.txt").read().decode()
    assert all(name == top or name.startswith(top + "/") for name in members)
    assert all(m.uid == 0 and m.gid == 0 for m in members.values())
    exe = members[f"{top}/{build.BUNDLE_NAME}"]
    assert exe.isfile() and exe.mode & 0o111
    bundled = {Path(n).name for n in members if n.endswith(".tflite")}
    assert bundled == {p.name for p in (REPO / "models").glob("*.tflite")}
    assert "./decaptcha-host --install --yes" in install and "安裝" in install
    assert VERSION in install


def test_host_archive_runs_and_names_no_local_path(release: Path, tmp_path: Path) -> None:
    top = extract(host_tarball(release), tmp_path)
    exe = top / build.BUNDLE_NAME
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split() == [build.BUNDLE_NAME, VERSION], out
    here = str(REPO).encode()
    assert [p for p in top.rglob("*") if p.is_file() and here in p.read_bytes()] == []


def test_deb_holds_the_bundle_and_every_system_manifest(release: Path) -> None:
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(deb(release))], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    paths = {
        line.split()[-1].lstrip(".").rstrip("/"): line for line in listing if " -> " not in line
    }
    assert all(line.split()[1] == "root/root" for line in listing)
    assert f"{build.DEB_PREFIX}/{build.BUNDLE_NAME}" in paths
    assert {str(Path(p).parent) for p in paths if p.endswith(MANIFEST_NAME)} == SYSTEM_DIRS
    # Nothing else: every path is ours or a folder on the way to ours.
    ours = {build.DEB_PREFIX, *SYSTEM_DIRS}
    for p in filter(None, paths):
        assert any(p == o or p.startswith(o + "/") or o.startswith(p + "/") for o in ours), p
    control = subprocess.run(
        ["dpkg-deb", "--info", str(deb(release))], capture_output=True, text=True, check=True
    ).stdout
    assert f"Package: {PACKAGE}" in control and f"Architecture: {build.debian_arch()}" in control


def test_deb_manifests_name_the_installed_host(release: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "--extract", str(deb(release)), str(tmp_path)], check=True)
    exe = f"{build.DEB_PREFIX}/{build.BUNDLE_NAME}"
    for folder in SYSTEM_DIRS:
        body = json.loads((tmp_path / folder.lstrip("/") / MANIFEST_NAME).read_text())
        assert body["name"] == ids.HOST_NAME and body["path"] == exe
        if folder.endswith("mozilla/native-messaging-hosts"):
            assert body["allowed_extensions"] == [ids.FIREFOX_ADDON_ID]
        else:
            assert body["allowed_origins"] == [f"chrome-extension://{ids.CHROMIUM_EXTENSION_ID}/"]
    assert os.access(tmp_path / exe.lstrip("/"), os.X_OK)


# ---------------------------------------------------------------------------- installed


def release_extension(release: Path, family: str, into: Path) -> Path:
    """The extension a student gets: the unzipped Chromium zip, or the xpi itself."""
    if family == "firefox":
        return release / f"{PACKAGE}-firefox-{VERSION}.xpi"
    with zipfile.ZipFile(release / f"{PACKAGE}-chromium-{VERSION}.zip") as z:
        z.extractall(into)
    return into


def live_session(
    family: str, home: Path, port: int, replica_state: replica.State, extension: Path
) -> Live:
    need_browser(family)
    start = browsers.chromium if family == "chromium" else browsers.firefox
    return Live(start(home, extension, port), replica_state, build.manifest(family))


def test_tarball_install_then_uninstall_leaves_home_identical(
    release: Path, tmp_path: Path
) -> None:
    host_supports("--yes")
    top = extract(host_tarball(release), tmp_path / "download")
    home = tmp_path / "home"
    for folder in (".config/chromium", ".mozilla"):  # the browsers this student has
        (home / folder).mkdir(parents=True)
    before = snapshot(home)
    env = browsers.private_env(home)
    out = subprocess.run(
        [str(top / build.BUNDLE_NAME), "--install", "--yes"], env=env, capture_output=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    registered = list(home.rglob(MANIFEST_NAME))
    assert {p.relative_to(home).parts[0] for p in registered} == {".config", ".mozilla"}
    shutil.rmtree(top)  # the download is gone; the installed copy answers
    exe = Path(json.loads(registered[0].read_text())["path"])
    assert home in exe.parents
    status = subprocess.run([str(exe), "--status"], env=env, capture_output=True, text=True)
    assert status.returncode == 0 and str(registered[0]) in status.stdout, status.stdout
    gone = subprocess.run([str(exe), "--uninstall"], env=env, capture_output=True)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert snapshot(home) == before


@pytest.fixture(scope="module")
def tarball_home(
    release: Path,
    homes: Path,  # noqa: F811
) -> Iterator[Path]:
    """The .tar.gz extracted, installed with --install --yes, and the extracted folder gone."""
    host_supports("--yes")
    top = extract(host_tarball(release), homes / "download")
    home = homes / "student"
    for folder in (".config/chromium", ".mozilla"):
        (home / folder).mkdir(parents=True)
    env = browsers.private_env(home)
    out = subprocess.run(
        [str(top / build.BUNDLE_NAME), "--install", "--yes"], env=env, capture_output=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    shutil.rmtree(homes / "download")
    yield home
    exe = Path(json.loads(next(home.rglob(MANIFEST_NAME)).read_text())["path"])
    subprocess.run([str(exe), "--uninstall"], env=env, capture_output=True, check=True)
    assert not list(home.rglob(MANIFEST_NAME)) and not exe.exists()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("family", ["chromium", "firefox"])
def test_installed_copy_fills_the_login_captcha(
    family: str,
    release: Path,
    tarball_home: Path,
    server: int,  # noqa: F811
    state: replica.State,  # noqa: F811
    tmp_path: Path,
) -> None:
    extension = release_extension(release, family, tmp_path / "extension")
    live = live_session(family, tarball_home, server, state, extension)
    try:
        solve_login(live)
    finally:
        live.browser.quit()


# ---------------------------------------------------------------------------- the .deb


def dpkg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg", *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def deb_installed(release: Path) -> Iterator[list[Path]]:
    """`dpkg -i` the .deb; yields what `dpkg -L` says it installed; removed afterwards."""
    need(os.geteuid() == 0, "root, to dpkg -i the .deb (CI runs as root)")
    need(shutil.which("dpkg") is not None, "dpkg")
    if dpkg("-s", PACKAGE, check=False).returncode == 0:
        pytest.fail(f"{PACKAGE} is already installed on this machine: dpkg -r it first")
    try:
        dpkg("-i", str(deb(release)))
        yield [Path(line) for line in dpkg("-L", PACKAGE).stdout.splitlines() if line.strip()]
    finally:
        dpkg("-r", PACKAGE, check=False)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("family", ["chromium", "firefox"])
def test_deb_serves_every_user_without_registration(
    family: str,
    release: Path,
    deb_installed: list[Path],
    homes: Path,  # noqa: F811
    server: int,  # noqa: F811
    state: replica.State,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = homes / f"deb-{family}"
    home.mkdir()
    extension = release_extension(release, family, tmp_path / "extension")
    live = live_session(family, home, server, state, extension)
    try:
        solve_login(live)
    finally:
        live.browser.quit()
    assert not list(home.rglob(MANIFEST_NAME)), "a per-user registration appeared"


def test_dpkg_remove_removes_every_file(deb_installed: list[Path]) -> None:
    files = [p for p in deb_installed if p.is_file() or p.is_symlink()]
    assert any(p.name == MANIFEST_NAME for p in files) and len(files) > 50
    dpkg("-r", PACKAGE)
    assert [p for p in files if p.exists() or p.is_symlink()] == []
    assert not Path(build.DEB_PREFIX).exists()
