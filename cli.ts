/**
 * The `agentroom` executable: `deno run` or `deno compile` entry point.
 *
 * ```sh
 * agentroom post NOTE "starting on the auth refactor"
 * agentroom tail --follow
 * ```
 *
 * Hooks take a fast path that loads only the hook handlers, not the CLI.
 * This is the one place that reads the process (arguments, environment,
 * working directory, streams) and exits; the CLI and the hooks get those as
 * values.
 *
 * @module
 */

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string | Uint8Array): void {
  let bytes = typeof text === "string" ? encoder.encode(text) : text;
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** The process as the CLI and the hooks see it. */
function processIo() {
  return {
    env: (name: string): string | undefined => Deno.env.get(name),
    cwd: Deno.cwd(),
    stdout: (text: string) => writeAll(Deno.stdout, text),
    stdoutBytes: (bytes: Uint8Array) => writeAll(Deno.stdout, bytes),
    stderr: (text: string) => writeAll(Deno.stderr, text),
    stdin: Deno.stdin,
    hostname: (): string | undefined => {
      try {
        return Deno.hostname();
      } catch {
        return undefined;
      }
    },
    ppid: Deno.ppid,
    onInterrupt: (stop: () => void) => {
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
      return () => {
        Deno.removeSignalListener("SIGINT", stop);
        Deno.removeSignalListener("SIGTERM", stop);
      };
    },
  };
}

if (import.meta.main) {
  const args = Deno.args;
  const io = processIo();
  if (args.length === 2 && args[0] === "hook" && !args[1]!.startsWith("-")) {
    const { hookMain } = await import("./hooks/main.ts");
    const code = await hookMain(args[1]!, io);
    if (code !== undefined) Deno.exit(code);
  }
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(args, io));
}
