/**
 * Hook entry point: `agentroom hook <event>` for Claude Code and Codex. Reads
 * the harness's JSON from stdin, runs the handler under a deadline, writes one
 * `hookSpecificOutput` line (or nothing), and only then commits the cursors it
 * advanced. Hooks fail open: on any infrastructure error, bad input or a
 * passed deadline they print nothing and exit 0. The deadline is an
 * `AbortSignal` given to the connection: when it fires, the socket is closed
 * and every pending command rejects.
 *
 * @module
 */
import { after } from "../src/timer.ts";
import { TimeoutError } from "../src/errors.ts";
import { DEFAULT_CONTEXT_BUDGET } from "../src/fence.ts";
import { connectRedis } from "../src/redis/connect.ts";
import type { RedisPort } from "../src/redis/port.ts";
import {
  type EnvLookup,
  envValue,
  resolveCluster,
  resolveEndpoint,
} from "../src/process/settings.ts";
import { type HookContext, hookContext, type HookReply } from "./_context.ts";
import { parseHookInput } from "./_input.ts";

type Handler = (ctx: HookContext) => Promise<HookReply>;

/**
 * The hook events agentroom answers, with the harness's event name. Each
 * handler is imported only when its event runs, so a prompt hook never loads
 * the lease guard and an edit check never loads the digest sections.
 */
export const HOOK_EVENTS: Record<string, { name: string; load: () => Promise<Handler> }> = {
  "session-start": {
    name: "SessionStart",
    load: async () => (await import("./session_start.ts")).sessionStart,
  },
  "user-prompt-submit": {
    name: "UserPromptSubmit",
    load: async () => (await import("./user_prompt_submit.ts")).userPromptSubmit,
  },
  "session-end": {
    name: "SessionEnd",
    load: async () => (await import("./session_end.ts")).sessionEnd,
  },
  "pre-tool-use": {
    name: "PreToolUse",
    load: async () => (await import("./pre_tool_use.ts")).preToolUse,
  },
  "post-tool-use": {
    name: "PostToolUse",
    load: async () => (await import("./post_tool_use.ts")).postToolUse,
  },
  stop: {
    name: "Stop",
    load: async () => (await import("./stop.ts")).stop,
  },
};

/** Default total deadline of one hook run. */
export const DEFAULT_HOOK_DEADLINE_MS = 1_500;

/** How a hook run talks to the world. */
export interface HookIo {
  /** The harness's stdin text. */
  stdin: string;
  /** Environment lookup. */
  env: EnvLookup;
  /** Process working directory (used when the payload has no `cwd`). */
  cwd: string;
  /** Writes one line to stdout; throws when the write fails. */
  write: (line: string) => void;
  /** What is left of the deadline (default: the whole of {@linkcode deadlineFrom}). */
  deadlineMs?: number;
  /** Reports a swallowed error (debug mode only). */
  debug?: (message: string) => void;
}

/** The JSON line a reply becomes, or `undefined` when there is nothing to say. */
export function replyLine(eventName: string, reply: HookReply): string | undefined {
  if (reply.block) return JSON.stringify({ decision: "block", reason: reply.reason ?? "" });
  if (reply.decision === "deny") {
    return JSON.stringify({
      hookSpecificOutput: {
        hookEventName: eventName,
        permissionDecision: "deny",
        permissionDecisionReason: reply.reason ?? "",
      },
    });
  }
  if (!reply.context) return undefined;
  return JSON.stringify({
    hookSpecificOutput: { hookEventName: eventName, additionalContext: reply.context },
  });
}

/**
 * The hook deadline: `AGENTROOM_HOOK_TIMEOUT_MS`, else {@linkcode DEFAULT_HOOK_DEADLINE_MS}.
 *
 * @param env environment lookup
 */
export function deadlineFrom(env: EnvLookup): number {
  const value = Number(envValue(env, "AGENTROOM_HOOK_TIMEOUT_MS"));
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_HOOK_DEADLINE_MS;
}

/**
 * Runs one hook. Always resolves to exit code 0: a hook never breaks the
 * agent's session.
 *
 * @param event `session-start`, `user-prompt-submit`, `session-end` or `pre-tool-use`
 * @param io stdin, environment, cwd and output
 */
export async function runHook(event: string, io: HookIo): Promise<number> {
  const hook = HOOK_EVENTS[event];
  const input = parseHookInput(io.stdin);
  if (!hook || !input) return 0;
  const deadlineMs = io.deadlineMs ?? deadlineFrom(io.env);
  // The deadline aborts the work itself: connecting stops, the socket closes
  // and every pending command rejects, so the hook returns on time.
  const deadline = new AbortController();
  const cancel = after(deadlineMs, () => {
    deadline.abort(new TimeoutError(`hook deadline of ${deadlineFrom(io.env)} ms passed`));
  });
  let connecting: Promise<RedisPort> | undefined;
  try {
    const endpoint = resolveEndpoint({}, io.env);
    connecting = connectRedis(endpoint, {
      cluster: resolveCluster(io.env, endpoint),
      connectTimeoutMs: Math.min(deadlineMs, 1_000),
      commandTimeoutMs: deadlineMs,
      signal: deadline.signal,
    });
    const [handler, redis] = await Promise.all([hook.load(), connecting]);
    const ctx = hookContext({
      input,
      redis,
      env: io.env,
      cwd: io.cwd,
      budget: Number(envValue(io.env, "AGENTROOM_HOOK_BUDGET")) || DEFAULT_CONTEXT_BUDGET,
    });
    const reply = await handler(ctx);
    deadline.signal.throwIfAborted(); // a reply that comes too late is not written
    const line = replyLine(hook.name, reply);
    if (line !== undefined) io.write(line); // a failed write throws: nothing is committed
    await reply.commit?.();
  } catch (error) {
    io.debug?.(
      `agentroom hook ${event}: ${
        deadline.signal.aborted
          ? `deadline of ${deadlineFrom(io.env)} ms passed`
          : error instanceof Error
          ? error.message
          : error
      }`,
    );
  } finally {
    cancel();
    await connecting?.then((redis) => redis.close(), () => {}).catch(() => {});
  }
  return 0;
}
