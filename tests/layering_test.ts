/**
 * The layering rules of README's layout section, checked on the source:
 *
 * - the library core (everything under `src/` except `src/cli/`,
 *   `src/process/` and `src/serve/`) imports none of those folders nor
 *   `hooks/`, and never touches `Deno.env`, `Deno.args`, `console` or
 *   `Deno.exit`;
 * - the CLI (`src/cli/`) reads the process only through the `CliIo` value
 *   that `cli.ts` builds: no `Deno.env`, `Deno.cwd()`, `Deno.args`,
 *   `Deno.exit`, standard streams, host name, parent pid or signals;
 * - the hooks never import the CLI;
 * - no `_`-prefixed module is imported from another folder;
 * - no import cycles, type-only imports included.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Every `.ts` file under `dir` (relative to the root, `/`-separated). */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...tsFiles(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

/** The source with comments blanked out (strings and template literals kept). */
export function withoutComments(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const STATIC_IMPORT =
  /^\s*(?:import|export)\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\}|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)\s+from\s*["']([^"']+)["']/gm;
const BARE_IMPORT = /^\s*import\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The module specifiers a source imports or re-exports (static, type-only and dynamic). */
export function specifiers(source: string): string[] {
  const code = withoutComments(source);
  const found: string[] = [];
  for (const re of [STATIC_IMPORT, BARE_IMPORT, DYNAMIC_IMPORT]) {
    for (const match of code.matchAll(re)) found.push(match[1]!);
  }
  return found;
}

/** The import graph of the project's own modules (relative specifiers only). */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = Deno.readTextFileSync(join(ROOT, file));
    const targets = specifiers(source)
      .filter((s) => s.startsWith("./") || s.startsWith("../"))
      .map((s) => normalize(join(dirname(file), s)).replaceAll("\\", "/"));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle a depth-first search meets, each as `a -> b -> ... -> a`. */
export function findCycles(graph: Map<string, string[]>): string[] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        cycles.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

const FILES = [...tsFiles("src"), ...tsFiles("hooks"), "mod.ts", "cli.ts"];
const GRAPH = importGraph(FILES);

const NOT_CORE = ["src/cli/", "src/process/", "src/serve/"];
const isCore = (file: string) =>
  file.startsWith("src/") && !NOT_CORE.some((dir) => file.startsWith(dir));

function uses(file: string, pattern: RegExp): string[] {
  const code = withoutComments(Deno.readTextFileSync(join(ROOT, file)));
  return code.split("\n").flatMap((line, i) =>
    pattern.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []
  );
}

Deno.test("layering: the library core imports no CLI, process adapter, server or hook module", () => {
  const core = FILES.filter(isCore);
  assert.ok(core.length > 10, `found the core: ${core.length} files`);
  const bad = core.flatMap((file) =>
    GRAPH.get(file)!.filter((to) => [...NOT_CORE, "hooks/"].some((dir) => to.startsWith(dir)))
      .map((to) => `${file} imports ${to}`)
  );
  assert.deepEqual(bad, []);
});

Deno.test("layering: the library core never reads the environment or arguments, prints or exits", () => {
  const bad = FILES.filter(isCore).flatMap((file) =>
    uses(file, /\bDeno\.(?:env|args|exit)\b|\bconsole\./)
  );
  assert.deepEqual(bad, []);
});

Deno.test("layering: the CLI reads the process only through the io value cli.ts builds", () => {
  const cli = FILES.filter((file) => file.startsWith("src/cli/"));
  assert.ok(cli.some((file) => file.endsWith("/main.ts")));
  const bad = cli.flatMap((file) =>
    uses(
      file,
      /\bDeno\.(?:env|cwd|args|exit|stdin|stdout|stderr|hostname|ppid|addSignalListener)\b|\bconsole\./,
    )
  );
  assert.deepEqual(bad, []);
});

Deno.test("layering: the hooks never import the CLI", () => {
  const bad = FILES.filter((file) => file.startsWith("hooks/")).flatMap((file) =>
    GRAPH.get(file)!.filter((to) => to.startsWith("src/cli/")).map((to) => `${file} -> ${to}`)
  );
  assert.deepEqual(bad, []);
});

Deno.test("layering: no _-prefixed module is imported from another folder", () => {
  // TypeScript modules only: in src/lua/ the `_` marks a Lua fragment that
  // src/scripts.ts prepends to the scripts, not a private module.
  const bad = FILES.flatMap((file) =>
    GRAPH.get(file)!.filter((to) =>
      to.endsWith(".ts") && to.split("/").pop()!.startsWith("_") && dirname(to) !== dirname(file)
    ).map((to) => `${file} imports ${to}`)
  );
  assert.deepEqual(bad, []);
});

Deno.test("layering: no import cycles, type-only imports included", () => {
  const cycles = findCycles(GRAPH);
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join("\n")}`);
});

Deno.test("layering: the checks see imports of every form and find cycles", () => {
  const source = [
    `import { a } from "./a.ts";`,
    `import type { B } from "../b.ts";`,
    `import * as c from "./c.ts";`,
    `import d, { e } from "./d.ts";`,
    `import {\n  f,\n  type G,\n} from "./f.ts";`,
    `import "./side.ts";`,
    `export { h } from "./h.ts";`,
    `export type { I } from "./i.ts";`,
    `export * from "./j.ts";`,
    `const k = await import("./k.ts");`,
    `// import { no } from "./comment.ts";`,
    `/** import { no } from "./doc.ts"; */`,
    `const text = "import { no } from './string.ts'";`,
  ].join("\n");
  assert.deepEqual(specifiers(source), [
    "./a.ts",
    "../b.ts",
    "./c.ts",
    "./d.ts",
    "./f.ts",
    "./h.ts",
    "./i.ts",
    "./j.ts",
    "./side.ts",
    "./k.ts",
  ]);
  const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(findCycles(graph), ["a -> b -> c -> a"]);
  assert.deepEqual(findCycles(new Map([["a", ["b"]], ["b", []]])), []);
  assert.equal(relative(ROOT, join(ROOT, "src")), "src");
});

Deno.test("layering: the hook path never starts a process", () => {
  const reachable = new Set<string>();
  const visit = (file: string) => {
    if (reachable.has(file)) return;
    reachable.add(file);
    for (const to of GRAPH.get(file) ?? []) visit(to);
  };
  visit("hooks/main.ts");
  assert.ok(reachable.size > 10, `found the hook path: ${reachable.size} files`);
  const bad = [...reachable].flatMap((file) => uses(file, /\bDeno\.(?:Command|run)\b/));
  assert.deepEqual(bad, []);
});
