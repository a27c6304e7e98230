// One native-messaging port to the host, shared by every tab.
//
// Why a long-lived port: sendNativeMessage starts a new host process per message
// (~280 ms with numpy), a warm connectNative port answers in under a millisecond.
// The port is opened on demand (or by warm()), closed after a few idle minutes, and
// when the host dies with requests in flight we reconnect once and resend them; a
// request whose second attempt also fails is answered with HOST_UNAVAILABLE.

import "../shared/config.js";

const { ERRORS, IDLE_CLOSE_MS, REQUEST_TIMEOUT_MS } = globalThis.AISDecaptcha.config;
const { HOST_TIMEOUT, HOST_UNAVAILABLE } = ERRORS;

const MAX_ATTEMPTS = 2; // the first try plus one reconnect

export class NativeHost {
  #connect;
  #errorOf;
  #idleMs;
  #timeoutMs;
  #timers;
  #port = null;
  #pending = new Map(); // id -> {message, resolve, attempts, timer}
  #nextId = 0;
  #idleTimer = null;
  #lastError = null;
  #lastReplyAt = null;

  /**
   * @param {object} options
   * @param {() => object} options.connect opens a port (runtime.connectNative(HOST_NAME))
   * @param {(port: object) => string | undefined} [options.errorOf] why a port closed
   *   (Firefox: port.error; Chromium: runtime.lastError, read inside onDisconnect)
   * @param {number} [options.idleMs] close the port after this long without traffic
   * @param {number} [options.timeoutMs] fail one request after this long
   * @param {{setTimeout: Function, clearTimeout: Function}} [options.timers]
   */
  constructor({ connect, errorOf, idleMs = IDLE_CLOSE_MS, timeoutMs = REQUEST_TIMEOUT_MS, timers }) {
    this.#connect = connect;
    this.#errorOf = errorOf ?? ((port) => port?.error?.message);
    this.#idleMs = idleMs;
    this.#timeoutMs = timeoutMs;
    this.#timers = timers ?? { setTimeout: globalThis.setTimeout.bind(globalThis), clearTimeout: globalThis.clearTimeout.bind(globalThis) };
  }

  /** Whether a port is open, and the last transport error (null once the host answered again). */
  get state() {
    return { connected: this.#port !== null, lastError: this.#lastError, lastReplyAt: this.#lastReplyAt, pending: this.#pending.size };
  }

  /** Open the port ahead of the first request so the host has loaded its models by then. */
  warm() {
    this.#ensurePort();
    this.#armIdle();
  }

  /**
   * Send one request ({action, ...}); resolves with the host's reply envelope
   * ({v, id, ok, result | error}), or an ok:false envelope with HOST_UNAVAILABLE /
   * HOST_TIMEOUT when the host cannot answer. Never rejects. `trace(step)`, if given, is
   * called as the request is posted to the port ("post", "posted") and when its reply
   * arrives ("port reply"): main.js's timing marks.
   */
  request(body, trace = null) {
    const id = ++this.#nextId;
    const message = { ...body, v: 1, id };
    return new Promise((resolve) => {
      const entry = { message, resolve, attempts: 0, timer: null, trace };
      this.#pending.set(id, entry);
      entry.timer = this.#timers.setTimeout(() => this.#timeout(id), this.#timeoutMs);
      this.#send(entry);
    });
  }

  /** Close the port now (e.g. on shutdown); pending requests fail. */
  close() {
    const port = this.#port;
    this.#port = null;
    this.#clearIdle();
    if (port) safeDisconnect(port);
    for (const id of [...this.#pending.keys()]) this.#fail(id, HOST_UNAVAILABLE, "port closed");
  }

  #send(entry) {
    entry.attempts += 1;
    this.#clearIdle();
    const port = this.#ensurePort();
    if (!port) return; // #ensurePort already handled the failure for every pending request
    try {
      entry.trace?.("post");
      port.postMessage(entry.message);
      entry.trace?.("posted");
    } catch (err) {
      this.#onDisconnect(port, String(err?.message ?? err));
    }
  }

  #ensurePort() {
    if (this.#port) return this.#port;
    let port;
    try {
      port = this.#connect();
    } catch (err) {
      this.#lostPort(String(err?.message ?? err));
      return null;
    }
    this.#port = port;
    port.onMessage.addListener((msg) => this.#onMessage(port, msg));
    port.onDisconnect.addListener((p) => this.#onDisconnect(port, this.#errorOf(p ?? port)));
    return port;
  }

  #onMessage(port, msg) {
    if (port !== this.#port) return;
    this.#lastError = null;
    this.#lastReplyAt = Date.now();
    const entry = msg && this.#pending.get(msg.id);
    if (entry) {
      entry.trace?.("port reply");
      this.#pending.delete(msg.id);
      this.#timers.clearTimeout(entry.timer);
      entry.resolve(msg);
    }
    // A reply with an unknown id (e.g. id null for an unreadable frame) has no caller.
    this.#armIdle();
  }

  #onDisconnect(port, error) {
    if (port !== this.#port) return; // an old port we already dropped
    this.#port = null;
    this.#lostPort(error || "the native host exited");
  }

  /** The port is gone: resend what can be retried once, fail the rest. */
  #lostPort(error) {
    this.#lastError = error;
    this.#clearIdle();
    const retry = [];
    for (const [id, entry] of this.#pending) {
      if (entry.attempts < MAX_ATTEMPTS) retry.push(entry);
      else this.#fail(id, HOST_UNAVAILABLE, error);
    }
    for (const entry of retry) {
      // A failed reconnect inside #send may already have resent or failed this entry.
      if (this.#pending.has(entry.message.id) && entry.attempts < MAX_ATTEMPTS) this.#send(entry);
    }
  }

  #timeout(id) {
    if (!this.#pending.has(id)) return;
    this.#fail(id, HOST_TIMEOUT, `no reply within ${this.#timeoutMs} ms`);
    // A host that does not answer is stuck: drop it so the next request starts a fresh one.
    const port = this.#port;
    if (port) {
      this.#port = null;
      safeDisconnect(port);
      this.#lostPort("the native host stopped answering");
    }
  }

  #fail(id, code, message) {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    this.#timers.clearTimeout(entry.timer);
    entry.resolve({ v: 1, id, ok: false, error: { code, message } });
  }

  #armIdle() {
    this.#clearIdle();
    if (this.#pending.size > 0 || !this.#port) return;
    this.#idleTimer = this.#timers.setTimeout(() => {
      this.#idleTimer = null;
      if (this.#pending.size > 0 || !this.#port) return;
      const port = this.#port;
      this.#port = null;
      safeDisconnect(port);
    }, this.#idleMs);
  }

  #clearIdle() {
    if (this.#idleTimer !== null) {
      this.#timers.clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
  }
}

function safeDisconnect(port) {
  try {
    port.disconnect();
  } catch {
    // already closed
  }
}
