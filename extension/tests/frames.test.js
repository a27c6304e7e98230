// Frames: an AIS page is filled only when every window above it is an AIS page too.
import assert from "node:assert/strict";
import { manifest } from "../scripts/manifest.js";
import { test } from "node:test";

import { COURSE_URL, dom, ns } from "./helpers.js";

const { framedOnlyByAis } = ns.page;
const AIS = "https://www.ccxp.nthu.edu.tw";

/** A window chain as a content script sees it: `origins` from the frame itself up to the top.
 * Cross-origin parents (not `sameOrigin`) throw on location access, as browsers do. */
function chain(origins, { ancestorOrigins = true } = {}) {
  const wins = origins.map((origin) => ({ origin }));
  wins.forEach((w, i) => {
    const parent = wins[i + 1] ?? w;
    w.parent = parent;
    w.top = wins.at(-1);
    const readable = i === 0 || origins[i] === origins[0];
    w.location = {
      get origin() {
        if (!readable) throw new Error("SecurityError: Permission denied to access property \"origin\" on cross-origin object");
        return origins[i];
      },
    };
    if (ancestorOrigins) Object.defineProperty(w.location, "ancestorOrigins", { value: origins.slice(i + 1) });
  });
  return wins[0];
}

test("a top-level AIS page is filled", () => {
  const { window } = dom("<p>", COURSE_URL);
  assert.equal(framedOnlyByAis(window), true);
  assert.equal(framedOnlyByAis(chain([AIS])), true);
});

test("Chromium (ancestorOrigins): framed by AIS yes; by another site, anywhere above, no", () => {
  assert.equal(framedOnlyByAis(chain([AIS, AIS])), true, "the AIS frameset");
  assert.equal(framedOnlyByAis(chain([AIS, "https://ccxp.nthu.edu.tw", AIS])), true);
  assert.equal(framedOnlyByAis(chain([AIS, "https://evil.example"])), false);
  assert.equal(framedOnlyByAis(chain([AIS, AIS, "https://evil.example"])), false, "an AIS frameset framed by another site");
  assert.equal(framedOnlyByAis(chain([AIS, "http://www.ccxp.nthu.edu.tw"])), false, "not https");
  assert.equal(framedOnlyByAis(chain([AIS, "https://www.ccxp.nthu.edu.tw.evil.example"])), false, "a look-alike");
  assert.equal(framedOnlyByAis(chain([AIS, "null"])), false, "a sandboxed or data: parent");
});

test("Firefox (no ancestorOrigins): a cross-origin parent throws on location, so no", () => {
  const opts = { ancestorOrigins: false };
  assert.equal(framedOnlyByAis(chain([AIS, AIS], opts)), true);
  assert.equal(framedOnlyByAis(chain([AIS, AIS, AIS], opts)), true);
  assert.equal(framedOnlyByAis(chain([AIS, "https://evil.example"], opts)), false);
  assert.equal(framedOnlyByAis(chain([AIS, AIS, "https://evil.example"], opts)), false);
});

test("the AIS hosts are the manifests' host permissions", () => {
  for (const family of ["chromium", "firefox"]) {
    assert.deepEqual(manifest(family).host_permissions, ns.config.AIS_HOSTS.map((h) => `https://${h}/*`));
  }
});
