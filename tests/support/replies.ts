/**
 * Test support for script-reply decoders.
 *
 * @module
 */
import assert from "node:assert/strict";
import { UnexpectedReplyError } from "../../src/errors.ts";

/** Asserts that `fn` throws an UnexpectedReplyError naming `script`. */
export function assertUnexpected(fn: () => unknown, script: string, what: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UnexpectedReplyError, `${what}: ${error}`);
    assert.equal(error.code, "unexpected_reply");
    assert.equal(error.script, script);
    assert.match(error.message, new RegExp(`^Unexpected reply from the ${script} script: `));
    return true;
  }, what);
}

/** Replies no script documents: no array, no tag, an unknown tag, a tag that is no string. */
export const ROGUE_REPLIES: readonly unknown[] = [null, "ok", 7, [], ["maybe"], [1, 2], [["ok"]]];
