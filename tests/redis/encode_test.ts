import assert from "node:assert/strict";
import { encodeCommands } from "../../src/redis/_resp_parser.ts";
import type { RedisArg } from "../../src/redis/port.ts";

// A deliberately naive reference encoder: every part encoded on its own.
function reference(commands: RedisArg[][]): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  for (const args of commands) {
    parts.push(...enc.encode(`*${args.length}\r\n`));
    for (const arg of args) {
      const bytes = arg instanceof Uint8Array ? arg : enc.encode(String(arg));
      parts.push(...enc.encode(`$${bytes.length}\r\n`), ...bytes, ...enc.encode("\r\n"));
    }
  }
  return new Uint8Array(parts);
}

Deno.test("encodeCommands() matches a naive encoder for text, numbers and binary", () => {
  const cases: RedisArg[][][] = [
    [["PING"]],
    [["SET", "k", "v"], ["GET", "k"]],
    [["SET", "ünïcødé 日本 🎉", "é"]],
    [["SET", "lone \ud800 high", "lone \udc00 low", "pair \ud83c\udf89", "end\ud83c"]],
    [["XADD", "s", "*", "n", 42, "f", 1.5, "neg", -7]],
    [["SET", new Uint8Array([0, 255, 13, 10]), "text", new Uint8Array([])], ["ECHO", "x"]],
    [[new Uint8Array([1, 2, 3])]],
    [["EMPTY", ""]],
  ];
  for (const commands of cases) {
    assert.deepEqual(encodeCommands(commands), reference(commands), JSON.stringify(commands));
  }
});
