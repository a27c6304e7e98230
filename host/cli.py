"""The command line: serve native messaging (no arguments, or the browser's), or one of
--test, --bench, --install, --uninstall, --status.

The browser starts the host with arguments of its own (see host/caller.py); those are
recognised before argparse sees them, so they are never mistaken for options.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import host
from host import caller as callers
from host import limits, log, paths, protocol
from host.errors import Code, HostError
from host.kinds import KINDS

# Imported only off the serving path, where they are not needed: argparse; browsers and
# install (with dataclasses, secrets, hashlib, random, shutil, shlex: ~10% of a cold host's
# start in instructions, docs/BENCHMARKS.md). serve() reads the install record only for an
# extension that is not ours.
if TYPE_CHECKING:
    import argparse

    from host import browsers


def load_solver(kinds: Iterable[str] | None = None) -> Any:
    """The real Solver over the shipped models, with the models of `kinds` loaded (None:
    every kind; the rest load on first use). Imported late: numpy and the runtime are slow."""
    started = time.perf_counter()
    from host.solver import Solver

    log.get().debug("solver imports in %.1f ms", (time.perf_counter() - started) * 1000)
    return Solver(models_dir=paths.models_dir(), kinds=kinds)


def _serving_solver() -> Any:
    """The server's Solver: no model yet, the load policy decides (host/lazy.py)."""
    return load_solver(kinds=())


def serve(caller: callers.Caller | None) -> int:
    """Serve native messaging on stdin/stdout until the browser closes the port."""
    from host import server  # after claiming stdio nothing can print into the stream

    interactive = sys.stdin is not None and sys.stdin.isatty()
    reader, writer = protocol.claim_stdio()
    logger = log.setup()
    if interactive:
        logger.warning("reading native-messaging frames from this terminal; see --help")
    allowed = callers.allowed_ids()
    if not callers.is_allowed(caller, allowed):
        # Not our own extension: is it one registered with --install --extension-id?
        try:
            from host import install

            allowed = callers.allowed_ids(install.installed_extension_ids())
        except Exception as exc:  # an unreadable record must not stop our own extension
            logger.warning("cannot read registered extension ids: %s", exc)
    who = f"{caller.browser} {caller.extension_id[:100]!r}" if caller else "no caller (terminal)"
    logger.info("host %s serving %s", host.__version__, who)
    srv = server.Server(
        _serving_solver,
        timeout=limits.request_timeout(),
        caller=caller,
        caller_allowed=callers.is_allowed(caller, allowed),
    )
    if srv.caller_allowed:
        srv.preload()
    code = srv.serve(reader, writer)
    logger.info("exiting with code %d", code)
    if code == server.EXIT_TIMEOUT:
        # A request thread is still running model code: leave without waiting for it.
        logging_flush()
        os._exit(code)
    return code


def _console() -> bool:
    """Started by a person at an interactive console (stdin and stdout are terminals)."""
    return all(s is not None and s.isatty() for s in (sys.stdin, sys.stdout))


def logging_flush() -> None:
    for handler in log.get().handlers:
        handler.flush()


