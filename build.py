#!/usr/bin/env python3
"""Build, install and test NTHU AIS Decaptcha: the one entry point.

    python build.py              build the host bundle and the extensions, register the host,
                                 read a sample captcha, print what to do next
    python build.py test [ARGS]  the whole test suite (extra ARGS go to pytest)
    python build.py bench [ARGS] the benchmarks (docs/BENCHMARKS.md)
    python build.py release      the release files for this platform in dist/release/
    python build.py screenshots  the popup in every state, both browsers and languages, in
                                 dist/screenshots/; then the real toolbar popup under Xvfb
                                 (toolbar-*.png); --tab or --toolbar for one kind only
    python build.py uninstall    unregister the host from every browser
    python build.py clean        remove dist/, build/ and the virtual environments

Standard library only, so it runs with a bare Python 3.11+ on Linux, macOS and Windows.
Everything else goes into virtual environments that this script makes and keeps up to date.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent
DIST = REPO / "dist"
WORK = REPO / "build"
VENV = REPO / ".venv"
VENV_TFLITE = REPO / ".venv-tflite"
IS_WINDOWS = sys.platform == "win32"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The PyInstaller bundle's folder and program name (host/ids.py HOST_NAME is the
# native-messaging name browsers know it by).
BUNDLE_NAME = "decaptcha-host"
HOST_DIR = DIST / BUNDLE_NAME
HOST_EXE = HOST_DIR / (BUNDLE_NAME + (".exe" if IS_WINDOWS else ""))
FAMILIES = ("chromium", "firefox")
PYINSTALLER = "pyinstaller==6.22.3"

# The second TFLite runtime the models must agree with (docs/ARCHITECTURE.md, "Test venvs").
TFLITE214 = ["tflite-runtime==2.14.0", "numpy<2", "pillow"]

# Modules the host never imports but that PyInstaller would follow from site-packages.
# TensorFlow above all: the host runs TFLite models only (a test checks the bundle for it).
BUNDLE_EXCLUDES = [
    # Heavy packages that may sit in the same venv (training, tests).
    "tensorflow", "tensorboard", "keras", "tf_keras", "jax", "torch", "scipy", "pandas",
    "matplotlib", "IPython", "pytest", "hypothesis", "selenium", "cryptography",
    "setuptools", "pkg_resources", "pip", "training", "tests", "bench", "tqdm",
    "charset_normalizer", "cv2", "onnxruntime", "ddddocr", "h5py", "grpc", "google.protobuf",
    # Standard-library parts the host never uses (drags in OpenSSL, readline, Tk).
    "tkinter", "ssl", "readline", "pdb", "pydoc", "doctest", "unittest", "sqlite3", "curses",
    "asyncio", "multiprocessing", "xmlrpc", "http.server", "lzma", "bz2", "xml",
    "_hashlib",  # hashlib falls back to its built-in hashes; this one pulls in libcrypto
    "unicodedata", "stringprep", "numpy._core._multiarray_tests",
    "_codecs_cn", "_codecs_hk", "_codecs_iso2022", "_codecs_jp", "_codecs_kr", "_codecs_tw",
    # numpy parts that neither the host nor the runtime imports (numpy loads them only when
    # asked for by name): 4 MB. Not numpy.ma: some numpy functions import it when called.
    "numpy.random", "numpy.fft", "numpy.polynomial", "numpy.f2py", "numpy.testing",
    # Pillow plugins and their libraries: the host reads PNG only.
    "PIL.AvifImagePlugin", "PIL._avif", "PIL.WebPImagePlugin", "PIL._webp",
    "PIL.ImageTk", "PIL._imagingtk", "PIL.ImageCms", "PIL._imagingcms", "PIL.ImageQt",
    "PIL.ImageShow", "PIL.ImageGrab", "PIL.ImageFont", "PIL._imagingft",
]  # fmt: skip


class BuildError(Exception):
    """A step failed; the message says which and why."""


# ---------------------------------------------------------------------------- helpers


def say(message: str) -> None:
    print(f"[build] {message}", flush=True)


def run(cmd: list[str | Path], cwd: Path = REPO, env: dict[str, str] | None = None) -> int:
    """Run a command, streaming its output; returns its exit code."""
    cmd = [str(c) for c in cmd]
    say("$ " + " ".join(cmd))
    return subprocess.call(cmd, cwd=cwd, env=env)


def check(cmd: list[str | Path], cwd: Path = REPO, env: dict[str, str] | None = None) -> None:
    if run(cmd, cwd, env) != 0:
        raise BuildError(f"command failed: {' '.join(str(c) for c in cmd)}")


def venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if IS_WINDOWS else "bin/python")


def runtime_requirements() -> Path:
    return REPO / ("requirements-windows.txt" if IS_WINDOWS else "requirements.txt")


def ensure_venv(folder: Path, requirement_files: list[Path], packages: list[str]) -> Path:
    """Create `folder` as a venv holding the given requirements; skip when nothing changed."""
    files = [f for f in requirement_files if f.is_file()]
    want = fingerprint(files, packages, salt=sys.version)
    # One stamp per requirement set, so `build` and `test` (a superset) do not undo each other.
    stamp = folder / f".decaptcha-stamp-{want[:16]}"
    python = venv_python(folder)
    if python.is_file() and stamp.is_file():
        return python
    if not python.is_file():
        say(f"creating {folder.name}/")
        venv.EnvBuilder(with_pip=True).create(folder)
    args: list[str | Path] = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]
    for f in files:
        args += ["-r", f]
    check(args + packages)
    stamp.write_text(want)
    return python


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    # Symlinks (PyInstaller links vendored libraries into _internal/) are counted once.
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def fingerprint(paths: list[Path], extra: tuple[str, ...] | list[str] = (), salt: str = "") -> str:
    """Content hash of every file under `paths` and of `extra`, to skip work (a venv, the
    bundle) whose inputs are unchanged. A missing file hashes as such."""
    h = hashlib.sha256(salt.encode())
    for root in paths:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for f in files:
            if f.is_dir() or "__pycache__" in f.parts or "node_modules" in f.parts:
                continue
            h.update(str(f.relative_to(REPO)).encode())
            h.update(f.read_bytes() if f.is_file() else b"<missing>")
    for e in extra:
        h.update(e.encode())
    return h.hexdigest()


def check_python() -> None:
    """Fail early, with the reason, where the TFLite runtime (ai-edge-litert 2.3) has no wheels."""
    if not (3, 11) <= sys.version_info[:2] <= (3, 14):
        raise BuildError(
            f"Python {platform.python_version()} is not supported: use Python 3.11 to 3.14"
        )
    machine = platform.machine().lower()
    if sys.platform == "darwin" and machine != "arm64":
        raise BuildError("Intel Macs are not supported: ai-edge-litert 2.3 has no wheels for them")
    if IS_WINDOWS and machine not in {"amd64", "x86_64"}:
        raise BuildError(f"Windows on {machine} is not supported: ai-edge-litert 2.3 is x64 only")


# ---------------------------------------------------------------------------- the host bundle


def build_host(python: Path, force: bool = False) -> Path:
    """PyInstaller one-folder bundle of `python -m host`, with models/ inside."""
    spec_dir = WORK / "pyinstaller"
    # An entry script rather than host/__main__.py itself, so `host` stays a package inside.
    entry = spec_dir / "decaptcha_host.py"
    models = REPO / "models"
    data = [f for f in sorted(models.glob("*.tflite"))] + [models / "models.json"]
    # The spec file first (pyi-makespec), so that make_spec() can edit it, then PyInstaller
    # builds from it.
    args: list[str | Path] = [
        python, "-m", "PyInstaller.utils.cliutils.makespec", entry, "--log-level", "WARN",
        "--name", BUNDLE_NAME, "--onedir", "--console", "--specpath", spec_dir,
        "--paths", REPO,
        "--collect-submodules", "host", "--hidden-import", "host.__main__",
        "--copy-metadata", "ai-edge-litert",  # so `--status` can name the runtime's version
        # Start-up speed (docs/BENCHMARKS.md, issue 13). The modules as .pyc files in
        # _internal/, not in PyInstaller's zlib-compressed archive, which is inflated at
        # every import (and base_library.zip with it); and compiled with -OO (no docstrings,
        # no asserts): less to read and unmarshal, 2.8 MB smaller.
        "--debug", "noarchive", "--optimize", "2",
    ]  # fmt: skip
    for f in data:
        if f.is_file():
            args += ["--add-data", f"{f}{os.pathsep}models"]
    for module in BUNDLE_EXCLUDES:
        args += ["--exclude-module", module]
    if IS_WINDOWS:
        # Version information in the exe (Properties > Details; antivirus reputation looks
        # at it too) and the extension's icon (PyInstaller converts the PNG with Pillow).
        version_file = spec_dir / "version-info.txt"
        spec_dir.mkdir(parents=True, exist_ok=True)
        version_file.write_text(windows_version_info(version()), encoding="utf-8")
        args += ["--version-file", version_file]
        args += ["--icon", REPO / "extension" / "src" / "icons" / "icon-128.png"]
    # Rebuild only when the sources, the models, the requirements or these options changed.
    stamp = WORK / "host.stamp"
    inputs = [REPO / "host", REPO / "models", runtime_requirements()]
    want = fingerprint(inputs, [repr(args), SPEC_EDIT, POSTPROCESS])
    if not force and HOST_EXE.is_file() and stamp.is_file() and stamp.read_text() == want:
        say(f"host bundle up to date: {HOST_DIR.relative_to(REPO)}")
        return HOST_EXE
    spec_dir.mkdir(parents=True, exist_ok=True)
    entry.write_text(
        "import runpy\n\nrunpy.run_module('host', run_name='__main__', alter_sys=True)\n"
    )
    check(args)
    spec = make_spec(spec_dir / f"{BUNDLE_NAME}.spec")
    check([
        python, "-m", "PyInstaller", spec, "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", DIST, "--workpath", spec_dir / "work",
    ])  # fmt: skip
    if not HOST_EXE.is_file():
        raise BuildError(f"PyInstaller finished but {HOST_EXE} is missing")
    strip_symbols(HOST_DIR)
    stamp.write_text(want)
    return HOST_EXE


# What make_spec() adds to the spec, before the archive is made from the analysis. PyInstaller
# runs a runtime hook at every start for each of these modules it bundles: `inspect`'s reads
# base_library.zip's names with zipfile (importing zipfile, shutil, fnmatch), `pkgutil`'s
# imports pkgutil. Both serve modules inside PyInstaller's archive (inspect.getsourcefile,
# pkgutil.iter_modules); with --debug noarchive there is none, the modules are plain files,
# and the host uses neither function. ~7 M instructions of each start (docs/BENCHMARKS.md).
SPEC_ANCHOR = "pyz = PYZ(a.pure)"
DROPPED_RUNTIME_HOOKS = ("pyi_rth_inspect", "pyi_rth_pkgutil")
SPEC_EDIT = (
    f"# build.py: runtime hooks not run (build.py, DROPPED_RUNTIME_HOOKS)\n"
    f"a.scripts = [s for s in a.scripts if s[0] not in {DROPPED_RUNTIME_HOOKS!r}]\n"
)


def make_spec(spec: Path) -> Path:
    """pyi-makespec's spec with SPEC_EDIT inserted before the archive is made."""
    text = spec.read_text(encoding="utf-8")
    if text.count(SPEC_ANCHOR) != 1:
        raise BuildError(f"{spec}: no single {SPEC_ANCHOR!r} line (a new PyInstaller?)")
    spec.write_text(text.replace(SPEC_ANCHOR, SPEC_EDIT + SPEC_ANCHOR), encoding="utf-8")
    return spec


