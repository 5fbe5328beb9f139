/**
 * `agentroom setup git`: a pre-commit hook that runs `agentroom guard
 * --staged`, the backstop for edits the harness's edit-tool guard never sees
 * (`sed -i`, redirects, `git checkout` through a shell tool). It refuses a
 * commit that touches paths another agent holds; `AGENTROOM_GUARD_BYPASS=1`
 * lets one through, recorded in the room.
 *
 * An existing pre-commit hook is kept: it is renamed to
 * `pre-commit.agentroom-chained` and ours runs it first (its failure stops
 * the commit as before); `--uninstall` puts it back. The hooks directory is
 * git's own answer (`git rev-parse --git-path hooks`), so `core.hooksPath`
 * is honoured.
 *
 * @module
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { AgentroomError } from "../errors.ts";
import { gitText } from "../process/git_command.ts";
import { terminalText } from "../sanitize.ts";
import { type Runner, runnerWords } from "./hook_settings.ts";
import { lineDiff, readExisting, writeAtomically } from "./settings_file.ts";
import type { Context } from "./_context.ts";

/** The first lines of our hook; a pre-commit starting so is agentroom's. */
export const GIT_HOOK_MARKER = "# agentroom pre-commit guard";

/** The name an existing pre-commit hook is kept under while ours is installed. */
export const CHAINED_NAME = "pre-commit.agentroom-chained";

/**
 * The pre-commit script: runs the chained hook (if any) first, then the
 * guard. Exit 3 of the guard (held paths) refuses the commit; any other
 * failure (Redis down, agentroom missing) lets it through with a warning,
 * the way agentroom's hooks fail open.
 *
 * @param command the shell words that start agentroom
 * @returns the script
 */
export function preCommitScript(command: string): string {
  return [
    "#!/bin/sh",
    `${GIT_HOOK_MARKER} (written by 'agentroom setup git'; 'agentroom setup git --uninstall'`,
    "# removes it and restores a pre-commit hook it chained).",
    "# Refuses a commit touching paths another agent holds (a lease or a quiet window).",
    "# To commit anyway, recorded in the room as GUARD_BYPASSED:",
    "#   AGENTROOM_GUARD_BYPASS=1 git commit ...",
    'hook_dir=$(dirname "$0")',
    `if [ -x "$hook_dir/${CHAINED_NAME}" ]; then`,
    `  "$hook_dir/${CHAINED_NAME}" "$@" || exit $?`,
    "fi",
    `${command} guard --staged`,
    "status=$?",
    'if [ "$status" -eq 3 ]; then exit 1; fi',
    'if [ "$status" -ne 0 ]; then',
    '  echo "agentroom: could not check the staged paths (exit $status); committing unchecked" >&2',
    "fi",
    "exit 0",
    "",
  ].join("\n");
}

/** What `setup git` did, as printed by `--json`. */
export interface GitSetupReport {
  target: "git";
  /** The pre-commit hook's path. */
  file: string;
  action: "install" | "uninstall";
  changed: boolean;
  written: boolean;
  dry_run: boolean;
  /** The kept hook (`pre-commit.agentroom-chained`), when there is one. */
  chained: string | null;
  notes: string[];
}

