/**
 * The permission flags the `agentroom` executable runs with. `deno compile`
 * embeds exactly these, and the end-to-end tests run `cli.ts` with exactly
 * these, so the tests prove the binary has what it needs and no more.
 *
 * - `--allow-net`: Redis (its address is only known at run time)
 * - `--allow-env`: configuration variables (and ioredis, which enumerates env)
 * - `--allow-read`: `.git/HEAD` for the room name, the executable for `version`
 * - `--allow-write`: `setup` writes the harness's hook settings file (and its
 *   backup), Codex's config.toml (`--allow-network`), the pi extension, the
 *   git pre-commit hook and `.git/info/exclude`; no other command writes files
 * - `--allow-sys=hostname`: the `<host>-<ppid>` session token fallback
 * - `--allow-run`: `worker -- <command>` starts the command the user names,
 *   which no fixed list can enumerate, so the permission is unrestricted;
 *   besides it, `guard --staged` and `setup git` ask git (staged paths, hooks
 *   directory), `setup claude --local` asks whether git already ignores the
 *   local settings file, `server start` starts `redis-server` (from PATH) and
 *   `relay --tmux` asks tmux what a pane runs and shows, and types into it. The
 *   hook path never starts a process (tested)
 *
 * @module
 */
export const RUN_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys=hostname",
  "--allow-run",
];
