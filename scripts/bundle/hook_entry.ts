/**
 * The entry point of the hook bundle (`deno task bundle`): `hook_entry.js
 * <event>` answers one hook exactly as `agentroom hook <event>` does, through
 * the same `hookMain`, without loading the CLI. Like `cli.ts`, it is the one
 * place of its process that reads the process.
 *
 * @module
 */
import { hookMain } from "../../hooks/main.ts";

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

if (import.meta.main) {
  const event = Deno.args[0] === "hook" ? Deno.args[1] : Deno.args[0];
  const code = event === undefined ? undefined : await hookMain(event, {
    env: (name) => Deno.env.get(name),
    cwd: Deno.cwd(),
    stdin: Deno.stdin,
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
  });
  if (code === undefined) {
    writeAll(Deno.stderr, `error: unknown hook event ${JSON.stringify(event ?? "")}\n`);
    Deno.exit(2);
  }
  Deno.exit(code);
}
