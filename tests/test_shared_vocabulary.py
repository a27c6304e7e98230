"""The facts Python and JavaScript must agree on: extension/src/shared/config.js against the host.

config.js is loaded by node exactly as the extension loads it (a classic script on
globalThis.AISDecaptcha); the values it defines must equal the host's own definitions.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from host import ids, kinds, limits, server
from host.errors import EXTENSION_CODES, Code
from tests.conftest import REPO, need

CONFIG_JS = REPO / "extension" / "src" / "shared" / "config.js"


@pytest.fixture(scope="module")
def config() -> dict:
    node = shutil.which("node")
    need(node is not None, "node is not installed")
    script = (
        f"require({json.dumps(str(CONFIG_JS))});"
        "process.stdout.write(JSON.stringify(globalThis.AISDecaptcha.config));"
    )
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_error_codes_are_the_hosts_plus_the_extensions_own(config: dict) -> None:
    assert config["ERRORS"] == {c: c for c in [*Code, *EXTENSION_CODES]}


def test_kinds_match_host_kinds(config: dict) -> None:
    want = {
        k.name: {"digits": k.digits, "width": k.width, "height": k.height}
        for k in kinds.KINDS.values()
    }
    assert config["KINDS"] == want


def test_protocol_version_methods_limits_and_host_name(config: dict) -> None:
    assert config["PROTOCOL_VERSION"] == server.PROTOCOL_VERSION
    assert config["METHODS"] == list(server.METHODS)
    assert config["MAX_IMAGES"] == limits.MAX_IMAGES
    assert config["HOST_NAME"] == ids.HOST_NAME


def test_every_code_is_in_protocol_md() -> None:
    table = (REPO / "host" / "PROTOCOL.md").read_text(encoding="utf-8")
    assert all(f"| `{c}` |" in table for c in Code)