def windows_version_info(text: str) -> str:
    """PyInstaller's --version-file for the host exe (a VSVersionInfo literal)."""
    numbers = tuple([int(n) for n in re.findall(r"\d+", text)[:3]] + [0])
    strings = {
        "CompanyName": "NTHU AIS Decaptcha",
        "FileDescription": "NTHU AIS Decaptcha native host",
        "FileVersion": text,
        "InternalName": BUNDLE_NAME,
        "OriginalFilename": BUNDLE_NAME + ".exe",
        "ProductName": "NTHU AIS Decaptcha",
        "ProductVersion": text,
    }
    table = ", ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return (
        f"VSVersionInfo(ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, "
        "flags=0x0, OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)), "
        f"kids=[StringFileInfo([StringTable('040904B0', [{table}])]), "
        "VarFileInfo([VarStruct('Translation', [1033, 1200])])])\n"
    )


# What strip_symbols() does to the bundle, for the stamp: change it when that changes.
POSTPROCESS = "strip --strip-unneeded; absolute RUNPATHs removed"


def strip_symbols(bundle: Path) -> None:
    """Drop symbols the loader does not need from the bundle's shared libraries, and the
    RUNPATHs naming the build machine's Python (its lib-dynload modules carry e.g.
    /root/.pyenv/versions/3.11.7/lib: a local path, and useless inside the bundle).

    Not PyInstaller's --strip: that also strips the libraries auditwheel vendored into
    `*.libs` folders, and the stripped OpenBLAS no longer loads
    ("ELF load command address/offset not page-aligned"). Those are left alone here too;
    their RUNPATHs are $ORIGIN-relative.
    """
    strip, patchelf = shutil.which("strip"), shutil.which("patchelf")
    # Linux only: on macOS stripping would void the code signatures PyInstaller made (arm64
    # refuses to load such libraries), and Windows has no strip.
    if not sys.platform.startswith("linux") or strip is None:
        return
    if patchelf is None:
        say("patchelf not found: the bundle keeps RUNPATHs naming this machine's Python")
    removed = 0
    for lib in bundle.rglob("*"):
        vendored = any(p.endswith(".libs") for p in lib.parent.parts)
        is_lib = lib.suffix == ".so" or ".so." in lib.name
        if is_lib and not vendored and lib.is_file() and not lib.is_symlink():
            subprocess.run([strip, "--strip-unneeded", str(lib)], capture_output=True)
            if patchelf is None:
                continue
            rpath = subprocess.run([patchelf, "--print-rpath", str(lib)], capture_output=True)
            entries = rpath.stdout.decode(errors="replace").strip().split(":")
            if any(e.startswith("/") for e in entries):
                gone = subprocess.run([patchelf, "--remove-rpath", str(lib)], capture_output=True)
                if gone.returncode != 0:
                    raise BuildError(f"patchelf --remove-rpath {lib}: {gone.stderr.decode()}")
                removed += 1
    if removed:
        say(f"removed the build machine's RUNPATH from {removed} libraries")


