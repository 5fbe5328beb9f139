import assert from "node:assert/strict";
import { clip, oneLine, terminalText } from "../src/sanitize.ts";

Deno.test("terminalText() strips escape sequences and control characters", () => {
  assert.equal(terminalText("\u001b[31mred\u001b[0m"), "red");
  assert.equal(terminalText("a\u001b]0;title\u0007b"), "ab");
  assert.equal(terminalText("a\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\b"), "alinkb");
  assert.equal(terminalText("x\u009b2Jy"), "xy");
  assert.equal(terminalText("tab\there\r\nnul\u0000del\u007f"), "tabherenuldel");
  assert.equal(terminalText("café ünï 日本"), "café ünï 日本");
  assert.equal(terminalText("safe\u001b[unterminated"), "safenterminated");
  assert.equal(terminalText("ok\u001b]52;c;payload-never-ends"), "ok");
  assert.equal(terminalText("rtl\u202eevil"), "rtlevil");
});

Deno.test("oneLine() turns newlines into spaces and clip() cuts on code points", () => {
  assert.equal(oneLine("a\nb\r\nc"), "a b c");
  assert.equal(clip("日本語テキスト", 3), "日本語...");
  assert.equal(clip("short", 10), "short");
});
