/**
 * Builds the `agentroom` executables with `deno compile`, packs each with
 * README.md and LICENSE, and writes `dist/SHA256SUMS`.
 *
 * ```sh
 * deno task compile                                  # the host target
 * TARGETS=all deno task compile                      # every target in TARGETS
 * TARGETS=x86_64-apple-darwin,aarch64-apple-darwin deno task compile
 * ```
 *
 * Output, rebuilt from scratch on every run:
 *
 * - `dist/<target>/agentroom` (`agentroom.exe` on Windows)
 * - `dist/agentroom-<version>-<os>-<arch>.tar.gz` (`.zip` on Windows), each
 *   holding a folder of the same name with the executable, README.md, LICENSE
 * - `dist/SHA256SUMS` for the archives and the executables (`sha256sum -c
 *   --ignore-missing SHA256SUMS` checks a download; `agentroom version`
 *   prints the executable's hash)
 *
 * The executables get exactly {@linkcode RUN_PERMISSIONS}. `deno compile`
 * downloads the Deno runtime for each target from dl.deno.land, so this needs
 * that host; where it is unreachable the script says so in one line and
 * exits 1.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import meta from "../deno.json" with { type: "json" };
import { RUN_PERMISSIONS } from "./permissions.ts";

/** A build target: Deno's target triple and the archive's os/arch names. */
export interface Target {
  /** `deno compile --target` value. */
  triple: string;
  /** Operating system part of the archive name. */
  os: "linux" | "darwin" | "windows";
  /** Architecture part of the archive name. */
  arch: "x64" | "arm64";
}

/** Every target a release ships. */
export const TARGETS: readonly Target[] = [
  { triple: "x86_64-unknown-linux-gnu", os: "linux", arch: "x64" },
  { triple: "aarch64-unknown-linux-gnu", os: "linux", arch: "arm64" },
  { triple: "x86_64-apple-darwin", os: "darwin", arch: "x64" },
  { triple: "aarch64-apple-darwin", os: "darwin", arch: "arm64" },
  { triple: "x86_64-pc-windows-msvc", os: "windows", arch: "x64" },
];

const VERSION: string = meta.version;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = `${ROOT}dist`;
const PACKED_FILES = ["README.md", "LICENSE"];

/** A failure already explained to the user. */
class Failure extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/**
 * The targets to build: `all`, a comma list of triples (`host` for the host), or
 * (empty) the host.
 *
 * @param spec the `TARGETS` value
 * @param host the host triple (`Deno.build.target`)
 * @returns the selected targets, in table order
 */
export function selectTargets(spec: string | undefined, host: string): Target[] {
  const wanted = (spec ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
    .map((s) => (s === "host" ? host : s));
  if (wanted.length === 0) wanted.push(host);
  if (wanted.includes("all")) return [...TARGETS];
  const known = TARGETS.map((t) => t.triple);
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length > 0) {
    const what = unknown.includes(host)
      ? `host target ${host} is not a release target`
      : `unknown target ${unknown.join(", ")}`;
    throw new Failure(`${what}; use TARGETS=all or a comma list of: ${known.join(", ")}`, 2);
  }
  const chosen = new Set(wanted);
  return TARGETS.filter((t) => chosen.has(t.triple));
}

/** `agentroom-<version>-<os>-<arch>`. */
function packageName(target: Target): string {
  return `agentroom-${VERSION}-${target.os}-${target.arch}`;
}

