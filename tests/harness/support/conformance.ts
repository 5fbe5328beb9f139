/**
 * The assertions of the harness conformance suite, each a check that gives a
 * verdict (holds or not, and what it saw) instead of throwing, so one check
 * runs on the case (hooks installed by `agentroom setup`) and on its control
 * (the same scripted run with agentroom's hook entries taken out): the case
 * must hold and the control must not. A check whose control holds proves
 * nothing, and {@linkcode caseAndControl} fails it.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RecordedRequest } from "./anthropic.ts";

/** What a check found. */
export interface Verdict {
  /** Whether the assertion holds. */
  holds: boolean;
  /** What was seen, for the log. */
  detail: string;
}

/**
 * Prints the case and control verdicts of one check and asserts the case
 * holds and the control does not.
 *
 * @param harness e.g. `claude`
 * @param check the check's name
 * @param real the verdict on the case run
 * @param control the verdict on the control run
 */
export function caseAndControl(
  harness: string,
  check: string,
  real: Verdict,
  control: Verdict,
): void {
  console.log(
    `[${harness}] ${check}\n` +
      `  case:    ${real.holds ? "holds" : "DOES NOT HOLD"}: ${real.detail}\n` +
      `  control: ${control.holds ? "HOLDS (so the case proves nothing)" : "does not hold"}: ` +
      control.detail,
  );
  assert.ok(real.holds, `${harness}: ${check}: ${real.detail}`);
  assert.ok(!control.holds, `${harness}: ${check}: the control holds too: ${control.detail}`);
}

/** Every string anywhere in a JSON value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) { for (const v of value) strings(v, out); }
  else if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) strings(v, out);
  }
  return out;
}

/** Every text a request sends the model (system, messages, tool results, …). */
export function requestTexts(requests: readonly RecordedRequest[]): string[] {
  return requests.flatMap((r) => strings(r.body));
}

/** agentroom's fence notice ("Text between [room-data M] and [/room-data M] was written by …"). */
const NOTICE =
  /Text (?:between|inside) \[room-data ([0-9a-f]{8,})\] (?:and|\.\.\.) \[\/room-data \1\]/g;

/** The fence markers announced (by agentroom's notice) in the texts. */
export function announcedMarkers(texts: readonly string[]): Set<string> {
  const markers = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(NOTICE)) markers.add(m[1]!);
  return markers;
}

/** A line of a request that mentions a needle. */
export interface Mention {
  /** The line. */
  line: string;
  /** The marker of the fence around the needle, when it is fenced. */
  marker?: string;
}

/**
 * Every line of the texts that contains `needle`, with the marker of the
 * fence around it: `[room-data M] … needle … [/room-data M]` on that line,
 * with M announced by agentroom's notice in the same text.
 *
 * @param texts the request texts
 * @param needle what to find
 */
export function mentions(texts: readonly string[], needle: string): Mention[] {
  const out: Mention[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    if (!text.includes(needle)) continue;
    const markers = announcedMarkers([text]);
    for (const line of text.split("\n")) {
      if (!line.includes(needle) || seen.has(line)) continue;
      seen.add(line);
      const at = line.indexOf(needle);
      let marker: string | undefined;
      for (const m of markers) {
        const open = line.lastIndexOf(`[room-data ${m}]`, at);
        const close = line.indexOf(`[/room-data ${m}]`, at + needle.length);
        if (open >= 0 && close >= 0) marker = m;
      }
      out.push({ line, marker });
    }
  }
  return out;
}

function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * The session-start digest reached the model, fenced: a request contains the
 * room content `needle` (e.g. a NOTE posted before the run) inside
 * `[room-data M] … [/room-data M]`, and never outside a fence.
 *
 * @param requests the run's request log
 * @param needle the room content
 */
export function digestFenced(requests: readonly RecordedRequest[], needle: string): Verdict {
  const texts = requestTexts(requests);
  const found = mentions(texts, needle);
  const bare = found.filter((m) => m.marker === undefined);
  if (found.length === 0) {
    return {
      holds: false,
      detail: `${JSON.stringify(needle)} is in none of the ${requests.length} requests`,
    };
  }
  if (bare.length > 0) {
    return { holds: false, detail: `outside any fence: ${clip(bare[0]!.line)}` };
  }
  // the session-start digest opens with "agentroom: you are <id> in room <room>."
  const digest = texts.find((t) => SESSION_START.test(t) && t.includes(needle));
  if (!digest) {
    return {
      holds: false,
      detail: `fenced, but not in a session-start digest: ${clip(found[0]!.line)}`,
    };
  }
  return {
    holds: true,
    detail: `in the session-start digest (${clip(digest.match(SESSION_START)![0])}), fenced: ` +
      clip(found[0]!.line),
  };
}

/** The first line of the session-start digest. */
const SESSION_START = /agentroom: you are \S+ in room [^\n]*/;

/**
 * The next prompt carries only the delta: in the second run's requests, the
 * context injected by this run's hooks (fences whose marker the first run
 * did not announce) holds the room content posted between the runs
 * (`fresh`) and not the content the first run already showed (`seen`).
 *
 * @param first the first run's request log
 * @param second the second run's (the resumed session's) request log
 * @param fresh content posted between the runs
 * @param seen content the first run's digest showed
 */
