/**
 * Incremental RESP2 reply parser and command encoder used by `resp.ts`.
 * The parser keeps its state between chunks, so a reply split over many reads
 * (or a multi-megabyte bulk string) is parsed without re-scanning.
 *
 * @module
 */
import type { RedisArg, RedisReply } from "./port.ts";

/** An error reply (`-ERR ...`) as decoded by the parser. */
export class RespErrorReply {
  /** Creates the value from the server's error text. */
  constructor(readonly message: string) {}
}

/** A decoded top-level reply: a value, or the server's error. */
export type RespValue = RedisReply | RespErrorReply;

/** Thrown by {@linkcode RespParser.feed} when the stream is not valid RESP. */
export class RespProtocolError extends Error {}

interface Frame {
  items: RedisReply[];
  remaining: number;
  error?: RespErrorReply;
}

const CR = 13;
const INITIAL_SIZE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Parses RESP2 replies from a byte stream fed chunk by chunk. */
export class RespParser {
  #buf = new Uint8Array(INITIAL_SIZE);
  #start = 0;
  #end = 0;
  #stack: Frame[] = [];
  #bulk = -1;
  /** Index of the top-level reply being parsed. */
  #index = 0;
  /** Indexes of top-level replies whose bulk strings stay bytes. */
  #raw = new Set<number>();

  /**
   * Keeps the bulk strings of top-level reply number `index` (counting every
   * reply since the connection opened, from 0) as `Uint8Array`, undecoded.
   */
  rawReply(index: number): void {
    this.#raw.add(index);
  }

  /** Adds `chunk` and returns every reply it completed, in order. */
  feed(chunk: Uint8Array): RespValue[] {
    this.#append(chunk);
    const out: RespValue[] = [];
    for (;;) {
      const value = this.#next();
      if (value === undefined) break;
      const done = this.#complete(value);
      if (done !== undefined) {
        out.push(done);
        this.#raw.delete(this.#index++);
      }
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#buf.length > INITIAL_SIZE * 16) this.#buf = new Uint8Array(INITIAL_SIZE);
    }
    return out;
  }

  /** Parses one scalar or array header; undefined when more bytes are needed. */
  #next(): RespValue | RedisReply[] | undefined {
    if (this.#bulk >= 0) return this.#takeBulk();
    const lineEnd = this.#buf.subarray(0, this.#end).indexOf(CR, this.#start);
    if (lineEnd < 0 || lineEnd + 1 >= this.#end) return undefined;
    const type = this.#buf[this.#start];
    const line = decoder.decode(this.#buf.subarray(this.#start + 1, lineEnd));
    this.#start = lineEnd + 2;
    switch (type) {
      case 0x2b: // +
        return line;
      case 0x2d: // -
        return new RespErrorReply(line);
      case 0x3a: // :
        return toInt(line);
      case 0x24: { // $
        const len = toInt(line);
        if (len < 0) return null;
        this.#bulk = len;
        return this.#takeBulk();
      }
      case 0x2a: { // *
        const len = toInt(line);
        if (len < 0) return null;
        if (len === 0) return [];
        this.#stack.push({ items: [], remaining: len });
        return this.#next();
      }
      default:
        throw new RespProtocolError(`invalid RESP type byte ${type} (is this a Redis server?)`);
    }
  }

  #takeBulk(): RedisReply | undefined {
    const len = this.#bulk;
    if (this.#end - this.#start < len + 2) {
      this.#reserve(len + 2);
      return undefined;
    }
    const bytes = this.#buf.subarray(this.#start, this.#start + len);
    // A raw reply's bulk strings are copies of the bytes (the caller asked for bytes).
    const value = this.#raw.has(this.#index)
      ? bytes.slice() as unknown as RedisReply
      : decoder.decode(bytes);
    this.#start += len + 2;
    this.#bulk = -1;
    return value;
  }

  /** Places a value into the open array, returning a finished top-level reply. */
  #complete(value: RespValue | RedisReply[]): RespValue | undefined {
    let current = value;
    for (;;) {
      const frame = this.#stack.at(-1);
      if (frame === undefined) return current;
      if (current instanceof RespErrorReply) {
        frame.error ??= current;
        frame.items.push(null);
      } else {
        frame.items.push(current);
      }
      if (--frame.remaining > 0) return undefined;
      this.#stack.pop();
      // A nested error reply (MULTI/EXEC) turns the whole reply into that error.
      current = frame.error ?? frame.items;
    }
  }

  #append(chunk: Uint8Array): void {
    this.#reserve(this.#end - this.#start + chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Makes room for `total` bytes from the first unread byte on. */
  #reserve(total: number): void {
    if (this.#start + total <= this.#buf.length) return;
    const unread = this.#end - this.#start;
    if (total <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      let size = this.#buf.length * 2;
      while (size < total) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = unread;
  }
}

function toInt(text: string): number {
  if (!/^-?[0-9]+$/.test(text)) throw new RespProtocolError(`invalid RESP integer "${text}"`);
  return Number(text);
}

/** Encodes commands as RESP arrays of bulk strings, in one buffer. */
export function encodeCommands(commands: readonly (readonly RedisArg[])[]): Uint8Array {
  // Text is gathered into one string and encoded once; only binary arguments
  // (Uint8Array) are copied as they are.
  const parts: Uint8Array[] = [];
  let text = "";
  for (const args of commands) {
    text += `*${args.length}\r\n`;
    for (const arg of args) {
      if (arg instanceof Uint8Array) {
        parts.push(encoder.encode(text + `$${arg.length}\r\n`), arg);
        text = "\r\n";
      } else {
        const value = String(arg);
        text += `$${utf8Length(value)}\r\n${value}\r\n`;
      }
    }
  }
  if (parts.length === 0) return encoder.encode(text);
  parts.push(encoder.encode(text));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** UTF-8 byte length of a string as TextEncoder encodes it (lone surrogates → 3 bytes). */
function utf8Length(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (
      c >= 0xd800 && c < 0xdc00 && i + 1 < value.length &&
      (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
