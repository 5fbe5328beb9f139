/**
 * Help text: the command list and per-command help, built from the command
 * table so it cannot drift from the flags the parser accepts.
 *
 * @module
 */
import type { FlagSpec } from "./_args.ts";
import { GLOBAL_FLAGS } from "./_args.ts";
import type { Command } from "./_context.ts";

function flagLines(flags: Record<string, FlagSpec>): string[] {
  return Object.entries(flags).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : "";
    const left = `  ${short}--${name}${value}`;
    return `${left.padEnd(30)} ${spec.help}${spec.multiple ? " (repeatable)" : ""}`;
  });
}

/**
 * Help for one command.
 *
 * @param command the command
 * @returns the help text
 */
export function commandHelp(command: Command): string {
  const parts = [
    `agentroom ${command.name}: ${command.summary}`,
    "",
    `Usage: agentroom ${command.usage}`,
  ];
  if (command.details?.length) parts.push("", ...command.details);
  if (Object.keys(command.flags).length > 0) parts.push("", "Flags:", ...flagLines(command.flags));
  parts.push("", "Global flags:", ...flagLines(GLOBAL_FLAGS));
  parts.push("", "Examples:", ...command.examples.map((e) => `  agentroom ${e}`));
  return parts.join("\n");
}

/**
 * The top-level help: what agentroom is, the commands, flags, exit codes.
 *
 * @param commands every command
 * @returns the help text
 */
export function rootHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    "agentroom: a coordination room for coding agents sharing a repository (Redis-backed)",
    "",
    "Usage: agentroom [global flags] <command> [args] [flags]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Global flags (before or after the command):",
    ...flagLines(GLOBAL_FLAGS),
    `${"  -V, --version".padEnd(30)} print the version and exit`,
    "",
    "Environment: AGENTROOM_REDIS_URL, REDIS_URL, REDIS_ADDR, REPO_ID, BRANCH_NAME,",
    "  AGENTROOM_AGENT, AGENTROOM_SESSION_ID (else CLAUDE_SESSION_ID, CODEX_THREAD_ID, TERM_SESSION_ID)",
    "  AGENTROOM_REDIS_CLUSTER=1 (or true/yes): the Redis URL is a seed node of a Redis Cluster",
    "",
    "Exit codes: 0 ok, 1 operational failure, 2 usage error, 3 conflict",
    "",
    "Examples:",
    '  agentroom post NOTE "starting on the auth refactor"',
    "  agentroom tail --follow",
    "  agentroom who",
    "  agentroom help post",
  ].join("\n");
}
