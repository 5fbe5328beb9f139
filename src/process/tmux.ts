/**
 * Talks to a tmux server as a subprocess, for `relay --tmux`: what a pane is
 * running, what it shows, and typing a line into it. Needs
 * `--allow-run=tmux`. Never used on the hook path, which spawns nothing.
 *
 * @module
 */
import { AgentroomError } from "../errors.ts";

/** Where tmux is: the server socket (`-L name` or `-S path`), when not the default. */
export interface TmuxServer {
  /** `-L <name>`: a named socket in tmux's socket directory. */
  socketName?: string;
  /** `-S <path>`: a socket path. */
  socketPath?: string;
}

function serverArgs(server: TmuxServer): string[] {
  if (server.socketPath) return ["-S", server.socketPath];
  if (server.socketName) return ["-L", server.socketName];
  return [];
}

/**
 * Runs `tmux <args>` and returns its standard output.
 *
 * @param server which tmux server
 * @param args tmux's arguments
 * @throws {AgentroomError} when tmux is missing or the command fails (its stderr is quoted)
 */
export async function tmux(server: TmuxServer, args: string[]): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("tmux", {
      args: [...serverArgs(server), ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "tmux is not installed (or not on PATH); install it (apt-get install tmux, brew install tmux)"
      : `cannot run tmux: ${(error as Error).message}`;
    throw new AgentroomError("invalid_value", why, { cause: error });
  }
  if (!out.success) {
    const first = new TextDecoder().decode(out.stderr).trim().split("\n")[0] || `exit ${out.code}`;
    throw new AgentroomError("not_found", `tmux ${args[0]} failed: ${first}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The pane's foreground command (`#{pane_current_command}`), e.g. `bash` or `claude`. */
export async function paneCommand(server: TmuxServer, target: string): Promise<string> {
  return (await tmux(server, ["display-message", "-p", "-t", target, "#{pane_current_command}"]))
    .trim();
}

/** What the pane shows now (its visible lines, trailing blanks kept as tmux gives them). */
export async function paneText(server: TmuxServer, target: string): Promise<string> {
  return await tmux(server, ["capture-pane", "-p", "-t", target]);
}

/**
 * Types one line into the pane literally (`send-keys -l`, so no key names are
 * interpreted), then presses Enter.
 */
export async function typeLine(server: TmuxServer, target: string, line: string): Promise<void> {
  await tmux(server, ["send-keys", "-t", target, "-l", line]);
  await tmux(server, ["send-keys", "-t", target, "Enter"]);
}
