/**
 * CLI output: plain lines to stdout, `error:` / `warning:` lines to stderr,
 * JSON documents, and the human rendering of room content (always passed
 * through the terminal sanitiser).
 *
 * @module
 */
import type { RoomEvent } from "../codec.ts";
import { terminalText } from "../sanitize.ts";

/** Where a command writes. Tests and hooks can supply their own sinks. */
export interface Output {
  /** Writes one line to stdout. */
  line(text: string): void;
  /** Writes one JSON document as one line to stdout. */
  json(value: unknown): void;
  /** Writes `warning: <text>` to stderr. */
  warn(text: string): void;
  /** Writes `error: <text>` to stderr. */
  error(text: string): void;
}

/**
 * An {@linkcode Output} over two text writers: lines to `stdout`,
 * sanitised `warning:` / `error:` lines to `stderr`.
 *
 * @param stdout writes text to stdout
 * @param stderr writes text to stderr
 * @returns the output
 */
export function outputTo(stdout: (text: string) => void, stderr: (text: string) => void): Output {
  return {
    line: (text) => stdout(text + "\n"),
    json: (value) => stdout(JSON.stringify(value) + "\n"),
    warn: (text) => stderr(`warning: ${terminalText(text)}\n`),
    error: (text) => stderr(`error: ${terminalText(text)}\n`),
  };
}

/**
 * The JSON form of an event: `to`, `reply_to`, `agent_handle` and
 * `session_id` only when set.
 *
 * @param event the event
 * @returns a plain object for JSON output
 */
export function eventJson(event: RoomEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: event.id,
    type: event.type,
    agent_id: event.agent_id,
  };
  if (event.agent_handle) out.agent_handle = event.agent_handle;
  if (event.session_id) out.session_id = event.session_id;
  if (event.to) out.to = event.to;
  if (event.reply_to) out.reply_to = event.reply_to;
  out.payload = event.payload;
  out.timestamp = event.timestamp;
  return out;
}

/**
 * Renders an event for a terminal: a header line, then `To:`, `ReplyTo:` and
 * the payload, each sanitised.
 *
 * @param event the event
 * @returns the lines
 */
export function eventLines(event: RoomEvent): string[] {
  const time = event.timestamp > 0 ? clockTime(event.timestamp) : "";
  const lines = [
    `${pad(terminalText(event.id), 16)} ${pad(time, 8)} ${pad(terminalText(event.type), 16)} ${
      terminalText(event.agent_id)
    }`,
  ];
  if (event.to) lines.push(`    To: ${terminalText(event.to)}`);
  if (event.reply_to) lines.push(`    ReplyTo: ${terminalText(event.reply_to)}`);
  const payload = payloadText(event.payload);
  if (payload !== "") lines.push(`    ${terminalText(payload)}`);
  return lines;
}

/**
 * The text of a payload: strings as themselves, other JSON as compact JSON.
 *
 * @param payload a JSON value
 * @returns text (empty for `null`)
 */
export function payloadText(payload: unknown): string {
  if (payload === null || payload === undefined) return "";
  return typeof payload === "string" ? payload : JSON.stringify(payload);
}

function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0"))
    .join(":");
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

/**
 * Formats milliseconds as a short duration: `14m59s`, `2h0m`, `450ms`.
 *
 * @param ms milliseconds
 * @returns the text
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60}m`;
}
