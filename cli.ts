/**
 * The `agentroom` executable: `deno run` or `deno compile` entry point.
 *
 * ```sh
 * agentroom post NOTE "starting on the auth refactor"
 * agentroom tail --follow
 * ```
 *
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
