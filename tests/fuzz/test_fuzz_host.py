"""Fuzzing the host protocol with hypothesis: random and mutated frames, lengths, JSON, base64
and PNG bytes, against the real request loop in process and the real program as a subprocess.

Checked for every input: no exception escapes, every frame gets exactly one well-formed reply
in order with its id, error codes are the documented ones, nothing but whole frames on stdout,
no request hangs (each would end in a TIMEOUT reply), a solved answer has the right length.

A short run is part of the normal suite. The long run:
    DECAPTCHA_FUZZ_EXAMPLES=50000 DECAPTCHA_FUZZ_REPORT=/tmp/fuzz.json \
        nice -n 10 .venv/bin/python -m pytest tests/fuzz -q --timeout=0
(--timeout=0 lifts the suite's per-test limit: the long run takes about half an hour.)
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host import limits, paths, protocol, server
from tests.fuzz.hostpipe import REPO, HostHung, HostProcess, run_host, split_frames
from tests.fuzz.strategies import frame, payloads, raw_streams

LONG = int(os.environ.get("DECAPTCHA_FUZZ_EXAMPLES", "0") or 0)
CODES = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", (REPO / "host/PROTOCOL.md").read_text(), re.M))
STATS: Counter = Counter()
SLOW_S = 10.0  # an input that takes this long counts as a hang


def fuzz_settings(short: int, share: float = 1.0):
    return settings(
        max_examples=max(short, int(LONG * share)) if LONG else short,
        deadline=None,
        database=None,  # nothing written into the repository
        suppress_health_check=list(HealthCheck),
    )


_SOLVER = []


def real_solver():
    """The real Solver over the shipped models, loaded once for every example."""
    if not _SOLVER:
        from host.solver import Solver

        _SOLVER.append(Solver(models_dir=paths.models_dir()))
    return _SOLVER[0]


def expected_id(payload: bytes) -> object:
    try:
        message = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if isinstance(message, dict) and protocol.valid_id(message.get("id")):
        return message.get("id")
    return None


def check_reply(payload: bytes, reply: dict) -> None:
    STATS["replies"] += 1
    assert reply["v"] == 1 and isinstance(reply["ok"], bool)
    assert reply["id"] == expected_id(payload) or reply.get("error", {}).get("code") in (
        "BAD_JSON",
        "FRAME_TOO_LARGE",
    )
    if reply["ok"]:
        STATS["ok"] += 1
        result = reply["result"]
        if "text" in result:
            text = result["text"]
            assert text.isdigit() and len(text) in (3, 6) and len(result["digits"]) == len(text)
            assert 0.0 <= result["confidence"] <= 1.0
        return
    code = reply["error"]["code"]
    STATS[f"code {code}"] += 1
    assert code in CODES, f"undocumented error code {code}"
    assert code not in ("INTERNAL", "TIMEOUT"), reply  # a bug or a hang
    assert isinstance(reply["error"]["message"], str)


def serve_in_process(data: bytes) -> tuple[int, list[dict], float]:
    out = io.BytesIO()
    srv = server.Server(real_solver, timeout=SLOW_S)
    started = time.monotonic()
    code = srv.serve(io.BytesIO(data), out)
    elapsed = time.monotonic() - started
    replies, rest = split_frames(out.getvalue())
    assert rest == b"", "bytes on stdout that are not a whole frame"
    assert all(len(json.dumps(r).encode()) <= limits.MAX_REPLY_BYTES for r in replies)
    return code, replies, elapsed


@fuzz_settings(300, share=0.6)
@given(st.lists(payloads(), min_size=1, max_size=4))
def test_fuzz_frames_in_process(payload_list: list[bytes]) -> None:
    STATS["in-process frame inputs"] += 1
    code, replies, elapsed = serve_in_process(b"".join(frame(p) for p in payload_list))
    assert code == server.EXIT_OK
    assert elapsed < SLOW_S * len(payload_list)
    assert len(replies) == len(payload_list)
    for payload, reply in zip(payload_list, replies, strict=True):
        check_reply(payload, reply)


@fuzz_settings(150, share=0.2)
@given(raw_streams())
def test_fuzz_raw_streams_in_process(data: bytes) -> None:
    """Any bytes at all: lying lengths, cut frames, junk. The loop ends cleanly, never raises."""
    STATS["in-process stream inputs"] += 1
    code, replies, _ = serve_in_process(data)
    assert code in (server.EXIT_OK, server.EXIT_TRUNCATED, server.EXIT_FRAME_TOO_LARGE)
    for reply in replies:
        assert reply["v"] == 1 and (reply["ok"] or reply["error"]["code"] in CODES)
        assert reply.get("error", {}).get("code") not in ("INTERNAL", "TIMEOUT")
    if code == server.EXIT_FRAME_TOO_LARGE:
        assert replies[-1]["error"]["code"] == "FRAME_TOO_LARGE"


@pytest.fixture(scope="module")
def live_host():
    """One real `python -m host` for the whole run, as one browser port would be."""
    host = HostProcess()
    yield host
    try:
        STATS["host peak RSS kB"] = max(STATS["host peak RSS kB"], peak_rss_kb(host.proc.pid))
        code, rest = host.close()
    finally:
        host.kill()
    assert code == 0 and rest == b"", f"exit {code}, {len(rest)} stray bytes on stdout"


def peak_rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) if match else 0


@fuzz_settings(100, share=0.2)
@given(st.lists(payloads(), min_size=1, max_size=3))
def test_fuzz_frames_through_the_real_host(live_host: HostProcess, payload_list) -> None:
    STATS["subprocess frame inputs"] += 1
    live_host.send(b"".join(frame(p) for p in payload_list))
    for payload in payload_list:
        try:
            reply = live_host.read_reply(timeout=SLOW_S * 3)
        except HostHung:
            STATS["hangs"] += 1
            raise
        if reply is None:
            STATS["crashes"] += 1
            pytest.fail(f"host exited: {live_host.stderr()[-3000:]}")
        check_reply(payload, reply)


@fuzz_settings(8, share=0.002)
@given(raw_streams())
def test_fuzz_raw_streams_through_the_real_host(data: bytes) -> None:
    """Stream-level garbage needs a fresh process per input (it may end the stream)."""
    STATS["subprocess stream inputs"] += 1
    code, out, err = run_host(data, timeout=120)
    replies, rest = split_frames(out)
    assert rest == b"", "stray bytes on stdout"
    assert code in (0, 1, 2), err[-3000:]
    assert "Traceback" not in err
    assert all(r["ok"] or r["error"]["code"] in CODES for r in replies)


@pytest.fixture(scope="session", autouse=True)
def report():
    """Print (and with DECAPTCHA_FUZZ_REPORT, save) what the run tried and saw."""
    started = time.monotonic()
    yield
    STATS["pytest process peak RSS kB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    STATS["seconds"] = round(time.monotonic() - started)
    summary = dict(sorted(STATS.items()))
    print("\nfuzz summary:", json.dumps(summary))
    if os.environ.get("DECAPTCHA_FUZZ_REPORT"):
        Path(os.environ["DECAPTCHA_FUZZ_REPORT"]).write_text(json.dumps(summary, indent=2) + "\n")
