/**
 * Installs the real harness CLIs the conformance suite runs (`tests/harness/`)
 * at pinned versions into a cache outside the clone, and reuses them when
 * present:
 *
 * ```text
 * ~/.cache/agentroom/harness/<package>@<version>/   (XDG_CACHE_HOME honoured;
 *                                                   AGENTROOM_HARNESS_CACHE overrides)
 * ```
 *
 * ```sh
 * deno run --allow-all scripts/harness/install.ts          # all three
 * deno run --allow-all scripts/harness/install.ts claude   # one
 * ```
 *
 * A download that fails fails loudly (exit 1, npm's output shown), unless
 * `AGENTROOM_SKIP_HARNESS=1`: then nothing is installed and the suite says it
 * skipped. An install goes to a temporary directory next to its final place
 * and is renamed into place only when complete, so an interrupted download is
 * never mistaken for a cached one.
 *
 * Claude Code declares Node >= 22; on Node 20 npm warns (EBADENGINE) and the
 * CLI still runs: the package ships the native executable as an optional
 * platform dependency, and {@linkcode harnessCommand} starts that executable
 * directly, so no postinstall script is needed.
 *
 * @module
 */
import { join } from "node:path";

/** The harnesses the suite runs. */
export type HarnessName = "claude" | "codex" | "pi";

/** One pinned npm package. */
export interface Pin {
  /** The npm package. */
  pkg: string;
  /** The exact version. */
  version: string;
}

/** The pinned versions (bump them together with a green suite). */
export const PINS: Readonly<Record<HarnessName, Pin>> = {
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.332" },
  codex: { pkg: "@openai/codex", version: "0.171.0" },
  pi: { pkg: "@mariozechner/pi-coding-agent", version: "0.73.1" },
};

/** Whether `AGENTROOM_SKIP_HARNESS=1` asks to skip the suite. */
export function skipRequested(): boolean {
  return Deno.env.get("AGENTROOM_SKIP_HARNESS") === "1";
}

/** The cache root: `AGENTROOM_HARNESS_CACHE`, else `$XDG_CACHE_HOME/agentroom/harness`, else `~/.cache/...`. */
export function cacheRoot(): string {
  const override = Deno.env.get("AGENTROOM_HARNESS_CACHE");
  if (override) return override;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME");
  if (!xdg && !home) throw new Error("neither HOME nor XDG_CACHE_HOME is set: no cache directory");
  return join(xdg || join(home!, ".cache"), "agentroom", "harness");
}

/** The install directory of a pin: `<cache>/<package>@<version>`. */
export function installDir(pin: Pin): string {
  return join(cacheRoot(), `${pin.pkg}@${pin.version}`);
}

const COMPLETE = ".agentroom-complete";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** How to start an installed harness. */
export interface HarnessCommand {
  /** The executable. */
  command: string;
  /** Arguments before the harness's own. */
  prefix: string[];
  /** The pin it runs. */
  pin: Pin;
}

function nativeClaude(dir: string): string {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const os = Deno.build.os === "darwin" ? "darwin" : "linux";
  return join(dir, "node_modules", "@anthropic-ai", `claude-code-${os}-${arch}`, "claude");
}

/**
 * The command that starts an installed harness (no install).
 *
 * @param name the harness
 * @returns the executable and its leading arguments
 */
export async function harnessCommand(name: HarnessName): Promise<HarnessCommand> {
  const pin = PINS[name];
  const dir = installDir(pin);
  const modules = join(dir, "node_modules");
  if (name === "claude") {
    // The package's bin is a stub its postinstall replaces (skipped on Node 20);
    // the platform package holds the real executable.
    const native = nativeClaude(dir);
    if (await exists(native)) return { command: native, prefix: [], pin };
    const found = await findFile(join(modules, "@anthropic-ai"), "claude");
    if (found) return { command: found, prefix: [], pin };
    throw new Error(`no claude executable under ${modules}`);
  }
  if (name === "codex") {
    return { command: "node", prefix: [join(modules, "@openai", "codex", "bin", "codex.js")], pin };
  }
  return {
    command: "node",
    prefix: [join(modules, "@mariozechner", "pi-coding-agent", "dist", "cli.js")],
    pin,
  };
}

async function findFile(dir: string, name: string): Promise<string | undefined> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory || !entry.name.startsWith("claude-code-")) continue;
      const candidate = join(dir, entry.name, name);
      if (await exists(candidate)) return candidate;
    }
  } catch {
    // no such directory
  }
  return undefined;
}

