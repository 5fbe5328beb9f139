import assert from "node:assert/strict";
import { InvalidValueError } from "../../src/errors.ts";
import {
  desiredHooks,
  hookCommand,
  type HookSpec,
  installHooks,
  isAgentroomCommand,
  runnerWords,
  sameJson,
  shellQuote,
  uninstallHooks,
} from "../../src/cli/hook_settings.ts";
import {
  detectIndent,
  formatSettings,
  lineDiff,
  parseSettings,
} from "../../src/cli/settings_file.ts";

const BIN = "/usr/local/bin/agentroom";
const CLAUDE = desiredHooks("claude", (sub) => `${BIN} hook ${sub}`);
const CODEX = desiredHooks("codex", (sub) => `${BIN} hook ${sub}`);

function cmd(command: string, timeout?: number) {
  return timeout === undefined
    ? { type: "command", command }
    : { type: "command", command, timeout };
}

/** A realistic user settings file with hooks of its own. */
function userSettings(): Record<string, unknown> {
  return {
    model: "opus",
    permissions: { allow: ["Bash(npm test)"], deny: [] },
    hooks: {
      SessionStart: [{ matcher: "startup", hooks: [cmd("echo hello", 2)] }],
      PreToolUse: [
        { matcher: "Bash", hooks: [cmd("/opt/guard.sh")] },
        { matcher: "Edit|Write|NotebookEdit", hooks: [cmd("prettier-check")] },
      ],
      PostToolUse: [{ matcher: "Edit", hooks: [cmd("deno fmt")] }],
      Stop: [{ hooks: [{ type: "prompt", prompt: "are you done?" }] }],
    },
    env: { FOO: "1" },
  };
}

Deno.test("desiredHooks: six events, timeouts in seconds, per-harness edit matcher", () => {
  assert.deepEqual(
    CLAUDE.map((h) => [h.event, h.subcommand, h.matcher, h.timeout]),
    [
      ["SessionStart", "session-start", undefined, 5],
      ["UserPromptSubmit", "user-prompt-submit", undefined, 5],
      ["SessionEnd", "session-end", undefined, 3],
      ["PreToolUse", "pre-tool-use", "Edit|Write|NotebookEdit", 5],
      ["PostToolUse", "post-tool-use", undefined, 5],
      ["Stop", "stop", undefined, 5],
    ],
  );
  assert.equal(CODEX.find((h) => h.event === "PreToolUse")!.matcher, "apply_patch");
  assert.ok(CLAUDE.every((h) => h.timeout <= 5), "seconds, not milliseconds");
});

Deno.test("install into an empty document", () => {
  const result = installHooks({}, CLAUDE);
  assert.equal(result.changed, true);
  assert.deepEqual(result.removed, []);
  assert.deepEqual(result.added.map((a) => a.event), [
    "SessionStart",
    "UserPromptSubmit",
    "SessionEnd",
    "PreToolUse",
    "PostToolUse",
    "Stop",
  ]);
  assert.deepEqual(result.settings, {
    hooks: {
      SessionStart: [{ hooks: [cmd(`${BIN} hook session-start`, 5)] }],
      UserPromptSubmit: [{ hooks: [cmd(`${BIN} hook user-prompt-submit`, 5)] }],
      SessionEnd: [{ hooks: [cmd(`${BIN} hook session-end`, 3)] }],
      PreToolUse: [{
        matcher: "Edit|Write|NotebookEdit",
        hooks: [cmd(`${BIN} hook pre-tool-use`, 5)],
      }],
      PostToolUse: [{ hooks: [cmd(`${BIN} hook post-tool-use`, 5)] }],
      Stop: [{ hooks: [cmd(`${BIN} hook stop`, 5)] }],
    },
  });
  // handler keys in the documented order
  const text = formatSettings(result.settings);
  assert.match(text, /"type": "command",\n\s+"command": "[^"]+",\n\s+"timeout": 5/);
});

