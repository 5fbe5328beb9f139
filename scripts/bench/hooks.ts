/**
 * Per-process latency of the hooks that run on every prompt and every edit:
 * `hook user-prompt-submit` with nothing new (the session's cursors are
 * primed first, so every measured run prints nothing) and `hook pre-tool-use`
 * for an Edit of an unleased file. The goal is a median of at most 2× a bare
 * `deno run` of an empty module, measured in the same `hyperfine -N` run on
 * the same throwaway Redis; `redis-cli` doing one command is the other
 * baseline.
 *
 * A hook reads its payload from stdin. hyperfine 1.15 has no `--input`
 * (it came in 1.16), so every command that needs stdin runs as
 * `sh -c 'exec … < payload.json'`, and so does the bare-deno baseline the
 * goal is measured against (`sh -c 'exec deno run empty.ts < payload.json'`):
 * both pay the same `sh` start-up and redirection, which cancels in the
 * ratio. The plain `deno run empty.ts` row shows what the shell costs. A hook
 * run against a refused port (it fails open at once) splits the time into
 * module loading and stdin parsing versus the Redis work.
 *
 * The same two hooks also run from the hook bundle (`deno task bundle`, built
 * into a temp dir from the sources: one module graph flattened into a few
 * chunks), to show what module loading costs. Each row also shows the mean
 * CPU time (user + system), which the other work on a shared machine
 * disturbs far less than the wall clock.
 *
 * ```sh
 * deno run -A scripts/bench/hooks.ts   # BENCH_RUNS=30 by default
 * ```
 *
 * @module
 */
import { RUN_PERMISSIONS } from "../permissions.ts";
import { bundleHooks } from "../bundle/build.ts";
import { hyperfineTimes, ratio, type RedisServer, ROOT, run, table, withRedis } from "./_server.ts";

/** The goal: a hook's median over a bare `deno run`'s. */
const GOAL = 2;

const SESSION = "b3e7c1d0-5a2f-4e8b-9c61-7d0f2e4a8b13";

/** Quotes one word for `sh`. */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `sh -c 'exec <argv> < <file>'` as an argv. */
function withStdin(argv: readonly string[], file: string): string[] {
  return ["sh", "-c", `exec ${argv.map(sh).join(" ")} < ${sh(file)}`];
}

/** Runs `argv` with `file` on stdin and returns its stdout; throws on a non-zero exit. */
async function runWithStdin(
  argv: readonly string[],
  file: string,
  env: Record<string, string>,
): Promise<string> {
  return await run("sh", withStdin(argv, file).slice(1), env);
}

