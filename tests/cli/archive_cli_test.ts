import assert from "node:assert/strict";
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { Room } from "../../src/room.ts";
import { agent, ok } from "../support/cli.ts";
import { roomKeyCount, uniqueRepo, withRedis } from "../support/redis.ts";

const writer = resolveIdentity("w", "s1");

Deno.test("archive sweep, read, search through the CLI", async () => {
  const repo = uniqueRepo();
  const dir = await Deno.makeTempDir();
  const a = agent(repo, "arc1");
  await withRedis(async (redis) => {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    for (let i = 0; i < 12; i++) {
      await room.publish({ type: i % 2 ? "ODD" : "EVEN", agent: writer, payload: { i } });
    }
    const dry = ok(
      await a.run([
        "archive",
        "sweep",
        "--dry-run",
        "--threshold",
        "10",
        "--keep",
        "2",
        "--dir",
        dir,
      ]),
      "dry run",
    );
    assert.match(dry.stdout, new RegExp(`^${repo}:main: 12 events, would archive 10, kept 0`, "m"));
    assert.match(dry.stdout, /^dry run: would archive \d+ events from/m);
    assert.equal(await redis.call(["XLEN", room.keys.events]), 12);
    const swept = ok(
      await a.run(["archive", "sweep", "--threshold", "10", "--keep", "2", "--dir", dir, "--gzip"]),
      "sweep",
    );
    assert.match(swept.stdout, new RegExp(`^${repo}:main: 12 events, archived 10, kept 0`, "m"));
    assert.equal(await redis.call(["XLEN", room.keys.events]), 2);
    const read = ok(
      await a.run([
        "archive",
        "read",
        "--room",
        `${repo}:main`,
        "--type",
        "ODD",
        "--dir",
        dir,
        "--json",
      ]),
      "read",
    );
    const events = read.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => e.payload.i), [1, 3, 5, 7, 9]);
    const search = ok(
      await a.run(["archive", "search", '"i":4}', "--room", `${repo}:main`, "--dir", dir]),
      "search",
    );
    assert.match(search.stdout, new RegExp(` ${repo}:main \\S+ EVEN from w-s1: \\{"i":4\\}\\n$`));
    const viaEnv = ok(
      await a.run(["archive", "read", "--count", "1"], { env: { AGENTROOM_ARCHIVE_DIR: dir } }),
      "env dir",
    );
    assert.equal(viaEnv.stdout.trim().split("\n").length, 1);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("archive bad input: one error line, documented exit code, nothing written", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "arc2");
  const cases: [string[], number, RegExp][] = [
    [["archive"], 2, /^error: missing argument: archive takes/],
    [["archive", "purge"], 2, /unknown archive subcommand "purge"; expected sweep\|read\|search/],
    [
      ["archive", "sweep", "--threshold", "x"],
      2,
      /--threshold must be a non-negative whole number/,
    ],
    [["archive", "sweep", "--threshold", "0"], 2, /--threshold must be at least 1/],
    [["archive", "sweep", "--type", "X"], 2, /--type does not apply to 'archive sweep'/],
    [["archive", "read", "--gzip"], 2, /--gzip does not apply to 'archive read'/],
    [["archive", "read", "extra"], 2, /too many arguments: 'archive read'/],
    [["archive", "read", "--since", "soon"], 2, /--since must be a duration/],
    [["archive", "read", "--type", "a b"], 2, /--type: .*whitespace/],
    [["archive", "search"], 2, /missing argument: 'archive search' takes <text>/],
    [["archive", "search", " "], 2, /the search text is empty/],
    [["archive", "search", "x", "--grep", "y"], 2, /--grep does not apply to 'archive search'/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await a.run(args, { env: { HOME: "/nonexistent" } });
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
  const noDir = await a.run(["archive", "read"], { env: { HOME: "" } });
  assert.equal(noDir.code, 2);
  assert.match(
    noDir.stderr,
    /^error: no archive directory: pass --dir D or set AGENTROOM_ARCHIVE_DIR/,
  );
  assert.equal(await roomKeyCount(repo), 0, "nothing written");
});
