// Requests to the host are built here from what content scripts send, keeping only the
// fields PROTOCOL.md defines: a page's data never reaches the host unchecked in shape.
import "../shared/config.js";

const { KINDS, MAX_IMAGES, METHODS } = globalThis.AISDecaptcha.config;

/** A `solve` request from a content script's message; unknown fields are dropped. */
export function solveRequest(msg) {
  const req = { action: "solve" };
  if (Array.isArray(msg?.images)) req.images = msg.images.filter((s) => typeof s === "string").slice(0, MAX_IMAGES);
  else if (typeof msg?.image === "string") req.image = msg.image;
  if (typeof msg?.kind === "string" && Object.hasOwn(KINDS, msg.kind)) req.kind = msg.kind;
  req.method = METHODS.includes(msg?.method) ? msg.method : "auto";
  return req;
}
