/**
 * The `agentroom` executable: `deno run` or `deno compile` entry point.
 *
 * ```sh
 * agentroom post NOTE "starting on the auth refactor"
 * agentroom tail --follow
 * ```
 *
 * Hooks take a fast path that loads only the hook handlers, not the CLI.
 *
 * @module
 */

if (import.meta.main) {
  const args = Deno.args;
  if (args.length === 2 && args[0] === "hook" && !args[1]!.startsWith("-")) {
    const { hookMain } = await import("./hooks/main.ts");
    const code = await hookMain(args[1]!);
    if (code !== undefined) Deno.exit(code);
  }
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(args));
}
