/**
 * Test support for the harness conformance suite: a throwaway git repository
 * with a throwaway HOME, an `agentroom` executable on PATH (this checkout's
 * `cli.ts` through `deno run`), hooks installed by the real `agentroom setup`,
 * the control that takes agentroom's hook entries out again, and a runner for
 * a harness CLI in a clean environment pointed at the shared test Redis.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUN_PERMISSIONS } from "../../../scripts/permissions.ts";
import { CLI, type CliResult, ok, spawnCli } from "../../support/cli.ts";
import { shared } from "../../support/redis.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Deno's cache directory, so `deno run` under a throwaway HOME downloads nothing. */
const DENO_DIR = Deno.env.get("DENO_DIR") ??
  JSON.parse(
    new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
        .output()).stdout,
    ),
  ).denoDir as string;

/** One throwaway project: a git repository, a HOME and a bin directory. */
export interface Workspace {
  /** The repository (its basename is the room's repo). */
  dir: string;
  /** The throwaway HOME of the harness. */
  home: string;
  /** Directory holding the `agentroom` executable, first on PATH. */
  bin: string;
  /** The room's repo name (the repository's basename). */
  repo: string;
  /** Removes everything. */
  remove(): Promise<void>;
}

async function git(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", {
    args: ["-C", dir, ...args],
    stdout: "piped",
    stderr: "piped",
    env: {
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.invalid",
    },
  }).output();
  assert.ok(out.success, `git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** The files every workspace starts with (repo-relative path → content). */
export const FILES: Readonly<Record<string, string>> = {
  "src/x.ts": "export const x = 1;\n",
  "src/y.ts": "export const y = 1;\n",
  "README.md": "# scratch\n",
};

/**
 * Creates a workspace: `git init` on branch main with {@linkcode FILES}
 * committed, an empty HOME, and `bin/agentroom`.
 *
 * @param label a word in the directory names
 */
export async function makeWorkspace(label: string): Promise<Workspace> {
  const base = await Deno.makeTempDir({ prefix: `agentroom-harness-${label}-` });
  const dir = join(base, `repo-${crypto.randomUUID().slice(0, 8)}`);
  const home = join(base, "home");
  const bin = join(base, "bin");
  for (const d of [dir, join(dir, "src"), home, bin]) await Deno.mkdir(d, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  for (const [path, content] of Object.entries(FILES)) {
    await Deno.writeTextFile(join(dir, path), content);
  }
  await git(dir, "add", ".");
  await git(dir, "commit", "-q", "-m", "init");
  const quoted = (w: string) => `'${w.replaceAll("'", `'"'"'`)}'`;
  await Deno.writeTextFile(
    join(bin, "agentroom"),
    "#!/bin/sh\n# this checkout's agentroom, as the compiled binary runs it\n" +
      `exec ${quoted(Deno.execPath())} run --quiet --config ${quoted(join(ROOT, "deno.json"))} ` +
      `${RUN_PERMISSIONS.map(quoted).join(" ")} ${quoted(CLI)} "$@"\n`,
  );
  await Deno.chmod(join(bin, "agentroom"), 0o755);
  // login shells (Codex runs `bash -lc`) reset PATH from /etc/profile, then read this
  await Deno.writeTextFile(join(home, ".profile"), `PATH=${quoted(bin)}:"$PATH"\nexport PATH\n`);
  return {
    dir,
    home,
    bin,
    repo: dir.split("/").pop()!,
    remove: () => Deno.remove(base, { recursive: true }).catch(() => {}),
  };
}

/**
 * The clean environment of a harness run: PATH (with `agentroom` first), the
 * throwaway HOME, the test Redis, Deno's cache. No agentroom session or guard
 * variable is set.
 *
 * @param ws the workspace
 * @param extra more variables
 */
