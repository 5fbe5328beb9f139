/**
 * `agentroom version`: what is running.
 *
 * @module
 */
import { PACKAGE_NAME, VERSION } from "../version.ts";
import type { Command, Context } from "./_context.ts";

/** The version command. */
export const version: Command = {
  name: "version",
  summary: "show version, runtime and target (--verbose: the executable's checksum)",
  usage: "version [--verbose] [--json]",
  details: [
    "The executable is the compiled agentroom binary, or the deno binary when run from source.",
    "--verbose adds its SHA-256 (reads the whole executable), to check a download against",
    "SHA256SUMS. 'agentroom --version' (-V) prints only the version line.",
  ],
  examples: ["version", "version --verbose --json", "--version"],
  flags: {
    verbose: { type: "boolean", help: "also hash the executable (SHA-256)" },
  },
  args: { min: 0, max: 0, what: "" },
  run: async (ctx: Context) => {
    const executable = Deno.execPath();
    let sha256 = "";
    if (ctx.bool("verbose")) {
      try {
        const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(executable));
        sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(
          "",
        );
      } catch (error) {
        ctx.out.warn(`cannot hash ${executable}: ${(error as Error).message}`);
      }
    }
    const info = {
      name: PACKAGE_NAME,
      version: VERSION,
      deno: Deno.version.deno,
      typescript: Deno.version.typescript,
      target: Deno.build.target,
      executable,
      ...(ctx.bool("verbose") ? { sha256 } : {}),
    };
    if (ctx.json) {
      ctx.out.json(info);
      return 0;
    }
    ctx.out.line(`agentroom ${info.version} (${info.name})`);
    ctx.out.line(`deno: ${info.deno} (typescript ${info.typescript})`);
    ctx.out.line(`target: ${info.target}`);
    ctx.out.line(`executable: ${info.executable}`);
    if (ctx.bool("verbose")) ctx.out.line(`sha256: ${sha256 || "(unavailable)"}`);
    return 0;
  },
};
