#!/usr/bin/env python3
"""Build, install and test NTHU AIS Decaptcha: the one entry point.

    python build.py              build the host bundle and the extensions, register the host,
                                 read a sample captcha, print what to do next
    python build.py test [ARGS]  the whole test suite (extra ARGS go to pytest)
    python build.py bench [ARGS] the benchmarks (docs/BENCHMARKS.md)
    python build.py screenshots  the popup in every state, both browsers and languages, in
                                 dist/screenshots/
    python build.py uninstall    unregister the host from every browser
    python build.py clean        remove dist/, build/ and the virtual environments

Standard library only, so it runs with a bare Python 3.11+ on Linux, macOS and Windows.
Everything else goes into virtual environments that this script makes and keeps up to date.
"""

from __future__ import annotations

import hashlib
import os
import platform
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

HOST_NAME = "decaptcha-host"
HOST_DIR = DIST / HOST_NAME
HOST_EXE = HOST_DIR / (HOST_NAME + (".exe" if IS_WINDOWS else ""))
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
    "asyncio", "multiprocessing", "xmlrpc", "http.server", "lzma", "bz2", "xml", "_decimal",
    "_hashlib",  # hashlib falls back to its built-in hashes; this one pulls in libcrypto
    "unicodedata", "stringprep", "numpy._core._multiarray_tests",
    "_codecs_cn", "_codecs_hk", "_codecs_iso2022", "_codecs_jp", "_codecs_kr", "_codecs_tw",
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


def digest(files: list[Path], extra: list[str]) -> str:
    """A fingerprint of what a venv was made from, so unchanged venvs are not reinstalled."""
    h = hashlib.sha256(sys.version.encode())
    for f in files:
        h.update(str(f.relative_to(REPO)).encode())
        h.update(f.read_bytes() if f.is_file() else b"<missing>")
    for e in extra:
        h.update(e.encode())
    return h.hexdigest()


def ensure_venv(folder: Path, requirement_files: list[Path], packages: list[str]) -> Path:
    """Create `folder` as a venv holding the given requirements; skip when nothing changed."""
    files = [f for f in requirement_files if f.is_file()]
    want = digest(files, packages)
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


def fingerprint(paths: list[Path]) -> str:
    """Content hash of every file under `paths` (for skipping builds whose inputs are unchanged)."""
    h = hashlib.sha256()
    for root in paths:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts and "node_modules" not in f.parts:
                h.update(str(f.relative_to(REPO)).encode())
                h.update(f.read_bytes())
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


def host_present() -> bool:
    return (REPO / "host" / "__main__.py").is_file()


def build_host(python: Path, force: bool = False) -> Path:
    """PyInstaller one-folder bundle of `python -m host`, with models/ inside."""
    spec_dir = WORK / "pyinstaller"
    # An entry script rather than host/__main__.py itself, so `host` stays a package inside.
    entry = spec_dir / "decaptcha_host.py"
    models = REPO / "models"
    data = [f for f in sorted(models.glob("*.tflite"))] + [models / "models.json"]
    args: list[str | Path] = [
        python, "-m", "PyInstaller", entry,
        "--name", HOST_NAME, "--onedir", "--console", "--noconfirm", "--clean",
        "--log-level", "WARN",
        "--distpath", DIST, "--workpath", spec_dir / "work", "--specpath", spec_dir,
        "--paths", REPO,
        "--collect-submodules", "host", "--hidden-import", "host.__main__",
        "--copy-metadata", "ai-edge-litert",  # so `--status` can name the runtime's version
    ]  # fmt: skip
    for f in data:
        if f.is_file():
            args += ["--add-data", f"{f}{os.pathsep}models"]
    for module in BUNDLE_EXCLUDES:
        args += ["--exclude-module", module]
    # Rebuild only when the sources, the models, the requirements or these options changed.
    stamp = WORK / "host.stamp"
    inputs = [REPO / "host", REPO / "models", runtime_requirements()]
    want = fingerprint(inputs) + " " + hashlib.sha256(repr(args).encode()).hexdigest()
    if not force and HOST_EXE.is_file() and stamp.is_file() and stamp.read_text() == want:
        say(f"host bundle up to date: {HOST_DIR.relative_to(REPO)}")
        return HOST_EXE
    spec_dir.mkdir(parents=True, exist_ok=True)
    entry.write_text(
        "import runpy\n\nrunpy.run_module('host', run_name='__main__', alter_sys=True)\n"
    )
    check(args)
    if not HOST_EXE.is_file():
        raise BuildError(f"PyInstaller finished but {HOST_EXE} is missing")
    strip_symbols(HOST_DIR)
    stamp.write_text(want)
    return HOST_EXE


