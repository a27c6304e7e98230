// The background's pure parts: request shaping and the auto-submit guard.
import assert from "node:assert/strict";
import { test } from "node:test";

import { solveRequest } from "../src/background/requests.js";
import { SubmitGuard, memoryStore } from "../src/background/submit-guard.js";

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

const WINDOW = 5 * 60 * 1000;
const OUTCOME = 15 * 60 * 1000;
const AIS_PAGE = "https://www.ccxp.nthu.edu.tw/ccxp/INQUIRE/pre_select_entry.php";

function guardAt(start = 1_000_000) {
  const clock = { now: start };
  const guard = new SubmitGuard(memoryStore(), { windowMs: WINDOW, outcomeMs: OUTCOME, now: () => clock.now });
  return { guard, clock };
}

/** The tab that submitted loads the server's answer (the form's target page). */
async function answered(guard, tabId, url = AIS_PAGE) {
  await guard.tabUpdated(tabId, { status: "loading", url });
  await guard.tabUpdated(tabId, { status: "complete", url });
}

test("the auto-submit guard: one submit per window across all tabs", async () => {
  const { guard, clock } = guardAt();
  assert.equal(await guard.maySubmit(7), true);
  await answered(guard, 7);
  assert.equal(await guard.maySubmit(7), false, "a second try soon after: maybe the answer was wrong");
  assert.equal(await guard.maySubmit(8), false, "another tab is not separate");
  clock.now += WINDOW - 1;
  assert.equal(await guard.maySubmit(9), false);
  clock.now += 1;
  assert.equal(await guard.maySubmit(8), true, "after the window, with the last outcome known");
  assert.equal((await guard.last()).tabId, 8);
});

test("the auto-submit guard: five tabs asking at once get one yes", async () => {
  const { guard } = guardAt();
  const answers = await Promise.all([1, 2, 3, 4, 5].map((tab) => guard.maySubmit(tab)));
  assert.deepEqual(answers.filter(Boolean).length, 1);
  assert.equal(answers[0], true, "first come, first served");
});

test("the auto-submit guard: none while the last submit's outcome is unknown", async () => {
  const { guard, clock } = guardAt();
  assert.equal(await guard.maySubmit(7), true);
  clock.now += WINDOW;
  assert.equal(await guard.maySubmit(8), false, "tab 7 never loaded the server's answer");
  await guard.tabUpdated(7, { status: "complete", url: AIS_PAGE }); // the login page itself finishing
  assert.equal(await guard.maySubmit(8), false, "a load that started before the submit is not its outcome");
  await answered(guard, 8);
  assert.equal(await guard.maySubmit(8), false, "another tab's page load is not the outcome");
  await answered(guard, 7, "https://elsewhere.example/");
  assert.equal(await guard.maySubmit(8), false, "a page that is not AIS is not the outcome");
  await answered(guard, 7);
  assert.equal(await guard.maySubmit(8), true, "known now");
});

test("the auto-submit guard: an outcome never seen is given up after the lock-out window", async () => {
  const { guard, clock } = guardAt();
  assert.equal(await guard.maySubmit(7), true); // then the tab was closed
  clock.now += OUTCOME - 1;
  assert.equal(await guard.maySubmit(8), false);
  clock.now += 1;
  assert.equal(await guard.maySubmit(8), true);
});

test("the auto-submit guard: no tab, no submit; a broken store rejects (main.js then answers ok: false)", async () => {
  const { guard } = guardAt();
  assert.equal(await guard.maySubmit(undefined), false);
  const broken = new SubmitGuard({ get: async () => { throw new Error("gone"); }, set: async () => {} }, { windowMs: WINDOW, outcomeMs: OUTCOME });
  await assert.rejects(broken.maySubmit(1));
  assert.equal(await guardAt().guard.maySubmit(1), true);
});
