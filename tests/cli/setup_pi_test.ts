/**
 * `agentroom setup pi`: the generated extension through the CLI (dry run,
 * write, idempotent, uninstall), and a real run of pi (npm
 * `@mariozechner/pi-coding-agent`, from the harness cache) against a scripted
 * Anthropic Messages server on loopback, with agentroom's hooks on a real
 * Redis: the digest reaches the model, a lease taken through pi's bash tool
 * is this session's own, an edit of another agent's leased file is blocked
 * (and its control run, without the extension, edits it), SESSION_ENDED
 * carries the opening ask.
 *
 * pi is installed into `~/.cache/agentroom/harness/` when missing;
 * `AGENTROOM_SKIP_HARNESS=1` skips the real run (and says so) when it cannot be.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { agent, agentroomOnPath, ok, runCli } from "../support/cli.ts";
import { shared, uniqueRepo } from "../support/redis.ts";

const PI_PACKAGE = "@mariozechner/pi-coding-agent";
const PI_VERSION = "0.73.1";

async function project() {
  const root = await Deno.makeTempDir({ prefix: "agentroom-pi-" });
  const dir = join(root, "project");
  const home = join(root, "home");
  await Deno.mkdir(join(dir, ".git"), { recursive: true });
  await Deno.mkdir(join(dir, "src"), { recursive: true });
  await Deno.mkdir(home);
  await Deno.writeTextFile(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
  return {
    root,
    dir,
    home,
    file: join(dir, ".pi", "extensions", "agentroom.ts"),
    run: (args: string[], env: Record<string, string> = {}) =>
      runCli(["setup", "pi", ...args], { cwd: join(dir, "src"), env: { HOME: home, ...env } }),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("setup pi writes, keeps and removes only its extension", async () => {
  await using p = await project();
  const dry = ok(await p.run(["--dry-run"]), "dry run");
  assert.ok(dry.stdout.startsWith(`pi extension (project): ${p.file}\n`), dry.stdout);
  assert.match(dry.stdout, /^\+\/\/ agentroom pi extension/m);
  assert.match(dry.stdout, /^dry run: nothing written$/m);
  await assert.rejects(Deno.stat(join(p.dir, ".pi")), Deno.errors.NotFound);

  const wrote = ok(await p.run([]), "install");
  assert.match(wrote.stdout, /^wrote .*agentroom\.ts$/m);
  assert.match(wrote.stdout, /^note: the project's extension runs 'agentroom' from PATH/m);
  const text = await Deno.readTextFile(p.file);
  assert.ok(text.startsWith("// agentroom pi extension"));
  assert.match(text, /^const AGENTROOM: string\[\] = \["agentroom"\];$/m);
  for (const event of ["session_start", "before_agent_start", "tool_call", "session_shutdown"]) {
    assert.ok(text.includes(`pi.on("${event}"`), event);
  }
  for (const hook of ["session-start", "user-prompt-submit", "pre-tool-use", "session-end"]) {
    assert.ok(text.includes(`runHook("${hook}"`), hook);
  }
  assert.ok(text.includes("process.env.AGENTROOM_SESSION_ID = sessionId"));

  const again = ok(await p.run([]), "again");
  assert.match(again.stdout, /^unchanged: agentroom's extension is already installed$/m);
  assert.equal(await Deno.readTextFile(p.file), text);

  const user = JSON.parse(ok(await p.run(["--user", "--json"]), "user").stdout);
  const userFile = join(p.home, ".pi", "agent", "extensions", "agentroom.ts");
  assert.equal(user.file, userFile);
  assert.equal(user.written, true);
  assert.ok((await Deno.readTextFile(userFile)).includes(JSON.stringify(Deno.execPath())));

  const removed = ok(await p.run(["--uninstall"]), "uninstall");
  assert.match(removed.stdout, /^removed .*agentroom\.ts$/m);
  await assert.rejects(Deno.stat(p.file), Deno.errors.NotFound);
  const twice = ok(await p.run(["--uninstall"]), "uninstall again");
  assert.match(twice.stdout, /^unchanged: no agentroom extension here$/m);

  // a file of that name that is not ours is never touched
  await Deno.writeTextFile(p.file, "export default () => {};\n");
  for (const args of [[], ["--uninstall"]]) {
    const refused = await p.run(args);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: .*agentroom\.ts exists and is not agentroom's extension/);
  }
  assert.equal(await Deno.readTextFile(p.file), "export default () => {};\n");
});

/** pi's CLI from the harness cache, installed there when missing. */
async function piCli(): Promise<string | undefined> {
  const home = Deno.env.get("HOME") ?? "/tmp";
  const prefix = join(home, ".cache", "agentroom", "harness", `${PI_PACKAGE}@${PI_VERSION}`);
  const cli = join(prefix, "node_modules", ...PI_PACKAGE.split("/"), "dist", "cli.js");
  try {
    await Deno.stat(cli);
    return cli;
  } catch {
    // install below
  }
  const install = await new Deno.Command("npm", {
    args: ["install", "--prefix", prefix, "--no-audit", "--no-fund", `${PI_PACKAGE}@${PI_VERSION}`],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stderr: String(error) }));
  if (install.success) return cli;
  if (Deno.env.get("AGENTROOM_SKIP_HARNESS") === "1") {
    console.log(`skipped: cannot install ${PI_PACKAGE}@${PI_VERSION} (AGENTROOM_SKIP_HARNESS=1)`);
    return undefined;
  }
  throw new Error(
    `cannot install ${PI_PACKAGE}@${PI_VERSION} into ${prefix} (set AGENTROOM_SKIP_HARNESS=1 to ` +
      `skip): ${typeof install.stderr === "string" ? install.stderr : "npm failed"}`,
  );
}

