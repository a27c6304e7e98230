// background/main.js over a fake `chrome` and a scripted native host: the version gate
// (solves refused for an incompatible helper), the per-tab badge, the keyboard shortcut.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fakeExt, settle } from "./fake-ext.js";

// The background's long timers (the port's 3-minute idle close, request timeouts) must not
// keep this test process alive once the tests are done: unref those, keep the short ones.
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = (fn, ms, ...args) => {
  const timer = realSetTimeout(fn, ms, ...args);
  if (ms >= 10_000) timer.unref?.();
  return timer;
};

const TAB = { id: 7 };
const SENDER = { id: "test-extension", tab: TAB, frameId: 0 };
const RESULT = { text: "123456", confidence: 0.99, method: "auto", used: "ctc", renderings: 1 };

/** Load a fresh background with this host; returns a `send(msg)` like a content script's. */
async function background(options) {
  const ext = fakeExt(options);
  globalThis.chrome = ext;
  await import(`../src/background/main.js?${Math.random()}`);
  const [listener] = ext.runtime.onMessage.listeners;
  const send = (msg, sender = SENDER) =>
    new Promise((resolve) => {
      assert.equal(listener(msg, sender, resolve), true);
    });
  return { ext, send };
}

const hostSpeaking = (status) => (req) => (req.action === "status" ? { ok: true, result: { ready: true, ...status } } : { ok: true, result: RESULT });

test("an incompatible helper (another protocol): solves refused with HOST_OUTDATED before they reach it", async () => {
  const { ext, send } = await background({ host: hostSpeaking({ protocol: 2, version: "1.0.0" }), page: { phase: "error" } });
  const reply = await send({ type: "decaptcha:solve", image: "data:image/png;base64,AA", kind: "ais6" });
  assert.equal(reply.ok, false);
  assert.equal(reply.error.code, "HOST_OUTDATED");
  assert.deepEqual(ext.posted.map((m) => m.action), ["status"], "a solve reached an incompatible host");
  // It is asked again next time (it may have been updated meanwhile).
  await send({ type: "decaptcha:solve", image: "data:image/png;base64,AA", kind: "ais6" });
  assert.deepEqual(ext.posted.map((m) => m.action), ["status", "status"]);
});

test("an older helper on our protocol: solves go through, status asked once", async () => {
  const { ext, send } = await background({ host: hostSpeaking({ protocol: 1, version: "0.0.9" }), page: { phase: "filled" } });
  for (let i = 0; i < 2; i++) {
    const reply = await send({ type: "decaptcha:solve", image: "data:image/png;base64,AA", kind: "ais6" });
    assert.equal(reply.ok, true);
    assert.equal(reply.result.text, "123456");
  }
  assert.deepEqual(ext.posted.map((m) => m.action), ["status", "solve", "solve"]);
});

test("a host that answers UNSUPPORTED_VERSION to a solve is asked for its status again", async () => {
  let solveError = true;
  const host = (req) => {
    if (req.action === "status") return { ok: true, result: { ready: true, protocol: 1, version: "0.2.0" } };
    return solveError ? { ok: false, error: { code: "UNSUPPORTED_VERSION", message: "protocol 1 only" } } : { ok: true, result: RESULT };
  };
  const { ext, send } = await background({ host, page: { phase: "error" } });
  assert.equal((await send({ type: "decaptcha:solve", image: "x" })).error.code, "UNSUPPORTED_VERSION");
  solveError = false;
  assert.equal((await send({ type: "decaptcha:solve", image: "x" })).ok, true);
  assert.deepEqual(ext.posted.map((m) => m.action), ["status", "solve", "status", "solve"]);
});

test("badge: ! on an AIS tab as soon as it warms with no helper installed", async () => {
  const { ext, send } = await background({ host: null, page: null });
  await send({ type: "decaptcha:warm" });
  for (let i = 0; i < 10 && ext.badge[7] === undefined; i++) await settle();
  assert.equal(ext.badge[7], "!");
});

/** A background whose page (`shown.page`, changeable) left an unsure captcha to the user
 * after a solve: the badge says "?". */
async function unsureTab() {
  const shown = { page: { phase: "low-confidence", reason: "low-confidence" } };
  const { ext, send } = await background({ host: hostSpeaking({ protocol: 1, version: "0.2.0" }), page: () => shown.page });
  await send({ type: "decaptcha:solve", image: "x" });
  await settle();
  assert.equal(ext.badge[7], "?");
  return { ext, send, shown };
}

test("badge: ? when the page left an unsure captcha to the user, cleared when it is filled", async () => {
  const { ext, send, shown } = await unsureTab();
  const asked = ext.sent.find((s) => s.msg.type === "decaptcha:page-state");
  assert.deepEqual(asked.options, { frameId: 0 }, "the frame that asked is the one asked back");
  shown.page = { phase: "filled" };
  await send({ type: "decaptcha:solve", image: "x" });
  await settle();
  assert.equal(ext.badge[7], "");
});

test("badge: the ? goes once the user types the captcha left to them", async () => {
  const { ext, send, shown } = await unsureTab();
  shown.page = { ...shown.page, typed: true };
  await send({ type: "decaptcha:report", event: "typed", kind: "ais6" });
  await settle();
  assert.equal(ext.badge[7], "");
});

