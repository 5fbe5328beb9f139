import assert from "node:assert/strict";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { roomKeys } from "../../src/keys.ts";
import { shared, uniqueRepo } from "../support/redis.ts";
import { agent, baseEnv, cliArgs } from "../support/cli.ts";

Deno.test("tail shows events oldest first and filters by type, sender and recipient", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  await alice.run(["post", "NOTE", "one"]);
  await bob.run(["post", "QUESTION", "two", "--to", "alice-aaaa1111"]);
  await alice.run(["post", "NOTE", "three"]);
  const all = await bob.run(["tail"]);
  assert.equal(all.code, 0, all.stderr);
  const headers = all.stdout.split("\n").filter((l) => /^\d+-\d+ /.test(l));
  assert.deepEqual(headers.map((l) => l.split(/\s+/)[2]), ["NOTE", "QUESTION", "NOTE"]);
  assert.match(all.stdout, /    To: alice-aaaa1111\n    two\n/);
  const json = await bob.run(["tail", "--json", "--count", "2"]);
  const lines = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((e) => e.payload), ["two", "three"]);
  assert.equal(lines[0].to, "alice-aaaa1111");
  assert.equal("to" in lines[1], false, "to only when set");
  const byType = await bob.run(["tail", "--json", "--type", "QUESTION"]);
  assert.deepEqual(byType.stdout.trim().split("\n").map((l) => JSON.parse(l).payload), ["two"]);
  const byFrom = await bob.run(["tail", "--json", "--from", "alice"]);
  assert.deepEqual(byFrom.stdout.trim().split("\n").map((l) => JSON.parse(l).payload), [
    "one",
    "three",
  ]);
  const toMe = await alice.run(["tail", "--json", "--to-me"]);
  assert.deepEqual(toMe.stdout.trim().split("\n").map((l) => JSON.parse(l).payload), ["two"]);
  const since = await bob.run(["tail", "--json", "--since", lines[0].id]);
  assert.deepEqual(since.stdout.trim().split("\n").map((l) => JSON.parse(l).payload), ["three"]);
  const recent = await bob.run(["tail", "--json", "--since", "10m"]);
  assert.equal(recent.stdout.trim().split("\n").length, 3);
  const empty = await bob.run(["tail", "--type", "NOPE"]);
  assert.equal(empty.stdout, "");
});

Deno.test("tail renders hostile payloads stripped and --json never fails", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "aaaa1111");
  const r = await a.run(["post", "NOTE", "\u001b[2J\u001b]0;pwned\u0007evil\r\nline\u007f"]);
  assert.equal(r.code, 0, r.stderr);
  // another tool writes invalid UTF-8 and a non-JSON payload straight into the stream
  const redis = await connectRedis(parseRedisUrl(shared.url));
  try {
    await redis.call([
      "XADD",
      roomKeys({ repo, branch: "main" }).events,
      "*",
      "type",
      "RAW",
      "agent_id",
      new Uint8Array([0x62, 0xff, 0xfe, 0x1b, 0x5b, 0x33, 0x31, 0x6d]),
      "payload",
      new Uint8Array([0x7b, 0xc3, 0x28, 0x0a, 0x1b]),
    ]);
  } finally {
    await redis.close();
  }
  const text = await a.run(["tail"]);
  assert.equal(text.code, 0, text.stderr);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(text.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(text.stdout, /    evilline\n/);
  const json = await a.run(["tail", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(events[0].payload, "\u001b[2J\u001b]0;pwned\u0007evil\r\nline\u007f");
  assert.equal(events[1].type, "RAW");
  assert.equal(typeof events[1].payload, "string");
});

Deno.test("tail bad input: usage errors exit 2 with one line", async () => {
  const a = agent(uniqueRepo(), "aaaa1111");
  const cases: [string[], number, RegExp][] = [
    [
      ["tail", "--since", "yesterday"],
      2,
      /--since must be a duration \(15m, 2h30m\) or an event id/,
    ],
    [["tail", "--since", "5"], 0, /^$/],
    [["tail", "--count", "-3"], 2, /^error: flag --count got a value starting with '-'/],
    [["tail", "--count=-3"], 2, /--count must be a non-negative whole number, got "-3"/],
    [["tail", "--count", "abc"], 2, /--count must be a non-negative whole number, got "abc"/],
    [["tail", "--count", "0"], 2, /--count must be between 1 and 5000/],
    [["tail", "--count", "5001"], 2, /--count must be between 1 and 5000/],
    [["tail", "extra"], 2, /too many arguments: tail takes no arguments/],
    [["tail", "--follw"], 2, /unknown flag --follw/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await a.run(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.ok(r.stderr.split("\n").filter(Boolean).length <= 1);
  }
});

Deno.test("tail --follow --json streams new events as JSON Lines until interrupted", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  await alice.run(["post", "NOTE", "before"]);
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(["tail", "--follow", "--json", "--count", "1", "--type", "NOTE"]),
    env: { ...baseEnv(), ...agent(repo, "bbbb2222", "bob").env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const nextLine = async (): Promise<string> => {
    const deadline = AbortSignal.timeout(10_000);
    while (!buffer.includes("\n")) {
      if (deadline.aborted) throw new Error(`no line; got ${JSON.stringify(buffer)}`);
      const { value, done } = await reader.read();
      if (done) throw new Error("follower exited early");
      buffer += value;
    }
    const at = buffer.indexOf("\n");
    const line = buffer.slice(0, at);
    buffer = buffer.slice(at + 1);
    return line;
  };
  try {
    assert.equal(JSON.parse(await nextLine()).payload, "before");
    await alice.run(["post", "OTHER", "filtered out"]);
    await alice.run(["post", "NOTE", "live 1"]);
    assert.equal(JSON.parse(await nextLine()).payload, "live 1");
    await alice.run(["post", "NOTE", '{"n":2}']);
    assert.deepEqual(JSON.parse(await nextLine()).payload, { n: 2 });
  } finally {
    child.kill("SIGINT");
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  }
  const status = await child.status;
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assert.equal(status.code, 0, stderr);
  assert.equal(stderr, "");
});

Deno.test("tail stops quietly with exit 0 when its reader goes away", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "pipe0001");
  for (let i = 0; i < 3; i++) await a.run(["post", "NOTE", `n${i}`]);
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(["tail", "--follow"]),
    env: { ...baseEnv(), ...a.env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(15_000), // hang guard
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read(); // the history arrived
  await reader.cancel(); // the reader goes away (like `| head -1`)
  await a.run(["post", "NOTE", "after the reader left"]); // the next write hits a broken pipe
  const status = await child.status;
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assert.equal(status.code, 0, stderr);
  assert.equal(stderr, "");
});
