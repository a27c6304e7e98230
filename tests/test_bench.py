"""The benchmark harness (bench/) on synthetic data and stand-in hosts: does it count,
time and report correctly? No timing is asserted: figures belong in the benchmark."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bench import __main__ as bench_main
from bench import coldstart, report, rss, sizes, throughput
from bench.accuracy import score
from bench.datasets import Dataset, synthetic
from bench.ddddocr_baseline import restricted_ctc_decode
from bench.stats import percentile, summarize
from bench.targets import evaluate
from host.errors import HostError

# A stand-in native host: real framing on real pipes, answers every solve with its id.
# MODE=error answers BAD_IMAGE; MODE=reorder swaps the ids of the first two replies.
ECHO_HOST = textwrap.dedent(
    """
    import json, struct, sys
    mode = sys.argv[1]
    out, pending = sys.stdout.buffer, []
    def send(msg):
        body = json.dumps(msg).encode()
        out.write(struct.pack("=I", len(body)) + body); out.flush()
    while True:
        head = sys.stdin.buffer.read(4)
        if len(head) < 4:
            break
        req = json.loads(sys.stdin.buffer.read(struct.unpack("=I", head)[0]))
        if mode == "error":
            send({"v": 1, "id": req["id"], "ok": False, "error": {"code": "BAD_IMAGE"}})
        elif mode == "reorder" and req["id"] in (0, 1) and not pending:
            pending.append(req["id"])
        else:
            if pending:
                send({"v": 1, "id": req["id"], "ok": True, "result": {"text": "1"}})
                req = {"id": pending.pop()}
            send({"v": 1, "id": req["id"], "ok": True, "result": {"text": "1"}})
    """
)


@pytest.fixture
def echo_host(tmp_path: Path):
    script = tmp_path / "echo_host.py"
    script.write_text(ECHO_HOST)
    return lambda mode="ok": [sys.executable, str(script), mode]


@pytest.fixture(scope="module")
def synth6() -> Dataset:
    return synthetic("ais6", 6, seed=1)


def test_summary_median_and_percentiles() -> None:
    s = summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["median"], s["min"], s["max"], s["n"]) == (3.0, 1.0, 5.0, 5)
    assert percentile([0.0, 10.0], 90) == pytest.approx(9.0)
    with pytest.raises(ValueError):
        summarize([])


def test_synthetic_set_is_labelled_and_reproducible(synth6: Dataset) -> None:
    again = synthetic("ais6", 6, seed=1)
    assert synth6.label == "synthetic"
    assert [i.png for i in again.items] == [i.png for i in synth6.items]
    assert all(len(i.answer) == 6 and i.answer in i.name for i in synth6.items)


def test_score_names_every_miss_by_file(synth6: Dataset) -> None:
    first, second = synth6.items[0], synth6.items[1]
    answers = {i.png: i.answer for i in synth6.items}

    def mostly_right(png: bytes, kind: str) -> str:
        assert kind == "ais6"
        if png == first.png:
            return "000000" if first.answer != "000000" else "111111"
        if png == second.png:
            raise HostError("NO_ANSWER", "could not read 6 digits")
        return answers[png]

    res = score(synth6, {"r": mostly_right, "perfect": lambda png, kind: answers[png]})
    r = res["r"]
    assert (r["n"], r["correct"]) == (6, 4)
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert [w["file"] for w in r["wrong"]] == [first.name]
    assert r["unread"] == [
        {
            "file": second.name,
            "answer": second.answer,
            "error": "NO_ANSWER: could not read 6 digits",
        }
    ]
    assert res["perfect"]["accuracy"] == 1.0


def test_restricted_decode_picks_best_digit_and_collapses() -> None:
    charset = ["", "o", "0", "1", "a"]
    # frames: 'o' beats '0' (unrestricted would read 'o'); 1,1 collapse; blank; 1 again; 'a' only
    p = np.array(
        [
            [0.1, 0.6, 0.3, 0.0, 0.0],
            [0.0, 0.0, 0.1, 0.9, 0.0],
            [0.0, 0.0, 0.1, 0.9, 0.0],
            [0.9, 0.0, 0.0, 0.1, 0.0],
            [0.0, 0.0, 0.1, 0.8, 0.1],
            [0.3, 0.0, 0.0, 0.0, 0.7],
        ]
    )
    assert restricted_ctc_decode(p, charset, "0123456789") == "011"


def test_pipelined_counts_replies_in_order(echo_host) -> None:
    r = throughput.pipelined(echo_host(), [b"png"], count=50)
    assert r["requests"] == 50 and r["rps"] > 0 and r["errors"] == {} and r["exit_code"] == 0
    rt = throughput.round_trips(echo_host(), [b"png"], count=5)
    assert rt["n"] == 5 and rt["errors"] == {}


def test_pipelined_reports_error_codes_and_broken_order(echo_host) -> None:
    assert throughput.pipelined(echo_host("error"), [b"x"], count=10)["errors"] == {"BAD_IMAGE": 10}
    with pytest.raises(RuntimeError, match="order"):
        throughput.pipelined(echo_host("reorder"), [b"x"], count=10)


def test_cold_start_times_hosts_and_the_python_floor(echo_host) -> None:
    floor = {"python -c pass": [sys.executable, "-c", "pass"]}
    out = coldstart.cold_starts({"echo": echo_host()}, b"png", runs=2, baselines=floor)
    assert out["echo"]["what"] == "to first answer" and out["echo"]["n"] == 2
    assert out["python -c pass"]["ratio_to_python_pass"] == pytest.approx(1.0)
    assert out["echo"]["ratio_to_python_pass"] > 0
    if sys.platform.startswith("linux"):
        assert out["echo"]["cpu_median"] is not None and out["python -c pass"]["cpu_median"] > 0
    with pytest.raises(RuntimeError, match="BAD_IMAGE"):
        coldstart.time_first_answer(echo_host("error"), b"png")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_peak_rss_of_a_live_host(echo_host) -> None:
    r = rss.peak_rss(echo_host(), [b"a", b"b"], ["ais6", "ais3"], ["auto", "ctc"], rounds=2)
    assert r["requests"] == 8 and r["processes"] >= 1 and 1 < r["peak_mb"] < 10_000


def test_folder_size_lists_largest_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "big.so").write_bytes(b"x" * 3000)
    (tmp_path / "small.txt").write_bytes(b"x" * 10)
    out = sizes.folder_size(tmp_path, top=1)
    assert (out["bytes"], out["files"]) == (3010, 2)
    assert out["largest"] == [{"file": str(Path("sub") / "big.so"), "bytes": 3000}]


def fake_result() -> dict:
    def acc(correct: int, n: int, wrong: list | None = None) -> dict:
        return {
            "n": n,
            "correct": correct,
            "accuracy": correct / n,
            "wrong": wrong or [],
            "unread": [],
        }

    miss = [{"file": "123456.png", "answer": "123456", "got": "123458"}]
    return {
        "command": "python -m bench",
        "machine": {"cpu": "test cpu", "busy_processes": []},
        "accuracy": {
            "real-val": {
                "ais6": {
                    "ctc": acc(1000, 1000),
                    "seg": acc(990, 1000, miss * 10),
                    "auto": acc(999, 1000, miss),
                    "ddddocr": acc(968, 1000),
                    "ddddocr-digits": acc(996, 1000),
                }
            }
        },
        "latency": {"ais6": {"auto": summarize([2.0, 2.5, 4.0]), "ctc": summarize([4.0])}},
        "coldstart": {"bundle": {**summarize([350.0]), "what": "to first answer"}},
        "sizes": {"bundle": {"bytes": 70e6, "mb": 70.0, "files": 1, "largest": []}, "models": {}},
        "skipped": {"browser": "no e2e timings"},
    }


def test_targets_say_met_missed_and_by_how_much() -> None:
    rows = {r["target"]: r for r in evaluate(fake_result())}
    assert rows["warm solve, ais6 auto (median)"]["met"] is True
    ctc = rows["warm solve, ais6 ctc (median)"]
    assert ctc["met"] is False and ctc["miss"] == pytest.approx(1.0)
    assert rows["bundle cold start to first answer"]["miss"] == pytest.approx(50.0)
    assert rows["bundle folder size"]["met"] is True
    assert rows["accuracy ais6 seg, real validation"]["miss"] == pytest.approx(0.005)
    assert rows["accuracy ais6 ctc > ddddocr's best"]["met"] is True
    assert rows["accuracy ais6 seg > ddddocr's best"]["met"] is False
    assert rows["field filled after image load, warm host"]["value"] is None


def test_report_shows_targets_misses_and_gaps() -> None:
    text = report.render(fake_result())
    assert "| warm solve, ais6 ctc (median) | <= 3.00 ms | 4.00 ms | missed by 1.00 ms |" in text
    assert "real-val ais6 seg, wrong: 123456.png -> '123458'" in text
    assert "99.60%" in text  # ddddocr's digits-only decode, beside ours
    assert "- browser: no e2e timings" in text


def test_arguments_quick_and_sections() -> None:
    args = bench_main.parse_args(["--quick", "--skip", "browser,coldstart"])
    assert args.rounds == 1 and "browser" not in args.sections and "accuracy" in args.sections
    assert bench_main.parse_args(["--only", "sizes"]).sections == ["sizes"]
    with pytest.raises(SystemExit):
        bench_main.parse_args(["--only", "nonsense"])


def test_sizes_section_runs_on_a_checkout(tmp_path: Path) -> None:
    # No bundle built in tmp: the run still completes and says what it could not measure.
    out = tmp_path / "out"
    code = bench_main.main(
        ["--only", "sizes", "--bundle", str(tmp_path / "none" / "x"), "--out", str(out)]
    )
    assert code == 0
    assert (out / "results.json").exists() and "Sizes and memory" in (
        out / "results.md"
    ).read_text()


def test_wilson_lower_bound_is_honest_about_small_samples() -> None:
    from bench.stats import wilson_lower

    assert wilson_lower(275, 275) == pytest.approx(0.9862, abs=1e-3)
    assert wilson_lower(0, 10) == pytest.approx(0.0, abs=1e-12)
    assert wilson_lower(50, 100) < 0.5 and wilson_lower(0, 0) is None


def test_report_breaks_the_browser_time_down_for_chromium_and_firefox() -> None:
    step = summarize([30.0, 31.0])
    result = fake_result()
    result["browser"] = {
        "warm": summarize([40.0, 42.0]),
        "steps": {"warm native round trip: port -> host -> port.onMessage": step},
        "command": "python -m pytest x",
        "pytest": ["1 passed"],
        "firefox": {"warm": summarize([50.0]), "steps": {"warm hop: worker -> content": step}},
    }
    text = report.render(result)
    assert "| warm native round trip: port -> host -> port.onMessage | 30 ms |" in text
    assert "### The same in Firefox" in text
    assert "| warm hop: worker -> content | 30 ms |" in text
    result["browser"]["firefox"] = {"error": "e2e run 1 failed"}
    assert "Not measured: e2e run 1 failed" in report.render(result)


def test_phases_times_every_catalogued_model_and_the_first_solves(synth6: Dataset) -> None:
    from bench import phases
    from host import paths
    from host.catalogue import read_catalogue

    measured = phases.measure(synth6.items[0].png, runs=1)
    for name in read_catalogue(paths.models_dir()).entries:  # the gates too
        assert f"{name}: warm-up read of a blank image" in measured
    assert measured["first solve (decode + auto)"]["runs"] == 1
