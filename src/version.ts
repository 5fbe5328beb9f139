/**
 * The version of agentroom, read from deno.json so it is the only source.
 *
 * @module
 */
import meta from "../deno.json" with { type: "json" };

/** The package version, e.g. `0.1.0`. */
export const VERSION: string = meta.version;
/** The package name on JSR. */
export const PACKAGE_NAME: string = meta.name;
