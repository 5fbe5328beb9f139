/**
 * `hook pre-tool-use`: before a file-editing tool runs, check whether a live
 * lease of another agent covers the file. Resource leases arrive with the
 * coordination module; until then this hook has nothing to check and stays
 * silent.
 *
 * @module
 */
import type { HookContext, HookReply } from "./_context.ts";

/** Runs the pre-tool-use hook. */
export function preToolUse(_ctx: HookContext): Promise<HookReply> {
  return Promise.resolve({});
}
