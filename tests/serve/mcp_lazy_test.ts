/**
 * The MCP SDK is loaded only by `agentroom mcp`: nothing outside `src/serve/`
 * imports it (or zod), and the CLI reaches `src/serve/` only through the
 * mcp command's dynamic import, so the hook fast path and every other
 * command start without it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...tsFiles(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

const STATIC =
  /^\s*(?:import|export)\s+(?:type\s+)?[^;]*?\s+from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm;

const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

function specifiers(source: string): string[] {
  return [...source.matchAll(STATIC), ...source.matchAll(DYNAMIC)].map((m) => m[1] ?? m[2]!);
}

Deno.test("mcp: the SDK and zod are imported only under src/serve/, which the CLI loads lazily (every serve module)", () => {
  const files = ["cli.ts", "mod.ts", ...tsFiles("src"), ...tsFiles("hooks")];
  for (const file of files) {
    if (file.startsWith("src/serve/")) continue;
    const source = Deno.readTextFileSync(join(ROOT, file));
    for (const spec of specifiers(source)) {
      assert.ok(
        !/(^|npm:)(@modelcontextprotocol\/|zod($|\/|@))/.test(spec),
        `${file} imports ${spec}`,
      );
      if (spec.includes("/serve/")) {
        assert.ok(file.startsWith("src/cli/"), `${file} imports ${spec}`);
        const statics = [...source.matchAll(STATIC)].map((m) => m[1] ?? m[2]);
        assert.ok(!statics.includes(spec), `${file} imports ${spec} statically`);
      }
    }
  }
});
