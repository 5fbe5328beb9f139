/**
 * `agentroom mcp`: runs the stdio MCP server (`src/serve/mcp.ts`). The server
 * and the MCP SDK are imported only when this command runs, so the hook fast
 * path and every other command never load them.
 *
 * @module
 */
import type { ParsedLine } from "./_args.ts";
import type { CliIo, Command } from "./_context.ts";

/** Runs one command on a parsed line (`runParsed` of `main.ts`, passed in to avoid a cycle). */
export type Runner = (name: string, line: ParsedLine, io: CliIo) => Promise<number>;

/**
 * The mcp command, bound to the CLI's command runner.
 *
 * @param run runs a command in-process
 * @returns the command
 */
export const mcpCommand = (run: Runner): Command => ({
  name: "mcp",
  summary: "serve the room's tools to an MCP client over stdio (one process per agent session)",
  usage: "mcp [--agent HANDLE] [--repo ID] [--branch NAME] [--redis URL]",
  details: [
    "Speaks the Model Context Protocol on stdin/stdout; the harness starts it (see 'setup').",
    "Identity follows the CLI's rules: the harness's session variable, --agent for a handle.",
    "Each tool runs the matching command in-process and returns its --json output as",
    "structured content and, fenced as untrusted room data, as text; a command's error line",
    "comes back as a tool error. The server exits when the client closes stdin.",
  ],
  examples: ["mcp --agent reviewer", "mcp --repo lobby"],
  flags: {},
  args: { min: 0, max: 0, what: "" },
  run: async (ctx) => {
    const { serveMcp } = await import("../serve/mcp.ts");
    return await serveMcp({
      io: ctx.io,
      globals: {
        agent: ctx.flag("agent"),
        redis: ctx.flag("redis"),
        addr: ctx.flag("addr"),
        repo: ctx.flag("repo"),
        branch: ctx.flag("branch"),
      },
      run,
    });
  },
});
