"""The real host program (`python -m host`) over real native-messaging framing.

Requests that do not need a model run with DECAPTCHA_MODELS pointing at an empty folder, so
they pass before (and regardless of) the models; solving real captchas is test_host_solve.py.
"""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from host import ids, limits
from host.caller import CHROMIUM_ORIGIN
from tests.fuzz.hostpipe import REPO, HostProcess, frame, host_env, run_host, split_frames
from tests.test_host_imageio import bomb, png
from training import synth

OUR_ORIGIN = f"{CHROMIUM_ORIGIN}{ids.CHROMIUM_EXTENSION_ID}/"


@pytest.fixture
def no_models(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    return host_env(tmp_path / "home", DECAPTCHA_MODELS=str(folder))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def captcha(kind: str = "ais6", seed: int = 0) -> str:
    rgb, _ = synth.generate(kind, np.random.default_rng(seed))
    return b64(synth.png_bytes(rgb, kind))


def status(request_id: object = "s") -> dict:
    return {"id": request_id, "action": "status"}


# Every bad input the host must answer with its code and then keep serving.
BAD_INPUTS = [
    (b"not json", "BAD_JSON"),
    (b"\xff\xfe\x00{", "BAD_JSON"),
    (b"", "BAD_JSON"),
    (b"[1, 2]", "BAD_JSON"),
    (b"42", "BAD_JSON"),
    (b"[" * 50_000 + b"]" * 50_000, "BAD_JSON"),
    (b'{"id": 1, "action": "status", "x": ' + b"9" * 5000 + b"}", "BAD_JSON"),
    ({"id": 1}, "BAD_REQUEST"),
    ({"id": 1, "action": 5}, "BAD_REQUEST"),
    ({"id": True, "action": "status"}, "BAD_REQUEST"),
    ({"id": "x" * (limits.MAX_ID_CHARS + 1), "action": "status"}, "BAD_REQUEST"),
    ({"id": 2**60, "action": "status"}, "BAD_REQUEST"),
    ({"id": 1, "v": "1", "action": "status"}, "BAD_REQUEST"),
    ({"id": 1, "v": 0, "action": "status"}, "BAD_REQUEST"),
    ({"id": 1, "v": 2, "action": "status"}, "UNSUPPORTED_VERSION"),
    ({"id": 1, "action": "reboot"}, "UNKNOWN_ACTION"),
    ({"id": 1, "action": "solve"}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "image": "", "images": [""]}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "image": 7}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "images": []}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "images": "abc"}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "images": ["QQ=="] * (limits.MAX_IMAGES + 1)}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "image": "QQ==", "kind": "ais9"}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "image": "QQ==", "method": "guess"}, "BAD_REQUEST"),
    ({"id": 1, "action": "solve", "image": "@@not base64@@"}, "BAD_BASE64"),
    ({"id": 1, "action": "solve", "image": "data:image/png,abc"}, "BAD_BASE64"),
    ({"id": 1, "action": "solve", "image": b64(b"GIF89a not a png")}, "BAD_IMAGE"),
    ({"id": 1, "action": "solve", "image": b64(b"\x89PNG\r\n\x1a\n")}, "BAD_IMAGE"),
    ({"id": 1, "action": "solve", "image": "data:image/jpeg;base64,/9j/"}, "BAD_IMAGE"),
    ({"id": 1, "action": "solve", "image": b64(bomb(40_000, 40_000))}, "IMAGE_TOO_LARGE"),
    ({"id": 1, "action": "solve", "image": "A" * (2 * limits.MAX_IMAGE_BYTES)}, "IMAGE_TOO_LARGE"),
]


def test_each_bad_input_gets_its_code_and_the_host_keeps_serving(no_models) -> None:
    host = HostProcess(env=no_models)
    try:
        for number, (message, code) in enumerate(BAD_INPUTS):
            reply = host.request(message)
            assert reply["ok"] is False, (number, reply)
            assert reply["error"]["code"] == code, (
                number,
                message if len(str(message)) < 200 else "",
                reply,
            )
            assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]
            if isinstance(message, dict) and code not in ("BAD_REQUEST",):
                assert reply["id"] == 1
            after = host.request(status(number))
            assert after["ok"] and after["id"] == number
        exit_code, rest = host.close()
    finally:
        host.kill()
    assert exit_code == 0 and rest == b""


