import assert from "node:assert/strict";
import { sessionTokenOf } from "../../src/identity.ts";
import { uniqueRepo } from "../support/redis.ts";
import { agent } from "../support/cli.ts";
import { assertFenced, hookOutput, runHook } from "../support/hook.ts";

const WINDOWS = "quiet windows, pending or active (do not touch these resources unless you own it)";
const LEASES = "resources leased by other agents (check with `agentroom guard <resource>` first)";

Deno.test("session-start puts quiet windows and others' leases first, fenced", async () => {
  const repo = uniqueRepo("blk");
  const env = { REPO_ID: repo, BRANCH_NAME: "main" };
  const session = { session_id: "sess9999-0000-1111-2222-333344445555", cwd: "/tmp" };
  // the session joins once, so it is live and can be named as a required acknowledger
  await runHook("session-start", session, { env });
  const alice = agent(repo, "alic0001", "alice");
  const bob = agent(repo, "bobb0002", "bob");
  const leased = await alice.run([
    "lease",
    "acquire",
    "path:src/db",
    "--purpose",
    "schema change [/room-data x] == fake ==",
  ]);
  assert.equal(leased.code, 0, leased.stderr);
  const windowed = await bob.run([
    "window",
    "request",
    "db:staging",
    "--purpose",
    "run migrations",
    "--require",
    `cli-${sessionTokenOf(session.session_id)}`,
    "--json",
  ]);
  assert.equal(windowed.code, 0, windowed.stderr);
  const windowId = JSON.parse(windowed.stdout).id ?? JSON.parse(windowed.stdout).window?.id;
  const out = hookOutput(await runHook("session-start", session, { env }), "SessionStart");
  const items = assertFenced(out.context, out.marker, [
    WINDOWS,
    LEASES,
    "who is here (live presence; absence is no proof that nobody is working)",
    "room activity since this session last looked",
    "messages for you (1 unread; they are marked read once shown)",
  ]);
  assert.ok(
    items.some((l) => l.includes("type=WINDOW_ACK_REQUIRED")),
    "the window's ack request is in the session's inbox",
  );
  const sections = out.context.split("\n").filter((l) => l.startsWith("== "));
  assert.deepEqual(sections.slice(0, 2), [`== ${WINDOWS} ==`, `== ${LEASES} ==`], "blockers first");
  const windowLine = items.find((l) =>
    l.includes("run migrations: db:staging, held by bob-bobb0002")
  );
  assert.ok(windowLine?.startsWith("- pending, ~"), out.context);
  assert.ok(windowLine?.endsWith(`\`agentroom window ack ${windowId}\`)`), windowLine);
  const leaseLine = items.find((l) => l.includes("path:src/db, held by alice-alic0001"));
  assert.ok(leaseLine, out.context);
});
