"""Turn a result dict into the markdown report (and the console table: the same text)."""

from __future__ import annotations

from bench.ddddocr_baseline import VARIANTS
from bench.targets import evaluate
from host.protocol import METHODS

READERS = (*METHODS, *VARIANTS)
MAX_LISTED = 25  # misses listed per reader in markdown; the JSON has them all


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def ms(x: float | None) -> str:
    return "-" if x is None else (f"{x:.2f} ms" if x < 10 else f"{x:.0f} ms")


def mb(n_bytes: float | None) -> str:
    if n_bytes is None:
        return "-"
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.1f} kB"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def machine_section(m: dict) -> list[str]:
    pk = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items())
    lines = [
        "## Machine",
        "",
        f"- {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB; {m.get('os')}, "
        f"Linux {m.get('kernel')}",
        f"- Python {m.get('python')} ({m.get('python_executable')}), nice {m.get('nice')}; {pk}",
        f"- {m.get('chromium') or 'no Chromium'}",
        f"- measured {m.get('when_utc')} UTC; load average at start {m.get('load_average')}",
        "- busiest other processes at start (%CPU, nice, elapsed, command):",
    ]
    lines += [f"  - `{p}`" for p in m.get("busy_processes", [])] or ["  - none"]
    return [*lines, ""]


def accuracy_section(acc: dict) -> list[str]:
    lines = ["## Accuracy (whole captcha, exact match)", ""]
    rows = []
    for label, kinds in acc.items():
        for kind, readers in kinds.items():
            n = next(iter(readers.values()))["n"] if readers else 0
            cells = []
            for r in READERS:
                res = readers.get(r)
                cells.append(
                    "-"
                    if res is None
                    else f"{pct(res['accuracy'])} ({len(res['wrong'])}+{len(res['unread'])})"
                )
            low = readers.get("auto", {}).get("lower95")
            rows.append([label, kind, str(n), *cells, pct(low)])
    lines += _table(["images", "kind", "n", *READERS, "auto: 95% lower bound"], rows)
    lines.append(
        "Cells: accuracy (wrong answers + refusals). `real-val` is the fixed validation split of "
        "../shared/data (host/scoring.py); `synthetic` is training/synth.py, seeded. The lower "
        "bound (Wilson, 95%) is what that many images can vouch for."
    )
    lines += ["", "### Misses, by file", ""]
    for label, kinds in acc.items():
        for kind, readers in kinds.items():
            for r, res in readers.items():
                if res["wrong"]:
                    lines.append(
                        f"- {label} {kind} {r}, wrong: "
                        + _listed([f"{w['file']} -> {w['got']!r}" for w in res["wrong"]])
                    )
                by_error: dict[str, list[str]] = {}
                for u in res["unread"]:
                    by_error.setdefault(u["error"][:160], []).append(u["file"])
                for error, files in by_error.items():
                    lines.append(f"- {label} {kind} {r}, no answer ({error}): " + _listed(files))
    return [*lines, ""]


def _listed(items: list[str]) -> str:
    more = len(items) - MAX_LISTED
    return ", ".join(items[:MAX_LISTED]) + (f" (+{more} more in the JSON)" if more > 0 else "")


def latency_section(lat: dict) -> list[str]:
    lines = ["## Warm time per image (in-process Solver, after warm-up)", ""]
    rows = []
    for kind, stages in lat.items():
        for stage, s in stages.items():
            if isinstance(s, dict) and "median" in s:
                failed = f"{s['failed']} of {s['n']}" if s.get("failed") else "0"
                rows.append(
                    [
                        kind,
                        stage,
                        ms(s["median"]),
                        ms(s["p90"]),
                        ms(s.get("cpu_median")),
                        str(s["n"]),
                        failed,
                    ]
                )
        if isinstance(stages.get("images"), str):
            rows.append([kind, "images timed", stages["images"], "", "", "", ""])
    lines += _table(
        ["kind", "what", "median", "p90", "CPU time (median)", "samples", "calls that raised"], rows
    )
    return lines