async function hooksDir(cwd: string): Promise<{ top: string; dir: string }> {
  let top: string;
  try {
    top = await gitText(["rev-parse", "--show-toplevel"], cwd);
  } catch (error) {
    throw new AgentroomError(
      "invalid_value",
      `setup git needs a git working tree: ${(error as Error).message}`,
    );
  }
  const dir = resolve(top, await gitText(["rev-parse", "--git-path", "hooks"], top));
  return { top, dir };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Installs or removes the pre-commit guard.
 *
 * @param options where (`cwd` inside the working tree), how agentroom is
 *   started, and whether to only show what would change
 * @returns the report and the diff of the hook file
 * @throws {AgentroomError} outside a git working tree, or when both a
 *   foreign pre-commit and a chained one exist (nothing is changed)
 */
export async function runGitSetup(options: {
  cwd: string;
  runner: Runner;
  uninstall: boolean;
  dryRun: boolean;
}): Promise<{ report: GitSetupReport; diff: string[] }> {
  const { top, dir } = await hooksDir(options.cwd);
  const file = join(dir, "pre-commit");
  const chained = join(dir, CHAINED_NAME);
  const notes: string[] = [];
  // a hooks directory inside the working tree (core.hooksPath) may be committed:
  // then the command must work in every clone, so it is `agentroom` from PATH
  const first = relative(top, dir).split(/[\\/]/)[0];
  const inTree = first !== ".." && first !== ".git" && !isAbsolute(relative(top, dir));
  const runner: Runner = inTree ? { kind: "path" } : options.runner;
  if (inTree && !options.uninstall) {
    notes.push(
      `core.hooksPath points inside the working tree (${dir}), which may be committed, so the ` +
        "hook runs 'agentroom' from PATH",
    );
  }
  const current = await readExisting(file);
  const ours = current?.split("\n")[1]?.startsWith(GIT_HOOK_MARKER) ?? false;
  const hasChained = await exists(chained);
  const report: GitSetupReport = {
    target: "git",
    file,
    action: options.uninstall ? "uninstall" : "install",
    changed: false,
    written: false,
    dry_run: options.dryRun,
    chained: hasChained ? chained : null,
    notes,
  };
  if (options.uninstall) {
    if (!ours) return { report, diff: [] };
    const restored = hasChained ? await readExisting(chained).catch(() => undefined) : undefined;
    report.changed = true;
    const diff = lineDiff(current ?? "", restored ?? "", {
      from: file,
      to: hasChained ? `${file} (restored from ${CHAINED_NAME})` : "/dev/null",
    });
    if (!options.dryRun) {
      if (hasChained) await Deno.rename(chained, file);
      else await Deno.remove(file);
      report.written = true;
    }
    return { report, diff };
  }
  const script = preCommitScript(runnerWords(runner).join(" "));
  if (ours && current === script) return { report, diff: [] };
  if (current !== undefined && !ours && hasChained) {
    throw new AgentroomError(
      "invalid_value",
      `both ${file} and ${chained} exist and neither is agentroom's hook; move one away and ` +
        `run setup git again (nothing changed)`,
    );
  }
  const chain = current !== undefined && !ours;
  if (chain) {
    report.chained = chained;
    notes.push(`your pre-commit hook is kept as ${CHAINED_NAME} and runs first`);
  }
  if (current === undefined && (await exists(file))) {
    throw new AgentroomError("invalid_value", `${file} is a broken symbolic link; remove it first`);
  }
  report.changed = true;
  const diff = lineDiff(ours ? current ?? "" : "", script, {
    from: ours ? file : "/dev/null",
    to: file,
  });
  if (!options.dryRun) {
    await Deno.mkdir(dirname(file), { recursive: true });
    if (chain) await Deno.rename(file, chained);
    await writeAtomically(file, script, 0o755);
    report.written = true;
  }
  return { report, diff };
}

/**
 * The `setup git` command body.
 *
 * @param ctx the command context
 * @param runner how this agentroom is started
 * @returns the exit code
 */
export async function gitSetupCommand(ctx: Context, runner: Runner): Promise<number> {
  const dryRun = ctx.bool("dry-run");
  const { report, diff } = await runGitSetup({
    cwd: ctx.cwd,
    runner,
    uninstall: ctx.bool("uninstall"),
    dryRun,
  });
  if (ctx.json) {
    ctx.out.json(report);
    return 0;
  }
  const out = ctx.out;
  out.line(terminalText(`git pre-commit guard: ${report.file}`));
  if (!report.changed) {
    out.line(
      report.action === "install"
        ? "unchanged: agentroom's pre-commit guard is already installed"
        : "unchanged: no agentroom pre-commit hook here",
    );
  } else {
    out.line("");
    for (const line of diff) out.line(terminalText(line));
    out.line("");
    if (dryRun) out.line("dry run: nothing written");
    else if (report.action === "uninstall") {
      out.line(
        terminalText(
          report.chained
            ? `restored ${report.file} from ${CHAINED_NAME}`
            : `removed ${report.file}`,
        ),
      );
    } else out.line(terminalText(`wrote ${report.file}`));
  }
  for (const note of report.notes) out.line(terminalText(`note: ${note}`));
  return 0;
}
