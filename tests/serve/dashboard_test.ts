/**
 * The dashboard server over HTTP (no browser): the token and Host gates, the
 * headers, the routes that change the room (post, reply, break) and their bad
 * input (400, nothing written), an unknown room, and the CLI's usage errors.
 */
import assert from "node:assert/strict";
import { roomConfig } from "../../src/config.ts";
import { acquireLease } from "../../src/coordination/leases.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { heartbeat } from "../../src/presence.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { CSP, parseRoomName, startDashboard } from "../../src/serve/dashboard/server.ts";
import { runCli } from "../support/cli.ts";
import { roomKeyCount, shared, uniqueRepo } from "../support/redis.ts";

const human = resolveIdentity("human-ada", "h1");
const alice = resolveIdentity("alice", "a1");

async function withDashboard(
  fn: (d: { base: string; token: string; room: Room; repo: string }) => Promise<void>,
) {
  const repo = uniqueRepo("dashhttp");
  const dash = startDashboard({
    connect: () => connectRedis(parseRedisUrl(shared.url)),
    room: { repo, branch: "main" },
    human,
  });
  const redis = await connectRedis(parseRedisUrl(shared.url));
  try {
    await fn({
      base: `http://127.0.0.1:${dash.port}`,
      token: dash.token,
      room: new Room(redis, roomConfig({ repo, branch: "main" })),
      repo,
    });
  } finally {
    await dash.shutdown();
    await redis.close();
  }
}

async function post(
  base: string,
  token: string,
  path: string,
  body: unknown,
  type = "application/json",
) {
  const r = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "x-agentroom-token": token, "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => undefined) };
}

async function streamLength(room: Room): Promise<number> {
  return Number(await room.redis.call(["XLEN", room.keys.events]));
}

/** A raw request, so the Host header is ours. */
async function rawGet(port: number, path: string, host: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    ));
    let text = "";
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text.split("\r\n")[0]!;
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

