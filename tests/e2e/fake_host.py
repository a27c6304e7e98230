"""A scripted native host for the popup tests (tests/e2e/popup.py): it speaks the protocol's
framing and answers from a JSON config file read again for every frame, so a test can put the
popup in any state without models:

  {"version": "0.1.0", "protocol": 1, "ready": true,      the `status` result
   "text": "482913", "confidence": 0.99, "used": "ctc",   every `solve` result
   "agree": true,
   "delay": 0,                                            seconds before a solve reply
   "exit": false,                                         exit at once (installed but broken)
   "kept": {"folder": "...", "total": 3}}                 `status` reports kept captchas

Every request's action is appended to <config>.log. Standard library only; never writes
anything but frames to stdout.
"""

from __future__ import annotations

import json
import struct
import sys
import time
from pathlib import Path

TEXT = "482913"  # every solve's answer unless the config says otherwise (cut to the kind)


def read_frame(stream) -> dict | None:
    header = stream.read(4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack("=I", header)
    return json.loads(stream.read(length))


def write_frame(stream, message: dict) -> None:
    payload = json.dumps(message).encode()
    stream.write(struct.pack("=I", len(payload)) + payload)
    stream.flush()


def reply(request: dict, config: dict) -> dict:
    base = {"v": 1, "id": request.get("id")}
    if request.get("action") == "status":
        result = {
            "protocol": config.get("protocol", 1),
            "version": config.get("version", "0.1.0"),
            "runtime": "fake-runtime 1.0",
            "models": {"ctc_ais6": {"file": "ctc_ais6.tflite", "loaded": True}},
            "ready": config.get("ready", True),
        }
        if "kept" in config:
            result["kept"] = config["kept"]
        return {**base, "ok": True, "result": result}
    images = request.get("images") or [request.get("image")]
    kind = request.get("kind") or "ais6"
    text = config.get("text", TEXT)[: 6 if kind == "ais6" else 3]
    confidence = config.get("confidence", 0.99)
    time.sleep(float(config.get("delay", 0)))
    result = {
        "text": text,
        "confidence": confidence,
        "digits": [confidence] * len(text),
        "method": request.get("method", "auto"),
        "used": config.get("used", "ctc"),
        # `auto` fills only when the two models agree (content/captcha.js isConfident).
        "agree": config.get("agree", True) if request.get("method", "auto") == "auto" else None,
        "kind": kind,
        "renderings": len(images),
        "ms": 3.2,
    }
    return {**base, "ok": True, "result": result}


def main() -> int:
    config_path = Path(sys.argv[1])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    if json.loads(config_path.read_text()).get("exit"):
        return 1
    log = config_path.with_suffix(".log")  # one line per request: its action
    while (request := read_frame(stdin)) is not None:
        with log.open("a") as f:
            f.write(f"{request.get('action')}\n")
        config = json.loads(config_path.read_text())
        if config.get("exit"):
            return 1
        write_frame(stdout, reply(request, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
