/**
 * Chaos scenario: shell workers. Two `agentroom worker` processes of one
 * group run a command for every JOB event; one of them is killed with
 * SIGKILL mid-batch, then started again with the same consumer name. Every
 * event must run at least once (nothing lost); reruns are counted (the
 * documented delivery is at least once).
 *
 * @module
 */
import { join } from "node:path";
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { RUN_PERMISSIONS } from "../permissions.ts";
import { baseEnv, CLI } from "./_io.ts";
import { n, type Profile, type Row, row, sleep, track } from "./_lib.ts";

/** Sizes per profile. */
export const WORKER_SIZES = {
  short: { events: 60, kills: 1 },
  full: { events: 600, kills: 4 },
} as const;

/** Runs the workers scenario against the server at `url`. */
export async function workersScenario(url: string, profile: Profile): Promise<Row[]> {
  const size = WORKER_SIZES[profile];
  const dir = await Deno.makeTempDir({ prefix: "agentroom-chaos-workers-" });
  const log = join(dir, "ran.log");
  const repo = `chaos-wk-${crypto.randomUUID().slice(0, 8)}`;
  const env = {
    ...baseEnv(),
    AGENTROOM_REDIS_URL: url,
    REPO_ID: repo,
    BRANCH_NAME: "main",
    AGENTROOM_SESSION_ID: "chaosworker1",
  };
  const start = (consumer: string) =>
    track(
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          ...RUN_PERMISSIONS,
          CLI,
          "worker",
          "--group",
          "chaos",
          "--interest",
          "JOB",
          "--concurrency",
          "2",
          "--consumer",
          consumer,
          "--min-idle",
          "1s",
          "--",
          "sh",
          "-c",
          `sleep 0.02; echo "$AGENTROOM_EVENT_ID" >> '${log}'`,
        ],
        env,
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(180_000),
      }).spawn(),
    );
  const ran = async () => {
    const text = await Deno.readTextFile(log).catch(() => "");
    return text.split("\n").filter((l) => l !== "");
  };
  const workers = [start("a"), start("b")];
  const redis = await connectRedis(parseRedisUrl(url));
  const ids: string[] = [];
  try {
    const room = new Room(redis, roomConfig({ repo, branch: "main" }));
    // the group is created at the room's tail on first start: wait until it exists
    for (let i = 0; i < 100; i++) {
      const groups = await redis.call(["XINFO", "GROUPS", room.keys.events]).catch(() => []);
      if (Array.isArray(groups) && groups.length > 0) break;
      await sleep(100);
    }
    const setup = resolveIdentity("setup", "chaoswksetup");
    const perRound = Math.ceil(size.events / size.kills);
    for (let k = 0; k < size.kills; k++) {
      for (let i = 0; i < perRound && ids.length < size.events; i++) {
        ids.push((await room.publish({ type: "JOB", agent: setup, payload: ids.length })).id);
      }
      // kill -9 one worker mid-batch, then start it again under the same consumer name
      await sleep(150);
      const victim = workers[k % 2]!;
      victim.kill("SIGKILL");
      await victim.status;
      workers[k % 2] = start(k % 2 === 0 ? "a" : "b");
    }
    // wait (bounded) until every event ran at least once
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const done = new Set(await ran());
      if (ids.every((id) => done.has(id))) break;
      await sleep(250);
    }
  } finally {
    for (const w of workers) {
      try {
        w.kill("SIGTERM");
      } catch { /* gone */ }
    }
    await Promise.all(workers.map((w) => w.status));
    await redis.close();
  }
  const lines = await ran();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const counts = new Map<string, number>();
  for (const id of lines) counts.set(id, (counts.get(id) ?? 0) + 1);
  const lost = ids.filter((id) => !counts.has(id)).map((id) => `event ${id} never ran`);
  const reruns = [...counts.values()].reduce((s, c) => s + c - 1, 0);
  return [
    row(
      "workers",
      "kill -9 of a shell worker mid-batch and restart: events never run (lost)",
      `${n(ids.length)} JOB events, 2 workers × concurrency 2, ${size.kills} × kill -9 + restart`,
      lost,
      `${reruns} rerun(s) (at least once, as documented)`,
    ),
  ];
}
