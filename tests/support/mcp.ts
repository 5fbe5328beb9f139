/**
 * Test support: `agentroom mcp` as a real subprocess (`deno run` with the
 * executable's permission set), driven by the MCP SDK's own `Client` over
 * `StdioClientTransport`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { baseEnv, cliArgs } from "./cli.ts";

/** A connected MCP client of one `agentroom mcp` process. */
export interface McpSession {
  /** The SDK client. */
  client: Client;
  /** Calls a tool and returns its result. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Calls a tool that must succeed and returns its structured content, unfenced ({@linkcode unfence}). */
  ok(name: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Calls a tool that must fail and returns its error text. */
  fails(name: string, args?: Record<string, unknown>): Promise<string>;
  /** Closes the client (the server exits). */
  close(): Promise<void>;
}

/**
 * Starts `agentroom mcp` with `args` (e.g. `--agent a --repo r`) and connects.
 *
 * @param args arguments after `mcp`
 * @param env extra environment (added to the clean base)
 */
export async function startMcp(
  args: string[],
  env: Record<string, string> = {},
): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: cliArgs(["mcp", ...args]),
    env: { ...baseEnv(), ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "agentroom-test", version: "0" });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    await client.callTool({ name, arguments: args }) as CallToolResult;
  return {
    client,
    call,
    ok: async (name, args) => {
      const result = await call(name, args);
      assert.ok(!result.isError, `${name} failed: ${JSON.stringify(result.content)}`);
      return unfence(result.structuredContent) as Record<string, unknown>;
    },
    fails: async (name, args) => {
      const result = await call(name, args);
      assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result)}`);
      return textOf(result);
    },
    close: async () => {
      await client.close();
    },
  };
}

/** The first text content of a tool result. */
export function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === "text" ? first.text : "";
}

/**
 * Structured content with the fences taken off: `room_data` (the notice) dropped, and each
 * fenced string (`[room-data m] text [/room-data m]`) back to its text (flattened to one line).
 */
export function unfence(value: unknown): unknown {
  if (typeof value === "string") {
    const m = value.match(/^\[room-data ([0-9a-f]{12})\] ([\s\S]*) \[\/room-data \1\]$/);
    return m ? m[2] : value;
  }
  if (Array.isArray(value)) return value.map(unfence);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).filter(([k]) => k !== "room_data").map(([k, v]) => [k, unfence(v)]),
    );
  }
  return value;
}
