"""OpenCV or numpy for the host's segmentation: the figures behind docs/DEPENDENCIES.md.

    python -m bench.opencv_compare bundles --base-python A --cv-python B [--runs 15]
    python -m bench.opencv_compare segment [--rounds 5]       (a Python with cv2 installed)

`bundles` builds two PyInstaller one-folder host bundles with build.py's options (its
BUNDLE_EXCLUDES, spec edit and strip step are imported, the PyInstaller arguments of build_host are
copied here): one from venv A (requirements.txt + PyInstaller), one from venv B (the same
plus opencv-python-headless) with "cv2" no longer excluded and `import cv2` run before the
host starts, as segmentation in OpenCV would need it. It prints each bundle's folder size,
its zip and tar.gz sizes, and the cold start (start -> first solve reply, bench/coldstart.py),
the two bundles interleaved run by run. Bundles go under --out (default /tmp), never dist/.

`segment` times host/segment.py against OpenCV versions of it on the real validation split
(training/data.py), image by image and interleaved, and checks their crops: identical, or
else the whole-captcha accuracy of each through the shipped seg models. The OpenCV
versions reuse segment.py's own functions for every step OpenCV has nothing for (the
colour seeds, the merge/split rules) and replace the rest:

- `cv2-cc`: connected components by cv2.connectedComponentsWithStats (one call per digit
  colour, 8-connectivity) instead of the numpy union-find; crops must come out identical.
- `cv2-full`: also the core mask (cv2.max/min), the 2-pixel rim growth (cv2.dilate with
  a cross, per colour) and the scaling to 24x24 (cv2.resize, INTER_AREA when shrinking,
  INTER_LINEAR when enlarging) in place of the PIL-like triangle filter.

Real images are read from ../shared/data only; nothing here writes them anywhere.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import stat
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST_NAME = "decaptcha-host"
_BUILD: list = []


def build_py():
    """The repository's build.py as a module, loaded by path (PyPI's `build` may shadow it)."""
    if not _BUILD:
        import importlib.util

        spec = importlib.util.spec_from_file_location("decaptcha_build", REPO / "build.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _BUILD.append(module)
    return _BUILD[0]


# ------------------------------------------------------------------------------ bundles


def pyinstaller_args(python: Path, entry: Path, dist: Path, work: Path) -> list[str]:
    """build.py's build_host arguments for pyi-makespec (copied; BUNDLE_EXCLUDES imported),
    minus the cv2 exclusion when `entry` imports cv2. `dist` is build_args()'s."""
    excludes = build_py().BUNDLE_EXCLUDES

    models = REPO / "models"
    data = [*sorted(models.glob("*.tflite")), models / "models.json"]
    args = [
        str(python), "-m", "PyInstaller.utils.cliutils.makespec", str(entry),
        "--log-level", "WARN",
        "--name", HOST_NAME, "--onedir", "--console", "--specpath", str(work),
        "--paths", str(REPO),
        "--collect-submodules", "host", "--hidden-import", "host.__main__",
        "--copy-metadata", "ai-edge-litert",
        "--debug", "noarchive", "--optimize", "2",
    ]  # fmt: skip
    for f in data:
        args += ["--add-data", f"{f}{os.pathsep}models"]
    with_cv2 = "import cv2" in entry.read_text()
    for module in excludes:
        if with_cv2 and module == "cv2":
            continue
        args += ["--exclude-module", module]
    return args


def build_args(python: Path, spec: Path, dist: Path, work: Path) -> list[str]:
    """build.py's second PyInstaller run, from the spec (after build.make_spec)."""
    return [
        str(python), "-m", "PyInstaller", str(spec), "--noconfirm", "--clean",
        "--log-level", "WARN", "--distpath", str(dist), "--workpath", str(work / "work"),
    ]  # fmt: skip


ENTRY = "import runpy\n\nrunpy.run_module('host', run_name='__main__', alter_sys=True)\n"


def build_bundle(python: Path, name: str, with_cv2: bool, out: Path) -> Path:
    """Build one bundle into out/<name>/decaptcha-host/; returns the folder."""
    strip_symbols = build_py().strip_symbols

    work = out / name / "build"
    dist = out / name / "dist"
    shutil.rmtree(out / name, ignore_errors=True)
    work.mkdir(parents=True)
    entry = work / "decaptcha_host.py"
    # cv2 imported first, as a host whose segmentation used it would import it at start.
    entry.write_text(("import cv2  # noqa: F401\n" if with_cv2 else "") + ENTRY)
    started = time.monotonic()
    subprocess.run(pyinstaller_args(python, entry, dist, work), cwd=REPO, check=True)
    spec = build_py().make_spec(work / f"{HOST_NAME}.spec")
    subprocess.run(build_args(python, spec, dist, work), cwd=REPO, check=True)
    folder = dist / HOST_NAME
    strip_symbols(folder)
    print(f"[opencv_compare] built {folder} in {time.monotonic() - started:.0f} s", flush=True)
    return folder


