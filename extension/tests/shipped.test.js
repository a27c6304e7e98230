// What ships (extension/src) names no path of a developer's machine.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test("no shipped file names a local absolute path", () => {
  const local = /(^|[\s"'`(])(\/(work|home|Users|tmp|root|mnt|opt)\/|[A-Za-z]:\\(Users|work)\\)/m;
  for (const f of files(SRC).filter((p) => /\.(js|html|css|json)$/.test(p))) {
    assert.doesNotMatch(readFileSync(f, "utf8"), local, f);
  }
});
