// Validate .docx files with Microsoft's Open XML SDK (@ooxml-tools/validate, offline on Node).
// A server: one path a line on stdin, one JSON line a path on stdout:
//   {"path": "...", "errors": [{"description", "path": {"xpath", "partUri"}, "id", "errorType"}]}
// The package's own command exits 0 even when it finds errors; this reads its results.
// SPEECHGEN_OOXML_VALIDATE is the folder given to `npm install --prefix`.
import fs from "fs/promises";
import path from "path";
import readline from "readline";
import { pathToFileURL } from "url";

const prefix = process.env.SPEECHGEN_OOXML_VALIDATE;
const entry = path.join(prefix, "node_modules", "@ooxml-tools", "validate", "dist", "npm", "index.js");
const mod = await import(pathToFileURL(entry).href);
await mod.ready();
const lines = readline.createInterface({ input: process.stdin, terminal: false });
for await (const file of lines) {
  if (!file) continue;
  let out;
  try {
    const data = await fs.readFile(file);
    out = { path: file, errors: await mod.default(new Uint8Array(data), "docx", "Microsoft365") };
  } catch (err) {
    out = { path: file, errors: [{ description: `validator failed: ${err}`, id: "crash" }] };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
