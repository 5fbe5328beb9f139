import assert from "node:assert/strict";
import { join } from "node:path";
import { roomConfig } from "../../src/config.ts";
import { MAX_SCRATCHPAD_BYTES, Room } from "../../src/room.ts";
import { agent, ok } from "../support/cli.ts";
import { roomKeyCount, uniqueRepo, withRedis } from "../support/redis.ts";

const BINARY = new Uint8Array([0, 255, 254, 10, 13, 0xc3, 0x28, 0x80, 65, 0]);

Deno.test("pad: binary-safe put from stdin and from a file, get, rm, --ttl", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "pad1");
  const put = ok(await a.run(["pad", "put", "blob:1", "-"], { stdin: BINARY }), "put stdin");
  assert.match(put.stdout, /^stored blob:1 \(10 bytes, expires in 48h0m\)\n$/);
  const got = ok(await a.run(["pad", "get", "blob:1"]), "get");
  assert.deepEqual(got.stdoutBytes, BINARY);
  assert.equal(got.stdout, "");
  const json = ok(await a.run(["pad", "get", "blob:1", "--json"]), "get --json");
  assert.deepEqual(JSON.parse(json.stdout), {
    key: "blob:1",
    size: 10,
    base64: btoa(String.fromCharCode(...BINARY)),
  });

  const dir = await Deno.makeTempDir();
  const big = new Uint8Array(1024 * 1024 + 7).map((_, i) => (i * 31) % 256);
  await Deno.writeFile(join(dir, "big.bin"), big);
  ok(await a.run(["pad", "put", "big", "big.bin", "--ttl", "2h"], { cwd: dir }), "put file");
  assert.deepEqual((await a.run(["pad", "get", "big"])).stdoutBytes, big);
  const text = ok(await a.run(["pad", "put", "note", "--json"], { stdin: "héllo\n" }), "put text");
  assert.deepEqual(JSON.parse(text.stdout), { key: "note", size: 7, ttl_ms: 172_800_000 });
  assert.deepEqual(JSON.parse(ok(await a.run(["pad", "get", "note", "--json"]), "get").stdout), {
    key: "note",
    size: 7,
    text: "héllo\n",
  });
  // Also through a real process: stdout carries the bytes unchanged.
  const spawned = await a.spawn(["pad", "get", "note"]);
  assert.equal(spawned.stdout, "héllo\n");

  await withRedis(async (redis) => {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    const ttl = await redis.call(["PTTL", room.keys.scratchpad("big")]) as number;
    assert.ok(ttl > 0 && ttl <= 7_200_000, `ttl ${ttl}`);
    assert.deepEqual(await room.readScratchpadBytes("blob:1"), BINARY);
  });
  assert.match(ok(await a.run(["pad", "rm", "big"]), "rm").stdout, /^removed big\n$/);
  const gone = await a.run(["pad", "get", "big"]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error: No scratchpad entry "big" in this room/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pad bad input: one error line, documented exit code, nothing written", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "pad2");
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(join(dir, "huge"), new Uint8Array(MAX_SCRATCHPAD_BYTES + 1));
  const cases: [string[], number, RegExp, (string | Uint8Array)?][] = [
    [["pad"], 2, /^error: missing argument: pad takes/],
    [["pad", "list"], 2, /unknown pad subcommand "list"; expected put\|get\|rm/],
    [["pad", "put"], 2, /missing argument: 'pad put' takes <key> \[file\|-\]/],
    [["pad", "get"], 2, /missing argument: 'pad get' takes <key>/],
    [["pad", "get", "a", "b"], 2, /too many arguments: 'pad get' takes <key>/],
    [["pad", "put", "has space", "-"], 2, /Scratchpad key "has space" has whitespace/],
    [["pad", "put", "k".repeat(201), "-"], 2, /longer than 200 characters/],
    [
      ["pad", "put", "k", "-", "--ttl", "forever"],
      2,
      /--ttl must be a duration between 1ms and 30d/,
    ],
    [["pad", "put", "k", "-", "--ttl", "31d"], 2, /--ttl must be a duration/],
    [["pad", "get", "k", "--ttl", "1h"], 2, /--ttl does not apply to 'pad get'/],
    [["pad", "put", "k", join(dir, "absent")], 1, /^error: cannot read .*absent: no such file\n$/],
    [["pad", "put", "k", dir], 1, /not a regular file/],
    [
      ["pad", "put", "k", join(dir, "huge")],
      1,
      /^error: Cannot write scratchpad entry "k": it is 4194305 bytes, max 4194304 bytes\n$/,
    ],
    [
      ["pad", "put", "k", "-"],
      1,
      /^error: Cannot write scratchpad entry "k": stdin is \d+ bytes, max 4194304 bytes\n$/,
      new Uint8Array(MAX_SCRATCHPAD_BYTES + 100_000),
    ],
  ];
  for (const [args, code, pattern, stdin] of cases) {
    const r = await a.run(args, { stdin: stdin ?? "x" });
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
  assert.equal(await roomKeyCount(repo), 0, "nothing written");
  await Deno.remove(dir, { recursive: true });
});