type Step = { tool: string; input: Record<string, unknown> } | { text: string };

/** An Anthropic Messages server on loopback that plays `steps`, one per request. */
function scriptedModel(steps: Step[]) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.text();
    if (!new URL(req.url).pathname.endsWith("/messages")) return new Response("{}");
    requests.push(body);
    const step = steps[Math.min(requests.length - 1, steps.length - 1)]!;
    const events: [string, unknown][] = [[
      "message_start",
      {
        type: "message_start",
        message: {
          id: `msg_${requests.length}`,
          type: "message",
          role: "assistant",
          model: "scripted",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 1, output_tokens: 1 },
        },
      },
    ]];
    if ("tool" in step) {
      events.push(
        ["content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: {
            type: "tool_use",
            id: `toolu_${requests.length}`,
            name: step.tool,
            input: {},
          },
        }],
        ["content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "input_json_delta", partial_json: JSON.stringify(step.input) },
        }],
      );
    } else {
      events.push(
        ["content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "text", text: "" },
        }],
        ["content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: step.text },
        }],
      );
    }
    events.push(
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", {
        type: "message_delta",
        delta: { stop_reason: "tool" in step ? "tool_use" : "end_turn", stop_sequence: null },
        usage: { output_tokens: 1 },
      }],
      ["message_stop", { type: "message_stop" }],
    );
    const sse = events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join("");
    return new Response(sse, { headers: { "content-type": "text/event-stream" } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, requests, server };
}

const STEPS: Step[] = [
  { tool: "bash", input: { command: "agentroom lease acquire path:src/own.ts --purpose mine" } },
  { tool: "write", input: { path: "src/own.ts", content: "own\n" } },
  { tool: "write", input: { path: "src/theirs.ts", content: "overwritten\n" } },
  { text: "done" },
];