# ---------------------------------------------------------------------------- the extension


def version() -> str:
    """host/__init__.py's __version__: the one version of the host, the extension and a release.

    Read as text: build.py imports nothing from the project.
    """
    text = (REPO / "host" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if found is None:
        raise BuildError("host/__init__.py has no __version__")
    return found[1]


def manifest(family: str) -> dict:
    """extension/manifest.base.json, the version, then manifest.<family>.json key by key on top.

    extension/scripts/manifest.js merges the same way (for the extension's own tests and lint).
    """
    ext = REPO / "extension"
    base = json.loads((ext / "manifest.base.json").read_text(encoding="utf-8"))
    overlay = json.loads((ext / f"manifest.{family}.json").read_text(encoding="utf-8"))
    return {**base, "version": version(), **overlay}


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_extensions() -> dict[str, Path]:
    """dist/<family>/ (src/ + that family's merged manifest.json) and dist/<family>.zip."""
    ext = REPO / "extension"
    zips = {}
    for family in FAMILIES:
        out = DIST / family
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(ext / "src", out, ignore=shutil.ignore_patterns(".*", "*.test.js"))
        write_json(out / "manifest.json", manifest(family))
        archive = DIST / f"nthu-ais-decaptcha-{family}.zip"
        write_zip(out, archive)
        zips[family] = archive
    return zips


# Every archive's timestamp, so the same inputs give the same bytes.
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def write_zip(
    folder: Path, archive: Path, prefix: str = "", replace: dict[str, bytes] | None = None
) -> Path:
    """Zip `folder` reproducibly (sorted names, fixed timestamps, Unix modes and symlinks kept),
    names under `prefix`; `replace` gives other bytes for some relative names."""
    replace = replace or {}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            name = f.relative_to(folder).as_posix()
            if f.is_dir() and not f.is_symlink():
                continue
            info = zipfile.ZipInfo(prefix + name, FIXED_TIME)
            info.create_system = 3  # Unix: extractors honour the modes below
            info.compress_type = zipfile.ZIP_DEFLATED
            if f.is_symlink():
                info.external_attr = 0o120755 << 16
                z.writestr(info, str(f.readlink()))
                continue
            executable = f.stat().st_mode & 0o111 and name not in replace
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            z.writestr(info, replace.get(name, f.read_bytes()))
    return archive


# ---------------------------------------------------------------------------- release

RELEASE = DIST / "release"
PACKAGING = REPO / "host" / "packaging"
PACKAGE = "nthu-ais-decaptcha"  # file names of the release, the .deb's name
DEB_PREFIX = f"/usr/lib/{PACKAGE}"  # where the .deb puts the bundle
# What a student double-clicks or types, per system, for host/packaging/INSTALL.txt.
FIRST_STEP = {
    "windows": (
        "   雙擊 decaptcha-host.exe,照畫面指示按 Enter。若出現「Windows 已保護您的電腦」,\n"
        "   按「其他資訊」→「仍要執行」。",
        '   Double-click decaptcha-host.exe and press Enter when asked. If "Windows protected\n'
        '   your PC" appears, click More info, then Run anyway.',
    ),
    "macos": (
        "   在 Install.command 上按右鍵 →「打開」(第一次),照畫面指示按 Enter。",
        "   Right-click Install.command > Open (the first time) and press Enter when asked.",
    ),
    "linux": (
        "   在終端機執行 ./decaptcha-host,照畫面指示按 Enter\n"
        "   (或 ./decaptcha-host --install --yes)。",
        "   In a terminal, run ./decaptcha-host and press Enter when asked\n"
        "   (or ./decaptcha-host --install --yes).",
    ),
}


def release_platform() -> str:
    """windows-x64, macos-arm64, linux-x86_64 or linux-aarch64 (check_python() refuses others)."""
    machine = platform.machine().lower()
    if IS_WINDOWS:
        return "windows-x64"
    if sys.platform == "darwin":
        return "macos-arm64"
    return "linux-" + {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def install_text(system: str, text_version: str) -> str:
    template = (PACKAGING / "INSTALL.txt").read_text(encoding="utf-8")
    zh, en = FIRST_STEP[system]
    text = template.format(version=text_version, run_zh=zh, run_en=en)
    return text.replace("\n", "\r\n") if system == "windows" else text


def host_archive(bundle: Path, out: Path, plat: str) -> Path:
    """The one-folder bundle plus INSTALL.txt (and Install.command on macOS), in one folder
    named like the archive: a .zip on Windows and macOS, a .tar.gz on Linux."""
    import gzip
    import io
    import tarfile

    system = plat.split("-")[0]
    top = f"{PACKAGE}-host-{version()}-{plat}"
    extra = {"INSTALL.txt": install_text(system, version()).encode()}
    if system == "macos":
        extra["Install.command"] = (PACKAGING / "Install.command").read_bytes()
    if system != "linux":
        staged = out / "staging" / top
        shutil.copytree(bundle, staged, symlinks=True)
        for name, data in extra.items():
            (staged / name).write_bytes(data)
            (staged / name).chmod(0o755 if name.endswith(".command") else 0o644)
        archive = write_zip(staged, out / f"{top}.zip", prefix=top + "/")
        shutil.rmtree(out / "staging")
        return archive

    def normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = int(datetime.datetime(*FIXED_TIME, tzinfo=datetime.UTC).timestamp())
        if not info.issym():
            info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
        return info

    archive = out / f"{top}.tar.gz"
    with (
        archive.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.add(bundle, arcname=top, recursive=False, filter=normalize)
        names = sorted([*bundle.rglob("*"), *(bundle / n for n in extra)])
        for path in names:
            arcname = f"{top}/{path.relative_to(bundle).as_posix()}"
            if path.name in extra and path.parent == bundle:
                info = normalize(tarfile.TarInfo(arcname))
                info.size, info.mode = len(extra[path.name]), 0o644
                tar.addfile(info, io.BytesIO(extra[path.name]))
            else:
                tar.add(path, arcname=arcname, recursive=False, filter=normalize)
    return archive


def debian_arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}[release_platform().split("-", 1)[1]]


def build_deb(bundle: Path, out: Path) -> Path:
    """nthu-ais-decaptcha_<version>_<arch>.deb with dpkg-deb only: the bundle in DEB_PREFIX
    and the system-wide host manifests every supported browser reads (written by the bundle's
    own --write-system-manifests). Nothing is a conffile, so removing the package removes it all.
    """
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is None:
        raise BuildError("the .deb needs dpkg-deb (Debian/Ubuntu: it is in the dpkg package)")
    root = out / "deb-root"
    shutil.rmtree(root, ignore_errors=True)
    target = root / DEB_PREFIX.lstrip("/")
    shutil.copytree(bundle, target, symlinks=True)
    exe = f"{DEB_PREFIX}/{BUNDLE_NAME}"
    written = subprocess.run(
        [str(bundle / BUNDLE_NAME), "--write-system-manifests", str(root), "--exe", exe],
        capture_output=True,
        text=True,
    )
    if written.returncode != 0:
        raise BuildError(f"--write-system-manifests failed: {written.stderr.strip()}")
    manifests = [Path(line) for line in written.stdout.split() if line.endswith(".json")]
    if not manifests or not all(root in p.parents and p.is_file() for p in manifests):
        raise BuildError(f"--write-system-manifests wrote {manifests}, not under {root}")
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            # Programs and folders 0755, everything else (shared libraries too) 0644.
            is_lib = path.suffix == ".so" or ".so." in path.name
            executable = path.stat().st_mode & 0o111 and not is_lib
            path.chmod(0o755 if path.is_dir() or executable else 0o644)
    control = (
        (PACKAGING / "control")
        .read_text(encoding="utf-8")
        .format(version=version(), arch=debian_arch(), installed_kib=-(-tree_size(root) // 1024))
    )
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    deb = out / f"{PACKAGE}_{version()}_{debian_arch()}.deb"
    check([dpkg_deb, "--root-owner-group", "-Zxz", "--build", root, deb])
    shutil.rmtree(root)
    return deb


def web_ext(*args: str | Path) -> list[str | Path]:
    """web-ext from extension/node_modules, through node (no .cmd shim on Windows)."""
    node = shutil.which("node")
    script = REPO / "extension" / "node_modules" / "web-ext" / "bin" / "web-ext.js"
    if node is None or not script.is_file():
        raise BuildError("the Firefox package needs node and web-ext (npm ci in extension/)")
    return [node, script, *args]


def extension_packages(out: Path) -> list[Path]:
    """The Chromium zip (fixed key: our id, for Load unpacked), the store zip (no key: the
    stores assign the id) and the Firefox xpi (web-ext build, for AMO signing)."""
    v = version()
    chromium = write_zip(DIST / "chromium", out / f"{PACKAGE}-chromium-{v}.zip")
    store = {k: val for k, val in manifest("chromium").items() if k != "key"}
    body = (json.dumps(store, indent=2, ensure_ascii=False) + "\n").encode()
    store_zip = write_zip(
        DIST / "chromium",
        out / f"{PACKAGE}-chromium-store-{v}.zip",
        replace={"manifest.json": body},
    )
    xpi = out / f"{PACKAGE}-firefox-{v}.xpi"
    env = dict(os.environ, NO_UPDATE_NOTIFIER="1")
    cmd = web_ext("build", "--source-dir", DIST / "firefox", "--artifacts-dir", out)
    check([*cmd, "--filename", xpi.name, "--overwrite-dest"], env=env)
    return [chromium, store_zip, xpi]


def sha256sums(out: Path, files: list[Path]) -> Path:
    """SHA256SUMS in `sha256sum -c` format (binary mode marker, names relative to `out`)."""
    lines = [f"{hashlib.sha256(f.read_bytes()).hexdigest()} *{f.name}\n" for f in sorted(files)]
    sums = out / "SHA256SUMS"
    sums.write_text("".join(lines), encoding="utf-8", newline="\n")
    return sums


def make_release(bundle: Path, out: Path) -> list[Path]:
    """Every release file for this platform, from a built bundle and dist/<family>/."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    plat = release_platform()
    files = [host_archive(bundle, out, plat)]
    if plat.startswith("linux"):
        files.append(build_deb(bundle, out))
    files += extension_packages(out)
    return [*files, sha256sums(out, files)]


# ---------------------------------------------------------------------------- commands


def cmd_build(args: list[str]) -> int:
    check_python()
    started = time.monotonic()
    python = ensure_venv(VENV, [runtime_requirements()], [PYINSTALLER])
    exe = build_host(python, force="--force" in args)
    zips = build_extensions()
    # A developer build registers the bundle where it is (students' --install copies it into
    # their application folder; docs/BUILD.md says why the build does not).
    say("registering the native host (this bundle, in place) with your browsers")
    install_ok = run([exe, "--install", "--in-place"]) == 0
    sample_ok = read_sample(python, exe)
    summary(zips, install_ok, sample_ok, time.monotonic() - started)
    return 0 if install_ok and sample_ok else 1


def read_sample(python: Path, exe: Path, sample: Path | None = None) -> bool:
    """Write a synthetic captcha with training/synth.py and read it with the bundled host."""
    sample = sample or DIST / "sample-ais6.png"
    # The venv has numpy and pillow, all that training/synth.py needs (not TensorFlow).
    synth = ["-m", "training.synth", "--out", sample, "--kind", "ais6"]
    proc = subprocess.run(
        [str(a) for a in (python, *synth, "--seed", time.time_ns() % 10**6)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        say(f"could not write a sample captcha: {proc.stderr.strip().splitlines()[-1:]}")
        return False
    answer = proc.stdout.strip()
    say(f"reading {sample} (drawn with answer {answer}) with the bundled host")
    read = subprocess.run([str(exe), "--test", str(sample)], capture_output=True, text=True)
    print(read.stdout, end="", flush=True)
    if read.returncode != 0:
        print(read.stderr, end="", file=sys.stderr)
        return False
    got = read.stdout.split()
    return answer in got


def summary(zips: dict[str, Path], install_ok: bool, sample_ok: bool, seconds: float) -> None:
    print()
    print(f"Built in {seconds:.0f} s:")
    print(f"  native host  {HOST_DIR}  ({mb(tree_size(HOST_DIR))})")
    for family, archive in zips.items():
        print(f"  {family:<12} {DIST / family}  (zip: {archive.name}, {mb(tree_size(archive))})")
    if install_ok:
        print("  host registered: yes")
    else:
        print("  host registered: NO (see above). Start your browser once, then run")
        browsers = "chrome|chromium|edge|brave|vivaldi|firefox"
        print(f"    {HOST_EXE} --install --in-place [--browser {browsers}]")
    print(f"  sample captcha read correctly: {'yes' if sample_ok else 'NO (see above)'}")
    print()
    print("Next step, per browser (README.md has the details):")
    print("  Chrome / Edge / Brave / Vivaldi: open chrome://extensions (edge://extensions),")
    print(f"    turn on Developer mode, 'Load unpacked' and choose {DIST / 'chromium'}")
    print("  Firefox: open about:debugging#/runtime/this-firefox, 'Load Temporary Add-on...'")
    print(f"    and choose {DIST / 'firefox' / 'manifest.json'}")


def cmd_test(args: list[str]) -> int:
    check_python()
    if sys.version_info[:2] > (3, 13):
        raise BuildError("the test suite needs Python 3.11 to 3.13 (TensorFlow 2.21 for training)")
    failures: list[str] = []
    files = [
        runtime_requirements(),
        REPO / "tests" / "requirements.txt",
        REPO / "training" / "requirements.txt",
    ]
    python = ensure_venv(VENV, files, [PYINSTALLER])
    env = dict(os.environ)
    env.setdefault("DECAPTCHA_E2E_TIMINGS", str(WORK / "e2e-timings.json"))  # for the benchmarks
    if sys.platform.startswith("linux") and sys.version_info[:2] == (3, 11):
        tflite = ensure_venv(VENV_TFLITE, [], TFLITE214)
        env["DECAPTCHA_TFLITE214_PYTHON"] = str(tflite)
    try:
        build_host(python)
    except BuildError as e:
        failures.append(f"host bundle: {e}")
    build_extensions()
    failures += npm_checks()
    if run([python, "-m", "ruff", "check", "."]) != 0:
        failures.append("ruff check")
    if run([python, "-m", "ruff", "format", "--check", "."]) != 0:
        failures.append("ruff format --check")
    if failures:
        say("FAILED before pytest: " + "; ".join(failures))
    # pytest last, so its closing summary is the last line printed.
    code = run([python, "-m", "pytest", *args], env=env)
    return 1 if failures or code != 0 else 0


def npm_checks() -> list[str]:
    """npm ci, npm test, npm run lint in extension/: a missing npm fails only in CI."""
    ext = REPO / "extension"
    npm = shutil.which("npm")
    if npm is None:
        if IN_CI:
            return ["npm is not installed (required in CI)"]
        say("SKIPPING the extension's unit tests and lint: npm is not installed")
        return []
    failures = npm_install()
    if failures:
        return failures
    for script in (["test"], ["run", "lint"]):
        if run([npm, *script], cwd=ext) != 0:
            failures.append("npm " + " ".join(script))
    return failures


def npm_install() -> list[str]:
    """extension/node_modules from the lock file; returns what failed (nothing: [])."""
    ext = REPO / "extension"
    npm = shutil.which("npm")
    if npm is None:
        return ["npm is not installed"]
    # `npm ci` only when the lock file changed: it deletes node_modules first, which is slow
    # and breaks anyone using the same checkout at that moment. (A plain hash of the lock,
    # not fingerprint(): checkouts sharing one node_modules must agree on the stamp.)
    lock = ext / "package-lock.json"
    stamp = ext / "node_modules" / ".decaptcha-stamp"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()
    if not (stamp.is_file() and stamp.read_text() == want):
        if run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ext) != 0:
            return ["npm ci"]
        stamp.write_text(want)
    return []


def cmd_bench(args: list[str]) -> int:
    check_python()
    files = [
        runtime_requirements(),
        REPO / "tests" / "requirements.txt",
        REPO / "bench" / "requirements.txt",
    ]
    python = ensure_venv(VENV, files, [PYINSTALLER])
    build_host(python)
    build_extensions()
    return run([python, "-m", "bench", *args])


def cmd_release(args: list[str]) -> int:
    check_python()
    python = ensure_venv(VENV, [runtime_requirements()], [PYINSTALLER])
    build_host(python, force="--force" in args)
    build_extensions()
    failed = npm_install()
    if failed:
        raise BuildError(f"{failed[0]} (in extension/): the Firefox package needs web-ext")
    files = make_release(HOST_DIR, RELEASE)
    print(f"\nRelease {version()} for {release_platform()} in {RELEASE}:")
    for f in files:
        print(f"  {f.name:<56} {mb(f.stat().st_size):>9}")
    return 0


def cmd_screenshots(args: list[str]) -> int:
    check_python()
    # The test suite's environment (selenium and the replica's needs).
    files = [runtime_requirements(), REPO / "tests" / "requirements.txt"]
    python = ensure_venv(VENV, [*files, REPO / "training" / "requirements.txt"], [PYINSTALLER])
    build_extensions()
    return run([python, "-m", "tests.e2e.screenshots", *args])


def cmd_uninstall(args: list[str]) -> int:
    if HOST_EXE.is_file():
        return run([HOST_EXE, "--uninstall"])
    python = venv_python(VENV)
    if python.is_file():
        return run([python, "-m", "host", "--uninstall"])
    raise BuildError("nothing to uninstall with: no dist/decaptcha-host and no .venv")


def cmd_clean(args: list[str]) -> int:
    for folder in (DIST, WORK, VENV, VENV_TFLITE):
        if folder.exists():
            say(f"removing {folder.relative_to(REPO)}/")
            shutil.rmtree(folder)
    return 0


COMMANDS = {
    "build": cmd_build,
    "test": cmd_test,
    "bench": cmd_bench,
    "release": cmd_release,
    "screenshots": cmd_screenshots,
    "uninstall": cmd_uninstall,
    "clean": cmd_clean,
}


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"], ["help"]):
        print(__doc__)
        return 0
    name = argv[0] if argv and not argv[0].startswith("-") else "build"
    rest = argv[1:] if argv and argv[0] == name else argv
    if name not in COMMANDS:
        print(__doc__)
        return 2
    try:
        return COMMANDS[name](rest)
    except BuildError as e:
        say(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
