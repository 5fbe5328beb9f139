/** `dashboard --open`: which program opens the page on each system. */
import assert from "node:assert/strict";
import { openerFor } from "../../src/serve/dashboard/open.ts";
import { RUN_PERMISSIONS } from "../../scripts/permissions.ts";

Deno.test("dashboard --open starts xdg-open, or open on macOS, and the permission set allows them", () => {
  assert.deepEqual(openerFor("linux", "http://127.0.0.1:1/?token=a"), {
    program: "xdg-open",
    args: ["http://127.0.0.1:1/?token=a"],
  });
  assert.equal(openerFor("darwin", "u").program, "open");
  assert.equal(openerFor("freebsd", "u").program, "xdg-open");
  const run = RUN_PERMISSIONS.find((p) => p.startsWith("--allow-run"));
  // unrestricted (worker -- runs any command), or a list naming both openers
  assert.ok(
    run === "--allow-run" ||
      ["xdg-open", "open"].every((p) => run?.split("=")[1]?.split(",").includes(p)),
    `the permission set lets the opener start: ${run}`,
  );
});
