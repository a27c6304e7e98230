"""A stand-in host with the real host's heavy imports (numpy, PIL, ai_edge_litert) and one
shipped model, answering native-messaging frames: what build_variant.sh bundles to measure
how PyInstaller options change the bundle's size and start (docs/BENCHMARKS.md)."""

import base64
import io
import json
import struct
import sys
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2] / "models"))
interp = Interpreter(model_path=str(base / "ctc_ais6.tflite"), num_threads=1)
interp.allocate_tensors()
inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
while len(head := stdin.read(4)) == 4:
    req = json.loads(stdin.read(struct.unpack("=I", head)[0]))
    Image.open(io.BytesIO(base64.b64decode(req["image"]))).convert("RGB").load()
    interp.set_tensor(inp["index"], np.zeros(inp["shape"], inp["dtype"]))
    interp.invoke()
    shape = list(interp.get_tensor(out["index"]).shape)
    body = json.dumps({"v": 1, "id": req.get("id"), "ok": True, "result": {"out": shape}}).encode()
    stdout.write(struct.pack("=I", len(body)) + body)
    stdout.flush()