def parser() -> argparse.ArgumentParser:
    import argparse

    from host import browsers

    p = argparse.ArgumentParser(
        prog="decaptcha-host",
        description="Reads NTHU AIS captchas. Without options it serves the browser extension "
        "over native messaging (stdin/stdout).",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--test", nargs="+", metavar="IMAGE", type=Path, help="solve PNG files")
    what.add_argument("--bench", metavar="FOLDER", type=Path, help="accuracy and time per method")
    what.add_argument("--install", action="store_true", help="register with your browsers")
    what.add_argument("--uninstall", action="store_true", help="remove every registration")
    what.add_argument("--status", action="store_true", help="show registrations and models")
    what.add_argument(
        "--write-system-manifests",
        metavar="ROOT",
        type=Path,
        help="packagers: write every browser's system-wide manifest under ROOT (needs --exe)",
    )
    what.add_argument("--version", action="version", version=f"%(prog)s {host.__version__}")
    p.add_argument("--json", action="store_true", help="--test/--bench: JSON lines")
    p.add_argument("--method", choices=protocol.METHODS, default=protocol.AUTO)
    p.add_argument("--kind", choices=sorted(KINDS), help="--test: the captcha kind (else by size)")
    p.add_argument("--split", choices=("all", "val"), default="all", help="--bench: images used")
    p.add_argument(
        "--browser",
        action="append",
        default=[],
        choices=sorted(browsers.BROWSERS),
        help="--install: this browser (repeatable); default: every one you have",
    )
    p.add_argument(
        "--extension-id",
        action="append",
        default=[],
        metavar="ID",
        help="--install: also allow this extension id (repeatable)",
    )
    p.add_argument(
        "--in-place",
        action="store_true",
        help="--install: register this program where it is instead of copying it (developers)",
    )
    p.add_argument("--yes", action="store_true", help="--install: ask nothing (non-interactive)")
    p.add_argument(
        "--exe",
        type=Path,
        metavar="PATH",
        help="--write-system-manifests: the host's absolute path once installed",
    )
    p.add_argument("--home", type=Path, help=argparse.SUPPRESS)  # install into another home
    p.add_argument("--root", type=Path, help=argparse.SUPPRESS)  # tests: a fake / (snaps, /etc)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    caller = callers.from_argv(argv)
    installer = not argv and _console()
    if (not argv or caller is not None) and not installer:
        return serve(caller)
    from host import browsers  # off the serving path (see the imports above)

    if installer:
        # Double-clicked, or run in a terminal: a person, not a browser. Be the installer.
        return cmd_install(browsers.Target.current(), [], [], interactive=True)
    args = parser().parse_args(argv)
    if args.test:
        return cmd_test(args.test, args.method, args.kind, args.json)
    if args.bench:
        return cmd_bench(args.bench, args.split, args.json)
    if args.write_system_manifests:
        return cmd_write_system_manifests(args.write_system_manifests, args.exe)
    target = browsers.Target.current(args.home.resolve() if args.home else None)
    if args.root:
        target.root = args.root.resolve()
    if args.install:
        return cmd_install(target, args.browser, args.extension_id, args.in_place)
    if args.uninstall:
        return cmd_uninstall(target)
    if args.status:
        return cmd_status(target)
    if _console():  # options but no command (--yes, --browser), from a terminal: the installer
        return cmd_install(
            target, args.browser, args.extension_id, args.in_place, interactive=not args.yes
        )
    parser().error("nothing to do: give --test, --bench, --install, --uninstall or --status")
    return 2


# -- --test ---------------------------------------------------------------------------------


def cmd_test(files: list[Path], method: str, kind: str | None, as_json: bool) -> int:
    """One line per image: the answer (`file: answer` for several), or a JSON object."""
    from host import imageio

    log.setup(to_file=False)
    try:
        solver = load_solver()
    except Exception as exc:
        print(f"error: models not loaded: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    failures = 0
    for path in files:
        started = time.perf_counter()
        try:
            rgb = imageio.decode_png(path.read_bytes())
            result = solver.solve([rgb], kind, method).to_dict()
        except OSError as exc:
            error = HostError(Code.BAD_IMAGE, f"cannot read the file: {exc.strerror or exc}")
        except HostError as exc:
            error = exc
        else:
            error = None
        if error is not None:
            failures += 1
            print(f"{path}: {error.code}: {error.message}", file=sys.stderr)
            if as_json:
                print(json.dumps({"file": str(path), "error": _error(error)}), flush=True)
            continue
        if as_json:
            wall = (time.perf_counter() - started) * 1000
            print(json.dumps({"file": str(path), **result, "wall_ms": round(wall, 3)}), flush=True)
        elif len(files) == 1:
            print(result["text"], flush=True)
        else:
            print(f"{path}: {result['text']}", flush=True)
    return 1 if failures else 0


def _error(error: HostError) -> dict:
    return {"code": error.code, "message": error.message}


# -- --bench --------------------------------------------------------------------------------


def cmd_bench(folder: Path, split: str, as_json: bool) -> int:
    """Accuracy, confident mistakes, error codes and median ms per (kind, method) on `folder`.

    Times are wall-clock per `solve` call on one image (decoded beforehand), as medians.
    """
    from host import scoring

    log.setup(to_file=False)
    samples = scoring.labeled(folder)
    if split == "val":
        samples = scoring.split(samples)[1]
    if not samples:
        print(f"error: no labeled PNGs (stem = answer) in {folder}", file=sys.stderr)
        return 2
    try:
        solver = load_solver()
    except Exception as exc:
        print(f"error: models not loaded: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    tallies = scoring.score_solver(solver, samples, protocol.METHODS)
    rows = [_bench_row(kind, method, t) for (kind, method), t in tallies.items()]
    if as_json:
        for row in rows:
            print(json.dumps({"folder": str(folder), "split": split, **row}))
    else:
        print(f"{folder} ({split}, {len(samples)} images) on {_machine()}")
        status = solver.status()
        print(f"runtime: {status.get('runtime', '?')}")
        print(_bench_table(rows))
    return 0


def _bench_row(kind: str, method: str, tally: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "method": method,
        "images": tally.total,
        "correct": tally.correct,
        "accuracy": tally.accuracy,
        "wrong_confident": tally.confident_wrong,
        "errors": dict(tally.errors),
        "median_ms": tally.median_ms,
    }


def _machine() -> str:
    import platform

    cpu = platform.processor() or platform.machine()
    return f"{platform.platform()}, {cpu}, {os.cpu_count()} CPUs"


def _bench_table(rows: list[dict]) -> str:
    from host.confidence import FILL_THRESHOLD

    confident = f"wrong>={FILL_THRESHOLD:g}".replace(">=0.", ">=.")
    lines = [
        f"{'kind':5} {'method':6} {'images':>6} {'correct':>7} {'accuracy':>9} "
        f"{confident:>9} {'median ms':>9}  errors"
    ]
    for r in rows:
        accuracy = f"{100 * r['accuracy']:.2f}%" if r["accuracy"] is not None else "-"
        median = f"{r['median_ms']:.2f}" if r["median_ms"] is not None else "-"
        errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "-"
        lines.append(
            f"{r['kind']:5} {r['method']:6} {r['images']:>6} {r['correct']:>7} {accuracy:>9} "
            f"{r['wrong_confident']:>9} {median:>9}  {errors}"
        )
    return "\n".join(lines)


# -- --install / --uninstall / --status -----------------------------------------------------


def cmd_install(
    target: browsers.Target,
    names: list[str],
    extension_ids: list[str],
    in_place: bool = False,
    interactive: bool = False,
) -> int:
    """Copy the bundle into the application folder and register the copy (frozen), or register
    this program where it is (--in-place; always from a source checkout, which has no
    self-contained folder to copy). The report and the next step are host/firstrun.py's."""
    from host import firstrun, install

    frozen = bool(getattr(sys, "frozen", False))
    if not frozen and not in_place:
        print("running from a source checkout: nothing self-contained to copy, so the checkout")
        print("is registered where it is (as --in-place); moving or deleting it breaks the host")
    return firstrun.run(
        target,
        interactive,
        lambda: install.install(target, names, extension_ids, copy=frozen and not in_place),
        named=bool(names),
    )


def cmd_write_system_manifests(root: Path, exe: Path | None) -> int:
    """For the .deb: the system-wide manifests under `root`, one path printed per file."""
    if exe is None:
        print("error: --write-system-manifests needs --exe PATH", file=sys.stderr)
        return 2
    from host import install

    try:
        written = install.write_system_manifests(root, exe)
    except (install.InstallError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def cmd_uninstall(target: browsers.Target) -> int:
    from host import install

    try:
        lines = install.uninstall(target)
    except OSError as exc:
        print(f"uninstall failed: {exc}", file=sys.stderr)
        return 1
    for line in lines or ["nothing to remove: the host is not registered"]:
        print(line)
    return 0


def cmd_status(target: browsers.Target) -> int:
    """Registrations per browser, then whether the models load. Non-zero if anything is wrong."""
    from host import firstrun

    registered, broken = firstrun.status_report(target, sys.stdout)
    log.setup(to_file=False)
    try:
        details = load_solver().status()
    except Exception as exc:
        print(f"models: NOT LOADED ({type(exc).__name__}: {exc})")
        models_ok = False
    else:
        print(f"runtime: {details.get('runtime', '?')}")
        print(f"models: {json.dumps(details['models'])}")
        models_ok = details["ready"] is True
    if not registered:
        print("the host is not registered with any browser: run --install")
    return 0 if registered and not broken and models_ok else 1