async function runPi(
  cli: string,
  p: Awaited<ReturnType<typeof project>>,
  env: Record<string, string>,
  extra: string[],
) {
  const model = scriptedModel(STEPS);
  const agentDir = join(p.home, ".pi", "agent");
  await Deno.mkdir(agentDir, { recursive: true });
  await Deno.writeTextFile(
    join(agentDir, "models.json"),
    JSON.stringify({
      providers: {
        scripted: {
          baseUrl: model.url,
          api: "anthropic-messages",
          apiKey: "test",
          models: [{ id: "scripted-model" }],
        },
      },
    }),
  );
  try {
    const out = await new Deno.Command("node", {
      args: [
        cli,
        "--offline",
        "--provider",
        "scripted",
        "--model",
        "scripted-model",
        "--no-session",
        "--mode",
        "json",
        ...extra,
        "-p",
        "refactor the parser",
      ],
      cwd: p.dir,
      env: { ...env, HOME: p.home, PI_OFFLINE: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(90_000),
    }).output();
    return {
      code: out.code,
      stderr: new TextDecoder().decode(out.stderr),
      requests: [...model.requests],
    };
  } finally {
    await model.server.shutdown();
  }
}

Deno.test("real pi: digest injected, own shell lease is no conflict, another agent's file is blocked, SESSION_ENDED has the ask", async () => {
  const cli = await piCli();
  if (cli === undefined) return;
  await using p = await project();
  const bin = await agentroomOnPath(p.root);
  /** A room where another agent leases src/theirs.ts. */
  const roomWithLease = async () => {
    const room = uniqueRepo("pi");
    const other = agent(room, "other-session", "other");
    ok(await other.run(["lease", "acquire", "path:src/theirs.ts", "--purpose", "x"]), "lease");
    return {
      PATH: bin,
      NO_COLOR: "1",
      AGENTROOM_REDIS_URL: shared.url,
      REPO_ID: room,
      BRANCH_NAME: "main",
      AGENTROOM_GUARD: "strict", // deny before the edit (the coming default)
    };
  };
  await Deno.writeTextFile(join(p.dir, "src", "theirs.ts"), "theirs\n");
  ok(await p.run([]), "setup pi");

  // control: the same scripted run without agentroom's extension edits the leased file
  const control = await runPi(cli, p, await roomWithLease(), ["--no-extensions"]);
  assert.equal(control.code, 0, control.stderr);
  assert.equal(control.requests.length, 4, control.stderr);
  assert.equal(await Deno.readTextFile(join(p.dir, "src", "theirs.ts")), "overwritten\n");
  assert.ok(!control.requests[0]!.includes("agentroom: you are"), "control has no digest");
  await Deno.writeTextFile(join(p.dir, "src", "theirs.ts"), "theirs\n");
  await Deno.remove(join(p.dir, "src", "own.ts"));

  const env = await roomWithLease();
  const real = await runPi(cli, p, env, []);
  assert.equal(real.code, 0, real.stderr);
  assert.equal(real.requests.length, 4, "bash, write own, write theirs, final text");
  assert.match(real.requests[0]!, /agentroom: you are /, "the digest reached the model");
  assert.match(real.requests[0]!, /\[room-data [0-9a-f]+\]/, "fenced");
  assert.match(real.requests[0]!, /src\/theirs\.ts/, "the lease blocker is in the digest");
  assert.equal(await Deno.readTextFile(join(p.dir, "src", "own.ts")), "own\n", "own lease");
  assert.equal(await Deno.readTextFile(join(p.dir, "src", "theirs.ts")), "theirs\n", "blocked");
  assert.match(real.requests[3]!, /reserved by another agent/, "the reason reached the model");

  const events = ok(await runCli(["tail", "--json", "-n", "100"], { env: { ...env } }), "tail")
    .stdout.trim().split("\n").map((l) => JSON.parse(l));
  const ended = events.filter((e) => e.type === "SESSION_ENDED");
  assert.ok(ended.length >= 1, JSON.stringify(events.map((e) => e.type)));
  const last = ended.at(-1);
  assert.match(JSON.stringify(last.payload), /refactor the parser/, "the opening ask");
  const acquired = events.filter((e) =>
    e.type === "LEASE_ACQUIRED" && JSON.stringify(e.payload).includes("src/own.ts")
  ).at(-1);
  assert.ok(acquired, "the shell lease was taken");
  assert.ok(
    JSON.stringify(acquired.payload).includes(`"owner":${JSON.stringify(last.agent_id)}`),
    `shell tool and hooks are one agent: ${JSON.stringify(acquired.payload)} vs ${last.agent_id}`,
  );
});