Deno.test("install keeps other hooks in the same events, other events and other keys", () => {
  const original = userSettings();
  const snapshot = structuredClone(original);
  const { settings, changed } = installHooks(original, CLAUDE);
  assert.equal(changed, true);
  assert.deepEqual(original, snapshot, "the input is not mutated");
  assert.deepEqual(Object.keys(settings), ["model", "permissions", "hooks", "env"]);
  assert.deepEqual(settings.permissions, snapshot.permissions);
  assert.deepEqual(settings.env, snapshot.env);
  const hooks = settings.hooks as Record<string, unknown[]>;
  const before = snapshot.hooks as Record<string, unknown[]>;
  assert.deepEqual(Object.keys(hooks), [
    "SessionStart",
    "PreToolUse",
    "PostToolUse",
    "Stop",
    "UserPromptSubmit",
    "SessionEnd",
  ]);
  // existing groups first and unchanged, ours appended as groups of our own
  assert.deepEqual(hooks.SessionStart, [
    ...before.SessionStart!,
    { hooks: [cmd(`${BIN} hook session-start`, 5)] },
  ]);
  assert.deepEqual(hooks.PreToolUse, [
    ...before.PreToolUse!,
    { matcher: "Edit|Write|NotebookEdit", hooks: [cmd(`${BIN} hook pre-tool-use`, 5)] },
  ]);
  // every tool, no matcher: a group of our own after the existing ones
  assert.deepEqual(hooks.PostToolUse, [
    ...before.PostToolUse!,
    { hooks: [cmd(`${BIN} hook post-tool-use`, 5)] },
  ]);
  assert.deepEqual(hooks.Stop, [...before.Stop!, { hooks: [cmd(`${BIN} hook stop`, 5)] }]);
});

Deno.test("install twice: the second run changes nothing", () => {
  for (const start of [{}, userSettings()]) {
    const once = installHooks(start, CLAUDE);
    const twice = installHooks(once.settings, CLAUDE);
    assert.equal(twice.changed, false);
    assert.deepEqual(twice.added, []);
    assert.deepEqual(twice.removed, []);
    assert.deepEqual(twice.settings, once.settings);
    assert.equal(formatSettings(twice.settings), formatSettings(once.settings));
  }
});

Deno.test("install is idempotent when our handler's keys are in another order", () => {
  const reordered = {
    hooks: {
      SessionStart: [{
        hooks: [{ timeout: 5, command: `${BIN} hook session-start`, type: "command" }],
      }],
    },
  };
  const result = installHooks(reordered, CLAUDE.slice(0, 1));
  assert.equal(result.changed, false);
  assert.deepEqual(result.settings, reordered);
});

Deno.test("an older path of ours is replaced in place, duplicates are removed", () => {
  const old = "/home/me/old/agentroom hook session-start";
  const settings = {
    hooks: {
      SessionStart: [
        { hooks: [cmd("echo before"), cmd(old, 10), cmd("echo after")] },
        { hooks: [cmd("'/other place/agentroom' hook session-start")] },
      ],
      PreToolUse: [
        // an older matcher of ours: moved to a group with the current matcher
        { matcher: "Edit|Write", hooks: [cmd("/opt/agentroom hook pre-tool-use", 5)] },
      ],
    },
  };
  const result = installHooks(settings, CLAUDE);
  const hooks = result.settings.hooks as Record<string, unknown[]>;
  assert.deepEqual(hooks.SessionStart, [
    { hooks: [cmd("echo before"), cmd(`${BIN} hook session-start`, 5), cmd("echo after")] },
  ]);
  assert.deepEqual(hooks.PreToolUse, [
    { matcher: "Edit|Write|NotebookEdit", hooks: [cmd(`${BIN} hook pre-tool-use`, 5)] },
  ]);
  assert.deepEqual(result.removed, [
    { event: "SessionStart", command: old },
    { event: "SessionStart", command: "'/other place/agentroom' hook session-start" },
    { event: "PreToolUse", matcher: "Edit|Write", command: "/opt/agentroom hook pre-tool-use" },
  ]);
  assert.deepEqual(result.added.map((a) => a.command), CLAUDE.map((h) => h.command));
  assert.equal(installHooks(result.settings, CLAUDE).changed, false);
});

Deno.test("a changed timeout of ours is put back", () => {
  const installed = installHooks({}, CLAUDE).settings;
  const edited = structuredClone(installed) as { hooks: Record<string, { hooks: object[] }[]> };
  edited.hooks.SessionEnd![0]!.hooks[0] = cmd(`${BIN} hook session-end`, 30);
  const result = installHooks(edited, CLAUDE);
  assert.equal(result.changed, true);
  assert.deepEqual(result.settings, installed);
});

Deno.test("'', '*' and no matcher are the same group for matcher-less events", () => {
  const settings = {
    hooks: {
      UserPromptSubmit: [{ matcher: "*", hooks: [cmd(`${BIN} hook user-prompt-submit`, 5)] }],
    },
  };
  const result = installHooks(settings, CLAUDE.filter((h) => h.event === "UserPromptSubmit"));
  assert.equal(result.changed, false);
});

