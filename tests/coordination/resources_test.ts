import assert from "node:assert/strict";
import { InvalidValueError } from "../../src/errors.ts";
import {
  covers,
  MAX_RESOURCES,
  normalizeResources,
  overlaps,
  parseResource,
} from "../../src/coordination/resources.ts";

// [a, b, overlaps, covers(a, b), covers(b, a)]
const ANCESTRY: [string, string, boolean, boolean, boolean][] = [
  ["path:src/db", "path:src/db", true, true, true], // equal
  ["path:src", "path:src/db/schema.sql", true, true, false], // ancestor
  ["path:src/db/schema.sql", "path:src/db", true, false, true], // descendant
  ["path:src/a", "path:src/b", false, false, false], // siblings
  ["path:src/a", "path:src/ab", false, false, false], // prefix, not an ancestor
  ["path:src/ab", "path:src/a", false, false, false],
  ["path:src/a", "path:src/a.txt", false, false, false],
  ["path:src/a", "path:src/a-b/c", false, false, false],
  ["path:a", "path:ab/c", false, false, false],
  ["path:a/b", "path:a/b/c/d/e", true, true, false], // deep descendant
  ["db:main", "db:main", true, true, true], // other kinds: equal only
  ["db:main", "db:main/replica", false, false, false],
  ["db:main/replica", "db:main", false, false, false],
  ["service:api", "path:service/api", false, false, false], // different kinds
  ["path:src", "file:src", false, false, false],
  ["db:x", "db:X", false, false, false],
];

Deno.test("overlaps() and covers(): the path ancestry table", () => {
  for (const [a, b, overlap, ab, ba] of ANCESTRY) {
    assert.equal(overlaps(a, b), overlap, `overlaps(${a}, ${b})`);
    assert.equal(overlaps(b, a), overlap, `overlaps is symmetric: ${b}, ${a}`);
    assert.equal(covers(a, b), ab, `covers(${a}, ${b})`);
    assert.equal(covers(b, a), ba, `covers(${b}, ${a})`);
    if (ab || ba) assert.ok(overlap, "covering implies overlapping");
  }
});

Deno.test("parseResource() normalises a trailing slash and keeps opaque names", () => {
  assert.equal(parseResource("path:src/db/"), "path:src/db");
  assert.equal(parseResource("path:src/db"), "path:src/db");
  assert.equal(parseResource("path:README.md"), "path:README.md");
  assert.equal(parseResource("path:.github/workflows"), "path:.github/workflows");
  assert.equal(parseResource("path:a:b"), "path:a:b");
  assert.equal(parseResource("db:main"), "db:main");
  assert.equal(parseResource("service:api gateway:8080"), "service:api gateway:8080");
  assert.equal(parseResource("my_kind-2:x"), "my_kind-2:x");
  assert.equal(parseResource("url:https://example.com/a/../b/"), "url:https://example.com/a/../b/");
  assert.equal(parseResource("path:ünïcødé/dir"), "path:ünïcødé/dir");
  // brackets and braces are plain characters (no globs): Next.js routes, templates
  assert.equal(parseResource("path:app/[id]/page.tsx"), "path:app/[id]/page.tsx");
  assert.equal(parseResource("path:src/{{name}}.ts"), "path:src/{{name}}.ts");
  assert.equal(parseResource("path:docs/my notes.md"), "path:docs/my notes.md");
});

Deno.test("parseResource() rejects malformed resources with a reason", () => {
  const bad: [string, RegExp][] = [
    ["", /expected <kind>:<name>/],
    ["src/db", /expected <kind>:<name>/],
    [":src", /expected <kind>:<name>/],
    ["path:", /empty/],
    ["path:/", /empty/],
    ["db:", /empty/],
    ["Path:src", /kind "Path"/],
    ["1db:x", /kind "1db"/],
    ["my kind:x", /kind "my kind"/],
    ["path:/etc/passwd", /relative to the repository root/],
    ["path:C:/x", /relative to the repository root/],
    ["path:src\\db", /separator/],
    ["path:src//db", /empty segment/],
    ["path:src/db//", /empty segment/],
    ["path:../secret", /\.\. segments/],
    ["path:src/../etc", /\.\. segments/],
    ["path:./src", /\.\. segments/],
    ["path:src/.", /\.\. segments/],
    ["path:.", /\.\. segments/],
    ["path:src/*.ts", /wildcards/],
    ["path:src/a?", /wildcards/],
    ["path:src/a\nb", /control characters/],
    ["db:main\u0000", /control characters/],
    ["db:\u001b[31mred", /control characters/],
    [`path:${"a/".repeat(300)}b`, /longer than 512/],
  ];
  for (const [input, why] of bad) {
    assert.throws(() => parseResource(input), (e: unknown) => {
      assert.ok(e instanceof InvalidValueError, `${JSON.stringify(input)}: ${e}`);
      assert.match(e.message, why, JSON.stringify(input));
      assert.ok(e.message.startsWith("Invalid resource "), e.message);
      return true;
    });
  }
});

Deno.test("normalizeResources() parses, sorts and de-duplicates; needs 1–64", () => {
  assert.deepEqual(
    normalizeResources(["path:src/b", "db:main", "path:src/a/", "path:src/a", "db:main"]),
    ["db:main", "path:src/a", "path:src/b"],
  );
  assert.deepEqual(normalizeResources(["path:src", "path:src/a"]), ["path:src", "path:src/a"]);
  assert.throws(() => normalizeResources([]), /at least one resource/);
  const many = Array.from({ length: MAX_RESOURCES + 1 }, (_, i) => `db:${i}`);
  assert.throws(() => normalizeResources(many), /at most 64/);
  assert.equal(normalizeResources(many.slice(1)).length, MAX_RESOURCES);
  assert.throws(() => normalizeResources(["db:ok", "bad"]), InvalidValueError);
});
