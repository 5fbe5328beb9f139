/**
 * The JSON a harness (Claude Code, Codex) sends a hook on stdin, narrowed to
 * the fields agentroom uses.
 *
 * @module
 */

/** Fields of a hook payload that agentroom reads. */
export interface HookInput {
  /** The harness's session id (full). */
  session_id: string;
  /** Working directory of the session. */
  cwd?: string;
  /** Path of the session transcript (JSON Lines). */
  transcript_path?: string;
  /** The user's prompt (UserPromptSubmit). */
  prompt?: string;
  /** Tool about to run (PreToolUse). */
  tool_name?: string;
  /** Its input (PreToolUse). */
  tool_input?: Record<string, unknown>;
  /** True when a stop hook already continued this turn (Stop). */
  stop_hook_active?: boolean;
}

/** Largest stdin accepted, in bytes. */
export const MAX_STDIN_BYTES = 1 << 20;

/**
 * Parses a hook payload; anything unusable (not JSON, not an object, no
 * session id) gives `undefined`, and the hook then does nothing.
 *
 * @param text stdin text
 */
export function parseHookInput(text: string): HookInput | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const sessionId = str(raw.session_id)?.trim();
  if (!sessionId) return undefined;
  const toolInput = raw.tool_input;
  return {
    session_id: sessionId,
    cwd: str(raw.cwd),
    transcript_path: str(raw.transcript_path),
    prompt: str(raw.prompt),
    tool_name: str(raw.tool_name),
    stop_hook_active: raw.stop_hook_active === true,
    tool_input: toolInput !== null && typeof toolInput === "object" && !Array.isArray(toolInput)
      ? toolInput as Record<string, unknown>
      : undefined,
  };
}
