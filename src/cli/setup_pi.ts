/**
 * `agentroom setup pi`: writes (or removes) agentroom's pi extension,
 * `.pi/extensions/agentroom.ts` in the project or
 * `~/.pi/agent/extensions/agentroom.ts` for the user (pi discovers both).
 * The file is agentroom's own (generated, marked on its first line): it is
 * rewritten when it differs and removed by `--uninstall`; a file of that
 * name that is not agentroom's is never touched.
 *
 * @module
 */
import { join } from "node:path";
import { AgentroomError } from "../errors.ts";
import { terminalText } from "../sanitize.ts";
import type { Runner } from "./hook_settings.ts";
import { PI_MARKER, piExtension } from "./pi_extension.ts";
import { lineDiff, readExisting, writeAtomically } from "./settings_file.ts";
import type { Context } from "./_context.ts";

/** What `setup pi` did, as printed by `--json`. */
export interface PiSetupReport {
  target: "pi";
  scope: "user" | "project";
  file: string;
  action: "install" | "uninstall";
  changed: boolean;
  written: boolean;
  dry_run: boolean;
  notes: string[];
}

/**
 * The argv that starts agentroom, for the extension's `spawn` (no shell).
 *
 * @param runner how agentroom is started
 * @returns the command and its leading arguments
 */
export function runnerArgv(runner: Runner): string[] {
  if (runner.kind === "path") return ["agentroom"];
  if (runner.kind === "binary") return [runner.executable];
  return [
    runner.deno,
    "run",
    "--quiet",
    "--no-config",
    "--no-lock",
    ...runner.permissions,
    runner.script,
  ];
}

/**
 * Where the extension goes.
 *
 * @param scope user or project
 * @param root the project directory
 * @param home the home directory (user scope)
 * @returns the file path
 */
export function piExtensionPath(scope: "user" | "project", root: string, home?: string): string {
  if (scope === "project") return join(root, ".pi", "extensions", "agentroom.ts");
  if (!home) {
    throw new AgentroomError(
      "invalid_value",
      "HOME is not set, so ~/.pi/agent/extensions cannot be found; set HOME, or use --project",
    );
  }
  return join(home, ".pi", "agent", "extensions", "agentroom.ts");
}

/**
 * Installs or removes the extension file.
 *
 * @param options the file, how agentroom is started, and the mode
 * @returns the report and the diff
 * @throws {AgentroomError} when a file of that name is not agentroom's
 */
export async function runPiSetup(options: {
  scope: "user" | "project";
  file: string;
  runner: Runner;
  uninstall: boolean;
  dryRun: boolean;
  onPath?: string;
}): Promise<{ report: PiSetupReport; diff: string[] }> {
  const { file } = options;
  const current = await readExisting(file);
  const ours = current?.startsWith(PI_MARKER) ?? false;
  const report: PiSetupReport = {
    target: "pi",
    scope: options.scope,
    file,
    action: options.uninstall ? "uninstall" : "install",
    changed: false,
    written: false,
    dry_run: options.dryRun,
    notes: [],
  };
  if (current !== undefined && !ours) {
    throw new AgentroomError(
      "invalid_value",
      `${file} exists and is not agentroom's extension; move it away and run setup pi again ` +
        `(left untouched)`,
    );
  }
  if (options.uninstall) {
    if (current === undefined) return { report, diff: [] };
    report.changed = true;
    const diff = lineDiff(current, "", { from: file, to: "/dev/null" });
    if (!options.dryRun) {
      await Deno.remove(file);
      report.written = true;
    }
    return { report, diff };
  }
  if (options.runner.kind === "path") {
    report.notes.push(
      "the project's extension runs 'agentroom' from PATH, so it works in every clone: " +
        "everyone who runs pi here needs the agentroom executable on PATH (" +
        (options.onPath ? `here: ${options.onPath}` : "it is NOT on PATH here") + ")",
    );
  }
  const text = piExtension(runnerArgv(options.runner));
  if (current === text) return { report, diff: [] };
  report.changed = true;
  report.notes.push(
    "pi loads extensions when it starts: restart pi (or run /reload) to pick it up",
  );
  const diff = lineDiff(current ?? "", text, {
    from: current === undefined ? "/dev/null" : file,
    to: file,
  });
  if (!options.dryRun) {
    await Deno.mkdir(join(file, ".."), { recursive: true });
    await writeAtomically(file, text);
    report.written = true;
  }
  return { report, diff };
}

/**
 * The `setup pi` command body.
 *
 * @param ctx the command context
 * @param options scope, project root, home, how this agentroom runs, PATH lookup
 * @returns the exit code
 */
export async function piSetupCommand(ctx: Context, options: {
  scope: "user" | "project";
  root: string;
  home?: string;
  runner: Runner;
  onPath?: string;
}): Promise<number> {
  const dryRun = ctx.bool("dry-run");
  const file = piExtensionPath(options.scope, options.root, options.home);
  const { report, diff } = await runPiSetup({
    scope: options.scope,
    file,
    runner: options.scope === "project" ? { kind: "path" } : options.runner,
    uninstall: ctx.bool("uninstall"),
    dryRun,
    onPath: options.onPath,
  });
  if (ctx.json) {
    ctx.out.json(report);
    return 0;
  }
  const out = ctx.out;
  out.line(terminalText(`pi extension (${report.scope}): ${report.file}`));
  if (!report.changed) {
    out.line(
      report.action === "install"
        ? "unchanged: agentroom's extension is already installed"
        : "unchanged: no agentroom extension here",
    );
  } else {
    out.line("");
    for (const line of diff) out.line(terminalText(line));
    out.line("");
    if (dryRun) out.line("dry run: nothing written");
    else if (report.action === "uninstall") out.line(terminalText(`removed ${report.file}`));
    else out.line(terminalText(`wrote ${report.file}`));
  }
  for (const note of report.notes) out.line(terminalText(`note: ${note}`));
  return 0;
}
