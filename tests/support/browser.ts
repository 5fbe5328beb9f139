/**
 * Test support: a real headless Chromium (Debian's `/usr/bin/chromium`,
 * installed by `scripts/browser.sh` when missing) driven by `puppeteer-core`
 * (an npm import in deno.json; it downloads no browser). A fresh profile per
 * launch. `AGENTROOM_SKIP_BROWSER=1` skips the browser tests; otherwise a
 * missing browser fails them loudly.
 *
 * @module
 */
import puppeteer, { type Browser } from "puppeteer-core";

/** Where Debian puts Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether the browser tests are skipped (AGENTROOM_SKIP_BROWSER=1). */
export const SKIP_BROWSER = Deno.env.get("AGENTROOM_SKIP_BROWSER") === "1";

/** The flags every launch uses (headless, no sandbox as root, no background traffic). */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Installs Chromium through scripts/browser.sh when missing; throws when it stays missing. */
export async function ensureChromium(): Promise<void> {
  if (await exists(CHROMIUM)) return;
  const script = new URL("../../scripts/browser.sh", import.meta.url).pathname;
  const out = await new Deno.Command("sh", { args: [script], stdout: "inherit", stderr: "inherit" })
    .output();
  if (!out.success || !(await exists(CHROMIUM))) {
    throw new Error(
      `no browser at ${CHROMIUM} (scripts/browser.sh exited ${out.code}); ` +
        "install Debian's chromium or set AGENTROOM_SKIP_BROWSER=1",
    );
  }
}

/** A launched browser with its own profile directory. */
export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh `--user-data-dir`. */
export async function launchBrowser(): Promise<LaunchedBrowser> {
  await ensureChromium();
  const profile = await Deno.makeTempDir({ prefix: "agentroom-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
    defaultViewport: { width: 1400, height: 1000 },
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
