/**
 * Opens a URL in the desktop's browser (`agentroom dashboard --open`):
 * `open` on macOS, `xdg-open` elsewhere.
 * Needs `--allow-run` for that program; the hook path never calls it.
 *
 * @module
 */

/** The opener program and its arguments for `url` on `os`. */
export function openerFor(os: string, url: string): { program: string; args: string[] } {
  if (os === "darwin") return { program: "open", args: [url] };
  return { program: "xdg-open", args: [url] };
}

/**
 * Starts the opener and waits for it.
 *
 * @param url the address
 * @returns `undefined` on success, else why it failed (one line)
 */
export async function openBrowser(url: string): Promise<string | undefined> {
  const { program, args } = openerFor(Deno.build.os, url);
  try {
    const out = await new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success ? undefined : `${program} exited with ${out.code}`;
  } catch (error) {
    return `cannot start ${program}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
