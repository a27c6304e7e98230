// The background's pure parts: request shaping and the auto-submit guard.
import assert from "node:assert/strict";
import { test } from "node:test";

import { solveRequest } from "../src/background/requests.js";
import { makeSubmitGuard, memoryStore } from "../src/background/submit-guard.js";

test("solve requests keep only the protocol's fields", () => {
  const req = solveRequest({ type: "decaptcha:solve", image: "data:image/png;base64,AA", kind: "ais6", method: "seg", action: "status", extra: 1 });
  assert.deepEqual(req, { action: "solve", image: "data:image/png;base64,AA", kind: "ais6", method: "seg" });
});

test("solve requests: at most 8 string images, unknown kind and method dropped or defaulted", () => {
  const images = [...Array.from({ length: 10 }, (_, i) => `img${i}`), 5, null];
  const req = solveRequest({ images, kind: "ais9", method: "magic" });
  assert.equal(req.images.length, 8);
  assert.ok(req.images.every((s) => typeof s === "string"));
  assert.equal(req.kind, undefined);
  assert.equal(req.method, "auto");
  assert.deepEqual(solveRequest(null), { action: "solve", method: "auto" });
});

test("the auto-submit guard allows one submit per tab per window", async () => {
  let now = 1_000_000;
  const maySubmit = makeSubmitGuard(memoryStore(), 5 * 60 * 1000, () => now);
  assert.equal(await maySubmit(7), true);
  assert.equal(await maySubmit(7), false, "a second try soon after: maybe the answer was wrong");
  assert.equal(await maySubmit(8), true, "another tab is separate");
  now += 5 * 60 * 1000;
  assert.equal(await maySubmit(7), true, "after the window");
});
