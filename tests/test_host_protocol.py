"""host/protocol.py framing and the request loop, in process (host/server.py with BytesIO).

The solver here is a test double only where a real model adds nothing: a model that hangs,
raises, or answers more than 1 MB cannot be produced on demand. Round trips through the real
program are in test_host_native.py.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest

import host
from host import limits, protocol, server
from host.errors import Code
from tests.conftest import REPO
from tests.fuzz.hostpipe import frame, split_frames
from training import synth


def serve(data: bytes, solver_factory=None, timeout: float = 5.0) -> tuple[int, list[dict]]:
    out = io.BytesIO()
    srv = server.Server(solver_factory or missing_models, timeout=timeout)
    code = srv.serve(io.BytesIO(data), out)
    replies, rest = split_frames(out.getvalue())
    assert rest == b"", "stdout holds bytes that are not whole frames"
    return code, replies


def missing_models():
    raise FileNotFoundError("no models here")


# -- framing ---------------------------------------------------------------------------------


def test_frame_round_trip_uses_native_byte_order() -> None:
    data = protocol.encode_frame({"a": "é"})
    assert data[:4] == struct.pack("=I", len(data) - 4)
    assert json.loads(protocol.read_frame(io.BytesIO(data))) == {"a": "é"}


def test_read_frame_end_truncation_and_limit() -> None:
    with pytest.raises(protocol.EndOfStream):
        protocol.read_frame(io.BytesIO(b""))
    with pytest.raises(protocol.TruncatedFrame):
        protocol.read_frame(io.BytesIO(b"\x05\x00"))
    with pytest.raises(protocol.TruncatedFrame):
        protocol.read_frame(io.BytesIO(struct.pack("=I", 10) + b"{}"))
    with pytest.raises(protocol.FrameTooLarge):
        protocol.read_frame(io.BytesIO(struct.pack("=I", 11) + b"x" * 11), limit=10)
    assert protocol.read_frame(io.BytesIO(struct.pack("=I", 10) + b"x" * 10), limit=10) == b"x" * 10


def test_over_limit_frame_is_refused_before_its_payload_is_read() -> None:
    class Stream(io.RawIOBase):
        """A header announcing 4 GiB, then a stream that fails the test if read further."""

        def __init__(self) -> None:
            self.header = struct.pack("=I", 0xFFFFFFFF)

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self.header:
                chunk, self.header = self.header[:n], self.header[n:]
                return chunk
            raise AssertionError("payload read after an over-limit length")

    with pytest.raises(protocol.FrameTooLarge):
        protocol.read_frame(Stream())


def test_lone_surrogates_in_ids_and_fields_are_echoed_safely() -> None:
    """Found by the fuzzer: a lone surrogate is valid in a JSON escape but not in UTF-8."""
    data = frame(b'{"id": "\\ud800", "action": "status"}') + frame(
        b'{"id": 1, "action": "\\udfff"}'
    )
    code, replies = serve(data)
    assert code == server.EXIT_OK
    assert replies[0]["id"] == "\ud800" and replies[0]["ok"]
    assert replies[1]["error"]["code"] == "UNKNOWN_ACTION"


def test_replies_over_one_megabyte_and_nan_are_refused() -> None:
    with pytest.raises(ValueError, match="over the limit"):
        protocol.encode_frame({"x": "a" * limits.MAX_REPLY_BYTES})
    with pytest.raises(ValueError):
        protocol.encode_frame({"x": float("nan")})


@pytest.mark.parametrize(
    "payload", [b"", b"\xff\xfe{}", b"{", b"[" * 100_000 + b"]" * 100_000, b"1" * 5000]
)
def test_decode_payload_reports_every_failure_as_value_error(payload: bytes) -> None:
    with pytest.raises(ValueError):
        protocol.decode_payload(payload)


# -- the loop --------------------------------------------------------------------------------


def test_requests_are_answered_in_order_with_their_ids() -> None:
    ids = [1, "two", 3.5, None, -7, "x" * limits.MAX_ID_CHARS]
    data = b"".join(frame({"id": i, "action": "status"}) for i in ids)
    code, replies = serve(data)
    assert code == server.EXIT_OK
    assert [r["id"] for r in replies] == ids
    assert all(r["ok"] and r["v"] == 1 for r in replies)
    assert replies[0]["result"]["ready"] is False
    assert "no models here" in replies[0]["result"]["models"]["error"]


def _solve_frame(request_id: int) -> bytes:
    rgb, _ = synth.generate("ais3", np.random.default_rng(request_id))
    image = base64.b64encode(synth.png_bytes(rgb, "ais3")).decode()
    return frame({"id": request_id, "action": "solve", "image": image})


class BlockingSolver:
    def __init__(self) -> None:
        self.release = threading.Event()

    def solve(self, images, kind, method):
        self.release.wait(30)
        raise AssertionError("released")

    def status(self) -> dict:
        return {"runtime": "test double", "models": {}}


def test_request_timeout_replies_and_stops_reading() -> None:
    solver = BlockingSolver()
    data = _solve_frame(9) + frame({"id": 10, "action": "status"})
    try:
        code, replies = serve(data, lambda: solver, timeout=0.2)
    finally:
        solver.release.set()
    assert code == server.EXIT_TIMEOUT
    assert len(replies) == 1  # the status after it is never read: the host restarts
    assert replies[0]["id"] == 9 and replies[0]["error"]["code"] == "TIMEOUT"


class FailingSolver:
    def solve(self, images, kind, method):
        raise RuntimeError("tensor arena exhausted")

    def status(self) -> dict:
        return {"runtime": "test double", "models": {"ctc": {"loaded": True}}, "ready": True}


class HugeAnswer:
    def to_dict(self) -> dict:
        return {"text": "1" * (2 * limits.MAX_REPLY_BYTES)}


class HugeSolver(FailingSolver):
    def solve(self, images, kind, method):
        return HugeAnswer()


def test_a_solver_exception_is_a_model_error_and_serving_goes_on() -> None:
    data = _solve_frame(1) + frame({"id": 2, "action": "status"})
    code, replies = serve(data, FailingSolver)
    assert code == server.EXIT_OK
    assert replies[0]["error"]["code"] == "MODEL_ERROR"
    assert "tensor arena" in replies[0]["error"]["message"]
    assert replies[1]["ok"] and replies[1]["result"]["ready"] is True


def test_a_reply_over_one_megabyte_becomes_an_internal_error() -> None:
    code, replies = serve(_solve_frame(5) + frame({"id": 6, "action": "status"}), HugeSolver)
    assert code == server.EXIT_OK
    assert replies[0]["id"] == 5 and replies[0]["error"]["code"] == "INTERNAL"
    assert replies[1]["id"] == 6 and replies[1]["ok"]


def test_missing_models_give_model_error_on_solve() -> None:
    _, replies = serve(_solve_frame(3))
    assert replies[0]["error"]["code"] == "MODEL_ERROR"
    assert "no models here" in replies[0]["error"]["message"]


def test_models_load_once() -> None:
    calls = []

    def factory():
        calls.append(1)
        return FailingSolver()

    serve(b"".join(frame({"id": i, "action": "status"}) for i in range(5)), factory)
    assert calls == [1]


def test_closed_output_ends_the_loop() -> None:
    class Closed(io.BytesIO):
        def write(self, data):
            raise BrokenPipeError(32, "Broken pipe")

    srv = server.Server(missing_models)
    code = srv.serve(io.BytesIO(frame({"id": 1, "action": "status"})), Closed())
    assert code == server.EXIT_BROKEN_PIPE


def test_refused_caller_gets_one_error_and_nothing_is_processed() -> None:
    from host.caller import Caller

    loaded = []
    srv = server.Server(
        lambda: loaded.append(1), caller=Caller("chromium", "x"), caller_allowed=False
    )
    out = io.BytesIO()
    code = srv.serve(io.BytesIO(frame({"id": 1, "action": "status"}) * 3), out)
    replies, _ = split_frames(out.getvalue())
    assert code == server.EXIT_NOT_ALLOWED and loaded == []
    assert [r["error"]["code"] for r in replies] == ["NOT_ALLOWED"]


def test_error_replies_are_json_serialisable_for_any_id() -> None:
    for bad in (float("inf"), True, [1], {"a": 1}, 2**60, "y" * 1000):
        reply = protocol.error_reply(bad, Code.BAD_REQUEST, "m")
        assert reply["id"] is None
        json.dumps(reply, allow_nan=False)


class DyingSolver(FailingSolver):
    """A solve that dies of a non-Exception, as a lazy import in a broken bundle did."""

    def __init__(self, dies_of: type[BaseException]) -> None:
        self.dies_of = dies_of

    def solve(self, images, kind, method):
        raise self.dies_of("lazy import failed")


@pytest.mark.parametrize("dies_of", [SystemExit, KeyboardInterrupt])
def test_a_request_dying_of_a_base_exception_is_internal_at_once(dies_of) -> None:
    # Before the fix the worker thread died silently and the host waited for the timeout,
    # then answered TIMEOUT and exited; now the reply is INTERNAL and serving goes on.
    data = _solve_frame(1) + frame({"id": 2, "action": "status"})
    code, replies = serve(data, lambda: DyingSolver(dies_of), timeout=limits.REQUEST_TIMEOUT_S)
    assert code == server.EXIT_OK
    assert replies[0]["id"] == 1 and replies[0]["error"]["code"] == "INTERNAL"
    assert dies_of.__name__ in replies[0]["error"]["message"]
    assert replies[1]["id"] == 2 and replies[1]["ok"]


def test_models_dying_of_system_exit_while_loading_keep_the_host_serving() -> None:
    def load():
        raise SystemExit("lazy import failed")

    code, replies = serve(_solve_frame(1) + frame({"id": 2, "action": "status"}), load)
    assert code == server.EXIT_OK
    assert replies[0]["error"]["code"] == "MODEL_ERROR"
    assert replies[1]["result"]["ready"] is False
    assert "SystemExit" in replies[1]["result"]["models"]["error"]


def test_what_solve_imports_is_imported_at_start_up() -> None:
    # The serving loop's modules pull in Pillow's PNG plugin before any request arrives.
    script = "import sys, host.server; print('PIL.PngImagePlugin' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "True", out.stderr


# -- loading per kind (host/lazy.py) -----------------------------------------------------------


class KindLoadingSolver:
    """Records which kinds it was asked to load, in order, and by which thread."""

    def __init__(self) -> None:
        self.loads: list[tuple[str, ...] | None] = []
        self.rest_loaded = threading.Event()

    def load(self, kinds=None):
        self.loads.append(None if kinds is None else tuple(kinds))
        if kinds is None:
            self.rest_loaded.set()
        return []

    def solve(self, images, kind, method):
        raise AssertionError("not reached: the image is not a PNG")

    def status(self):
        return {"runtime": "x", "models": {}, "ready": True}


def solve_frame(rid: int, kind: str | None = "ais3") -> bytes:
    return frame({"id": rid, "action": "solve", "image": "R0lGODlh", "kind": kind})


@pytest.mark.parametrize("policy", ["background", "on-use", "eager"])
def test_a_solve_loads_its_kind_first_and_the_rest_by_policy(monkeypatch, policy) -> None:
    monkeypatch.setenv("DECAPTCHA_LOAD", policy)
    fake = KindLoadingSolver()
    _, replies = serve(solve_frame(1) + solve_frame(2, None), lambda: fake)
    assert [r["error"]["code"] for r in replies] == ["BAD_IMAGE", "BAD_IMAGE"]
    # Before each solve, outside its time: its kind; a solve without a kind loads its own.
    assert fake.loads[0] == ("ais3",) and () in fake.loads
    if policy == "background":
        assert fake.rest_loaded.wait(5)  # after the first answer, on a thread
    else:
        assert None not in fake.loads


def test_status_first_loads_every_model_so_it_is_never_provisional(monkeypatch) -> None:
    monkeypatch.setenv("DECAPTCHA_LOAD", "on-use")
    fake = KindLoadingSolver()
    _, replies = serve(frame({"id": 1, "action": "status"}), lambda: fake)
    assert replies[0]["result"]["ready"] is True and None in fake.loads


def test_a_brief_status_is_the_version_alone_and_waits_for_no_model(monkeypatch) -> None:
    # The extension's version check before its first solve: a full status would load every
    # model first, and the solve queued behind it would wait for them (docs/BENCHMARKS.md).
    monkeypatch.setenv("DECAPTCHA_LOAD", "on-use")
    created = []

    def factory():
        created.append(True)
        return KindLoadingSolver()

    _, replies = serve(frame({"id": 1, "action": "status", "brief": True}), factory)
    assert replies[0] == {
        "v": 1,
        "id": 1,
        "ok": True,
        "result": {"protocol": protocol.PROTOCOL_VERSION, "version": host.__version__},
    }
    assert created == [], "a brief status created the solver"
    # `brief: false` is the full status; anything else is refused.
    _, replies = serve(
        frame({"id": 2, "action": "status", "brief": False})
        + frame({"id": 3, "action": "status", "brief": 1}),
        factory,
    )
    assert replies[0]["result"]["ready"] is True
    assert replies[1]["error"]["code"] == "BAD_REQUEST"
