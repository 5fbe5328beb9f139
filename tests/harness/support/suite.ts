/**
 * The conformance checks every harness runs, registered once: digest, delta,
 * refused edit and SESSION_ENDED on the "another agent leases src/x.ts"
 * scene, and the own-shell-lease check with its two controls. Each harness
 * test file provides its scenes and the words that name its tools.
 *
 * @module
 */
import type { RecordedRequest } from "./anthropic.ts";
import {
  caseAndControl,
  deltaOnly,
  digestFenced,
  fileUnchanged,
  ownShellLease,
  type RoomEvent,
  sessionEndedAsk,
} from "./conformance.ts";
import { agentroomAs, FILES, readFile, roomEvents, type Workspace } from "./workspace.ts";
import { ok } from "../../support/cli.ts";

/** A case run has agentroom's hooks; its control has them removed. */
export type Variant = "case" | "control";

/** What the "another agent leases src/x.ts" scene produced. */
export interface ForeignRun {
  ws: Workspace;
  ask: string;
  note: string;
  laterNote: string;
  first: { requests: RecordedRequest[] };
  second: { requests: RecordedRequest[] };
  xAfter: string;
  events: RoomEvent[];
}

/** What the "lease through the shell tool, then edit" scene produced. */
export interface OwnRun {
  ws: Workspace;
  run: { requests: RecordedRequest[] };
  yAfter: string;
  events: RoomEvent[];
}

/** Another agent (its own session) in the room. */
export const BOB = "bob-session-7f3a9c";

/**
 * The "another agent leases src/x.ts" scene, the same for every harness: Bob
 * posts a NOTE and leases src/x.ts; `edit` runs the harness's first prompt
 * (which edits src/x.ts); Bob posts another NOTE; `resume` continues the
 * session with a second prompt.
 *
 * @param ws the workspace
 * @param edit runs the first prompt, given the opening ask
 * @param resume continues the session after the first run
 */
export async function playForeignScene<R extends { requests: RecordedRequest[] }>(
  ws: Workspace,
  edit: (ask: string) => Promise<R>,
  resume: (first: R) => Promise<R>,
): Promise<ForeignRun & { first: R; second: R }> {
  const tag = crypto.randomUUID().slice(0, 8);
  const note = `deploy freeze until five ${tag}`;
  const laterNote = `freeze lifted ${tag}`;
  ok(await agentroomAs(ws, BOB, ["post", "NOTE", note], "bob"), "bob posts");
  ok(
    await agentroomAs(
      ws,
      BOB,
      ["lease", "acquire", "path:src/x.ts", "--purpose", "refactor"],
      "bob",
    ),
    "bob leases src/x.ts",
  );
  const ask = `bump x in src/x.ts ${tag}`;
  const first = await edit(ask);
  const xAfter = await readFile(ws, "src/x.ts");
  const events = await roomEvents(ws);
  ok(await agentroomAs(ws, BOB, ["post", "NOTE", laterNote], "bob"), "bob posts again");
  const second = await resume(first);
  return { ws, ask, note, laterNote, first, second, xAfter, events };
}

/** One harness's scenes and wording. */
export interface HarnessSuite {
  /** `claude`, `codex`, `pi`. */
  name: string;
  /** Whether the harness CLI is installed (else the tests are ignored). */
  ready: boolean;
  /** How the second prompt continues the session, e.g. `claude -p --resume`. */
  resume: string;
  /** "resumed" or "continued". */
  resumedWord: string;
  /** The edit, e.g. "an edit", "an apply_patch", "a write". */
  edit: string;
  /** The shell tool, e.g. "the Bash tool". */
  shell: string;
  /** Runs the foreign-lease scene. */
  foreignScene: (variant: Variant) => Promise<ForeignRun>;
  /** Runs the own-lease scene; `prefix` goes before the `agentroom` command. */
  ownScene: (variant: Variant, prefix?: string) => Promise<OwnRun>;
}

/** Registers the shared conformance tests of one harness. */
export function conformanceTests(h: HarnessSuite): void {
  Deno.test({
    name: `harness ${h.name}: digest, delta, refused edit, SESSION_ENDED (case and control)`,
    ignore: !h.ready,
    async fn(t) {
      const real = await h.foreignScene("case");
      const control = await h.foreignScene("control");
      try {
        await t.step("the session-start digest reached the model, fenced", () => {
          caseAndControl(
            h.name,
            "the session-start digest reached the model, fenced",
            digestFenced(real.first.requests, real.note),
            digestFenced(control.first.requests, control.note),
          );
        });
        await t.step(`the ${h.resumedWord} session's next prompt carries only the delta`, () => {
          caseAndControl(
            h.name,
            `the next prompt (${h.resume}) carries only the delta`,
            deltaOnly(real.first.requests, real.second.requests, real.laterNote, real.note),
            deltaOnly(
              control.first.requests,
              control.second.requests,
              control.laterNote,
              control.note,
            ),
          );
        });
        await t.step(
          "an edit of another agent's leased file is refused (no guard variable)",
          () => {
            caseAndControl(
              h.name,
              `${h.edit} of another agent's leased file is refused, the file unchanged`,
              fileUnchanged("src/x.ts", FILES["src/x.ts"]!, real.xAfter, real.first.requests),
              fileUnchanged("src/x.ts", FILES["src/x.ts"]!, control.xAfter, control.first.requests),
            );
          },
        );
        await t.step("SESSION_ENDED carries the opening ask", () => {
          caseAndControl(
            h.name,
            "SESSION_ENDED carries the opening ask",
            sessionEndedAsk(real.events, real.ask),
            sessionEndedAsk(control.events, control.ask),
          );
        });
      } finally {
        await real.ws.remove();
        await control.ws.remove();
      }
    },
  });

  Deno.test({
    name: `harness ${h.name}: a lease taken through ${h.shell} does not block the same session`,
    ignore: !h.ready,
    async fn() {
      const real = await h.ownScene("case");
      const control = await h.ownScene("control");
      // a second control: the same script, the lease taken as another session
      const foreign = await h.ownScene("case", "AGENTROOM_SESSION_ID=someone-else-4d2e ");
      try {
        const check = (s: OwnRun) =>
          ownShellLease(
            s.events,
            s.run.requests,
            "path:src/y.ts",
            "src/y.ts",
            FILES["src/y.ts"]!,
            s.yAfter,
          );
        const verdict = check(real);
        caseAndControl(
          h.name,
          `a lease taken through ${h.shell} is this session's own and does not block its edit`,
          verdict,
          check(control),
        );
        caseAndControl(
          h.name,
          "(control: the same lease taken as another session blocks the edit)",
          verdict,
          check(foreign),
        );
      } finally {
        await real.ws.remove();
        await control.ws.remove();
        await foreign.ws.remove();
      }
    },
  });
}
