/**
 * How the CLI ends: its exit codes, and the error type a command throws to
 * end with one `error:` line and a chosen exit code. The library's errors
 * describe the library; which exit code one becomes is decided here and in
 * `main.ts`, never in the core.
 *
 * @module
 */

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2, conflict: 3 } as const;

/** One of the {@linkcode EXIT} codes. */
export type ExitCode = typeof EXIT[keyof typeof EXIT];

/** An error a command reports as one `error:` line with its own exit code. */
export class CliError extends Error {
  /** The exit code the CLI ends with. */
  readonly exitCode: ExitCode;
  /**
   * Creates the error.
   * @param exitCode the exit code
   * @param message the `error:` line, lower case, no final period
   * @param options standard error options (`cause`)
   */
  constructor(exitCode: ExitCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** Contention (someone else holds it, it is done already): exit 3. */
export function conflictError(message: string, options?: ErrorOptions): CliError {
  return new CliError(EXIT.conflict, message, options);
}

/** A refused step that is no contention (not the owner, wrong state): exit 1. */
export function refusedError(message: string): CliError {
  return new CliError(EXIT.failure, message);
}