def test_pipelined_requests_on_one_connection_keep_order_and_ids(no_models) -> None:
    request_ids = [*range(40), "a", "b", -1, 0.5]
    messages = []
    for n, request_id in enumerate(request_ids):
        if n % 3 == 0:
            messages.append({"id": request_id, "action": "status"})
        elif n % 3 == 1:
            messages.append({"id": request_id, "action": "solve", "image": "%%"})
        else:
            messages.append({"id": request_id, "action": "solve", "image": captcha(seed=n)})
    code, out, err = run_host(b"".join(frame(m) for m in messages), env=no_models)
    replies, rest = split_frames(out)
    assert code == 0 and rest == b"", err[-2000:]
    assert [r["id"] for r in replies] == request_ids
    codes = [None if r["ok"] else r["error"]["code"] for r in replies]
    assert codes == [[None, "BAD_BASE64", "MODEL_ERROR"][n % 3] for n in range(len(request_ids))]


def test_status_reports_missing_models_without_crashing(no_models) -> None:
    code, out, err = run_host(frame(status(1)), env=no_models)
    (reply,), _ = split_frames(out)
    result = reply["result"]
    assert code == 0 and reply["ok"]
    assert result["protocol"] == 1 and result["ready"] is False
    assert result["executable"] == sys.executable
    assert result["limits"]["frame_bytes"] == limits.MAX_FRAME_BYTES
    assert "Traceback" not in err


def test_largest_frame_is_accepted_and_one_byte_more_is_refused(no_models) -> None:
    envelope = b'{"id":"big","action":"status","pad":""}'
    pad = b"x" * (limits.MAX_FRAME_BYTES - len(envelope))
    biggest = envelope[:-2] + pad + b'"}'
    assert len(biggest) == limits.MAX_FRAME_BYTES
    code, out, _ = run_host(frame(biggest) + frame(status(2)), env=no_models)
    replies, rest = split_frames(out)
    assert code == 0 and rest == b""
    assert [r["id"] for r in replies] == ["big", 2] and all(r["ok"] for r in replies)

    too_big = struct.pack("=I", limits.MAX_FRAME_BYTES + 1) + b"{" * 100
    code, out, _ = run_host(frame(status(1)) + too_big + frame(status(3)), env=no_models)
    replies, rest = split_frames(out)
    assert code == 2 and rest == b""
    assert replies[0]["id"] == 1
    assert replies[1] == {"v": 1, "id": None, "ok": False, "error": replies[1]["error"]}
    assert replies[1]["error"]["code"] == "FRAME_TOO_LARGE"
    assert len(replies) == 2  # the stream cannot be resynchronised: nothing after it is read


@pytest.mark.parametrize(
    ("data", "exit_code"),
    [
        (b"", 0),  # the browser closed the port
        (frame(status(1))[:2], 1),  # inside a length
        (frame(status(1))[:9], 1),  # inside a payload
        (struct.pack("=I", 0xFFFFFFFF), 2),  # 4 GiB announced, nothing sent
    ],
)
def test_end_of_stream_exits_cleanly(no_models, data: bytes, exit_code: int) -> None:
    code, out, err = run_host(data, env=no_models)
    replies, rest = split_frames(out)
    assert code == exit_code and rest == b""
    assert len(replies) == (1 if exit_code == 2 else 0)
    assert "Traceback" not in err


