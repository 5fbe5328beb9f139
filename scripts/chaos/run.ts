/**
 * The chaos suite: one command that runs every scenario against throwaway
 * `redis-server` processes on 127.0.0.1, prints a Markdown table and writes
 * `RELIABILITY.md` with the figures and the exact commands.
 *
 * ```sh
 * deno run -A scripts/chaos/run.ts            # short profile (about a minute)
 * deno run -A scripts/chaos/run.ts --full     # full profile (the published figures)
 * deno run -A scripts/chaos/run.ts --no-write # print only, leave RELIABILITY.md alone
 * ```
 *
 * Bounded: fixed counts per profile, a deadline on every worker process and
 * a watchdog on the whole run; every process it starts is ended on the way
 * out (also on Ctrl-C). Exit status 1 when any check found a violation.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { aofScenario, hungScenario, oomScenario } from "./faults.ts";
import { claimsScenario } from "./claims.ts";
import { clusterScenario } from "./cluster.ts";
import { fuzzScenario } from "./fuzz.ts";
import { injectionScenario } from "./injection.ts";
import { leasesScenario } from "./leases.ts";
import { workersScenario } from "./workers.ts";
import {
  type Profile,
  REDIS_SERVER,
  type Row,
  runningChildren,
  startServer,
  stopEverything,
} from "./_lib.ts";

/** One scenario: a name and how to run it. */
interface Scenario {
  name: string;
  run: (profile: Profile) => Promise<Row[]>;
}

/** Runs `fn` against a fresh server of its own, stopped afterwards. */
function onServer(fn: (url: string, profile: Profile) => Promise<Row[]>) {
  return async (profile: Profile) => {
    const server = await startServer();
    try {
      return await fn(server.url, profile);
    } finally {
      await server.stop();
    }
  };
}

/** Every scenario, in order. Extra scenarios (the cluster) are added by their modules. */
export const SCENARIOS: Scenario[] = [
  { name: "claims", run: onServer(claimsScenario) },
  { name: "leases", run: onServer(leasesScenario) },
  { name: "faults: kill -9 + AOF", run: aofScenario },
  { name: "faults: hung server", run: hungScenario },
  { name: "faults: OOM", run: oomScenario },
  { name: "fuzz", run: onServer(fuzzScenario) },
  { name: "injection", run: onServer(injectionScenario) },
  {
    name: "cluster",
    // 12 redis-server processes and two failovers: the full profile only
    run: (profile) =>
      profile === "full" ? clusterScenario(profile) : Promise.resolve([{
        scenario: "cluster",
        check: "master kill -9 and failover, durability option off and on",
        volume: "full profile only (`--full`, or `--only cluster --full`)",
        violations: null,
        examples: [],
      }]),
  },
  { name: "workers", run: onServer(workersScenario) },
];

/** What a run found. */
export interface ChaosResult {
  profile: Profile;
  rows: Row[];
  /** Seconds per scenario. */
  seconds: Record<string, number>;
  /** Total violations (0: all good). */
  violations: number;
  /** A scenario that crashed, with its error (counted as a violation). */
  crashed: string[];
}

/** Runs the scenarios of `profile` (all, or those whose names start with one of `only`). */
export async function runChaos(
  profile: Profile,
  options: { only?: string[]; log?: (line: string) => void } = {},
): Promise<ChaosResult> {
  const rows: Row[] = [];
  const seconds: Record<string, number> = {};
  const crashed: string[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (options.only && !options.only.some((o) => scenario.name.startsWith(o))) continue;
      const start = performance.now();
      options.log?.(`chaos: ${scenario.name} ...`);
      try {
        rows.push(...await scenario.run(profile));
      } catch (error) {
        crashed.push(
          `${scenario.name}: ${error instanceof Error ? error.stack ?? error.message : error}`,
        );
        rows.push({
          scenario: scenario.name,
          check: "the scenario ran to the end",
          volume: "crashed",
          violations: 1,
          examples: [String(error instanceof Error ? error.message : error).slice(0, 300)],
        });
      }
      seconds[scenario.name] = (performance.now() - start) / 1000;
      options.log?.(`chaos: ${scenario.name} done in ${seconds[scenario.name]!.toFixed(1)} s`);
    }
  } finally {
    await stopEverything();
  }
  const violations = rows.reduce((s, r) => s + (r.violations ?? 0), 0);
  return { profile, rows, seconds, violations, crashed };
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The result as a Markdown table. */
export function markdownTable(result: ChaosResult): string {
  const lines = [
    "| scenario | check | volume | violations | notes |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const r of result.rows) {
    const notes = [r.note, ...r.examples.map((e) => `e.g. ${e}`)].filter(Boolean).join("; ");
    lines.push(
      `| ${cell(r.scenario)} | ${cell(r.check)} | ${cell(r.volume)} | ${
        r.violations === null ? "n/a" : r.violations
      } | ${cell(notes)} |`,
    );
  }
  return lines.join("\n");
}

async function version(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim().split("\n")[0]!;
  } catch {
    return "unknown";
  }
}

/** A short description of the machine. */
export async function machineLine(): Promise<string> {
  const redis = await version(REDIS_SERVER, ["--version"]);
  const cpus = navigator.hardwareConcurrency;
  return `Deno ${Deno.version.deno}, ${redis}, ${cpus} CPU cores (${Deno.build.os}/${Deno.build.arch})`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      full: { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      out: { type: "string", default: "RELIABILITY.md" },
    },
  });
  const profile: Profile = values.full ? "full" : "short";
  // the watchdog: the whole run is bounded even if something hangs
  const watchdog = setTimeout(async () => {
    console.error(`chaos: the run exceeded its time limit; stopping`);
    await stopEverything();
    Deno.exit(1);
  }, profile === "full" ? 45 * 60_000 : 5 * 60_000);
  Deno.unrefTimer(watchdog);
  Deno.addSignalListener("SIGINT", async () => {
    await stopEverything();
    Deno.exit(130);
  });
  const started = new Date();
  const result = await runChaos(profile, { only: values.only, log: (l) => console.error(l) });
  clearTimeout(watchdog);
  const table = markdownTable(result);
  console.log(table);
  for (const c of result.crashed) console.error(`chaos: crashed: ${c}`);
  console.error(
    `chaos: ${result.violations} violation(s); ${runningChildren()} process(es) left running`,
  );
  if (!values["no-write"]) {
    const { reliabilityMarkdown } = await import("./report.ts");
    const text = reliabilityMarkdown(result, table, {
      machine: await machineLine(),
      started,
      args: Deno.args,
    });
    await Deno.writeTextFile(values.out, text);
    // the repository's formatting (aligned tables), so `deno fmt --check` stays clean
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", values.out] }).output();
    console.error(`chaos: wrote ${values.out}`);
  }
  Deno.exit(result.violations === 0 ? 0 : 1);
}
