import assert from "node:assert/strict";
import { roomConfig } from "../../src/config.ts";
import { heartbeat } from "../../src/presence.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { Room } from "../../src/room.ts";
import { agent, ok } from "../support/cli.ts";
import { roomKeyCount, uniqueRepo, withRedis } from "../support/redis.ts";

Deno.test("rooms list, export, drop (with confirmation or --yes)", async () => {
  const repo = uniqueRepo();
  const other = uniqueRepo();
  const a = agent(repo, "rooms1");
  await withRedis(async (redis) => {
    const room = new Room(redis, roomConfig({ repo, branch: "feat/x" }));
    const me = resolveIdentity("lister", "s1");
    await heartbeat(room, { identity: me, description: "" });
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await room.publish({ type: "NOTE", agent: me, payload: i })).id);
    }
    const otherRoom = new Room(redis, roomConfig({ repo: other, branch: "main" }));
    await otherRoom.publish({ type: "NOTE", agent: me, payload: "x" });

    const listed = ok(await a.run(["rooms", "list", "--json"]), "list");
    const rows = listed.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const row = rows.find((r) => r.room === `${repo}:feat/x`);
    assert.equal(row?.events, 3);
    assert.equal(row?.agents, 1);
    assert.ok(rows.some((r) => r.room === `${other}:main`));
    const human = ok(await a.run(["rooms", "list"]), "list");
    assert.match(
      human.stdout,
      new RegExp(`^${repo}:feat/x  3 events  last \\S+ ago  1 agent\\(s\\) present$`, "m"),
    );

    const exported = ok(await a.run(["rooms", "export", `${repo}:feat/x`]), "export");
    assert.deepEqual(exported.stdout.trim().split("\n").map((l) => JSON.parse(l).id), ids);

    const refused = await a.run(["rooms", "drop", `${repo}:feat/x`], { stdin: "nope\n" });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error: not confirmed; room .* was not dropped/);
    const featKeys = async () =>
      (await redis.call(["KEYS", `${room.keys.prefix}:*`]) as string[]).length;
    assert.ok(await featKeys() > 0);
    const confirmed = ok(
      await a.run(["rooms", "drop", `${repo}:feat/x`], { stdin: `${repo}:feat/x\n` }),
      "drop",
    );
    assert.match(confirmed.stdout, /^dropped room .* \(\d+ keys\)$/m);
    assert.equal(await featKeys(), 0);
    ok(await a.run(["rooms", "drop", `${other}:main`, "--yes"]), "drop --yes");
    assert.equal(await roomKeyCount(other), 0);
    const gone = await a.run(["rooms", "drop", `${other}:main`, "--yes"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^error: No room ".*" in this Redis\n$/);
  });
});

Deno.test("rooms bad input: one error line, documented exit code, nothing written", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "rooms2");
  const cases: [string[], number, RegExp][] = [
    [["rooms"], 2, /^error: missing argument: rooms takes/],
    [["rooms", "show"], 2, /unknown rooms subcommand "show"; expected list\|export\|drop/],
    [["rooms", "list", "x"], 2, /too many arguments: 'rooms list'/],
    [["rooms", "list", "--yes"], 2, /--yes does not apply to 'rooms list'/],
    [["rooms", "drop"], 2, /missing argument: 'rooms drop' takes <repo:branch>/],
    [["rooms", "drop", "nocolon", "--yes"], 2, /expected a room as repo:branch/],
    [["rooms", "export", "a:"], 2, /expected a room as repo:branch/],
    [["rooms", "export"], 1, /^error: The room has no events/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await a.run(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
  assert.equal(await roomKeyCount(repo), 0, "nothing written");
});
