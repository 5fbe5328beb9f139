/**
 * `send` and `request` round trips through the MCP server vs the CLI vs the
 * library, in one run against one Redis:
 *
 * - library: `room.publish()` / `ask()` on an open RESP connection;
 * - MCP: `tools/call send` / `request` through the SDK's client to one warm
 *   `agentroom mcp` process (started with the executable's permissions);
 * - CLI: `agentroom post` / `ask` as a new `deno run cli.ts` process per call
 *   (what an agent's shell tool pays).
 *
 * A responder in this process answers every ASK to it at once (its own
 * connection, a blocking read), so `request` measures the messaging path,
 * not a model. Medians of BENCH_MCP_CALLS (default 50; CLI: BENCH_MCP_CLI,
 * default 10) calls, in turn.
 *
 * ```sh
 * deno run -A scripts/bench/mcp.ts
 * ```
 *
 * @module
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { roomConfig } from "../../src/config.ts";
import { resolveIdentity } from "../../src/identity.ts";
import { ask, reply, waitForEvent } from "../../src/messaging.ts";
import { heartbeat } from "../../src/presence.ts";
import { connectRedis } from "../../src/redis/connect.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { Room } from "../../src/room.ts";
import { RUN_PERMISSIONS } from "../permissions.ts";
import { median, type RedisServer, ROOT, table, withRedis } from "./_server.ts";

const CALLS = Number(Deno.env.get("BENCH_MCP_CALLS") ?? 50);
const CLI_CALLS = Number(Deno.env.get("BENCH_MCP_CLI") ?? 10);

async function timed(n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return median(ms);
}

/** The benchmark section (Markdown). */
export async function mcpBench(server?: RedisServer): Promise<string> {
  return await withRedis(server, async ({ url }) => {
    const repo = `bench-mcp-${crypto.randomUUID().slice(0, 8)}`;
    const config = roomConfig({ repo, branch: "main" });
    const endpoint = parseRedisUrl(url);
    const port = await connectRedis(endpoint, { transport: "resp" });
    const responderPort = await connectRedis(endpoint, { transport: "resp" });
    const room = new Room(port, config);
    const responderRoom = new Room(responderPort, config);
    const me = resolveIdentity("bench", "benchme1");
    const responder = resolveIdentity("responder", "benchrs1");
    await heartbeat(room, { identity: responder, description: "answers every ASK" });

    // the responder: answers every ASK addressed to it, at once
    const stop = new AbortController();
    const answering = (async () => {
      let cursor = await responderRoom.lastId();
      while (!stop.signal.aborted) {
        const event = await waitForEvent(responderRoom, {
          afterId: cursor,
          timeoutMs: 0,
          signal: stop.signal,
          filter: (e) => e.type === "ASK" && e.to === responder.agent_id,
        }).catch(() => undefined);
        if (!event) break;
        cursor = event.id;
        await reply(responderRoom, { agent: responder, askId: event.id, message: "ok" });
      }
    })();

    const env = {
      AGENTROOM_REDIS_URL: url,
      REPO_ID: repo,
      BRANCH_NAME: "main",
      AGENTROOM_SESSION_ID: "benchme1",
      AGENTROOM_AGENT: "bench",
      NO_COLOR: "1",
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
    };
    const cliArgs = ["run", "--quiet", ...RUN_PERMISSIONS, `${ROOT}cli.ts`];
    const transport = new StdioClientTransport({
      command: Deno.execPath(),
      args: [...cliArgs, "mcp"],
      env,
      cwd: ROOT,
      stderr: "ignore",
    });
    const client = new Client({ name: "bench", version: "0" });
    await client.connect(transport);
    const cli = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [...cliArgs, ...args],
        env,
        clearEnv: true,
        cwd: ROOT,
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    };
    const call = async (name: string, args: Record<string, unknown>) => {
      const r = await client.callTool({ name, arguments: args });
      if (r.isError) throw new Error(JSON.stringify(r.content));
    };
    try {
      const send = {
        library: await timed(CALLS, () => room.publish({ type: "NOTE", agent: me, payload: "x" })),
        mcp: await timed(CALLS, () => call("send", { message: "x" })),
        cli: await timed(CLI_CALLS, () => cli(["post", "NOTE", "x"])),
      };
      const request = {
        library: await timed(CALLS, async () => {
          const r = await ask(room, {
            agent: me,
            to: responder.agent_id,
            message: "?",
            timeoutMs: 10_000,
          });
          if (!r.reply) throw new Error("no reply");
        }),
        mcp: await timed(CALLS, () => call("request", { to: responder.agent_id, message: "?" })),
        cli: await timed(CLI_CALLS, () => cli(["ask", "?", "--to", responder.agent_id])),
      };
      const fmt = (ms: number) => ms.toFixed(2);
      return [
        `### \`send\` and \`request\` round trips: library vs MCP vs CLI (median; library and MCP ${CALLS} calls, CLI ${CLI_CALLS} processes)`,
        "",
        table([
          "operation",
          "library (open connection)",
          "MCP tool (warm server)",
          "CLI (new process)",
        ], [
          ["send (publish one event)", fmt(send.library), fmt(send.mcp), fmt(send.cli)],
          [
            "request (ask + correlated reply)",
            fmt(request.library),
            fmt(request.mcp),
            fmt(request.cli),
          ],
        ]),
        "",
        "ms. MCP adds JSON-RPC over stdio plus a fresh Redis connection per call (each tool runs",
        "the CLI command in-process); the CLI pays a Deno process start per call.",
      ].join("\n");
    } finally {
      stop.abort();
      await client.close().catch(() => {});
      await answering.catch(() => {});
      await port.close();
      await responderPort.close();
    }
  });
}

if (import.meta.main) console.log(await mcpBench());
