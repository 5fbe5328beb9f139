/**
 * `agentroom pad put|get|rm`: the room's scratchpad from the shell. Values
 * are bytes (binary-safe), so a large diff or log travels by reference:
 * `pad put diff:123 change.diff`, then `post NOTE '{"pad":"diff:123"}'`.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { NotFoundError, PayloadTooLargeError } from "../errors.ts";
import { MAX_SCRATCHPAD_BYTES, validateScratchpadName } from "../room.ts";
import { parseDuration, UsageError } from "./_args.ts";
import type { Command, Context } from "./_context.ts";
import { onlyFlags, positionals, subcommand } from "./_coord.ts";
import { formatDuration } from "./_output.ts";
import { CliError, EXIT } from "./errors.ts";

const SUBS = ["put", "get", "rm"] as const;
const MAX_TTL_MS = 30 * 86_400_000;

/** The pad command. */
export const pad: Command = {
  name: "pad",
  summary: "the room's scratchpad: store, read or remove a value (binary-safe) by key",
  usage: "pad put <key> [file|-] [--ttl D] | pad get <key> | pad rm <key>",
  details: [
    `put reads the file, or stdin when it is '-' or absent; at most ${
      MAX_SCRATCHPAD_BYTES / 1024 / 1024
    } MiB. An entry lives --ttl`,
    "(default: the room's idle lifetime, 48h; at most 30d). get writes the exact bytes to stdout",
    "(--json: size and text, or base64 when the value is not UTF-8).",
  ],
  examples: [
    "pad put diff:123 change.diff",
    "git diff | pad put diff:124 - --ttl 2h",
    "pad get diff:123 > change.diff",
    "pad rm diff:123",
  ],
  flags: {
    ttl: { type: "string", value: "D", help: "lifetime of the entry (put), e.g. 2h, 7d" },
  },
  args: { min: 1, max: 3, what: "put|get|rm <key> [file|-]" },
  run: async (ctx: Context) => {
    const name = "pad";
    const { sub, rest } = subcommand(ctx, name, SUBS);
    onlyFlags(ctx, name, sub, ["ttl"], sub === "put" ? ["ttl"] : []);
    if (sub === "put") positionals(name, sub, rest, 1, 2, "<key> [file|-]");
    else positionals(name, sub, rest, 1, 1, "<key>");
    const key = rest[0]!;
    try {
      validateScratchpadName(key);
    } catch (error) {
      throw new UsageError((error as Error).message, name);
    }
    if (sub === "put") return await put(ctx, key, rest[1] ?? "-");
    const room = await ctx.room();
    if (sub === "get") {
      const bytes = await room.readScratchpadBytes(key);
      if (bytes === undefined) throw missing(key);
      if (ctx.json) {
        let text: string | undefined;
        try {
          text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
        } catch { /* not UTF-8: base64 below */ }
        ctx.out.json(
          text !== undefined
            ? { key, size: bytes.length, text }
            : { key, size: bytes.length, base64: base64(bytes) },
        );
      } else {
        ctx.io.stdoutBytes(bytes);
      }
      return EXIT.ok;
    }
    if (!await room.deleteScratchpad(key)) throw missing(key);
    if (ctx.json) ctx.out.json({ key, removed: true });
    else ctx.out.line(`removed ${key}`);
    return EXIT.ok;
  },
};

async function put(ctx: Context, key: string, source: string): Promise<number> {
  const ttlText = ctx.flag("ttl");
  let ttlMs: number | undefined;
  if (ttlText !== undefined) {
    ttlMs = parseDuration(ttlText);
    if (ttlMs === undefined || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
      throw new UsageError(
        `--ttl must be a duration between 1ms and 30d such as 2h or 7d, got ${
          JSON.stringify(ttlText)
        }`,
        "pad",
      );
    }
  }
  const bytes = source === "-" ? await readStdin(ctx, key) : await readFile(ctx, key, source);
  const room = await ctx.room();
  const ttl = ttlMs ?? room.config.streamTtlMs;
  await room.writeScratchpad(key, bytes, ttl);
  if (ctx.json) ctx.out.json({ key, size: bytes.length, ttl_ms: ttl });
  else {
    ctx.out.line(
      `stored ${key} (${bytes.length} bytes${
        ttl > 0 ? `, expires in ${formatDuration(ttl)}` : ""
      })`,
    );
  }
  return EXIT.ok;
}

function tooLarge(key: string, size: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    size,
    MAX_SCRATCHPAD_BYTES,
    `Cannot write scratchpad entry ${JSON.stringify(key)}: it`,
  );
}

async function readStdin(ctx: Context, key: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await ctx.io.stdin.read(buffer);
    if (n === null) break;
    total += n;
    if (total > MAX_SCRATCHPAD_BYTES) {
      // Stop reading at the cap: the size is "at least".
      throw new PayloadTooLargeError(
        total,
        MAX_SCRATCHPAD_BYTES,
        `Cannot write scratchpad entry ${JSON.stringify(key)}: stdin`,
      );
    }
    chunks.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

async function readFile(ctx: Context, key: string, file: string): Promise<Uint8Array> {
  const path = isAbsolute(file) ? file : join(ctx.cwd, file);
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new CliError(EXIT.failure, `cannot read ${file}: not a regular file`);
    if (info.size > MAX_SCRATCHPAD_BYTES) throw tooLarge(key, info.size);
    const bytes = await Deno.readFile(path);
    if (bytes.length > MAX_SCRATCHPAD_BYTES) throw tooLarge(key, bytes.length);
    return bytes;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(EXIT.failure, `cannot read ${file}: no such file`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new CliError(EXIT.failure, `cannot read ${file}: permission denied`);
    }
    throw error;
  }
}

function missing(key: string): NotFoundError {
  return new NotFoundError(
    `No scratchpad entry ${JSON.stringify(key)} in this room (never written, removed or expired)`,
  );
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
