/**
 * Runs `git` as a subprocess, for the commands that need git's own answer
 * (the staged paths, the hooks directory, whether a path is ignored). Needs
 * `--allow-run`. Never used on the hook path, which spawns nothing.
 *
 * @module
 */
import { AgentroomError } from "../errors.ts";

/** What one git run returned. */
export interface GitOutput {
  /** Exit code. */
  code: number;
  /** Raw standard output. */
  stdout: Uint8Array;
  /** Standard error as text. */
  stderr: string;
}

/**
 * Runs `git <args>` in `cwd` and collects its output.
 *
 * @param args git's arguments
 * @param cwd the working directory
 * @returns the exit code and output (a non-zero code is not an error here)
 * @throws {AgentroomError} when git cannot be started (not installed, or not permitted)
 */
export async function runGit(args: string[], cwd: string): Promise<GitOutput> {
  try {
    const out = await new Deno.Command("git", {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { GIT_TERMINAL_PROMPT: "0" },
    }).output();
    return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "git is not installed (or not on PATH)"
      : `cannot run git: ${(error as Error).message}`;
    throw new AgentroomError("invalid_value", why, { cause: error });
  }
}

/**
 * Runs git and returns its trimmed standard output, failing on a non-zero exit.
 *
 * @param args git's arguments
 * @param cwd the working directory
 * @returns standard output without the final newline
 * @throws {AgentroomError} when git fails (its first stderr line is quoted)
 */
export async function gitText(args: string[], cwd: string): Promise<string> {
  const out = await runGit(args, cwd);
  if (out.code !== 0) {
    const first = out.stderr.trim().split("\n")[0] || `exit ${out.code}`;
    throw new AgentroomError("invalid_value", `git ${args[0]} failed: ${first}`);
  }
  return new TextDecoder().decode(out.stdout).replace(/\r?\n$/, "");
}
