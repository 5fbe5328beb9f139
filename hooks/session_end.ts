/**
 * `hook session-end`: post SESSION_ENDED (the session's opening ask and its
 * size, from the transcript) and clear the session's presence. Two writes,
 * well inside the harness's short budget; nothing depends on it running,
 * since presence and leases expire on their own.
 *
 * @module
 */
import { clearSessionPresence } from "../src/presence.ts";
import { clip } from "../src/sanitize.ts";
import type { HookContext, HookReply } from "./_context.ts";

/** Most transcript bytes read. */
export const MAX_TRANSCRIPT_BYTES = 8 << 20;

/**
 * What the harness wraps around the user's words in a transcript without the
 * user typing it: Codex opens a rollout with an `<environment_context>`
 * message (and project instructions); Claude Code may add command wrappers.
 */
const NOT_AN_ASK =
  /^<(environment_context|user_instructions|command-[a-z-]+|local-command-stdout|system-reminder)>|^# AGENTS\.md/;

/** The user's text of one transcript line (Claude Code or a Codex rollout), or "". */
function userText(entry: unknown): string {
  const e = entry as { message?: unknown; payload?: unknown } | null;
  // Claude Code: { message: { role, content } }; Codex rollout: { type: "response_item",
  // payload: { type: "message", role, content: [{ type: "input_text", text }] } }
  const message = (e?.message ??
    ((e?.payload as { type?: unknown } | undefined)?.type === "message"
      ? e?.payload
      : undefined)) as
      | { role?: unknown; content?: unknown }
      | undefined;
  if (message?.role !== "user") return "";
  const content = message.content;
  const texts = typeof content === "string" ? [content] : Array.isArray(content)
    ? content
      .filter((b) => (b?.type === "text" || b?.type === "input_text") && typeof b.text === "string")
      .map((b) => String(b.text))
    : [];
  return texts.map((t) => t.trim()).find((t) => t !== "" && !NOT_AN_ASK.test(t)) ?? "";
}

/**
 * Reads the opening user ask and the number of entries of a JSONL transcript
 * (a Claude Code transcript or a Codex rollout).
 */
export async function summarizeTranscript(
  path: string | undefined,
): Promise<{ entries: number; ask: string }> {
  if (!path) return { entries: 0, ask: "" };
  let text: string;
  try {
    using file = await Deno.open(path);
    const buffer = new Uint8Array(MAX_TRANSCRIPT_BYTES);
    let size = 0;
    while (size < buffer.length) {
      const n = await file.read(buffer.subarray(size));
      if (n === null) break;
      size += n;
    }
    text = new TextDecoder().decode(buffer.subarray(0, size));
  } catch {
    return { entries: 0, ask: "" };
  }
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  let ask = "";
  for (const line of lines) {
    if (ask !== "") break;
    try {
      ask = userText(JSON.parse(line));
    } catch {
      // a torn or foreign line: skip it
    }
  }
  return { entries: lines.length, ask: clip(ask, 160) };
}

/** Runs the session-end hook. */
export async function sessionEnd(ctx: HookContext): Promise<HookReply> {
  const summary = await summarizeTranscript(ctx.input.transcript_path);
  const payload: Record<string, string | number> = { entries: summary.entries, session: ctx.token };
  if (summary.ask !== "") payload.worked_on = summary.ask;
  await ctx.room.publish({ type: "SESSION_ENDED", agent: ctx.identity, payload });
  await clearSessionPresence(ctx.room, ctx.token);
  return {};
}
