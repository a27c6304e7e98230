"""Warm time per image: one Solver in this process, models loaded, after a warm-up."""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.datasets import Dataset
from bench.stats import summarize


def time_calls(call: Callable[[object], object], inputs: list, rounds: int, warmup: int) -> dict:
    """ms per call of `call(x)` over `rounds` passes through `inputs`, after `warmup` calls.

    Errors (e.g. NO_ANSWER) are timed too: a refusal costs the user the same wait.
    """
    if not inputs:
        raise ValueError("nothing to time")
    for i in range(warmup):
        _call_quietly(call, inputs[i % len(inputs)])
    samples, cpu, failed = [], [], 0
    for _ in range(rounds):
        for x in inputs:
            start, start_cpu = time.perf_counter(), time.thread_time()
            ok = _call_quietly(call, x)
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            failed += not ok
    # CPU time of this thread: the solve's own cost, without waiting for other work.
    return {**summarize(samples), "cpu_median": summarize(cpu)["median"], "failed": failed}


def _call_quietly(call: Callable[[object], object], x: object) -> bool:
    try:
        call(x)
    except Exception:  # timed like an answer; accuracy.py reports it
        return False
    return True


def solver_latency(
    solver, dataset: Dataset, methods: tuple[str, ...], rounds: int, warmup: int, limit: int
) -> dict[str, dict]:
    """Per method: solve() on decoded images; plus 'decode' (PNG bytes -> RGB array) alone."""
    from host.imageio import decode_png

    pngs = [item.png for item in dataset.items[:limit]]
    images = [decode_png(png) for png in pngs]
    kind = dataset.kind
    out = {"decode": time_calls(decode_png, pngs, rounds, warmup)}
    for method in methods:
        out[method] = time_calls(
            lambda rgb, m=method: solver.solve([rgb], kind, m), images, rounds, warmup
        )
    return out


def ddddocr_latency(dddd_ocr, dataset: Dataset, rounds: int, warmup: int, limit: int) -> dict:
    """ddddocr's own classification() on PNG bytes, for comparison (its default threads)."""
    pngs = [item.png for item in dataset.items[:limit]]
    out = time_calls(dddd_ocr.classify, pngs, rounds, warmup)
    out["cpu_median"] = None  # onnxruntime works in its own threads: this thread's time says little
    return out
