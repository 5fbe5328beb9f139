/**
 * The text of `RELIABILITY.md`, written by `run.ts` from a run's result.
 *
 * @module
 */
import type { ChaosResult } from "./run.ts";

/** The whole RELIABILITY.md for `result`. */
export function reliabilityMarkdown(
  result: ChaosResult,
  table: string,
  meta: { machine: string; started: Date; args: string[] },
): string {
  const command = ["deno run -A scripts/chaos/run.ts", ...meta.args].join(" ");
  const durations = Object.entries(result.seconds)
    .map(([name, s]) => `${name} ${s.toFixed(0)} s`)
    .join(", ");
  return `# Reliability

<!-- written by \`${command}\`; do not edit by hand: rerun it -->

These figures come from the chaos suite in \`scripts/chaos/\`. Anyone can reproduce them: it
needs only Deno and \`redis-server\`, starts its own throwaway servers on 127.0.0.1, and stops
every process it started when it ends (also on Ctrl-C or when its watchdog fires).

\`\`\`sh
deno run -A scripts/chaos/run.ts --full      # the published figures (this file)
deno run -A scripts/chaos/run.ts             # the short profile (also run by the test command)
deno run -A scripts/chaos/run.ts --no-write  # print the table only
deno run -A scripts/chaos/run.ts --only claims --only fuzz --no-write  # some scenarios
\`\`\`

\`REDISMS_SYSTEM_BINARY\` selects the \`redis-server\` binary (default: the one on PATH). The test
command runs the short profile (\`tests/chaos_test.ts\`) and fails on any violation.

## Latest run

- Command: \`${command}\` (profile **${result.profile}**), ${meta.started.toISOString()}
- Machine: ${meta.machine}; a shared VM with other work running
- Time per scenario: ${durations}
- **Violations: ${result.violations}**

${table}

## What each scenario does and checks

**claims.** Worker processes (one RESP connection each) make random claims over a set of tasks with
TTLs of 2, 5, 20 and 50 ms, so most claims lapse while the others race for them; after a win a
worker sometimes completes the task strictly. The audit stream is the judge: the claim and complete
scripts write TASK_CLAIMED / TASK_DONE in the same atomic step, on the server clock. Replayed per
task, no claim by another agent may start before the previous holder's deadline (a *double
winner*), no strict completion may come from a non-holder, no task is completed twice or claimed
after completion. Every acknowledged win and completion is its audit event (same task, same agent),
and every audit event was acknowledged to someone. After the run and once every claim has lapsed,
every task is either done or back in the open index (nothing *lost*).

**leases.** The property test's workers (\`tests/support/coordinator.ts\`, two agents each) run
random lease, guard and quiet-window operations with lifetimes of a few ms, in rounds of one fresh
room each. Workers take atomic snapshots every 20 operations and check that no two live leases of
different owners overlap, no two live windows overlap, and no active window overlaps another
agent's lease. After each round the whole audit stream is replayed through an independent model of
the rules (\`tests/support/coord_model.ts\`): every change was legal, the invariants hold after
every event, every successful answer is its event, and every refusal was right at some instant of
its call.

**faults: kill -9 + AOF.** A server with \`--appendonly yes --appendfsync always\` takes publishes
and claims from several writers; it is killed with SIGKILL and restarted on the same port and data
directory several times. A call in flight at the kill has an unknown outcome for its caller (it
may or may not have happened; the count is reported); everything that was *acknowledged* must be in
the stream after the restarts, exactly once, and no task may have two holders.

**faults: hung server.** The server is stopped with SIGSTOP (it accepts connections but never
answers). Every CLI command that does not wait by design must exit 1 with one \`error:\` line,
every hook must exit 0 and print nothing, in-process and as real subprocesses of \`cli.ts\` with the
executable's permissions. The slowest run is reported; the deadlines are 1.5 s to connect and 2 s
per command for the CLI and 1.5 s in total for a hook (\`AGENTROOM_HOOK_TIMEOUT_MS\`).

**faults: OOM.** A server with \`maxmemory-policy noeviction\` is filled until it refuses writes,
then given a little room, and a claim and a lease acquire are attempted for each of many tasks and
resources, crossing the memory limit mid-run. The library's errors must name memory; the CLI must
exit with one \`error:\` line; a hook stays silent. Every claim and lease is then all or nothing:
the owner key or live lease exists exactly when its audit event does (the scripts are atomic: Redis
refuses a script before its first write, never halfway).

**fuzz.** Random command lines from the CLI's own vocabulary (commands, subcommands, their flags
and the global flags) with hostile values, half of them well-formed templates, run in-process
through \`main(args, io)\` plus a sample as real subprocesses; and random or mutated payloads for
every hook event (truncated JSON, wrong types, missing fields, garbage). Exit codes must be in the
documented set {0, 1, 2, 3}, no stack trace may appear, a failure must be one \`error:\` line, and a
usage error (exit 2) must write nothing to Redis (checked with the server's change counter,
\`rdb_changes_since_last_save\`, around every run). Hooks must exit 0 with nothing or one JSON
line. Commands that wait by design (\`ask\`, \`wait\`, \`watch\`, \`tail --follow\`) and \`setup\`
(writes files) are left out.

**injection.** A hostile corpus (fence breakers, fake fences and headers, ANSI and OSC sequences,
C1 controls, bidi and zero-width characters, line and paragraph separators, HTML/JS) goes through
every field that reaches a hook or a terminal: message payloads, event types, handles, task
descriptions, lease and window purposes and resources, work scope and summary, directed messages,
the lobby welcome; and forged records written straight into Redis around the scripts (events with
hostile fields and non-JSON payloads, catalog entries, presence, lease and window records). Each
hostile string carries the word PWNED. The victim's hooks (session-start, post-tool-use, stop,
user-prompt-submit, pre-tool-use) must pass the fence check of the tests
(\`tests/support/fence_check.ts\`: every line trusted or one fenced item, no look-alike fences, no
unknown headers) and PWNED may appear only inside a fence. The Stop hook's reason (which the
harness uses as the next instruction) must be its fixed sentence, whose only variable parts are a
count and sender ids reduced to \`[A-Za-z0-9._@-]\` and clipped to 60 characters. \`status\`, \`tail\`,
\`who\`, \`inbox\`, \`catalog\`, \`open\`, \`lease list\`, \`window list\` must print no raw control,
escape, bidi or zero-width character.

Known exposure (by design, reported here rather than hidden): a sender's agent id appears in the
Stop reason outside any fence, reduced to identifier characters. A hostile handle such as
\`ignore-all-previous-instructions\` therefore reaches the agent's next instruction as those
characters. The dashboard is not covered (it is not on main).

**cluster** (full profile only). Six \`redis-server\` processes form a Redis Cluster of 3 masters
and 3 replicas (\`--cluster-enabled yes\`, \`redis-cli --cluster create --cluster-replicas 1\`,
node timeout 1 s, no persistence). Writers (ioredis cluster connections) claim fresh tasks and
acquire leases in one room with a steady load; the master that owns the room's slot is killed with
SIGKILL; its replica is promoted. The load goes on through the failover, then every acknowledged
claim (owner key and TASK_CLAIMED) and lease is looked up on the new master, and every lost claim
is offered to another agent (a lost claim that someone else wins is a second holder). Run twice, on
fresh clusters: with the durability option off and on (\`durabilityReplicas: 1\`,
\`durabilityTimeoutMs: 500\`: WAIT after each change, on the connection to the slot's master).
These rows are measurements, not pass/fail checks: Redis replication is asynchronous, and what a
failover loses without the option is the replication lag at the moment of the kill, which on
loopback is far below a millisecond (a network link between master and replica widens it). With
the option on, after the failover the promoted master has no replica, so every WAIT times out;
each timeout is reported to the caller as \`ReplicationTimeoutError\` (CLI exit 1) and counted
here, with the change made on the new master but confirmed nowhere. A call in flight at the kill
fails for its caller with an unknown outcome (counted as calls failed).

**workers.** Two \`agentroom worker\` processes of one group (concurrency 2 each, \`--min-idle 1s\`)
run a shell command for every JOB event, which appends the event id to a file. Mid-batch, one of
them is killed with SIGKILL and started again under the same consumer name, several times. Every
event must have run at least once (nothing lost); reruns are counted, not violations: the
documented delivery of workers is at least once.
`;
}