Deno.test("uninstall removes only ours and restores the original exactly", () => {
  for (const original of [{}, userSettings(), { hooks: { Notification: [] }, theme: "dark" }]) {
    const installed = installHooks(original, CLAUDE).settings;
    const result = uninstallHooks(installed);
    assert.equal(result.changed, true);
    assert.equal(result.removed.length, 6);
    assert.deepEqual(result.settings, original);
    // key order too
    assert.equal(JSON.stringify(result.settings), JSON.stringify(original));
  }
});

Deno.test("uninstall takes ours out of shared groups and leaves the rest", () => {
  const settings = {
    hooks: {
      SessionStart: [{
        matcher: "startup",
        hooks: [cmd("echo a"), cmd(`${BIN} hook session-start`)],
      }],
      SessionEnd: [{ hooks: [cmd(`${BIN} hook session-end`)] }],
      Notification: [{ hooks: [cmd(`${BIN} hook pre-tool-use`)] }],
    },
  };
  const result = uninstallHooks(settings);
  assert.deepEqual(result.settings, {
    hooks: {
      SessionStart: [{ matcher: "startup", hooks: [cmd("echo a")] }],
      // not one of the events agentroom installs: never touched
      Notification: [{ hooks: [cmd(`${BIN} hook pre-tool-use`)] }],
    },
  });
  assert.deepEqual(result.removed, [
    { event: "SessionStart", matcher: "startup", command: `${BIN} hook session-start` },
    { event: "SessionEnd", command: `${BIN} hook session-end` },
  ]);
});

Deno.test("uninstall without our hooks changes nothing", () => {
  const original = userSettings();
  const result = uninstallHooks(original);
  assert.equal(result.changed, false);
  assert.deepEqual(result.settings, original);
  assert.equal(uninstallHooks({}).changed, false);
});

Deno.test("the ownership rule: ends with 'hook <event>' and names agentroom or our path", () => {
  const self = ["/src/checkout/cli.ts"];
  const ours = [
    "/usr/local/bin/agentroom hook session-start",
    "agentroom hook pre-tool-use",
    "  /opt/AgentRoom/bin/ar hook session-end  ",
    "'/Users/me/My Tools/agentroom' hook user-prompt-submit",
    "AGENTROOM_GUARD=strict /usr/local/bin/agentroom hook pre-tool-use",
    "/usr/bin/deno run --quiet --no-config --no-lock --allow-net /src/checkout/cli.ts hook session-start",
  ];
  const notOurs = [
    "other-tool hook session-start",
    "/usr/bin/deno run /elsewhere/cli.ts hook session-start",
    "agentroom hook session-start 2>/dev/null",
    "agentroom hook sleep",
    "agentroom post NOTE hook session-start-ish",
    "echo agentroom",
    "agentroomhook session-start",
    "",
  ];
  for (const c of ours) assert.ok(isAgentroomCommand(c, self), c);
  for (const c of notOurs) assert.ok(!isAgentroomCommand(c, self), c);
});

Deno.test("handlers that are not commands are never ours", () => {
  const settings = {
    hooks: {
      SessionStart: [{
        hooks: [
          { type: "http", url: "http://x/agentroom hook session-start" },
          { type: "prompt", command: "agentroom hook session-start" },
        ],
      }],
    },
  };
  const result = uninstallHooks(settings);
  assert.equal(result.changed, false);
  const installed = installHooks(settings, CLAUDE.slice(0, 1)).settings as {
    hooks: { SessionStart: unknown[] };
  };
  assert.equal(installed.hooks.SessionStart.length, 2);
});

Deno.test("malformed shapes: errors where merging is unsafe, opaque entries kept", () => {
  assert.throws(() => installHooks([], CLAUDE), InvalidValueError);
  assert.throws(
    () => installHooks({ hooks: [] }, CLAUDE, { what: "x.json" }),
    /"hooks" in x\.json/,
  );
  assert.throws(() => installHooks({ hooks: { SessionStart: {} } }, CLAUDE), /hooks\.SessionStart/);
  assert.throws(() => uninstallHooks({ hooks: "no" }), InvalidValueError);
  // an odd group or an unknown event's odd value is kept as it is
  const odd = { hooks: { SessionStart: ["weird", { matcher: "x" }], Custom: 42 } };
  const result = installHooks(odd, CLAUDE);
  const hooks = result.settings.hooks as Record<string, unknown>;
  assert.deepEqual((hooks.SessionStart as unknown[]).slice(0, 2), ["weird", { matcher: "x" }]);
  assert.equal(hooks.Custom, 42);
  assert.deepEqual(uninstallHooks(result.settings).settings, odd);
});