Deno.test("dashboard http: the token gate, the Host gate and the security headers", async () => {
  await withDashboard(async ({ base, token }) => {
    const port = Number(new URL(base).port);
    for (const path of ["/", "/app.js", "/api/state", "/api/rooms"]) {
      const none = await fetch(`${base}${path}`);
      assert.equal(none.status, 401, path);
      assert.match(await none.text(), /unauthorized/);
      const wrong = await fetch(`${base}${path}?token=${token.replace(/./, "x")}`);
      assert.equal(wrong.status, 403, path);
      await wrong.body?.cancel();
    }
    const page = await fetch(`${base}/?token=${token}`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-security-policy"), CSP);
    assert.equal(page.headers.get("referrer-policy"), "no-referrer");
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const html = await page.text();
    assert.ok(!/<script>|\son\w+=/.test(html), "no inline script or handler");
    assert.match(CSP, /default-src 'self'/);
    assert.ok(!CSP.includes("unsafe-inline") && !CSP.includes("unsafe-eval"));
    assert.match(await rawGet(port, `/?token=${token}`, `127.0.0.1:${port}`), / 200 /);
    assert.match(await rawGet(port, `/?token=${token}`, `localhost:${port}`), / 200 /);
    assert.match(await rawGet(port, `/?token=${token}`, `evil.example:${port}`), / 403 /);
    // a POST must carry the token in a header, not only in the query
    const r = await fetch(`${base}/api/post?token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x" }),
    });
    assert.equal(r.status, 403);
    await r.body?.cancel();
  });
});

Deno.test("dashboard http: post, reply and break land as audited events under the human's handle", async () => {
  await withDashboard(async ({ base, token, room }) => {
    await heartbeat(room, { identity: alice, description: "backend" });
    const note = await post(base, token, "/api/post", { text: "hello", to: "alice" });
    assert.equal(note.status, 200);
    assert.equal(note.body.event.agent_id, human.agent_id);
    assert.equal(note.body.event.to, alice.agent_id);
    const stored = await room.eventById(note.body.event.id);
    assert.equal(stored?.payload, "hello");

    const ask = await room.publish({
      type: "ASK",
      agent: alice,
      payload: "ok?",
      to: human.agent_id,
    });
    const answer = await post(base, token, "/api/reply", { ask_id: ask.id, text: "yes" });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.event.reply_to, ask.id);
    assert.equal(answer.body.event.to, alice.agent_id);

    // present owner: refused; absent owner past the grace period (now): broken
    const lease = await acquireLease(room, {
      agent: alice,
      resources: ["path:src/db"],
      purpose: "migrate",
      ttlMs: 600_000,
    });
    assert.equal(lease.outcome, "acquired");
    const id = lease.outcome === "acquired" ? lease.lease.id : "";
    const refused = await post(base, token, "/api/break", { lease_id: id, reason: "stuck" });
    assert.equal(refused.body.result.outcome, "present");
    await room.redis.call(["DEL", room.keys.presence(alice.agent_id)]);
    await room.redis.call(["ZREM", room.keys.presenceIndex, alice.agent_id]);
    const broken = await post(base, token, "/api/break", {
      lease_id: id,
      reason: "gone",
      now: true,
    });
    assert.equal(broken.body.result.outcome, "broken");
    const audit = (await room.recent(5)).find((e) => e.type === "LEASE_BROKEN");
    assert.equal(audit?.agent_id, human.agent_id);
    assert.equal(audit?.to, alice.agent_id);
  });
});

Deno.test("dashboard http: bad input is 400 and writes nothing; unknown room; paging; threads", async () => {
  await withDashboard(async ({ base, token, room, repo }) => {
    const first = await room.publish({ type: "NOTE", agent: alice, payload: "root" });
    const other = await room.publish({
      type: "ASK",
      agent: alice,
      payload: "not for you",
      to: "bob",
    });
    const before = await streamLength(room);
    const bad: [string, unknown, string?][] = [
      ["/api/post", { text: "" }],
      ["/api/post", { text: "x", type: "bad type!" }],
      ["/api/post", { text: 5 }],
      ["/api/post", { text: "x", reply_to: "nope" }],
      ["/api/post", "not json"],
      ["/api/post", { text: "x" }, "text/plain"],
      ["/api/post", [1, 2]],
      ["/api/reply", { ask_id: first.id, text: "x" }],
      ["/api/reply", { ask_id: other.id, text: "x" }],
      ["/api/reply", { ask_id: "nope", text: "x" }],
      ["/api/break", { lease_id: "nope", reason: "x" }],
      ["/api/break", { lease_id: "0".repeat(32), reason: "" }],
    ];
    for (const [path, body, type] of bad) {
      const r = await post(base, token, path, body, type);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.error, "string");
    }
    assert.equal(await streamLength(room), before, "nothing written");
    const missing = await post(base, token, "/api/reply", { ask_id: "1-0", text: "x" });
    assert.equal(missing.status, 404);

    const unknown = uniqueRepo("nobody");
    const state = await fetch(`${base}/api/state?token=${token}&room=${unknown}/main`);
    assert.equal((await state.json()).exists, false);
    assert.equal(await roomKeyCount(unknown), 0, "looking writes nothing");
    const badRoom = await fetch(`${base}/api/state?token=${token}&room=/main`);
    assert.equal(badRoom.status, 400);
    await badRoom.body?.cancel();

    const reply = await room.publish({
      type: "NOTE",
      agent: alice,
      payload: "child",
      reply_to: first.id,
    });
    const thread = await (await fetch(`${base}/api/thread?token=${token}&id=${reply.id}`)).json();
    assert.deepEqual(thread.map((e: { id: string }) => e.id), [first.id, reply.id]);
    const page = await (await fetch(`${base}/api/events?token=${token}&before=${reply.id}&count=1`))
      .json();
    assert.deepEqual(page.map((e: { id: string }) => e.id), [other.id]);
    const rooms = await (await fetch(`${base}/api/rooms?token=${token}`)).json();
    assert.ok(rooms.rooms.includes(`${repo}/main`));
  });
});

Deno.test("dashboard http: room names", () => {
  assert.deepEqual(parseRoomName("api"), { repo: "api", branch: "main" });
  assert.deepEqual(parseRoomName("api/feature/x"), { repo: "api", branch: "feature/x" });
  assert.deepEqual(parseRoomName("lobby"), { repo: "lobby", branch: "main" });
  assert.throws(() => parseRoomName("/main"));
  assert.throws(() => parseRoomName("api/"));
});

Deno.test("dashboard cli: usage errors exit 2 with one line and write nothing", async () => {
  const repo = uniqueRepo("dashcli");
  for (
    const args of [
      ["dashboard", "--port", "abc"],
      ["dashboard", "--port", "70000"],
      ["dashboard", "--room", "/main"],
      ["dashboard", "--host", ""],
      ["dashboard", "extra"],
    ]
  ) {
    const r = await runCli(args, { env: { REPO_ID: repo, BRANCH_NAME: "main" } });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /^error: /);
    assert.equal(r.stdout.includes("token="), false);
  }
  assert.equal(await roomKeyCount(repo), 0);
});

Deno.test("dashboard http: bound beyond loopback, any Host is served, still only with the token", async () => {
  const dash = startDashboard({
    connect: () => connectRedis(parseRedisUrl(shared.url)),
    room: { repo: uniqueRepo("dashhost"), branch: "main" },
    human,
    host: "0.0.0.0",
  });
  try {
    assert.match(dash.url, /^http:\/\/0\.0\.0\.0:\d+\/\?token=[0-9a-f]{32}$/);
    assert.match(await rawGet(dash.port, `/?token=${dash.token}`, `box.lan:${dash.port}`), / 200 /);
    assert.match(await rawGet(dash.port, `/`, `box.lan:${dash.port}`), / 401 /);
    assert.match(
      await rawGet(dash.port, `/?token=${"f".repeat(32)}`, `box.lan:${dash.port}`),
      / 403 /,
    );
  } finally {
    await dash.shutdown();
  }
});
