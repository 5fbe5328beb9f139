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

/** Reads the opening user ask and the number of entries of a JSONL transcript. */
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
      const entry = JSON.parse(line);
      const message = entry?.message;
      if (message?.role !== "user") continue;
      const content = message.content;
      if (typeof content === "string") ask = content.trim();
      else if (Array.isArray(content)) {
        const block = content.find((b) =>
          b?.type === "text" && typeof b.text === "string" && b.text.trim() !== ""
        );
        ask = block ? String(block.text).trim() : "";
      }
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
