// The built manifest of a family: manifest.base.json, then the family's overlay
// (manifest.<family>.json) key by key on top, and "version" from host/__init__.py, the one
// home of the version number. build.py (`manifest()`) merges the same way, and
// tests/test_build.py checks the two agree. `node scripts/manifest.js FAMILY` prints it.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const json = (name) => JSON.parse(readFileSync(join(ROOT, name), "utf8"));

export const FAMILIES = ["chromium", "firefox"];

/** host/__init__.py's __version__. */
export function version() {
  const text = readFileSync(join(ROOT, "..", "host", "__init__.py"), "utf8");
  const found = text.match(/^__version__ = "([^"]+)"/m);
  if (!found) throw new Error("host/__init__.py has no __version__");
  return found[1];
}

export function manifest(family) {
  if (!FAMILIES.includes(family)) throw new Error(`unknown family ${family}`);
  return { ...json("manifest.base.json"), version: version(), ...json(`manifest.${family}.json`) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(manifest(process.argv[2]), null, 2) + "\n");
}