def folder_bytes(folder: Path) -> int:
    """Sum of file sizes, symlinks once (as build.py's tree_size)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def archive_sizes(folder: Path, out: Path) -> dict[str, int]:
    """Bytes of the folder as a zip (deflate, level 9) and as a tar.gz (level 9); symlinks
    (PyInstaller links vendored libraries into _internal/) are stored as links in both."""
    zpath = out / f"{folder.parent.parent.name}.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for f in sorted(folder.rglob("*")):
            name = str(f.relative_to(folder.parent))
            if f.is_symlink():
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, str(f.readlink()))
            elif f.is_file():
                z.write(f, name)
    tpath = out / f"{folder.parent.parent.name}.tar.gz"
    with tarfile.open(tpath, "w:gz", compresslevel=9) as t:
        t.add(folder, arcname=folder.name)
    return {"zip": zpath.stat().st_size, "tar.gz": tpath.stat().st_size}


def largest(folder: Path, top: int = 8) -> list[tuple[str, int]]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    files.sort(key=lambda p: -p.stat().st_size)
    return [(str(p.relative_to(folder)), p.stat().st_size) for p in files[:top]]


def cmd_bundles(args: argparse.Namespace) -> dict:
    from bench.coldstart import cold_starts
    from bench.nmclient import CHROMIUM_ORIGIN

    out = Path(args.out)
    folders = {}
    for name, python, with_cv2 in (
        ("numpy-only", Path(args.base_python), False),
        ("with-cv2", Path(args.cv_python), True),
    ):
        folders[name] = (
            out / name / "dist" / HOST_NAME
            if args.reuse and (out / name / "dist" / HOST_NAME / HOST_NAME).is_file()
            else build_bundle(python, name, with_cv2, out)
        )
    result: dict = {"bundles": {}}
    for name, folder in folders.items():
        result["bundles"][name] = {
            "folder_bytes": folder_bytes(folder),
            **{f"{k}_bytes": v for k, v in archive_sizes(folder, out).items()},
            "largest": largest(folder),
            "cv2_inside": any(p.name == "cv2" for p in folder.rglob("cv2")),
        }
    png = sample_png()
    hosts = {name: [str(folder / HOST_NAME), CHROMIUM_ORIGIN] for name, folder in folders.items()}
    if args.runs > 0:
        result["coldstart"] = cold_starts(hosts, png, args.runs, baselines={})
    return result


def sample_png() -> bytes:
    """One real validation login captcha if ../shared/data is there, else a synthetic one."""
    from bench.datasets import real_validation, synthetic

    real = real_validation("ais6")
    return (real or synthetic("ais6", 1)).items[0].png


# ------------------------------------------------------------------------------ segmentation


def cv2_components(labels, cv2, np):
    """segment.components with cv2.connectedComponentsWithStats: the same partition, with
    ids numbered as the union-find numbers them (the flat index of each component's first
    pixel), so everything downstream sees identical ids."""
    h, w = labels.shape
    ids = np.full((h, w), -1, np.int64)
    for k in np.unique(labels[labels >= 0]):
        mask = (labels == k).astype(np.uint8)
        n, lab, _stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if n <= 1:
            continue
        flat = lab.reshape(-1)
        on = np.flatnonzero(flat)
        first = np.full(n, h * w, np.int64)
        np.minimum.at(first, flat[on], on)
        ids.reshape(-1)[on] = first[flat[on]]
    # the union-find's ids are indexes among mask pixels, not among all pixels; only the
    # order matters downstream (_Parts renumbers by rank), and both orders are row-major
    return ids


def make_cv2_segment(full: bool):
    """A segment(rgb, digits) like host.segment.segment, with OpenCV where it has a tool."""
    import cv2
    import numpy as np

    from host import segment as S

    cv2.setNumThreads(1)  # the host runs one thread (host/runtime.py)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))

    def find_digits(rgb, digits):
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or digits < 1:
            return None
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            return None
        h, w = rgb.shape[:2]
        if h < 4 or w < 4 or h * w > S.MAX_SEGMENT_PIXELS:
            return None
        if full:
            r, g, b = cv2.split(rgb)
            brightest = cv2.max(cv2.max(r, g), b)
            darkest = cv2.min(cv2.min(r, g), b)
        else:
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            brightest = np.maximum(np.maximum(r, g), b)
            darkest = np.minimum(np.minimum(r, g), b)
        core = (brightest < S.CORE_MAX) & (darkest < S.CORE_MIN)
        label, alpha = S.digit_colours(rgb, core)
        ids = cv2_components(np.where(core, label, -1), cv2, np)
        on = ids >= 0
        # sizes by component (ids are first-pixel indexes here, so bincount over them)
        sizes = np.bincount(ids[on], minlength=1)
        ids[on & (sizes[np.maximum(ids, 0)] < S.MIN_PIXELS)] = -1
        if len(np.unique(ids[ids >= 0])) > S.MAX_COMPONENTS_PER_DIGIT * digits + 8:
            return None
        parts = S._Parts(ids, rgb, alpha, label)
        return parts if S._to_count(parts, digits) else None

    def fit(planes):
        _, h, w = planes.shape
        scale = min(S.BOX / h, S.BOX / w)
        oh, ow = max(1, round(h * scale)), max(1, round(w * scale))
        out = np.zeros((planes.shape[0], S.CROP, S.CROP), np.float32)
        y, x = (S.CROP - oh) // 2, (S.CROP - ow) // 2
        interp = cv2.INTER_AREA if oh < h or ow < w else cv2.INTER_LINEAR
        for p in range(planes.shape[0]):
            out[p, y : y + oh, x : x + ow] = cv2.resize(
                np.ascontiguousarray(planes[p], np.float32), (ow, oh), interpolation=interp
            )
        return out

    def crops(parts):
        h, w = parts.ids.shape
        order = parts.order()
        out = np.empty((parts.k, S.PLANES, S.CROP, S.CROP), np.float32)
        for i, c in enumerate(order):
            y0, y1 = max(0, parts.y0[c] - 1), min(h, parts.y1[c] + 2)
            x0, x1 = max(0, parts.x0[c] - 1), min(w, parts.x1[c] + 2)
            ids = parts.ids[y0:y1, x0:x1]
            ink_ = parts.strength[y0:y1, x0:x1]
            mine = ids == c
            label = parts.label[y0:y1, x0:x1]
            free = (ids < 0) & (label >= 0)
            # grow 2 pixels into free ink of the same colour, colour by colour (a merged
            # component may hold more than one): segment.py's 4-neighbour steps, by dilate
            grown = mine
            for _ in range(2):
                step = grown.copy()
                for k in np.unique(label[grown]):
                    if k < 0:
                        continue
                    src = (grown & (label == k)).astype(np.uint8)
                    step |= cv2.dilate(src, cross).astype(bool) & free & (label == k)
                grown = step
            own = ink_ * grown
            gain = 1.0 / max(float(own.max()), S.MIN_ALPHA)
            out[i] = np.minimum(fit(np.stack([own, ink_]).astype(np.float32)) * gain, 1.0)
        return out

    def segment(rgb, digits):
        parts = find_digits(rgb, digits)
        if parts is None:
            return None
        return crops(parts) if full else S.crops(parts)

    return segment


def stage_times(images, digits, rounds, cv2, np, S) -> dict:
    """Median ms of each step of segment.py's pipeline (its own functions, in its order),
    beside the component step done by OpenCV: with the renumbering that makes its ids
    match, and the bare cv2.connectedComponentsWithStats calls alone (OpenCV's best case)."""
    names = [
        "core mask + digit colours (numpy)",
        "components: segment.components (numpy union-find)",
        "components: cv2, ids matched",
        "components: bare cv2.connectedComponentsWithStats calls",
        "specks + _Parts + merge/split rules (numpy/Python)",
        "crops: rim, scaling (numpy)",
    ]
    t: dict = {n: [] for n in names}
    for _ in range(rounds):
        for _, _, rgb in images:
            c0 = time.perf_counter_ns()
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            brightest = np.maximum(np.maximum(r, g), b)
            darkest = np.minimum(np.minimum(r, g), b)
            core = (brightest < S.CORE_MAX) & (darkest < S.CORE_MIN)
            label, alpha = S.digit_colours(rgb, core)
            labels = np.where(core, label, -1)
            c1 = time.perf_counter_ns()
            ids = S.components(labels)
            c2 = time.perf_counter_ns()
            cv2_components(labels, cv2, np)
            c3 = time.perf_counter_ns()
            for k in np.unique(labels[labels >= 0]):
                cv2.connectedComponentsWithStats((labels == k).astype(np.uint8), connectivity=8)
            c4 = time.perf_counter_ns()
            on = ids >= 0
            sizes = np.bincount(ids[on], minlength=1)
            ids[on & (sizes[np.maximum(ids, 0)] < S.MIN_PIXELS)] = -1
            parts = S._Parts(ids, rgb, alpha, label)
            ok = S._to_count(parts, digits)
            c5 = time.perf_counter_ns()
            if ok:
                S.crops(parts)
            c6 = time.perf_counter_ns()
            for n, a, z in zip(
                names, (c0, c1, c2, c3, c4, c5), (c1, c2, c3, c4, c5, c6), strict=True
            ):
                t[n].append((z - a) / 1e6)
    return {n: statistics.median(v) for n, v in t.items()}


def cmd_segment(args: argparse.Namespace) -> dict:
    import cv2
    import numpy as np
    from PIL import Image

    from bench.datasets import real_validation
    from host import segment as S
    from host.kinds import KINDS
    from host.seg import SegReader

    methods = {
        "numpy": S.segment,
        "cv2-cc": make_cv2_segment(full=False),
        "cv2-full": make_cv2_segment(full=True),
    }
    reader = SegReader(REPO / "models")
    result: dict = {"cv2_version": cv2.__version__, "kinds": {}}
    for kind_name, kind in KINDS.items():
        data = real_validation(kind_name)
        if data is None:
            raise SystemExit("no ../shared/data: the real validation split is needed")
        images = [
            (it.name, it.answer, np.asarray(Image.open(io.BytesIO(it.png)).convert("RGB")))
            for it in data.items
        ]
        # correctness first: crops and answers of each method
        outs = {m: [f(rgb, kind.digits) for _, _, rgb in images] for m, f in methods.items()}
        per: dict = {}
        for m, crops_list in outs.items():
            same = diff = 0
            max_abs = 0.0
            right = refused = 0
            misread = []
            for (name, answer, _), a, ref in zip(images, crops_list, outs["numpy"], strict=True):
                if (a is None) != (ref is None) or (
                    a is not None and (a.shape != ref.shape or not np.array_equal(a, ref))
                ):
                    diff += 1
                    if a is not None and ref is not None and a.shape == ref.shape:
                        max_abs = max(max_abs, float(np.abs(a - ref).max()))
                else:
                    same += 1
                if a is None:
                    refused += 1
                    misread.append(f"{name}: no {kind.digits} digits")
                    continue
                x = np.ascontiguousarray(a.transpose(0, 2, 3, 1))
                got = "".join(str(d) for d in reader.logits(x, kind).argmax(axis=1))
                if got == answer:
                    right += 1
                else:
                    misread.append(f"{name} -> {got}")
            per[m] = {
                "identical_to_numpy": same,
                "different": diff,
                "max_abs_crop_difference": max_abs,
                "correct": right,
                "refused": refused,
                "n": len(images),
                "misread": misread,
            }
        # timing: every image, every method, interleaved, `rounds` times; warm-up first
        for _ in range(3):
            for f in methods.values():
                for _, _, rgb in images[:20]:
                    f(rgb, kind.digits)
        # wall time, and this thread's CPU time (what load elsewhere on the machine inflates
        # least: waiting for a core is not counted)
        times: dict = {m: [] for m in methods}
        cpu: dict = {m: [] for m in methods}
        for _ in range(args.rounds):
            for _, _, rgb in images:
                for m, f in methods.items():
                    c = time.thread_time_ns()
                    t = time.perf_counter_ns()
                    f(rgb, kind.digits)
                    times[m].append((time.perf_counter_ns() - t) / 1e6)
                    cpu[m].append((time.thread_time_ns() - c) / 1e6)
        for m in methods:
            per[m]["ms_median"] = statistics.median(times[m])
            per[m]["ms_p90"] = sorted(times[m])[int(0.9 * (len(times[m]) - 1))]
            per[m]["cpu_ms_median"] = statistics.median(cpu[m])
            per[m]["timed_calls"] = len(times[m])
        per["stages_ms_median"] = stage_times(images, kind.digits, args.rounds, cv2, np, S)
        result["kinds"][kind_name] = per
    return result


# ------------------------------------------------------------------------------ main


def machine() -> dict:
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load,
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.opencv_compare", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bundles", help="two host bundles, with and without cv2: size, start")
    b.add_argument(
        "--base-python", required=True, help="venv python: requirements.txt + PyInstaller"
    )
    b.add_argument("--cv-python", required=True, help="the same plus opencv-python-headless")
    b.add_argument(
        "--runs", type=int, default=15, help="interleaved cold starts per bundle (0: sizes only)"
    )
    b.add_argument("--out", default="/tmp/opencv-compare", help="where the bundles go")
    b.add_argument("--reuse", action="store_true", help="time bundles already built in --out")
    s = sub.add_parser("segment", help="numpy vs OpenCV segmentation on the real validation split")
    s.add_argument("--rounds", type=int, default=5, help="timed passes over the images")
    for q in (b, s):
        q.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    if args.cmd == "bundles":
        Path(args.out).mkdir(parents=True, exist_ok=True)
    result = {"machine": machine(), "command": " ".join(sys.argv)}
    result.update(cmd_bundles(args) if args.cmd == "bundles" else cmd_segment(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
