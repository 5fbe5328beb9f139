/**
 * The one day that bounds the library's waits and leases, defined once: the
 * longest claim, ask, lease, quiet window, ack timeout and work status, and
 * how long an ended window stays visible. Not exported from `mod.ts`; each
 * public limit names it.
 *
 * @module
 */

/** One day in milliseconds. */
export const DAY_MS = 24 * 3_600_000;