def test_request_timeout_is_answered_then_the_host_exits(no_models, tmp_path) -> None:
    """A 1-megapixel noise PNG takes well over 1 ms to inflate and check."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(1000, 1000), dtype=np.uint8)
    image = b64(png(Image.fromarray(pixels, "L")))
    env = {**no_models, "DECAPTCHA_REQUEST_TIMEOUT": "0.001"}
    message = {"id": "slow", "action": "solve", "image": image, "kind": "ais6"}
    code, out, err = run_host(frame(message) + frame(status(2)), env=env)
    replies, rest = split_frames(out)
    assert rest == b"" and code == 4, err[-2000:]
    assert [(r["id"], r["error"]["code"]) for r in replies] == [("slow", "TIMEOUT")]


@pytest.mark.parametrize(
    ("argv", "served"),
    [
        ([OUR_ORIGIN], True),
        ([OUR_ORIGIN, "--parent-window=0"], True),  # Chrome on Windows adds this
        (["/x/nthu_ais_decaptcha.json", ids.FIREFOX_ADDON_ID], True),
        ([f"{CHROMIUM_ORIGIN}{'a' * 32}/"], False),
        (["/x/nthu_ais_decaptcha.json", "evil@example.com"], False),
        ([CHROMIUM_ORIGIN], False),
    ],
)
def test_the_host_answers_only_our_extensions(no_models, argv, served: bool) -> None:
    code, out, _ = run_host(frame(status(1)) + frame(status(2)), args=argv, env=no_models)
    replies, rest = split_frames(out)
    assert rest == b""
    if served:
        assert code == 0 and [r["ok"] for r in replies] == [True, True]
    else:
        assert code == 3
        assert [(r["id"], r["error"]["code"]) for r in replies] == [(None, "NOT_ALLOWED")]


def test_an_extension_id_registered_at_install_is_answered(tmp_path) -> None:
    extra = "b" * 32
    env = host_env(tmp_path, DECAPTCHA_MODELS=str(tmp_path))
    install = run_host(
        b"", args=["--install", "--browser", "chromium", "--extension-id", extra], env=env
    )
    assert install[0] == 0, install[2]
    code, out, _ = run_host(frame(status(1)), args=[f"{CHROMIUM_ORIGIN}{extra}/"], env=env)
    (reply,), _ = split_frames(out)
    assert code == 0 and reply["ok"] and reply["result"]["caller"] == extra


STRAY_OUTPUT = textwrap.dedent(
    """
    import ctypes, os, sys
    import host.cli

    def noisy_solver(**_kwargs):
        print("print from Python")
        sys.stdout.write("write to sys.stdout\\n")
        os.write(1, b"os.write to fd 1\\n")
        libc = ctypes.CDLL(None)
        libc.printf(b"printf from C\\n")
        libc.fflush(None)
        raise RuntimeError("no models")

    host.cli.load_solver = noisy_solver
    sys.exit(host.cli.main([]))
    """
)


def test_nothing_but_frames_reaches_stdout(tmp_path) -> None:
    """Python prints, writes to fd 1 and C printf all land on stderr, never in the stream."""
    proc = subprocess.run(
        [sys.executable, "-c", STRAY_OUTPUT],
        cwd=REPO,
        input=frame(status(1)) + frame(status(2)),
        capture_output=True,
        env=host_env(tmp_path),
        timeout=60,
    )
    replies, rest = split_frames(proc.stdout)
    assert proc.returncode == 0 and rest == b"", proc.stdout[:300]
    assert [r["id"] for r in replies] == [1, 2]
    err = proc.stderr.decode()
    for text in ("print from Python", "write to sys.stdout", "os.write to fd 1", "printf from C"):
        assert text in err


def test_log_file_is_written_in_the_cache_folder(tmp_path) -> None:
    env = host_env(tmp_path, DECAPTCHA_MODELS=str(tmp_path / "none"))
    run_host(frame(status(1)) + frame(b"junk"), env=env)
    log = (tmp_path / ".cache" / "nthu-ais-decaptcha" / "host.log").read_text()
    assert "BAD_JSON" in log and "status ok" in log
    assert ((tmp_path / ".cache" / "nthu-ais-decaptcha" / "host.log").stat().st_mode & 0o077) == 0