function executableName(target: Target): string {
  return target.os === "windows" ? "agentroom.exe" : "agentroom";
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; `undefined` when the program does not exist. */
async function run(cmd: string, args: string[], cwd = ROOT): Promise<Ran | undefined> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function mustRun(what: string, cmd: string, args: string[], cwd = ROOT): Promise<string> {
  const ran = await run(cmd, args, cwd);
  if (ran === undefined) throw new Failure(`${what}: '${cmd}' is not installed`);
  if (ran.code !== 0) {
    throw new Failure(`${what}: '${cmd} ${args.join(" ")}' exited with ${ran.code}\n${ran.stderr}`);
  }
  return ran.stdout;
}

/**
 * True when `deno compile` failed fetching its runtime (denort).
 *
 * @param stderr what `deno compile` printed
 */
export function isRuntimeDownloadFailure(stderr: string): boolean {
  return /Setting up base binary|denort|dl\.deno\.land/i.test(stderr);
}

/**
 * The one line printed when the runtime cannot be downloaded: what failed
 * and how to point `deno compile` at a local runtime instead.
 *
 * @param triple the target
 * @param denoVersion the Deno version (`Deno.version.deno`)
 */
export function runtimeDownloadMessage(triple: string, denoVersion: string): string {
  return `deno compile could not download the Deno runtime for ${triple} (denort, from ` +
    `dl.deno.land, which this machine cannot reach); point it at a local runtime with ` +
    `DENORT_BIN=/path/to/denort (from denort-${triple}.zip of Deno v${denoVersion}, ` +
    `one target per run: TARGETS=${triple}), or build where dl.deno.land is reachable ` +
    `(the release workflow)`;
}

/**
 * The `deno compile` arguments for a target: the permission set is exactly
 * {@linkcode RUN_PERMISSIONS}, the one the end-to-end tests run `cli.ts` with.
 *
 * @param target the target
 * @returns the arguments after the deno executable
 */
export function compileArgs(target: Target): string[] {
  return [
    "compile",
    "--frozen",
    ...RUN_PERMISSIONS,
    "--target",
    target.triple,
    "--output",
    `dist/${target.triple}/${executableName(target)}`,
    "cli.ts",
  ];
}

async function compile(target: Target): Promise<string> {
  const output = `dist/${target.triple}/${executableName(target)}`;
  console.log(`compile ${target.triple} -> ${output}`);
  const args = compileArgs(target);
  const ran = await run(Deno.execPath(), args);
  if (ran === undefined) throw new Failure(`cannot run ${Deno.execPath()}`);
  if (ran.code !== 0) {
    if (isRuntimeDownloadFailure(ran.stderr)) {
      throw new Failure(runtimeDownloadMessage(target.triple, Deno.version.deno));
    }
    throw new Failure(
      `deno compile for ${target.triple} failed (exit ${ran.code}):\n${ran.stderr}`,
    );
  }
  return `${ROOT}${output}`;
}

/** Runs the freshly built host executable and checks the version it reports. */
async function smokeTest(executable: string): Promise<void> {
  const stdout = await mustRun("smoke test", executable, ["version", "--json"]);
  let reported: unknown;
  try {
    reported = (JSON.parse(stdout) as { version?: unknown }).version;
  } catch {
    throw new Failure(`smoke test: 'agentroom version --json' printed no JSON: ${stdout}`);
  }
  if (reported !== VERSION) {
    throw new Failure(
      `smoke test: the executable reports version ${reported}, expected ${VERSION}`,
    );
  }
  console.log(`  ok: agentroom version --json reports ${VERSION}`);
}

async function zip(stage: string, name: string, archive: string): Promise<void> {
  // zip where installed; else bsdtar, which writes zip by suffix (Windows'
  // System32 tar.exe, macOS tar); else 7-Zip.
  const candidates: [string, string[]][] = [["zip", ["-qr", archive, name]]];
  const systemRoot = Deno.build.os === "windows" ? Deno.env.get("SystemRoot") : undefined;
  if (systemRoot) {
    candidates.push([`${systemRoot}\\System32\\tar.exe`, ["-a", "-cf", archive, name]]);
  }
  if (Deno.build.os === "darwin") candidates.push(["tar", ["-a", "-cf", archive, name]]);
  candidates.push(["7z", ["a", "-tzip", "-bd", archive, name]]);
  for (const [cmd, args] of candidates) {
    const ran = await run(cmd, args, stage);
    if (ran === undefined) continue;
    if (ran.code !== 0) {
      throw new Failure(`packing ${archive}: '${cmd}' exited with ${ran.code}\n${ran.stderr}`);
    }
    return;
  }
  throw new Failure("packing a .zip needs zip, bsdtar or 7z; none is installed");
}

async function pack(target: Target, executable: string): Promise<string> {
  const name = packageName(target);
  const stage = `${DIST}/.stage`;
  const folder = `${stage}/${name}`;
  await Deno.mkdir(folder, { recursive: true });
  const inFolder = `${folder}/${executableName(target)}`;
  await Deno.copyFile(executable, inFolder);
  if (Deno.build.os !== "windows") await Deno.chmod(inFolder, 0o755);
  for (const file of PACKED_FILES) await Deno.copyFile(`${ROOT}${file}`, `${folder}/${file}`);
  const archive = `${name}.${target.os === "windows" ? "zip" : "tar.gz"}`;
  if (target.os === "windows") await zip(stage, name, `../${archive}`);
  else await mustRun(`packing ${archive}`, "tar", ["-czf", `../${archive}`, name], stage);
  await Deno.remove(folder, { recursive: true });
  console.log(`  packed dist/${archive}`);
  return archive;
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function main(): Promise<number> {
  const targets = selectTargets(Deno.args.join(",") || Deno.env.get("TARGETS"), Deno.build.target);
  for (const file of PACKED_FILES) {
    try {
      await Deno.stat(`${ROOT}${file}`);
    } catch {
      throw new Failure(`${file} is missing; every archive ships it`);
    }
  }
  await Deno.remove(DIST, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await Deno.mkdir(DIST, { recursive: true });

  console.log(`agentroom ${VERSION}: ${targets.map((t) => t.triple).join(", ")}`);
  const sums: string[] = [];
  for (const target of targets) {
    const executable = await compile(target);
    if (target.triple === Deno.build.target) await smokeTest(executable);
    const archive = await pack(target, executable);
    sums.push(`${await sha256(`${DIST}/${archive}`)}  ${archive}`);
    const relative = `${target.triple}/${executableName(target)}`;
    sums.push(`${await sha256(executable)}  ${relative}`);
  }
  await Deno.remove(`${DIST}/.stage`, { recursive: true }).catch(() => {});
  sums.sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
  await Deno.writeTextFile(`${DIST}/SHA256SUMS`, sums.join("\n") + "\n");
  console.log("wrote dist/SHA256SUMS");
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exit(error.exitCode);
  }
}