/**
 * Whether `dir` holds a complete install: our marker, or (an install made by
 * another tool into the same place) the pinned package.json and its entry point.
 */
async function isInstalled(name: HarnessName, dir: string): Promise<boolean> {
  if (await exists(join(dir, COMPLETE))) return true;
  const pin = PINS[name];
  try {
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dir, "node_modules", pin.pkg, "package.json")),
    );
    if (manifest.version !== pin.version) return false;
    const command = await harnessCommand(name);
    return await exists(command.prefix[0] ?? command.command);
  } catch {
    return false;
  }
}

/**
 * Installs one harness unless the cache has it.
 *
 * @param name the harness
 * @param log where progress lines go
 * @returns the install directory
 * @throws {Error} when npm fails (its output in the message)
 */
export async function ensureInstalled(
  name: HarnessName,
  log: (line: string) => void = (line) => console.error(line),
): Promise<string> {
  const pin = PINS[name];
  const dir = installDir(pin);
  if (await isInstalled(name, dir)) return dir;
  const parent = join(dir, "..");
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: ".installing-" });
  log(`harness: installing ${pin.pkg}@${pin.version} into ${dir}`);
  try {
    await Deno.writeTextFile(
      join(tmp, "package.json"),
      JSON.stringify({ private: true, name: "agentroom-harness-cache" }) + "\n",
    );
    const out = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        tmp,
        "--no-fund",
        "--no-audit",
        "--no-save",
        "--loglevel=error",
        "--ignore-scripts",
        `${pin.pkg}@${pin.version}`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { npm_config_update_notifier: "false" },
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      throw new Error(
        `npm install ${pin.pkg}@${pin.version} failed (exit ${out.code}); ` +
          `set AGENTROOM_SKIP_HARNESS=1 to skip the harness suite\n${text.trim()}`,
      );
    }
    await Deno.writeTextFile(join(tmp, COMPLETE), `${pin.pkg}@${pin.version}\n`);
    try {
      await Deno.rename(tmp, dir);
    } catch (error) {
      // another process finished first: keep its copy
      if (!(await isInstalled(name, dir))) throw error;
      await Deno.remove(tmp, { recursive: true });
    }
    return dir;
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Installs (or finds) a harness and returns how to start it; `undefined` when
 * `AGENTROOM_SKIP_HARNESS=1`.
 *
 * @param name the harness
 * @returns the command, or `undefined` when skipped
 */
export async function prepareHarness(name: HarnessName): Promise<HarnessCommand | undefined> {
  if (skipRequested()) return undefined;
  await ensureInstalled(name);
  return await harnessCommand(name);
}

/** What a test file gets: how to run the harness, or why not. */
export type Prepared =
  | { state: "ready"; harness: HarnessCommand }
  | { state: "skipped" }
  | { state: "failed"; error: Error };

/**
 * For a test file: installs (or finds) a harness without throwing, so a
 * failed download becomes one failing test instead of a module load error
 * that would stop the whole run. Prints a line when skipped.
 *
 * @param name the harness
 * @returns ready, skipped (`AGENTROOM_SKIP_HARNESS=1`) or failed
 */
export async function prepareForTests(name: HarnessName): Promise<Prepared> {
  if (skipRequested()) {
    const pin = PINS[name];
    console.log(
      `harness suite: AGENTROOM_SKIP_HARNESS=1: skipped the ${name} cases ` +
        `(${pin.pkg}@${pin.version} not installed or run)`,
    );
    return { state: "skipped" };
  }
  try {
    await ensureInstalled(name);
    return { state: "ready", harness: await harnessCommand(name) };
  } catch (error) {
    return { state: "failed", error: error as Error };
  }
}

if (import.meta.main) {
  const names = (Deno.args.length > 0 ? Deno.args : Object.keys(PINS)) as HarnessName[];
  for (const name of names) {
    if (!(name in PINS)) {
      console.error(`error: unknown harness ${JSON.stringify(name)} (claude, codex, pi)`);
      Deno.exit(2);
    }
  }
  if (skipRequested()) {
    console.log("harness: AGENTROOM_SKIP_HARNESS=1: skipped the harness CLIs");
    Deno.exit(0);
  }
  try {
    for (const name of names) {
      const dir = await ensureInstalled(name);
      const command = await harnessCommand(name);
      console.log(`harness: ${PINS[name].pkg}@${PINS[name].version}: ${dir}`);
      console.log(`harness:   run: ${[command.command, ...command.prefix].join(" ")}`);
    }
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
