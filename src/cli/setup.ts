/**
 * `agentroom setup claude|codex|pi|git`: installs (or with `--uninstall`
 * removes) agentroom's four hooks in the harness's settings file: the
 * `agentroom` on PATH in project settings (committed, so they must work in
 * every clone), the exact command of the running executable in user and
 * local settings. The merge rules live in `hook_settings.ts`; this module
 * finds the file, reads it, shows the diff, keeps a backup and writes it
 * atomically. pi (an extension file) and git (a pre-commit hook) live in
 * `setup_pi.ts` and `setup_git.ts`.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentroomError } from "../errors.ts";
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
import {
  detectIndent,
  formatSettings,
  lineDiff,
  parseSettings,
  readExisting,
  replaceFile,
} from "./settings_file.ts";
import { enableNetworkAccess, type NetworkAccess, networkAccess } from "./codex_config.ts";
import { runGit } from "../process/git_command.ts";
import { gitSetupCommand } from "./setup_git.ts";
import { piSetupCommand } from "./setup_pi.ts";
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
  "--allow-run",
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
/**
 * The Codex `config.toml` beside a hooks file: where
 * `[sandbox_workspace_write] network_access` is read and written.
 *
 * @param hooksFile the Codex `hooks.json` of the scope
 * @returns the path of `config.toml` in the same folder
 */
export function codexConfigPath(hooksFile: string): string {
  return join(dirname(hooksFile), "config.toml");
}

/**
 * Whether an executable called `name` is on `PATH` (no subprocess).
 *
 * @param name the command name
 * @param env environment lookup
 * @returns the first match's path, or `undefined`
 */