def throughput_section(tp: dict) -> list[str]:
    lines = ["## One native-messaging connection (real host process, real framing)", ""]
    rows = []
    for host, runs in tp.items():
        for key, r in runs.items():
            if "rps_median" in r:
                rows.append(
                    [
                        host,
                        key,
                        f"{r['rps_median']:.0f} req/s",
                        ms(r.get("rtt_median")),
                        str(r.get("errors") or "none"),
                    ]
                )
    lines += _table(
        ["host", "requests", "pipelined throughput (median)", "round trip (median)", "errors"], rows
    )
    return lines


def coldstart_section(cs: dict) -> list[str]:
    lines = ["## Cold start (process start -> first answer; baselines: start -> exit)", ""]
    rows = []
    for name, s in cs.items():
        ratio = s.get("ratio_to_python_pass")
        rows.append(
            [
                name,
                s["what"],
                ms(s["median"]),
                ms(s["p90"]),
                f"{ratio:.1f}x" if ratio else "-",
                ms(s.get("cpu_median")),
                str(s["n"]),
            ]
        )
    lines += _table(
        ["process", "until", "median", "p90", "vs python -c pass", "CPU time (median)", "runs"],
        rows,
    )
    lines += [
        "CPU time: user + system time the process used until then (10 ms ticks); it is "
        "what the start costs, apart from waiting for other work on the machine.",
        "",
    ]
    return lines


def browser_section(br: dict) -> list[str]:
    lines = ["## In Chromium with the extension (image load -> field filled)", ""]
    rows = [
        [host, ms(br[host]["median"]), ms(br[host]["p90"]), str(br[host]["n"])]
        for host in ("cold", "warm")
        if host in br
    ]
    lines += _table(["host", "median", "p90", "runs"], rows)
    lines += _browser_steps(br)
    fx = br.get("firefox")
    if fx:
        lines += ["### The same in Firefox", ""]
        if fx.get("error"):
            lines += [f"Not measured: {fx['error']}", ""]
        else:
            rows = [
                [host, ms(fx[host]["median"]), ms(fx[host]["p90"]), str(fx[host]["n"])]
                for host in ("cold", "warm")
                if host in fx
            ]
            lines += _table(["host", "median", "p90", "runs"], rows)
            lines += ["Firefox rounds its clock to 1 ms.", ""]
            lines += _browser_steps(fx)
    return lines


def _browser_steps(br: dict) -> list[str]:
    lines = []
    if br.get("steps"):
        lines += [
            "Step by step (page clock: content/page.js marks; `w:` marks from the background's "
            "`trace`; hops between page and worker are across two clocks):",
            "",
        ]
        steps = [[k, ms(v["median"]), ms(v["p90"]), str(v["n"])] for k, v in br["steps"].items()]
        lines += _table(["host, step", "median", "p90", "samples"], steps)
    if br.get("command"):
        lines += [f"From `{br['command']}`: {'; '.join(br.get('pytest', []))}.", ""]
    return lines


def sizes_section(sizes: dict, rss: dict) -> list[str]:
    lines = ["## Sizes and memory", ""]
    rows = [[f"models/{name}", mb(b)] for name, b in sizes.get("models", {}).items()]
    b = sizes.get("bundle")
    rows.append(["dist/decaptcha-host/ (bundle folder)", mb(b["bytes"]) if b else "not built"])
    rows += [[f"dist/{name}", mb(n)] for name, n in sizes.get("zips", {}).items()]
    for host, r in rss.items():
        rows.append([f"peak RSS, {host}", f"{r['peak_mb']:.1f} MB ({r['requests']} solves)"])
    lines += _table(["what", "size"], rows)
    if b:
        lines += ["Largest files in the bundle:", ""]
        lines += _table(["file", "size"], [[f["file"], mb(f["bytes"])] for f in b["largest"]])
    return lines


