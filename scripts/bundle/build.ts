/**
 * Builds the hook bundle from the sources: `deno bundle --code-splitting` of
 * `scripts/bundle/hook_entry.ts` into `dist/hooks/` (`hook_entry.js` plus
 * chunks). Code splitting keeps each lazily imported module lazy: the
 * handler of one event, and the ioredis adapter (which only a Redis Cluster
 * loads), stay out of a quiet hook's start-up.
 *
 * ```sh
 * deno task bundle                       # -> dist/hooks/hook_entry.js
 * deno run --allow-net --allow-env --allow-read --allow-write --allow-sys=hostname \
 *   dist/hooks/hook_entry.js user-prompt-submit < payload.json
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Bundles the hook entry into `outdir`.
 *
 * @param outdir the output directory (replaced)
 * @returns the path of the entry module in `outdir`
 * @throws {Error} with deno's stderr when bundling fails
 */
export async function bundleHooks(outdir = `${ROOT}dist/hooks`): Promise<string> {
  await Deno.remove(outdir, { recursive: true }).catch(() => {});
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--code-splitting",
      "--external",
      "ioredis",
      "--outdir",
      outdir,
      `${ROOT}scripts/bundle/hook_entry.ts`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return `${outdir}/hook_entry.js`;
}

if (import.meta.main) {
  try {
    console.log(`wrote ${await bundleHooks()}`);
  } catch (error) {
    console.error(`error: ${(error as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
