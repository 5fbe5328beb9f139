/**
 * A cancellable one-shot timer built on `AbortSignal.timeout`. Deno's first
 * `setTimeout` call costs 4–7 ms (measured on Deno 2.9.6), which short-lived
 * processes such as hooks pay on every run; `AbortSignal.timeout` costs
 * ~0.3 ms, and its timer does not keep the process alive.
 *
 * @module
 */

/**
 * Runs `fn` after `ms` milliseconds unless the returned function is called first.
 *
 * @param ms delay in milliseconds
 * @param fn what to run
 * @returns a function that cancels the timer
 */
export function after(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(ms);
  const onAbort = () => fn();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}