def targets_section(result: dict) -> list[str]:
    lines = ["## Targets", ""]
    rows = []
    for row in evaluate(result):
        unit = row["unit"]

        def fmt(x: float | None, unit: str = unit) -> str:
            if x is None:
                return "not measured"
            return pct(x) if not unit else f"{x:.1f} {unit}" if x >= 10 else f"{x:.2f} {unit}"

        verdict = {True: "met", False: f"missed by {fmt(row['miss'])}", None: "-"}[row["met"]]
        if row.get("tied"):
            verdict = "tied (not above)"
        bound = (">= " if row.get("higher_is_better", True) and not unit else "<= ") + fmt(
            row["limit"]
        )
        if row["target"].endswith("ddddocr's best"):
            bound = "> " + fmt(row["limit"])
        rows.append([row["target"], bound, fmt(row["value"]), verdict])
    lines += _table(["target", "bound", "measured", "verdict"], rows)
    return lines


def headline_section(result: dict) -> list[str]:
    """The few figures a user cares about (the README's table is made from these)."""
    from bench.targets import lookup

    def acc(kind: str) -> str:
        readers = lookup(result, ("accuracy", "real-val", kind)) or {}
        if "auto" not in readers:
            return "not measured"
        a = readers["auto"]
        best = max(
            (r["accuracy"] for n, r in readers.items() if n.startswith("ddddocr")), default=None
        )
        vs = f"; ddddocr's best {pct(best)}" if best is not None else ""
        return f"{pct(a['accuracy'])} ({a['correct']}/{a['n']}){vs}"

    lat = lookup(result, ("latency", "ais6", "auto", "median"))
    cold = lookup(result, ("coldstart", "bundle", "median"))
    warm = lookup(result, ("browser", "warm", "median"))
    coldb = lookup(result, ("browser", "cold", "median"))
    size = lookup(result, ("sizes", "bundle", "bytes"))
    rss = lookup(result, ("rss", "bundle", "peak_mb"))
    rows = [
        ["accuracy, login captchas (ais6, real validation, auto)", acc("ais6")],
        ["accuracy, course captchas (ais3, real validation, auto)", acc("ais3")],
        ["warm solve, one login captcha (auto, median)", ms(lat)],
        ["bundle: start to first answer (median)", ms(cold)],
        [
            "Chromium: image loaded -> field filled, warm / cold host (median)",
            f"{ms(warm)} / {ms(coldb)}",
        ],
        ["host bundle folder", mb(size)],
        ["host peak RSS while solving (bundle)", "-" if rss is None else f"{rss:.0f} MB"],
    ]
    return ["## Headline figures", "", *_table(["what", "measured"], rows)]


def render(result: dict) -> str:
    lines = ["# Benchmark result", "", f"Command: `{result.get('command')}`", ""]
    lines += machine_section(result.get("machine", {}))
    lines += headline_section(result)
    lines += targets_section(result)
    if result.get("accuracy"):
        lines += accuracy_section(result["accuracy"])
    if result.get("latency"):
        lines += latency_section(result["latency"])
    if result.get("throughput"):
        lines += throughput_section(result["throughput"])
    if result.get("coldstart"):
        lines += coldstart_section(result["coldstart"])
    if result.get("browser"):
        lines += browser_section(result["browser"])
    if result.get("floors") or result.get("phases"):
        from bench import floors, phases

        lines += floors.section(result.get("floors") or {}, result.get("policies"))
        if result.get("phases"):
            lines += ["Cold host, phase by phase (bench/phases.py):", ""]
            lines += [phases.table(result["phases"]), ""]
    if result.get("sizes") or result.get("rss"):
        lines += sizes_section(result.get("sizes", {}), result.get("rss", {}))
    if result.get("skipped"):
        lines += ["## Not measured in this run", ""]
        lines += [f"- {k}: {v}" for k, v in result["skipped"].items()] + [""]
    return "\n".join(lines)