/** Measures and returns a Markdown section; starts its own Redis when none is given. */
export async function hookBench(server?: RedisServer): Promise<string> {
  const runs = Number(Deno.env.get("BENCH_RUNS") ?? 30);
  return await withRedis(server, async (redis) => {
    const dir = await Deno.makeTempDir({ prefix: "agentroom-bench-hooks-" });
    try {
      const empty = `${dir}/empty.ts`;
      const prompt = `${dir}/user_prompt_submit.json`;
      const edit = `${dir}/pre_tool_use.json`;
      const start = `${dir}/session_start.json`;
      const after = `${dir}/post_tool_use.json`;
      await Deno.writeTextFile(empty, "");
      const bundle = await bundleHooks(`${dir}/bundle`);
      const common = { session_id: SESSION, cwd: ROOT, transcript_path: `${dir}/none.jsonl` };
      await Deno.writeTextFile(
        start,
        JSON.stringify({ ...common, hook_event_name: "SessionStart", source: "startup" }),
      );
      await Deno.writeTextFile(
        after,
        JSON.stringify({
          ...common,
          hook_event_name: "PostToolUse",
          permission_mode: "default",
          tool_name: "Bash",
          tool_input: { command: "deno task test" },
          tool_response: { stdout: "ok", stderr: "", interrupted: false },
          tool_use_id: "toolu_01BenchAfter00000000000",
        }),
      );
      await Deno.writeTextFile(
        prompt,
        JSON.stringify({
          ...common,
          hook_event_name: "UserPromptSubmit",
          permission_mode: "default",
          prompt: "run the benchmarks and report the medians",
        }),
      );
      await Deno.writeTextFile(
        edit,
        JSON.stringify({
          ...common,
          hook_event_name: "PreToolUse",
          permission_mode: "default",
          tool_name: "Edit",
          tool_input: {
            file_path: `${ROOT}src/bench_unleased.ts`,
            old_string: "a",
            new_string: "b",
          },
          tool_use_id: "toolu_01BenchUnleased0000000",
        }),
      );
      const env = {
        AGENTROOM_REDIS_URL: redis.url,
        REPO_ID: "bench-hooks",
        BRANCH_NAME: "main",
      };
      const deno = [Deno.execPath(), "run", ...RUN_PERMISSIONS];
      // exactly as `agentroom setup` installs a hook when run from source
      const hook = (event: string) => [
        Deno.execPath(),
        "run",
        "--quiet",
        "--no-config",
        "--no-lock",
        ...RUN_PERMISSIONS,
        "cli.ts",
        "hook",
        event,
      ];

      // Prime: session-start seeds the cursors, one prompt commits them and
      // labels presence; from then on a prompt has nothing new to say.
      await runWithStdin(hook("session-start"), start, env);
      await runWithStdin(hook("user-prompt-submit"), prompt, env);
      const bundled = (event: string) => [
        Deno.execPath(),
        "run",
        "--quiet",
        "--no-config",
        "--no-lock",
        ...RUN_PERMISSIONS,
        bundle,
        event,
      ];
      const quiet = async () => {
        for (
          const [event, file] of [
            ["user-prompt-submit", prompt],
            ["pre-tool-use", edit],
            ["post-tool-use", after],
          ]
        ) {
          for (const argv of [hook(event!), bundled(event!)]) {
            const out = await runWithStdin(argv, file!, env);
            if (out !== "") throw new Error(`hook ${event} printed output: ${out.slice(0, 200)}`);
          }
        }
      };
      await quiet();

      const refused = `redis://127.0.0.1:${closedPort()}`;
      const commands = [
        {
          name: "hook user-prompt-submit (nothing new)",
          argv: withStdin(hook("user-prompt-submit"), prompt),
        },
        { name: "hook pre-tool-use (unleased file)", argv: withStdin(hook("pre-tool-use"), edit) },
        {
          name: "hook user-prompt-submit, Redis refused",
          argv: withStdin(
            ["env", `AGENTROOM_REDIS_URL=${refused}`, ...hook("user-prompt-submit")],
            prompt,
          ),
        },
        {
          name: "bundle: user-prompt-submit (nothing new)",
          argv: withStdin(bundled("user-prompt-submit"), prompt),
        },
        {
          name: "bundle: pre-tool-use (unleased file)",
          argv: withStdin(bundled("pre-tool-use"), edit),
        },
        {
          name: "hook post-tool-use (nothing new)",
          argv: withStdin(hook("post-tool-use"), after),
        },
        { name: "sh -c 'deno run empty.ts < payload'", argv: withStdin([...deno, empty], prompt) },
        { name: "deno run empty.ts", argv: [...deno, empty] },
        { name: "redis-cli PING", argv: ["redis-cli", "-p", String(redis.port), "PING"] },
      ];
      console.error(`hook latency: hyperfine -N --warmup 3 --runs ${runs} …`);
      const times = await hyperfineTimes(commands, { runs, warmup: 3, env });
      await quiet(); // the measured runs stayed on the nothing-to-say path
      const ms = times.map((t) => t.median);
      const cpu = times.map((t) => t.cpu);
      const [promptMs, editMs, refusedMs, bPromptMs, bEditMs, afterMs, bare, plain, cli] = ms as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const bareCpu = cpu[6]!;
      const rows = commands.map((c, i) => [
        c.name,
        ms[i]!.toFixed(1),
        ratio(ms[i]!, bare),
        ratio(ms[i]!, cli),
        cpu[i]!.toFixed(1),
        ratio(cpu[i]!, bareCpu),
      ]);
      const verdict = (name: string, value: number) =>
        `${name}: ${ratio(value, bare)} bare deno, ${ratio(value, cli)} redis-cli — ` +
        `goal ≤ ${GOAL}× bare deno ${value / bare <= GOAL ? "met" : "NOT met"}.`;
      return [
        `### Per-process latency of the hooks (hyperfine -N, ${runs} runs, median; CPU = mean user + system)`,
        "",
        table(
          ["command", "median ms", "÷ bare deno (sh)", "÷ redis-cli", "CPU ms", "CPU ÷ bare deno"],
          rows,
        ),
        "",
        `- ${verdict("user-prompt-submit, nothing new", promptMs)}`,
        `- ${verdict("pre-tool-use, unleased file", editMs)}`,
        `- ${verdict("bundle: user-prompt-submit, nothing new", bPromptMs)}`,
        `- ${verdict("bundle: pre-tool-use, unleased file", bEditMs)}`,
        `- ${verdict("post-tool-use, nothing new", afterMs)}`,
        `- Of the prompt hook's ${(promptMs - bare).toFixed(1)} ms over bare deno, ` +
        `${(refusedMs - bare).toFixed(1)} ms are module loading and stdin parsing ` +
        `(the refused-Redis run) and ${(promptMs - refusedMs).toFixed(1)} ms the Redis work. ` +
        `The shell wrapper costs ${
          (bare - plain).toFixed(1)
        } ms (it is in both sides of the ratio).`,
      ].join("\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** A TCP port on loopback where nothing listens. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

if (import.meta.main) console.log(await hookBench());
