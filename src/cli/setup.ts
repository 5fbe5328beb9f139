/**
 * `agentroom setup claude|codex`: installs (or with `--uninstall` removes)
 * agentroom's four hooks in the harness's settings file, with the exact
 * command of the running executable. The merge rules live in
 * `hook_settings.ts`; this module finds the file, reads it, shows the
 * diff, keeps a backup and writes it atomically.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentroomError, InvalidValueError } from "../errors.ts";
import {
  desiredHooks,
  type Harness,
  type HookChange,
  hookCommand,
  installHooks,
  type MergeResult,
  type Runner,
  uninstallHooks,
} from "./hook_settings.ts";
import { detectIndent, formatSettings, lineDiff, parseSettings } from "./settings_file.ts";
import { terminalText } from "../sanitize.ts";
import { UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";

/**
 * The permission flags of a from-source hook command: the same flags the
 * compiled binary embeds (`scripts/permissions.ts`, which is not part of the
 * published package; a test keeps the two lists equal).
 */
export const SOURCE_RUN_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys=hostname",
];

/** Where a settings file lives. */
export type Scope = "user" | "project" | "local";

const HARNESS_NAMES: Record<Harness, string> = { claude: "Claude Code", codex: "Codex" };

/**
 * How the running agentroom is started: the compiled executable when
 * `Deno.execPath()` is not `deno` itself, else `deno run` on this checkout's
 * (or package's) `cli.ts`.
 *
 * @returns the runner
 */
export function currentRunner(): Runner {
  const executable = Deno.execPath();
  const name = basename(executable).toLowerCase().replace(/\.exe$/, "");
  if (name !== "deno") return { kind: "binary", executable };
  const url = new URL("../../cli.ts", import.meta.url);
  const script = url.protocol === "file:" ? fileURLToPath(url) : url.href;
  return { kind: "source", deno: executable, script, permissions: SOURCE_RUN_PERMISSIONS };
}

/**
 * The working tree's top directory: the nearest ancestor of `cwd` holding a
 * `.git` directory or file (worktrees), else `cwd` itself.
 *
 * @param cwd where to start
 * @returns the project directory
 */