export function findOnPath(
  name: string,
  env: (name: string) => string | undefined,
): string | undefined {
  const dirs = (env("PATH") ?? "").split(Deno.build.os === "windows" ? ";" : ":");
  const names = Deno.build.os === "windows" ? [`${name}.exe`, `${name}.cmd`, name] : [name];
  for (const dir of dirs) {
    if (dir === "") continue;
    for (const n of names) {
      try {
        const info = Deno.statSync(join(dir, n));
        if (info.isFile && (Deno.build.os === "windows" || ((info.mode ?? 0) & 0o111) !== 0)) {
          return join(dir, n);
        }
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** What `setup` did to the git ignore rules for `settings.local.json`. */
export interface IgnoreReport {
  /** The rule file (`.git/info/exclude`), or `null` outside a git repository. */
  file: string | null;
  /** Already ignored before setup ran (by any rule, the global one included). */
  already: boolean;
  /** Whether setup added (or, in a dry run, would add) the rule. */
  added: boolean;
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
  /** `setup claude --local`: the git ignore rule for the local settings file. */
  ignore?: IgnoreReport;
  /** `setup codex`: the sandbox's network setting in the scope's config.toml. */
  network?: NetworkReport;
}

/** The Codex sandbox's network setting, as reported by `setup codex`. */
export interface NetworkReport {
  /** The config.toml of the scope. */
  file: string;
  /** The setting before setup ran. */
  before: NetworkAccess;
  /** Whether setup turned it on (or, in a dry run, would). */
  changed: boolean;
  /** Whether it was written. */
  written: boolean;
  /** Backup of the previous config, if one was written. */
  backup: string | null;
}

const TRUST_NOTES: Record<Harness, string> = {
  claude: "Claude Code runs hooks from settings files only in a trusted workspace: start claude " +
    "interactively in this project once and accept the workspace trust dialog (claude -p " +
    "skips that dialog)",
  codex: "Codex runs new or changed hooks only after you review and trust them: open /hooks in " +
    "Codex (trust is tied to the exact definition, so each change needs a new review)",
};

/**
 * Runs setup for one harness: reads the file, merges, and (unless `dryRun`)
 * writes it with a backup of the original.
 *
 * @param options what to do and where; `selfPaths` also identify older
 *   entries of this agentroom (default: the runner's own path); `onPath`
 *   says whether `agentroom` is on PATH here (for the project-scope note)
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
  selfPaths?: readonly string[];
  onPath?: string;
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
  const selfPaths = options.selfPaths ?? runnerPaths(runner);
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
  if (!options.uninstall && runner.kind === "path") {
    notes.push(
      "project settings are shared through git, so the hook command is 'agentroom hook " +
        "<event>', found on PATH: everyone who works in this project needs the agentroom " +
        "executable on PATH (" +
        (options.onPath ? `here: ${options.onPath}` : "it is NOT on PATH here") +
        "); use --local or --user for a command with this machine's absolute path",
    );
  }
  if (merge.changed && !options.uninstall) {
    notes.push(TRUST_NOTES[harness]);
    if (harness === "codex" && options.scope === "project") {
      notes.push("Codex loads a project's .codex/ layer only when the project is trusted");
    }
  }
  let backup: string | null = null;
  let written = false;
  if (merge.changed && !options.dryRun) {
    backup = await replaceFile(file, original, after, { now: options.now });
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

/** The paths that identify a runner's own hook commands. */
function runnerPaths(runner: Runner): string[] {
  if (runner.kind === "binary") return [runner.executable];
  if (runner.kind === "source") return [runner.script];
  return [];
}

const LOCAL_RULE = "/.claude/settings.local.json";

/**
 * The directory git keeps shared state in (`info/exclude`, `hooks`): `.git`
 * itself, or for a linked worktree the main repository's (read from the
 * `.git` file and `commondir`, no subprocess).
 *
 * @param root the working tree's top directory
 * @returns the common git directory, or `undefined` when `root` has no `.git`
 */
export function gitCommonDir(root: string): string | undefined {
  const dotGit = join(root, ".git");
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dotGit);
  } catch {
    return undefined;
  }
  if (info.isDirectory) return dotGit;
  const text = Deno.readTextFileSync(dotGit);
  const match = text.match(/^gitdir:\s*(.+?)\s*$/m);
  if (!match) return undefined;
  const gitDir = resolve(root, match[1]!);
  try {
    return resolve(gitDir, Deno.readTextFileSync(join(gitDir, "commondir")).trim());
  } catch {
    return gitDir;
  }
}

/**
 * Makes git ignore `.claude/settings.local.json` the way Claude Code keeps it
 * out of commits, but local to this repository: when git does not already
 * ignore it (any rule, the user's global ignore file included: that is where
 * Claude Code puts its own rule), adds `/.claude/settings.local.json` to
 * `.git/info/exclude`, which is never committed and touches no file outside
 * the repository.
 *
 * @param root the working tree's top directory
 * @param dryRun only say what would be done
 * @returns what was done
 */
export async function ignoreLocalSettings(root: string, dryRun: boolean): Promise<IgnoreReport> {
  const common = gitCommonDir(root);
  if (common === undefined) return { file: null, already: false, added: false };
  const exclude = join(common, "info", "exclude");
  const existing = await readExisting(exclude);
  const lines = (existing ?? "").split(/\r?\n/).map((l) => l.trim());
  let already = lines.some((l) =>
    [LOCAL_RULE, ".claude/settings.local.json", "**/.claude/settings.local.json"].includes(l)
  );
  if (!already) {
    try {
      const check = await runGit(
        ["check-ignore", "-q", "--no-index", ".claude/settings.local.json"],
        root,
      );
      already = check.code === 0;
    } catch {
      // no git to ask: the rule files read above decide
    }
  }
  if (already) return { file: exclude, already: true, added: false };
  if (!dryRun) {
    let text = existing ?? "";
    if (text !== "" && !text.endsWith("\n")) text += "\n";
    text += `# agentroom setup claude --local: personal Claude Code settings\n${LOCAL_RULE}\n`;
    await Deno.mkdir(dirname(exclude), { recursive: true });
    await Deno.writeTextFile(exclude, text);
  }
  return { file: exclude, already: false, added: true };
}

/**
 * Turns on network access for Codex's workspace-write sandbox in a
 * `config.toml` (only when asked, with `--allow-network`).
 *
 * @param file the config.toml
 * @param dryRun only compute the diff
 * @returns the report and the diff lines
 */
export async function allowCodexNetwork(
  file: string,
  dryRun: boolean,
): Promise<{ report: NetworkReport; diff: string[] }> {
  const original = await readExisting(file);
  const text = original ?? "";
  const before = networkAccess(text, file);
  const after = enableNetworkAccess(text, file);
  const changed = after !== text;
  const diff = changed
    ? lineDiff(text, after, { from: original === undefined ? "/dev/null" : file, to: file })
    : [];
  let backup: string | null = null;
  if (changed && !dryRun) backup = await replaceFile(file, original, after);
  return { report: { file, before, changed, written: changed && !dryRun, backup }, diff };
}

/** Reads the sandbox network setting without changing anything. */
async function codexNetwork(file: string): Promise<NetworkReport> {
  const text = await readExisting(file) ?? "";
  let before: NetworkAccess;
  try {
    before = networkAccess(text, file);
  } catch {
    before = "unset";
  }
  return { file, before, changed: false, written: false, backup: null };
}

/**
 * The error line when connecting to Redis failed with EPERM: the network is
 * blocked for this process, almost always by a sandbox (Codex's default
 * `workspace-write` sandbox gives the agent's shell no network at all).
 *
 * @param address the Redis address that was tried
 * @returns the message (without the `error: ` prefix)
 */
export function networkBlockedText(address: string): string {
  return `this process may not open network connections (connecting to Redis at ${address}: ` +
    "operation not permitted), so a sandbox is blocking it: in Codex's default " +
    "workspace-write sandbox the agent's shell has no network; set " +
    "[sandbox_workspace_write] network_access = true in ~/.codex/config.toml (or the " +
    "project's .codex/config.toml; 'agentroom setup codex --allow-network' writes it) and " +
    "start a new Codex session, or give the agent agentroom's MCP server ('agentroom mcp')";
}

function sandboxNote(report: NetworkReport): string {
  return "in Codex's default workspace-write sandbox the agent's shell has no network, so every " +
    "agentroom command the agent runs fails with 'Operation not permitted' (hooks run outside " +
    `the sandbox and work); to let it reach Redis, set in ${report.file}: ` +
    "[sandbox_workspace_write] network_access = true (or run setup again with --allow-network); " +
    "or give the agent agentroom's MCP server ('agentroom mcp') instead of the shell";
}

function scopeOf(ctx: Context, target: string): Scope {
  const chosen = (["user", "project", "local"] as const).filter((s) => ctx.bool(s));
  if (chosen.length > 1) {
    throw new UsageError(
      `choose one of ${chosen.map((s) => `--${s}`).join(", ")}, not several`,
      "setup",
    );
  }
  const scope = chosen[0] ?? "project";
  if (target !== "claude" && scope === "local") {
    throw new UsageError(`${target} has no local settings file; use --user or --project`, "setup");
  }
  return scope;
}

function changeLine(sign: "+" | "-", c: HookChange): string {
  const event = c.matcher === undefined ? c.event : `${c.event} [${c.matcher}]`;
  return terminalText(`${sign} ${event}: ${c.command}`);
}

const TARGETS = ["claude", "codex", "pi", "git"] as const;

/** The setup command. */
export const setup: Command = {
  name: "setup",
  actions: ["claude", "codex", "pi", "git"],
  summary:
    "install agentroom into Claude Code, Codex, pi or git's pre-commit hook (shows the diff)",
  usage:
    "setup <claude|codex|pi|git> [--user|--project|--local] [--dry-run] [--uninstall] [--allow-network] [--json]",
  details: [
    "claude, codex: adds SessionStart, UserPromptSubmit, SessionEnd and PreToolUse (file-editing",
    "tools) hooks that run 'agentroom hook <event>', merging with the hooks already there.",
    "Running it again changes nothing; an entry of an older agentroom path is replaced, not",
    "duplicated. Before changing an existing file it keeps a copy as <file>.bak-<UTC timestamp>.",
    "Project settings are committed, so their command is 'agentroom hook <event>' from PATH;",
    "--user and --local settings name this executable by its absolute path.",
    "",
    "Files (--project is the default; the project is the git toplevel, else the cwd):",
    "  claude --user     $CLAUDE_CONFIG_DIR or ~/.claude, settings.json",
    "  claude --project  <project>/.claude/settings.json",
    "  claude --local    <project>/.claude/settings.local.json (added to .git/info/exclude",
    "                    unless git already ignores it)",
    "  codex  --user     $CODEX_HOME or ~/.codex, hooks.json (config.toml for --allow-network)",
    "  codex  --project  <project>/.codex/hooks.json (config.toml for --allow-network)",
    "  pi     --project  <project>/.pi/extensions/agentroom.ts",
    "  pi     --user     ~/.pi/agent/extensions/agentroom.ts",
    "  git               the pre-commit hook in git's hooks directory (core.hooksPath honoured)",
    "",
    "codex --allow-network: also sets [sandbox_workspace_write] network_access = true in the",
    "scope's config.toml, so the agent's shell (sandboxed) can reach Redis.",
    "",
    "An entry is agentroom's when it is a command ending in 'hook <event>' (one of the four",
    "events) that names agentroom or this executable's path; --uninstall removes exactly those,",
    "and groups or events left empty, and nothing else. pi and git: --uninstall removes only",
    "agentroom's file (git: restores the pre-commit hook it chained).",
  ],
  examples: [
    "setup claude",
    "setup claude --user --dry-run",
    "setup codex --user --allow-network",
    "setup pi",
    "setup git",
    "setup claude --uninstall",
  ],
  flags: {
    user: { type: "boolean", help: "your user settings (all projects)" },
    project: { type: "boolean", help: "this project's settings (default)" },
    local: { type: "boolean", help: "this project's personal settings (claude only)" },
    "dry-run": { type: "boolean", help: "show the diff, write nothing" },
    uninstall: { type: "boolean", help: "remove agentroom's hooks (and only those)" },
    "allow-network": {
      type: "boolean",
      help: "codex: give the sandboxed shell network access in config.toml",
    },
  },
  args: { min: 1, max: 1, what: "<claude|codex|pi|git>" },
  run: async (ctx) => {
    const target = ctx.line.positionals[0]!;
    if (!(TARGETS as readonly string[]).includes(target)) {
      throw new UsageError(
        `unknown setup target ${JSON.stringify(target)}; expected claude, codex, pi or git`,
        "setup",
      );
    }
    if (ctx.bool("allow-network") && target !== "codex") {
      throw new UsageError("--allow-network is for setup codex only", "setup");
    }
    if (ctx.bool("allow-network") && ctx.bool("uninstall")) {
      throw new UsageError(
        "--allow-network cannot be combined with --uninstall (setup never turns network " +
          "access off; edit config.toml by hand)",
        "setup",
      );
    }
    if (target === "git") {
      if (["user", "project", "local"].some((s) => ctx.bool(s))) {
        throw new UsageError("setup git takes no --user/--project/--local", "setup");
      }
      return await gitSetupCommand(ctx, currentRunner());
    }
    const scope = scopeOf(ctx, target);
    if (target === "pi") {
      const env = ctx.env;
      return await piSetupCommand(ctx, {
        scope: scope as "user" | "project",
        root: projectRoot(ctx.cwd),
        home: homeDir(env),
        runner: currentRunner(),
        onPath: findOnPath("agentroom", env),
      });
    }
    return await harnessSetup(ctx, target as Harness, scope);
  },
};

async function harnessSetup(ctx: Context, harness: Harness, scope: Scope): Promise<number> {
  const env = ctx.env;
  const file = settingsPath(harness, scope, env, ctx.cwd);
  const dryRun = ctx.bool("dry-run");
  const uninstall = ctx.bool("uninstall");
  const own = currentRunner();
  const runner: Runner = scope === "project" ? { kind: "path" } : own;
  const { report, diff } = await runSetup({
    harness,
    scope,
    file,
    uninstall,
    dryRun,
    runner,
    selfPaths: runnerPaths(own),
    onPath: scope === "project" ? findOnPath("agentroom", env) : undefined,
  });
  let networkDiff: string[] = [];
  if (harness === "claude" && scope === "local" && !uninstall) {
    report.ignore = await ignoreLocalSettings(projectRoot(ctx.cwd), dryRun);
    if (report.ignore.file === null) {
      report.notes.push("not a git repository: nothing to keep settings.local.json out of");
    }
  }
  if (harness === "codex" && !uninstall) {
    const config = codexConfigPath(report.file);
    if (ctx.bool("allow-network")) {
      const result = await allowCodexNetwork(config, dryRun);
      report.network = result.report;
      networkDiff = result.diff;
    } else {
      report.network = await codexNetwork(config);
      if (report.network.before !== "on") report.notes.push(sandboxNote(report.network));
    }
  }
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
  const ignore = report.ignore;
  if (ignore?.file) {
    if (ignore.already) {
      out.line("git ignore: .claude/settings.local.json is already ignored by git");
    } else {
      out.line(
        terminalText(
          `git ignore: ${dryRun ? "would add" : "added"} ${LOCAL_RULE} to ${ignore.file}`,
        ),
      );
    }
  }
  const network = report.network;
  if (network && ctx.bool("allow-network")) {
    out.line(terminalText(`Codex sandbox network (${scope}): ${network.file}`));
    if (!network.changed) out.line("unchanged: network_access is already true");
    else {
      out.line("");
      for (const line of networkDiff) out.line(terminalText(line));
      out.line("");
      if (dryRun) out.line("dry run: nothing written");
      else {
        if (network.backup) out.line(terminalText(`backup: ${network.backup}`));
        out.line(terminalText(`wrote ${network.file}`));
      }
    }
  }
  for (const note of report.notes) out.line(terminalText(`note: ${note}`));
  return 0;
}
