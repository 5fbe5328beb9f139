/**
 * End-to-end: the real `cli.ts` as a subprocess with the compiled binary's
 * permissions. The behaviour of each command is tested in-process (see
 * `tests/support/cli.ts`); these check what only a process shows: the exit
 * code, what lands on stdout and stderr, and that a refused command wrote
 * nothing.
 */
import assert from "node:assert/strict";
import { COMMANDS, EXIT } from "../../src/cli/main.ts";
import { agent, type CliResult, inBatches, ok, spawnCli } from "../support/cli.ts";
import { closedPort, roomKeyCount, uniqueRepo } from "../support/redis.ts";

function oneError(r: CliResult, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: exit ${r.code}, ${r.stderr}`);
  assert.match(r.stderr, pattern, what);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `one error line: ${what}`);
  assert.equal(r.stdout, "", `${what}: nothing on stdout`);
}

Deno.test("every command as a process: an unknown flag exits 2 with one line and writes nothing", async () => {
  const repo = uniqueRepo();
  const a = agent(repo, "aaaa1111", "alice");
  const results = await inBatches(
    COMMANDS.map((c) => () => a.spawn([c.name, "--no-such-flag"])),
    4,
  );
  COMMANDS.forEach((c, i) => {
    oneError(
      results[i]!,
      EXIT.usage,
      new RegExp(`^error: unknown flag --no-such-flag; run 'agentroom ${c.name} --help'\\n$`),
      c.name,
    );
  });
  assert.equal(await roomKeyCount(repo), 0, "nothing written");
});

Deno.test("exit codes as a process: 0 with output, 3 for a conflict, 1 with Redis down, 2 bare", async () => {
  const repo = uniqueRepo();
  const alice = agent(repo, "aaaa1111", "alice");
  const bob = agent(repo, "bbbb2222", "bob");
  const posted = ok(await alice.spawn(["post", "NOTE", "hello"]), "post");
  assert.match(posted.stdout, /^posted NOTE as alice-aaaa1111 \(entry \d+-\d+\)\n$/);
  assert.equal(posted.stderr, "");
  ok(await alice.spawn(["lease", "acquire", "path:src/db/", "--purpose", "migrate"]), "acquire");
  const [conflict, down, bare] = await Promise.all([
    bob.spawn(["guard", "path:src/db/x.sql"]),
    bob.spawn(["who"], { env: { AGENTROOM_REDIS_URL: `redis://127.0.0.1:${closedPort()}` } }),
    spawnCli([]),
  ]);
  oneError(conflict, EXIT.conflict, /^error: unsafe: path:src\/db\/x\.sql conflicts/, "guard");
  oneError(down, EXIT.failure, /^error: Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: /, "who");
  assert.equal(bare.code, EXIT.usage);
  assert.match(bare.stderr, /^error: missing command; run 'agentroom --help'\n$/);
});
