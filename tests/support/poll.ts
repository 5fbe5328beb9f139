/**
 * Test support: the one polling helper, for waiting on what has no event to
 * await (a lapse on the server clock, a client blocking in Redis).
 *
 * @module
 */

/**
 * Polls `probe` every 5 ms until it returns something other than
 * `undefined`/`false`, and returns that; fails naming `what` after
 * `deadlineMs` (a hang guard, not a timing assertion).
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  deadlineMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
