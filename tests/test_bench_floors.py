"""bench/floors.py: issue 13's table from one run's sections (no timing is asserted)."""

from __future__ import annotations

from bench import floors


def stats(median: float, cpu: float | None = None) -> dict:
    return {"median": median, "p90": median, "cpu_median": cpu}


def test_each_figure_is_beside_its_floor_from_the_same_run() -> None:
    result = {
        "coldstart": {"bundle": stats(130, 120), floors.IMPORT_FLOOR: stats(100, 100)},
        "browser": {"cold": stats(160), "warm": stats(6)},
        "throughput": {"bundle": {"1000 x ais6 auto": {"rtt_median": 3.0}}},
    }
    rows = {r["path"]: r for r in floors.table(result)["rows"]}
    first = rows["bundle start -> first answer"]
    assert first["ratio"] == 1.3 and first["met"] and first["cpu_ratio"] == 1.2
    cold = rows["Chromium, image load -> field input, cold host"]
    assert cold["floor_ms"] == 130 and not cold["met"]  # over 150 ms
    warm = rows["Chromium, image load -> field input, warm host"]
    assert warm["ratio"] == 2.0 and warm["met"]
    text = "\n".join(floors.section(floors.table(result)))
    assert "| bundle start -> first answer | 130.0 ms |" in text


def test_missing_sections_leave_their_rows_out() -> None:
    assert floors.table({}) == {"rows": []}
    only_cold = {"coldstart": {"python -m host": stats(150), floors.IMPORT_FLOOR: stats(100)}}
    (row,) = floors.table(only_cold)["rows"]
    assert row["path"].startswith("python -m host") and not row["met"]


def test_instruction_counts_give_the_first_row_in_instructions() -> None:
    # bench/floors.py instructions(): a host to its first answer, the floor to exit.
    result = {
        "instructions": {
            floors.IMPORT_FLOOR: {"to_exit": 450_000_000, "to_finalize": 420_000_000},
            "bundle": {"to_exit": 615_000_000, "to_finalize": 576_000_000, "ratio": 1.28},
        }
    }
    (row,) = floors.table(result)["rows"]
    assert row["path"] == "bundle start -> first answer, instructions (callgrind)"
    assert row["met"] and row["ratio"] == 1.28
    text = "\n".join(floors.section(floors.table(result)))
    assert "| 576.0 M |" in text and ": 450.0 M |" in text