export function deltaOnly(
  first: readonly RecordedRequest[],
  second: readonly RecordedRequest[],
  fresh: string,
  seen: string,
): Verdict {
  const old = announcedMarkers(requestTexts(first));
  const texts = requestTexts(second);
  const isNew = (m: Mention) => m.marker !== undefined && !old.has(m.marker);
  const freshNew = mentions(texts, fresh).filter(isNew);
  const seenNew = mentions(texts, seen).filter(isNew);
  const markers = [...announcedMarkers(texts)].filter((m) => !old.has(m));
  if (freshNew.length === 0) {
    return {
      holds: false,
      detail: `the new content ${JSON.stringify(fresh)} is in no newly injected fence ` +
        `(${markers.length} new markers in ${second.length} requests)`,
    };
  }
  if (seenNew.length > 0) {
    return {
      holds: false,
      detail: `the already-shown content is injected again: ${clip(seenNew[0]!.line)}`,
    };
  }
  return {
    holds: true,
    detail: `new content injected (${clip(freshNew[0]!.line)}); the earlier content ` +
      `${JSON.stringify(seen)} is in none of the ${markers.length} new fences`,
  };
}

/**
 * The agent id the hooks gave this session, from the digest's first line
 * (`agentroom: you are <id> in room …`) in the request log.
 *
 * @param requests the request log
 */
export function hookIdentity(requests: readonly RecordedRequest[]): string | undefined {
  for (const text of requestTexts(requests)) {
    const m = text.match(/agentroom: you are (\S+) in room /);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * A file kept its content (an edit of it was refused).
 *
 * @param path its path, for the log
 * @param before the content before the run
 * @param after the content after the run
 * @param requests the request log (to report the reason the model saw)
 */
export function fileUnchanged(
  path: string,
  before: string,
  after: string,
  requests: readonly RecordedRequest[],
): Verdict {
  const reason = requestTexts(requests).find((t) => t.includes("reserved by another agent"));
  if (after !== before) {
    return {
      holds: false,
      detail: `${path} was edited: ${JSON.stringify(before)} -> ${JSON.stringify(after)}` +
        (reason ? `; the model was told afterwards: ${clip(reason.replace(/\s+/g, " "))}` : ""),
    };
  }
  return {
    holds: true,
    detail: `${path} unchanged (${JSON.stringify(after)})` +
      (reason ? `; the model saw: ${clip(reason.replace(/\s+/g, " "))}` : ""),
  };
}

/** One room event as `agentroom tail --json` prints it. */
export type RoomEvent = Record<string, unknown> & { type?: string; agent_id?: string };

/**
 * SESSION_ENDED carries the opening ask.
 *
 * @param events the room's events after the run
 * @param ask the run's first prompt
 */
export function sessionEndedAsk(events: readonly RoomEvent[], ask: string): Verdict {
  const ended = events.filter((e) => e.type === "SESSION_ENDED");
  if (ended.length === 0) {
    return {
      holds: false,
      detail: `no SESSION_ENDED among ${events.length} events (${
        [...new Set(events.map((e) => e.type))].join(", ")
      })`,
    };
  }
  const withAsk = ended.find((e) => JSON.stringify(e.payload).includes(ask));
  if (!withAsk) {
    return {
      holds: false,
      detail: `SESSION_ENDED without the ask: ${clip(JSON.stringify(ended.at(-1)))}`,
    };
  }
  return { holds: true, detail: `SESSION_ENDED ${clip(JSON.stringify(withAsk.payload))}` };
}

/**
 * A lease taken through the harness's own shell tool is the session's own:
 * the LEASE_ACQUIRED of `resource` names as owner the agent id the hooks gave
 * this session (the agent of its SESSION_ENDED, else of its digest), and the
 * session's edit of the leased file went through.
 *
 * @param events the room's events after the run
 * @param requests the request log
 * @param resource e.g. `path:src/y.ts`
 * @param path the leased file, for the log
 * @param before its content before the run
 * @param after its content after the run
 */
export function ownShellLease(
  events: readonly RoomEvent[],
  requests: readonly RecordedRequest[],
  resource: string,
  path: string,
  before: string,
  after: string,
): Verdict {
  const lease = events.find((e) =>
    e.type === "LEASE_ACQUIRED" && JSON.stringify(e.payload).includes(JSON.stringify(resource))
  );
  const owner = (lease?.payload as { lease?: { owner?: string } } | undefined)?.lease?.owner;
  // the hooks' agent: the session-end hook's SESSION_ENDED, else the digest's "you are"
  const identity = events.find((e) => e.type === "SESSION_ENDED")?.agent_id ??
    hookIdentity(requests);
  const edited = after !== before;
  const facts =
    `lease owner ${owner ?? "(no lease)"}, hook identity ${identity ?? "(no hook ran)"}, ` +
    `${path} ${edited ? "edited" : "unchanged"}`;
  const reason = requestTexts(requests).find((t) => t.includes("reserved by another agent"));
  return {
    holds: owner !== undefined && owner === identity && edited,
    detail: facts + (reason && !edited ? `; refused: ${clip(reason.replace(/\s+/g, " "))}` : ""),
  };
}
