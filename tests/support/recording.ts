/**
 * Test support: a port that records what is sent through it.
 *
 * @module
 */
import type { RedisArg, RedisPort } from "../../src/redis/port.ts";

/** One thing sent through a recording port. */
export type Recorded =
  | { kind: "call"; args: readonly RedisArg[] }
  | { kind: "pipeline"; commands: readonly (readonly RedisArg[])[] }
  | { kind: "script"; script: string; keys: readonly string[] };

/**
 * Wraps `port` so that every call, pipeline and script run is appended to
 * `log` (shared logs let several ports record into one list).
 */
export function recordingPort(
  port: RedisPort,
  log: Recorded[] = [],
): RedisPort & { log: Recorded[] } {
  return {
    address: port.address,
    log,
    call: (args, options) => {
      log.push({ kind: "call", args });
      return port.call(args, options);
    },
    callBytes: (args, options) => {
      log.push({ kind: "call", args });
      return port.callBytes(args, options);
    },
    pipeline: (commands) => {
      log.push({ kind: "pipeline", commands });
      return port.pipeline(commands);
    },
    evalScript: (script, keys, args) => {
      log.push({ kind: "script", script: script.name, keys: [...keys] });
      return port.evalScript(script, keys, args);
    },
    close: () => port.close(),
  };
}

/** The command name of recorded arguments, upper-case. */
export function commandName(args: readonly RedisArg[]): string {
  return String(args[0]).toUpperCase();
}