def strip_symbols(bundle: Path) -> None:
    """Drop symbols the loader does not need from the bundle's shared libraries.

    Not PyInstaller's --strip: that also strips the libraries auditwheel vendored into
    `*.libs` folders, and the stripped OpenBLAS no longer loads
    ("ELF load command address/offset not page-aligned").
    """
    strip = shutil.which("strip")
    # Linux only: on macOS stripping would void the code signatures PyInstaller made (arm64
    # refuses to load such libraries), and Windows has no strip.
    if not sys.platform.startswith("linux") or strip is None:
        return
    for lib in bundle.rglob("*"):
        vendored = any(p.endswith(".libs") for p in lib.parent.parts)
        is_lib = lib.suffix == ".so" or ".so." in lib.name
        if is_lib and not vendored and lib.is_file() and not lib.is_symlink():
            subprocess.run([strip, "--strip-unneeded", str(lib)], capture_output=True)


# ---------------------------------------------------------------------------- the extension


def extension_present() -> bool:
    ext = REPO / "extension"
    return (ext / "src").is_dir() and all(
        (ext / f"manifest.{family}.json").is_file() for family in FAMILIES
    )


def build_extensions() -> dict[str, Path]:
    """dist/<family>/ (src/ + that family's manifest as manifest.json) and dist/<family>.zip."""
    ext = REPO / "extension"
    zips = {}
    for family in FAMILIES:
        out = DIST / family
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(ext / "src", out, ignore=shutil.ignore_patterns(".*", "*.test.js"))
        shutil.copyfile(ext / f"manifest.{family}.json", out / "manifest.json")
        archive = DIST / f"nthu-ais-decaptcha-{family}.zip"
        # Sorted names and a fixed timestamp, so the same sources give the same zip.
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(out.rglob("*")):
                if f.is_file():
                    info = zipfile.ZipInfo(f.relative_to(out).as_posix(), (2024, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    z.writestr(info, f.read_bytes())
        zips[family] = archive
    return zips


# ---------------------------------------------------------------------------- commands


def cmd_build(args: list[str]) -> int:
    check_python()
    started = time.monotonic()
    python = ensure_venv(VENV, [runtime_requirements()], [PYINSTALLER])
    if not host_present():
        raise BuildError("host/ has no __main__.py yet: nothing to bundle")
    exe = build_host(python, force="--force" in args)
    zips = build_extensions() if extension_present() else {}
    say("registering the native host with your browsers")
    install_ok = run([exe, "--install"]) == 0
    sample_ok = read_sample(python, exe)
    summary(zips, install_ok, sample_ok, time.monotonic() - started)
    return 0 if install_ok and sample_ok else 1


def read_sample(python: Path, exe: Path, sample: Path | None = None) -> bool:
    """Write a synthetic captcha with training/synth.py and read it with the bundled host."""
    sample = sample or DIST / "sample-ais6.png"
    # The venv has numpy and pillow, all that training/synth.py needs (not TensorFlow).
    code = (
        "import sys, pathlib, numpy; from training import synth; "
        "rgb, text = synth.generate('ais6', numpy.random.default_rng(int(sys.argv[2]))); "
        "pathlib.Path(sys.argv[1]).write_bytes(synth.png_bytes(rgb, 'ais6')); print(text)"
    )
    proc = subprocess.run(
        [str(python), "-c", code, str(sample), str(time.time_ns() % 10**6)],
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
        print(f"    {HOST_EXE} --install [--browser chrome|chromium|edge|brave|vivaldi|firefox]")
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
    if host_present():
        try:
            build_host(python)
        except BuildError as e:
            failures.append(f"host bundle: {e}")
    else:
        say("skipping the host bundle: host/__main__.py does not exist yet")
    if extension_present():
        build_extensions()
    else:
        say("skipping the extension build: extension/src or a manifest is missing")
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
    if not (ext / "package.json").is_file():
        say("skipping the extension's npm tests: extension/package.json does not exist yet")
        return []
    npm = shutil.which("npm")
    if npm is None:
        if IN_CI:
            return ["npm is not installed (required in CI)"]
        say("SKIPPING the extension's unit tests and lint: npm is not installed")
        return []
    failures = []
    # `npm ci` only when the lock file changed: it deletes node_modules first, which is slow
    # and breaks anyone using the same checkout at that moment.
    lock = ext / "package-lock.json"
    stamp = ext / "node_modules" / ".decaptcha-stamp"
    want = hashlib.sha256(lock.read_bytes() if lock.is_file() else b"").hexdigest()
    if not (stamp.is_file() and stamp.read_text() == want):
        install = ["ci"] if lock.is_file() else ["install"]
        if run([npm, *install, "--no-audit", "--no-fund", "--loglevel=error"], cwd=ext) != 0:
            return ["npm " + install[0]]
        stamp.write_text(want)
    for script in (["test"], ["run", "lint"]):
        if run([npm, *script], cwd=ext) != 0:
            failures.append("npm " + " ".join(script))
    return failures


def cmd_bench(args: list[str]) -> int:
    check_python()
    files = [
        runtime_requirements(),
        REPO / "tests" / "requirements.txt",
        REPO / "bench" / "requirements.txt",
    ]
    python = ensure_venv(VENV, files, [PYINSTALLER])
    if host_present():
        build_host(python)
    if extension_present():
        build_extensions()
    return run([python, "-m", "bench", *args])


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
    if python.is_file() and host_present():
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