Deno.test("parseSettings: empty is {}, invalid JSON and non-objects name the file", () => {
  assert.deepEqual(parseSettings("", "a.json"), {});
  assert.deepEqual(parseSettings(" \n", "a.json"), {});
  assert.deepEqual(parseSettings('\uFEFF{"a":1}', "a.json"), { a: 1 });
  assert.throws(() => parseSettings("{ nope", "/p/settings.json"), (e: Error) => {
    assert.ok(e instanceof InvalidValueError);
    assert.match(e.message, /^\/p\/settings\.json is not valid JSON/);
    return true;
  });
  assert.throws(() => parseSettings("[1]", "b.json"), /b\.json does not hold a JSON object/);
});

Deno.test("detectIndent and formatSettings keep the file's indentation", () => {
  assert.equal(detectIndent('{\n    "a": 1\n}\n'), "    ");
  assert.equal(detectIndent('{\n\t"a": 1\n}'), "\t");
  assert.equal(detectIndent('{"a":1}'), "  ");
  assert.equal(formatSettings({ a: [1] }, "    "), '{\n    "a": [\n        1\n    ]\n}\n');
});

Deno.test("shellQuote and hookCommand", () => {
  assert.equal(shellQuote("/usr/bin/agentroom"), "/usr/bin/agentroom");
  assert.equal(shellQuote("/My Tools/agentroom"), "'/My Tools/agentroom'");
  assert.equal(shellQuote("/it's/x"), `'/it'"'"'s/x'`);
  assert.equal(shellQuote("C:\\bin\\agentroom.exe"), "'C:\\bin\\agentroom.exe'");
  assert.equal(
    hookCommand({ kind: "binary", executable: "/My Tools/agentroom" }, "session-end"),
    "'/My Tools/agentroom' hook session-end",
  );
  assert.equal(
    hookCommand({
      kind: "source",
      deno: "/usr/bin/deno",
      script: "/home/me/src dir/cli.ts",
      permissions: ["--allow-net", "--allow-sys=hostname"],
    }, "pre-tool-use"),
    "/usr/bin/deno run --quiet --no-config --no-lock --allow-net --allow-sys=hostname '/home/me/src dir/cli.ts' hook pre-tool-use",
  );
  // our own command, quoted path and all, is recognised by its path
  const spec: HookSpec[] = desiredHooks(
    "claude",
    (sub) =>
      hookCommand({ kind: "source", deno: "/d/deno", script: "/a b/cli.ts", permissions: [] }, sub),
  );
  const once = installHooks({}, spec, { selfPaths: ["/a b/cli.ts"] }).settings;
  assert.equal(installHooks(once, spec, { selfPaths: ["/a b/cli.ts"] }).changed, false);
  assert.equal(uninstallHooks(once, { selfPaths: ["/a b/cli.ts"] }).removed.length, 6);
});

Deno.test("lineDiff: unified hunks with context, empty when equal", () => {
  assert.deepEqual(lineDiff("a\nb\n", "a\nb\n"), []);
  const before = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"].join("\n") + "\n";
  const after = ["1", "2", "3", "4", "five", "6", "7", "8", "9", "10", "11"].join("\n") + "\n";
  assert.deepEqual(lineDiff(before, after, { from: "a", to: "b", context: 1 }), [
    "--- a",
    "+++ b",
    "@@ -4,3 +4,3 @@",
    " 4",
    "-5",
    "+five",
    " 6",
    "@@ -10,1 +10,2 @@",
    " 10",
    "+11",
  ]);
  assert.deepEqual(lineDiff("", "{}\n", { from: "/dev/null", to: "f" }), [
    "--- /dev/null",
    "+++ f",
    "@@ -0,0 +1,1 @@",
    "+{}",
  ]);
});

Deno.test("sameJson ignores key order only", () => {
  assert.ok(sameJson({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 }));
  assert.ok(!sameJson({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!sameJson([1, 2], [2, 1]));
  assert.ok(!sameJson({ a: "1" }, { a: 1 }));
});

Deno.test("project settings use agentroom from PATH: no path of this machine", () => {
  assert.equal(hookCommand({ kind: "path" }, "session-start"), "agentroom hook session-start");
  assert.deepEqual(runnerWords({ kind: "path" }), ["agentroom"]);
  assert.ok(isAgentroomCommand("agentroom hook pre-tool-use"));
});