export function harnessEnv(
  ws: Workspace,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: `${ws.bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    HOME: ws.home,
    NO_COLOR: "1",
    LANG: "C.UTF-8",
    DENO_DIR,
    DENO_NO_UPDATE_CHECK: "1",
    AGENTROOM_REDIS_URL: shared.url,
    ...extra,
  };
}

/**
 * Runs the agentroom CLI (a `deno run` subprocess) in the workspace as a separate agent (its own session).
 *
 * @param ws the workspace
 * @param session the agent's `AGENTROOM_SESSION_ID`
 * @param args the CLI arguments
 * @param handle its `AGENTROOM_AGENT`
 */
export async function agentroomAs(
  ws: Workspace,
  session: string,
  args: string[],
  handle?: string,
): Promise<CliResult> {
  const env: Record<string, string> = { AGENTROOM_SESSION_ID: session, HOME: ws.home };
  if (handle) env.AGENTROOM_AGENT = handle;
  return await spawnCli(args, { cwd: ws.dir, env, deadlineMs: 30_000 });
}

/** The room's events, oldest first, as `agentroom tail --json` prints them. */
export async function roomEvents(ws: Workspace): Promise<Record<string, unknown>[]> {
  const r = ok(
    await agentroomAs(ws, "reader", ["tail", "--json", "-n", "200"]),
    "agentroom tail --json",
  );
  return r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/**
 * Installs agentroom's hooks with the real `agentroom setup <harness>`
 * (project scope) and returns the settings file (pi: the extension) it wrote.
 *
 * @param ws the workspace
 * @param harness `claude`, `codex` or `pi`
 * @param flags more `setup` flags (`--allow-network`)
 */
export async function setupHooks(
  ws: Workspace,
  harness: "claude" | "codex" | "pi",
  flags: string[] = [],
): Promise<string> {
  const r = ok(
    await spawnCli(["setup", harness, "--project", "--json", ...flags], {
      cwd: ws.dir,
      env: { HOME: ws.home },
      deadlineMs: 30_000,
    }),
    `agentroom setup ${harness}`,
  );
  const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.ok(report.written, `setup wrote its file: ${r.stdout}`);
  return report.file as string;
}

const OUR_COMMAND =
  /(?:^|\s)hook\s+(?:session-start|user-prompt-submit|session-end|pre-tool-use|post-tool-use|stop)\s*$/;

/**
 * The control: removes agentroom's hook entries (every command handler that
 * ends with `hook <event>`) from a generated settings file, leaving the rest
 * as it was. Asserts there was something to remove.
 *
 * @param file the settings file `setup` wrote
 * @returns how many entries were removed
 */
export async function removeOurHooks(file: string): Promise<number> {
  const settings = JSON.parse(await Deno.readTextFile(file));
  let removed = 0;
  const hooks = settings.hooks ?? {};
  for (const [event, groups] of Object.entries(hooks as Record<string, unknown[]>)) {
    const kept = [];
    for (const group of groups as { hooks?: { command?: string }[] }[]) {
      const handlers = (group.hooks ?? []).filter((h) => {
        const ours = typeof h.command === "string" && OUR_COMMAND.test(h.command);
        if (ours) removed++;
        return !ours;
      });
      if (handlers.length > 0) kept.push({ ...group, hooks: handlers });
    }
    if (kept.length > 0) hooks[event] = kept;
    else delete hooks[event];
  }
  assert.ok(removed > 0, `agentroom hook entries in ${file}`);
  await Deno.writeTextFile(file, JSON.stringify(settings, null, 2) + "\n");
  return removed;
}

/** Result of a harness run. */
export interface HarnessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a harness CLI to completion in a clean environment.
 *
 * @param command the executable
 * @param args its arguments
 * @param options working directory, environment, hang guard
 */
export async function runHarness(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; deadlineMs?: number },
): Promise<HarnessRun> {
  const out = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.deadlineMs ?? 120_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Reads a workspace file (repo-relative). */
export async function readFile(ws: Workspace, path: string): Promise<string> {
  return await Deno.readTextFile(join(ws.dir, path));
}
