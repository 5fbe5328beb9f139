import assert from "node:assert/strict";
import * as nodePath from "node:path";
import {
  childPath,
  isAbsolutePath,
  lastSegment,
  parentPath,
  pathInside,
  resolvePath,
} from "../../src/process/path.ts";

Deno.test("_path helpers agree with node:path on POSIX paths", () => {
  const cases = ["/a/b/c", "/a/./b/../c", "/", "/a//b/", "/x/y/../../z"];
  for (const p of cases) {
    assert.equal(resolvePath(p), nodePath.resolve(p), p);
    assert.equal(parentPath(resolvePath(p)), nodePath.dirname(nodePath.resolve(p)), p);
    assert.equal(lastSegment(p), nodePath.basename(p), p);
  }
  assert.equal(resolvePath("/base/dir", "x/../y"), "/base/dir/y");
  assert.equal(resolvePath("/base", "/abs/p"), "/abs/p");
  assert.equal(childPath("/a", ".git"), "/a/.git");
  assert.equal(childPath("/", ".git"), "/.git");
  assert.ok(isAbsolutePath("/x") && !isAbsolutePath("x/y"));
});

Deno.test("pathInside() gives the repo-relative path or undefined outside", () => {
  assert.equal(pathInside("/repo", "/repo/src/a.ts"), "src/a.ts");
  assert.equal(pathInside("/repo/", "/repo/src/../b.ts"), "b.ts");
  assert.equal(pathInside("/repo", "/repo"), undefined);
  assert.equal(pathInside("/repo", "/repository/x"), undefined);
  assert.equal(pathInside("/repo", "/other/x"), undefined);
  assert.equal(pathInside("/repo", "/repo/../etc/passwd"), undefined);
});