test("the keyboard shortcut re-solves the current tab's captcha", async () => {
  const { ext } = await background({ host: hostSpeaking({ protocol: 1 }), page: { phase: "filled" } });
  const [onCommand] = ext.commands.onCommand.listeners;
  await onCommand("resolve-captcha", { id: 9 });
  await onCommand("something-else", { id: 9 });
  await onCommand("resolve-captcha", undefined); // no tab given: the active one
  assert.deepEqual(
    ext.sent.filter((s) => s.msg.type === "decaptcha:resolve").map((s) => s.tabId),
    [9, 7],
  );
});

test("badge: a page still solving when asked (its reply not there yet) is asked again", async () => {
  const answers = [{ phase: "solving" }, { phase: "solving" }, { phase: "low-confidence" }];
  const { ext, send } = await background({ host: hostSpeaking({ protocol: 1, version: "0.2.0" }), page: () => answers.shift() ?? { phase: "low-confidence" } });
  await send({ type: "decaptcha:solve", image: "x" });
  for (let i = 0; i < 50 && ext.badge[7] === undefined; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(ext.badge[7], "?");
  assert.equal(ext.sent.filter((s) => s.msg.type === "decaptcha:page-state").length, 3);
});

test("a solve's reply carries the background's timing marks, in order (a WARM's its own), others none", async () => {
  const { send } = await background({ host: hostSpeaking({ protocol: 1, version: "0.2.0" }), page: { phase: "filled" } });
  const reply = await send({ type: "decaptcha:solve", image: "x", kind: "ais6" });
  assert.equal(reply.ok, true);
  assert.equal(reply.result.text, "123456");
  const steps = reply.trace.map(([step]) => step);
  assert.deepEqual(steps, ["received", "gate", "post", "posted", "port reply", "resolved", "respond"]);
  const times = reply.trace.map(([, at]) => at);
  assert.ok(times.every((t, i) => typeof t === "number" && (i === 0 || t >= times[i - 1])), "marks out of order");
  // On the epoch clock (timeOrigin + now), so the page can place them on its own.
  assert.ok(Math.abs(times[0] - Date.now()) < 60_000);
  const warm = await send({ type: "decaptcha:warm" });
  assert.deepEqual(warm.trace.map(([step]) => step), ["warm received", "warm connected", "warm respond"]);
  const tab = await send({ type: "decaptcha:last-tab" });
  assert.equal(tab.trace, undefined);
});

test("the version gate asks a brief status (a full one loads every model first); the popup a full one", async () => {
  const { ext, send } = await background({ host: hostSpeaking({ protocol: 1, version: "0.2.0" }), page: { phase: "filled" } });
  await send({ type: "decaptcha:warm" });
  await send({ type: "decaptcha:solve", image: "x", kind: "ais6" });
  assert.deepEqual(ext.posted.map((m) => [m.action, m.brief]), [["status", true], ["solve", undefined]]);
  await send({ type: "decaptcha:host-status" });
  assert.deepEqual(ext.posted.at(-1).action, "status");
  assert.equal(ext.posted.at(-1).brief, undefined);
});

/** A content script's port to the background (runtime.connect), as the background sees it. */
function contentPort(ext, { name = "decaptcha:solve", sender = SENDER } = {}) {
  const port = { name, sender, got: [], onMessage: { listeners: [], addListener: (f) => port.onMessage.listeners.push(f) } };
  port.postMessage = (m) => port.got.push(m);
  port.send = (m) => port.onMessage.listeners.forEach((f) => f(m));
  for (const f of ext.runtime.onConnect.listeners) f(port);
  return port;
}

test("solves over a content script's port: answered with their id, the marks and the badge as by message", async () => {
  let page = { phase: "low-confidence", reason: "low-confidence" };
  const { ext } = await background({ host: hostSpeaking({ protocol: 1, version: "0.2.0" }), page: () => page });
  const port = contentPort(ext);
  port.send({ id: 1, message: { type: "decaptcha:solve", image: "x", kind: "ais6" } });
  port.send({ id: 2, message: { type: "decaptcha:may-submit" } }); // only solves on this port
  for (let i = 0; i < 20 && ext.badge[7] === undefined; i++) await settle();
  assert.equal(port.got.length, 1);
  assert.equal(port.got[0].id, 1);
  assert.equal(port.got[0].reply.result.text, "123456");
  assert.equal(port.got[0].reply.trace[0][0], "received");
  assert.deepEqual(ext.posted.map((m) => m.action), ["status", "solve"]);
  assert.equal(ext.badge[7], "?");
  page = { phase: "filled" };
  // Another extension's port, or a port of another name: nothing reaches the host.
  contentPort(ext, { sender: { ...SENDER, id: "other" } }).send({ id: 3, message: { type: "decaptcha:solve", image: "x" } });
  contentPort(ext, { name: "other" }).send({ id: 4, message: { type: "decaptcha:solve", image: "x" } });
  await settle();
  assert.deepEqual(ext.posted.map((m) => m.action), ["status", "solve"]);
});
