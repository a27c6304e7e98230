// The background's native port: replies matched by id, reconnect once, idle close, timeouts.
import assert from "node:assert/strict";
import { test } from "node:test";

import { NativeHost } from "../src/background/native.js";

/** A stand-in for runtime.Port. */
class FakePort {
  sent = [];
  disconnected = false;
  error = null;
  #onMessage = [];
  #onDisconnect = [];
  onMessage = { addListener: (f) => this.#onMessage.push(f) };
  onDisconnect = { addListener: (f) => this.#onDisconnect.push(f) };
  postMessage(msg) {
    if (this.disconnected) throw new Error("Attempting to use a disconnected port object");
    this.sent.push(structuredClone(msg));
  }
  disconnect() {
    this.disconnected = true;
  }
  /** The host replies. */
  reply(msg) {
    for (const f of this.#onMessage) f(msg);
  }
  /** The host process exits (or never started): the browser closes the port. */
  die(message) {
    this.error = message ? { message } : null;
    this.disconnected = true;
    for (const f of this.#onDisconnect) f(this);
  }
}

function fakeTimers() {
  let now = 0;
  let next = 0;
  const timers = new Map();
  return {
    setTimeout(fn, ms) {
      timers.set(++next, { fn, at: now + ms });
      return next;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now && timers.has(id)) {
          timers.delete(id);
          t.fn();
        }
      }
    },
  };
}

function setup({ failConnect = 0 } = {}) {
  const ports = [];
  let failures = failConnect;
  const timers = fakeTimers();
  const host = new NativeHost({
    connect: () => {
      if (failures > 0) {
        failures -= 1;
        throw new Error("Access to the native messaging host was disabled");
      }
      const port = new FakePort();
      ports.push(port);
      return port;
    },
    idleMs: 1000,
    timeoutMs: 5000,
    timers,
  });
  return { host, ports, timers };
}

const settle = () => new Promise((r) => setImmediate(r));

test("requests carry v:1 and a fresh id; replies are matched by id, in any order", async () => {
  const { host, ports } = setup();
  const a = host.request({ action: "solve", image: "A" });
  const b = host.request({ action: "status" });
  assert.equal(ports.length, 1, "one port for every request");
  const [ma, mb] = ports[0].sent;
  assert.equal(ma.v, 1);
  assert.equal(ma.action, "solve");
  assert.notEqual(ma.id, mb.id);
  ports[0].reply({ v: 1, id: mb.id, ok: true, result: { version: "x" } });
  ports[0].reply({ v: 1, id: 12345, ok: true, result: {} }); // nobody asked: ignored
  ports[0].reply({ v: 1, id: ma.id, ok: true, result: { text: "123456" } });
  assert.deepEqual((await a).result, { text: "123456" });
  assert.deepEqual((await b).result, { version: "x" });
});

test("a caller cannot override the id or the version", async () => {
  const { host, ports } = setup();
  host.request({ action: "status", id: "mine", v: 99 });
  assert.equal(ports[0].sent[0].id, 1);
  assert.equal(ports[0].sent[0].v, 1);
});

test("the host dying mid-request: reconnect once and resend", async () => {
  const { host, ports } = setup();
  const reply = host.request({ action: "solve", image: "A" });
  ports[0].die("Native host has exited.");
  assert.equal(ports.length, 2, "reconnected");
  const resent = ports[1].sent[0];
  assert.deepEqual(resent, ports[0].sent[0], "the same request, same id");
  ports[1].reply({ v: 1, id: resent.id, ok: true, result: { text: "1" } });
  assert.equal((await reply).ok, true);
  assert.equal(host.state.lastError, null, "a reply clears the error");
});

test("the host dying twice: the request fails with HOST_UNAVAILABLE and the reason", async () => {
  const { host, ports } = setup();
  const reply = host.request({ action: "solve", image: "A" });
  ports[0].die("Native host has exited.");
  ports[1].die("Native host has exited.");
  assert.equal(ports.length, 2, "only one reconnect");
  const r = await reply;
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "HOST_UNAVAILABLE");
  assert.match(r.error.message, /exited/);
  assert.equal(host.state.connected, false);
  // The next request tries again from scratch (the user may have installed the host).
  host.request({ action: "status" });
  assert.equal(ports.length, 3);
});

test("a host that is not installed: two tries, then the browser's message is reported", async () => {
  const { host, ports } = setup();
  const reply = host.request({ action: "status" });
  ports[0].die("Specified native messaging host not found.");
  ports[1].die("Specified native messaging host not found.");
  const r = await reply;
  assert.equal(r.error.code, "HOST_UNAVAILABLE");
  assert.equal(r.error.message, "Specified native messaging host not found.");
  assert.equal(host.state.lastError, "Specified native messaging host not found.");
});

test("connectNative throwing counts as a failed attempt too", async () => {
  const { host, ports } = setup({ failConnect: 2 });
  const r = await host.request({ action: "status" });
  assert.equal(r.error.code, "HOST_UNAVAILABLE");
  assert.match(r.error.message, /disabled/);
  assert.equal(ports.length, 0);
});

test("connectNative throwing once, then working: the retry succeeds", async () => {
  const { host, ports } = setup({ failConnect: 1 });
  const reply = host.request({ action: "status" });
  assert.equal(ports.length, 1);
  ports[0].reply({ v: 1, id: ports[0].sent[0].id, ok: true, result: {} });
  assert.equal((await reply).ok, true);
});

test("several requests in flight are all resent on the new port", async () => {
  const { host, ports } = setup();
  const replies = [host.request({ action: "solve", image: "A" }), host.request({ action: "solve", image: "B" })];
  ports[0].die("crash");
  assert.deepEqual(ports[1].sent.map((m) => m.image), ["A", "B"]);
  for (const m of ports[1].sent) ports[1].reply({ v: 1, id: m.id, ok: true, result: { image: m.image } });
  assert.deepEqual((await Promise.all(replies)).map((r) => r.result.image), ["A", "B"]);
});

test("warm() opens the port without sending; idle ports close after idleMs", async () => {
  const { host, ports, timers } = setup();
  host.warm();
  assert.equal(ports.length, 1);
  assert.equal(ports[0].sent.length, 0);
  timers.advance(999);
  assert.equal(ports[0].disconnected, false);
  timers.advance(1);
  assert.equal(ports[0].disconnected, true, "closed after a quiet second");
  assert.equal(host.state.connected, false);
});

test("the port stays open while a request is pending, and closes idleMs after the last reply", async () => {
  const { host, ports, timers } = setup();
  const reply = host.request({ action: "status" });
  timers.advance(4000);
  assert.equal(ports[0].disconnected, false, "pending: not idle");
  ports[0].reply({ v: 1, id: ports[0].sent[0].id, ok: true, result: {} });
  await reply;
  timers.advance(999);
  assert.equal(ports[0].disconnected, false);
  host.request({ action: "status" }); // activity resets the idle clock
  ports[0].reply({ v: 1, id: ports[0].sent[1].id, ok: true, result: {} });
  timers.advance(999);
  assert.equal(ports[0].disconnected, false);
  timers.advance(1);
  assert.equal(ports[0].disconnected, true);
  host.request({ action: "status" });
  assert.equal(ports.length, 2, "a request after the idle close opens a new port");
});

test("a request with no reply times out with HOST_TIMEOUT and the stuck host is dropped", async () => {
  const { host, ports, timers } = setup();
  const reply = host.request({ action: "solve", image: "A" });
  timers.advance(5000);
  const r = await reply;
  assert.equal(r.error.code, "HOST_TIMEOUT");
  assert.equal(ports[0].disconnected, true);
  await settle();
  host.request({ action: "status" });
  assert.equal(ports.length, 2);
});

test("a late reply on a dropped port is ignored", async () => {
  const { host, ports, timers } = setup();
  const first = host.request({ action: "solve", image: "A" });
  timers.advance(5000);
  await first;
  const second = host.request({ action: "solve", image: "B" });
  ports[0].reply({ v: 1, id: ports[1].sent[0].id, ok: true, result: { from: "old port" } });
  ports[1].reply({ v: 1, id: ports[1].sent[0].id, ok: true, result: { from: "new port" } });
  assert.equal((await second).result.from, "new port");
});

test("trace: called around the post and at the reply, not sent to the host", async () => {
  const { host, ports } = setup();
  const steps = [];
  const done = host.request({ action: "solve", image: "A" }, (step) => steps.push([step, ports[0]?.sent.length ?? 0]));
  assert.deepEqual(steps, [["post", 0], ["posted", 1]]);
  assert.equal("trace" in ports[0].sent[0], false);
  ports[0].reply({ v: 1, id: ports[0].sent[0].id, ok: true, result: {} });
  assert.equal((await done).ok, true);
  assert.deepEqual(steps.map(([s]) => s), ["post", "posted", "port reply"]);
});
