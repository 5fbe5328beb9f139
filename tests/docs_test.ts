/**
 * The README is part of the contract: every command, exit code and
 * environment variable the CLI knows is documented there.
 */
import assert from "node:assert/strict";
import { COMMANDS, EXIT } from "../src/cli/main.ts";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("README documents every command in its command table", () => {
  for (const command of COMMANDS) {
    assert.ok(
      README.includes(`| \`${command.name}`),
      `README has no command table row for ${command.name}`,
    );
  }
});

Deno.test("README documents every exit code", () => {
  for (const [name, code] of Object.entries(EXIT)) {
    assert.match(README, new RegExp(`\\n\\| ${code}\\s+\\|`), `exit code ${code} (${name})`);
  }
});

Deno.test("README documents every environment variable the CLI and hooks read", async () => {
  const sources = [
    "../src/process/settings.ts",
    "../src/cli/_context.ts",
    "../src/cli/_env.ts",
    "../hooks/mod.ts",
    "../hooks/main.ts",
    "../hooks/_context.ts",
    "../hooks/pre_tool_use.ts",
  ];
  const names = new Set<string>();
  for (const source of sources) {
    const text = await Deno.readTextFile(new URL(source, import.meta.url));
    for (
      const match of text.matchAll(
        /"((?:AGENTROOM|REDIS|CLAUDE|CODEX|TERM)_[A-Z_]+|REPO_ID|BRANCH_NAME)"/g,
      )
    ) {
      names.add(match[1]!);
    }
  }
  assert.ok(names.size >= 10, `found ${[...names]}`);
  for (const name of names) assert.ok(README.includes(name), `README does not mention ${name}`);
});