export function projectRoot(cwd: string): string {
  const start = resolve(cwd);
  let dir = start;
  for (let depth = 0; depth < 64; depth++) {
    try {
      Deno.statSync(join(dir, ".git"));
      return dir;
    } catch {
      // not here; go up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return start;
}

function homeDir(env: (name: string) => string | undefined): string | undefined {
  const home = env("HOME") || (Deno.build.os === "windows" ? env("USERPROFILE") : undefined);
  return home || undefined;
}

/**
 * The settings file for a harness and scope. `--user` honours
 * `CLAUDE_CONFIG_DIR` / `CODEX_HOME` (each harness's own override of its
 * home directory), else `$HOME/.claude` / `$HOME/.codex`.
 *
 * @param harness claude or codex
 * @param scope user, project or local
 * @param env environment lookup
 * @param cwd working directory
 * @returns the absolute path
 * @throws {AgentroomError} when `HOME` is needed and not set
 */
export function settingsPath(
  harness: Harness,
  scope: Scope,
  env: (name: string) => string | undefined,
  cwd: string,
): string {
  const file = harness === "claude"
    ? (scope === "local" ? "settings.local.json" : "settings.json")
    : "hooks.json";
  const folder = harness === "claude" ? ".claude" : ".codex";
  if (scope !== "user") return join(projectRoot(cwd), folder, file);
  const override = harness === "claude" ? env("CLAUDE_CONFIG_DIR") : env("CODEX_HOME");
  if (override) return join(resolve(cwd, override), file);
  const home = homeDir(env);
  if (!home) {
    throw new AgentroomError(
      "invalid_value",
      `HOME is not set, so the user settings file (~/${folder}/${file}) cannot be found; ` +
        `set HOME, or use --project`,
    );
  }
  return join(home, folder, file);
}

/** What `setup` did, as printed by `--json`. */
export interface SetupReport {
  harness: Harness;
  scope: Scope;
  file: string;
  action: "install" | "uninstall";
  changed: boolean;
  written: boolean;
  dry_run: boolean;
  backup: string | null;
  added: HookChange[];
  removed: HookChange[];
  notes: string[];
}

async function readExisting(file: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(file);
    if (!info.isFile) throw new InvalidValueError(`${file} is not a regular file`);
    return await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof AgentroomError) throw error;
    throw new AgentroomError("invalid_value", `cannot read ${file}: ${(error as Error).message}`);
  }
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Copies the original bytes next to the file; never overwrites a backup. */
async function writeBackup(file: string, text: string, now: Date): Promise<string> {
  const base = `${file}.bak-${stamp(now)}`;
  for (let n = 0; n < 100; n++) {
    const candidate = n === 0 ? base : `${base}-${n}`;
    try {
      await Deno.writeTextFile(candidate, text, { createNew: true });
      return candidate;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  throw new AgentroomError("invalid_value", `cannot pick a free backup name next to ${file}`);
}

/** Writes through a temporary file and a rename, so readers never see half a file. */
async function writeAtomically(file: string, text: string, mode?: number): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.agentroom-${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(temp, text, { createNew: true, mode: mode ?? 0o644 });
    if (mode !== undefined && Deno.build.os !== "windows") await Deno.chmod(temp, mode);
    await Deno.rename(temp, file);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Runs setup for one harness: reads the file, merges, and (unless `dryRun`)
 * writes it with a backup of the original.
 *
 * @param options what to do and where
 * @returns the report and the diff lines
 * @throws {AgentroomError} on an unreadable or invalid file, or a failed write
 */
export async function runSetup(options: {
  harness: Harness;
  scope: Scope;
  file: string;
  uninstall: boolean;
  dryRun: boolean;
  runner: Runner;
  now?: Date;
}): Promise<{ report: SetupReport; diff: string[] }> {
  const { harness, runner } = options;
  // a symlinked settings file (dotfiles) is edited where it points, keeping the link
  let file = options.file;
  try {
    file = await Deno.realPath(options.file);
  } catch {
    // missing: created where asked
  }
  const original = await readExisting(file);
  const settings = original === undefined ? {} : parseSettings(original, file);
  const selfPaths = runner.kind === "binary" ? [runner.executable] : [runner.script];
  const merge: MergeResult = options.uninstall
    ? uninstallHooks(settings, { selfPaths, what: file })
    : installHooks(settings, desiredHooks(harness, (sub) => hookCommand(runner, sub)), {
      selfPaths,
      what: file,
    });
  const indent = original === undefined ? "  " : detectIndent(original);
  const before = original === undefined ? "" : formatSettings(settings, indent);
  const after = formatSettings(merge.settings, indent);
  const diff = merge.changed
    ? lineDiff(before, after, {
      from: original === undefined ? "/dev/null" : file,
      to: file,
    })
    : [];
  const notes: string[] = [];
  const disabled = (settings as { disableAllHooks?: unknown }).disableAllHooks === true;
  if (harness === "claude" && !options.uninstall && disabled) {
    notes.push(`${file} sets "disableAllHooks": true, so Claude Code runs no hooks from it`);
  }
  if (harness === "claude" && options.scope === "project" && merge.changed && !options.uninstall) {
    notes.push(
      ".claude/settings.json is usually committed, and the hook commands are paths on this " +
        "machine; use --local (settings.local.json) to keep them personal",
    );
  }
  if (harness === "codex" && merge.changed && !options.uninstall) {
    notes.push(
      "Codex runs new or changed hooks only after you review and trust them: open /hooks in " +
        "Codex (trust is tied to the exact definition, so each change needs a new review)",
    );
    if (options.scope === "project") {
      notes.push("Codex loads a project's .codex/ layer only when the project is trusted");
    }
  }
  let backup: string | null = null;
  let written = false;
  if (merge.changed && !options.dryRun) {
    const now = options.now ?? new Date();
    let mode: number | undefined;
    if (original !== undefined) {
      mode = (await Deno.stat(file)).mode ?? undefined;
      if (mode !== undefined) mode &= 0o777;
      backup = await writeBackup(file, original, now);
    } else {
      await Deno.mkdir(dirname(file), { recursive: true });
    }
    try {
      await writeAtomically(file, after, mode);
    } catch (error) {
      throw new AgentroomError(
        "invalid_value",
        `cannot write ${file}: ${(error as Error).message}` +
          (backup ? ` (the original is unchanged; backup at ${backup})` : ""),
      );
    }
    written = true;
  }
  return {
    report: {
      harness,
      scope: options.scope,
      file,
      action: options.uninstall ? "uninstall" : "install",
      changed: merge.changed,
      written,
      dry_run: options.dryRun,
      backup,
      added: merge.added,
      removed: merge.removed,
      notes,
    },
    diff,
  };
}

function scopeOf(ctx: Context, harness: Harness): Scope {
  const chosen = (["user", "project", "local"] as const).filter((s) => ctx.bool(s));
  if (chosen.length > 1) {
    throw new UsageError(
      `choose one of ${chosen.map((s) => `--${s}`).join(", ")}, not several`,
      "setup",
    );
  }
  const scope = chosen[0] ?? "project";
  if (harness === "codex" && scope === "local") {
    throw new UsageError("codex has no local hooks file; use --user or --project", "setup");
  }
  return scope;
}

function changeLine(sign: "+" | "-", c: HookChange): string {
  const event = c.matcher === undefined ? c.event : `${c.event} [${c.matcher}]`;
  return terminalText(`${sign} ${event}: ${c.command}`);
}

/** The setup command. */
export const setup: Command = {
  name: "setup",
  summary: "install agentroom's hooks into Claude Code or Codex settings (shows the diff)",
  usage: "setup <claude|codex> [--user|--project|--local] [--dry-run] [--uninstall] [--json]",
  details: [
    "Adds SessionStart, UserPromptSubmit, SessionEnd and PreToolUse (file-editing tools) hooks",
    "that run this executable's 'hook <event>', merging with the hooks already there. Running it",
    "again changes nothing; an entry of an older agentroom path is replaced, not duplicated.",
    "Before changing an existing file it keeps a copy as <file>.bak-<UTC timestamp>.",
    "",
    "Files (--project is the default; the project is the git toplevel, else the cwd):",
    "  claude --user     $CLAUDE_CONFIG_DIR or ~/.claude, settings.json",
    "  claude --project  <project>/.claude/settings.json",
    "  claude --local    <project>/.claude/settings.local.json (not committed)",
    "  codex  --user     $CODEX_HOME or ~/.codex, hooks.json",
    "  codex  --project  <project>/.codex/hooks.json",
    "",
    "An entry is agentroom's when it is a command ending in 'hook <event>' (one of the four",
    "events) that names agentroom or this executable's path; --uninstall removes exactly those,",
    "and groups or events left empty, and nothing else.",
  ],
  examples: [
    "setup claude",
    "setup claude --user --dry-run",
    "setup codex --user",
    "setup claude --uninstall",
  ],
  flags: {
    user: { type: "boolean", help: "your user settings (all projects)" },
    project: { type: "boolean", help: "this project's settings (default)" },
    local: { type: "boolean", help: "this project's personal settings (claude only)" },
    "dry-run": { type: "boolean", help: "show the diff, write nothing" },
    uninstall: { type: "boolean", help: "remove agentroom's hooks (and only those)" },
  },
  args: { min: 1, max: 1, what: "<claude|codex>" },
  run: async (ctx) => {
    const target = ctx.line.positionals[0]!;
    if (target !== "claude" && target !== "codex") {
      throw new UsageError(
        `unknown setup target ${JSON.stringify(target)}; expected claude or codex`,
        "setup",
      );
    }
    const harness: Harness = target;
    const scope = scopeOf(ctx, harness);
    const file = settingsPath(harness, scope, ctx.env, ctx.cwd);
    const dryRun = ctx.bool("dry-run");
    const { report, diff } = await runSetup({
      harness,
      scope,
      file,
      uninstall: ctx.bool("uninstall"),
      dryRun,
      runner: currentRunner(),
    });
    if (ctx.json) {
      ctx.out.json(report);
      return 0;
    }
    const out = ctx.out;
    out.line(terminalText(`${HARNESS_NAMES[harness]} hooks (${scope}): ${report.file}`));
    if (!report.changed) {
      out.line(
        report.action === "install"
          ? "unchanged: agentroom's hooks are already installed"
          : "unchanged: no agentroom hooks here",
      );
    } else {
      for (const c of report.removed) out.line(changeLine("-", c));
      for (const c of report.added) out.line(changeLine("+", c));
      out.line("");
      for (const line of diff) out.line(terminalText(line));
      out.line("");
      if (dryRun) out.line("dry run: nothing written");
      else {
        if (report.backup) out.line(terminalText(`backup: ${report.backup}`));
        out.line(terminalText(`wrote ${report.file}`));
      }
    }
    for (const note of report.notes) out.line(terminalText(`note: ${note}`));
    return 0;
  },
};
