/**
 * The agentroom demo: a scripted scene of two agents sharing a room, played
 * through the real CLI against a throwaway Redis, printed as a transcript.
 *
 * ```sh
 * sh scripts/demo.sh        # or: deno task demo
 * ```
 *
 * Every step runs `cli.ts` as a subprocess with the compiled binary's
 * permission flags, so the transcript shows exactly what a user sees. Each
 * scene is one function in {@linkcode SCENES}; append new ones (task claims,
 * leases) there. A failing step prints its stderr and the demo exits 1.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { RedisMemoryServer } from "redis-memory-server";
import { RUN_PERMISSIONS } from "./permissions.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REDIS_BINARY = Deno.env.get("REDISMS_SYSTEM_BINARY") ?? "/usr/bin/redis-server";
/** Room flags every command of the demo carries. */
const ROOM_FLAGS = ["--repo", "demo", "--branch", "main"];
/** Longest a single CLI step may take. */
const STEP_TIMEOUT_MS = 30_000;
/** Longest the demo waits for the follower to print something. */
const WAIT_TIMEOUT_MS = 10_000;
const INDENT = "    ";

/** One agent of the scene: a handle and its own session token. */
interface Agent {
  readonly handle: string;
  readonly session: string;
}

const alice: Agent = { handle: "alice", session: "a1f4" };
const bob: Agent = { handle: "bob", session: "b7c2" };

/** What a finished CLI step produced. */
interface StepResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A step that failed; the message already says which and why. */
class StepFailed extends Error {
  override name = "StepFailed";
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

function indented(text: string): string {
  const body = text.replace(/\n+$/, "");
  return body === "" ? `${INDENT}(no output)` : body.replace(/^/gm, INDENT);
}

/** Variables the CLI reads that must not leak from the caller into the scene. */
const FOREIGN_ENV =
  /^(AGENTROOM_|REDIS_|REPO_ID$|BRANCH_NAME$|CLAUDE_SESSION_ID$|CODEX_THREAD_ID$|TERM_SESSION_ID$)/;

/** Runs the CLI as the agents and prints the transcript. */
class Stage {
  readonly #redisUrl: string;

  constructor(redisUrl: string) {
    this.#redisUrl = redisUrl;
  }

  /** Prints a scene heading. */
  scene(title: string): void {
    console.log(`\n== ${title} ==`);
  }

  /** Prints a line of narration. */
  say(text: string): void {
    console.log(`\n# ${text}`);
  }

  #command(agent: Agent, args: string[], piped: boolean, signal?: AbortSignal): Deno.Command {
    const env = Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([name]) => !FOREIGN_ENV.test(name)),
    );
    Object.assign(env, {
      AGENTROOM_REDIS_URL: this.#redisUrl,
      AGENTROOM_SESSION_ID: agent.session,
      AGENTROOM_AGENT: agent.handle,
      NO_COLOR: "1",
    });
    return new Deno.Command(Deno.execPath(), {
      args: ["run", ...RUN_PERMISSIONS, CLI, ...ROOM_FLAGS, ...args],
      cwd: ROOT,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: piped ? "piped" : "inherit",
      stderr: piped ? "piped" : "inherit",
      signal,
    });
  }

  /**
   * Runs a hook the way Claude Code does: the harness's JSON on stdin, at most
   * one JSON line out. Prints what the harness would get and returns the
   * `hookSpecificOutput` (undefined when the hook had nothing to say).
   */
  async hook(
    who: string,
    event: string,
    payload: Record<string, unknown>,
  ): Promise<Record<string, string> | undefined> {
    const env = Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([name]) => !FOREIGN_ENV.test(name)),
    );
    Object.assign(env, {
      AGENTROOM_REDIS_URL: this.#redisUrl,
      REPO_ID: "demo",
      BRANCH_NAME: "main",
      NO_COLOR: "1",
      AGENTROOM_AGENT: who,
    });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...RUN_PERMISSIONS, CLI, "hook", event],
      cwd: ROOT,
      env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(payload)));
    await writer.close();
    const output = await child.output();
    const stdout = new TextDecoder().decode(output.stdout);
    console.log(`\n${who}'s harness $ agentroom hook ${event} <<< '${JSON.stringify(payload)}'`);
    if (output.code !== 0) throw new StepFailed(`hook ${event} exited ${output.code}`);
    if (stdout.trim() === "") {
      console.log(indented("(no output: nothing to add)"));
      return undefined;
    }
    const out: Record<string, string> = JSON.parse(stdout).hookSpecificOutput;
    if (out.permissionDecision) {
      console.log(indented(
        `(permissionDecision: ${out.permissionDecision}; the reason ${who}'s model sees:)\n` +
          out.permissionDecisionReason,
      ));
    } else {
      console.log(indented(
        `(additionalContext, injected into ${who}'s session:)\n` +
          out.additionalContext,
      ));
    }
    return out;
  }

  #prompt(agent: Agent, args: string[], suffix = ""): void {
    console.log(`\n${agent.handle} $ agentroom ${args.map(shellQuote).join(" ")}${suffix}`);
  }

  /**
   * Runs one command as an agent, prints it and its output, and fails the
   * demo unless it exits 0.
   */
  async run(agent: Agent, args: string[], okCodes: number[] = [0]): Promise<StepResult> {
    const output = await this.#command(agent, args, true, AbortSignal.timeout(STEP_TIMEOUT_MS))
      .output();
    const result = {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
    // Printed after the command ends, so concurrent steps do not interleave.
    this.#prompt(agent, args, result.code === 0 ? "" : `    (exit ${result.code})`);
    console.log(indented(result.stdout));
    if (!okCodes.includes(result.code)) {
      throw new StepFailed(
        `${agent.handle}: 'agentroom ${args.join(" ")}' exited with ${result.code}` +
          (output.signal ? ` (signal ${output.signal})` : "") +
          `; stderr:\n${indented(result.stderr)}`,
      );
    }
    if (result.stderr.trim() !== "") console.log(indented(`(stderr) ${result.stderr.trim()}`));
    return result;
  }

  /** Runs one command as an agent without printing it (polling); returns what it produced. */
  async quiet(agent: Agent, args: string[]): Promise<StepResult> {
    const output = await this.#command(agent, args, true, AbortSignal.timeout(STEP_TIMEOUT_MS))
      .output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  }

  /** Starts a long-running command (e.g. `tail --follow`) in the background. */
  spawn(agent: Agent, args: string[]): Background {
    this.#prompt(agent, args, " &");
    return new Background(
      `${agent.handle}: 'agentroom ${args.join(" ")}'`,
      this.#command(agent, args, true).spawn(),
    );
  }
}

/** A command running in the background whose stdout the demo watches. */
class Background {
  readonly #what: string;
  readonly #child: Deno.ChildProcess;
  #stdout = "";
  #ended = false;
  #wake: () => void = () => {};
  readonly #reading: Promise<void>;
  readonly #stderr: Promise<string>;

  constructor(what: string, child: Deno.ChildProcess) {
    this.#what = what;
    this.#child = child;
    this.#stderr = new Response(child.stderr).text();
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    try {
      for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
        this.#stdout += chunk;
        this.#wake();
      }
    } finally {
      this.#ended = true;
      this.#wake();
    }
  }

  /** Everything it printed so far. */
  get output(): string {
    return this.#stdout;
  }

  /** Resolves once its stdout contains `needle`; fails on timeout or exit. */
  async waitFor(needle: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#stdout.includes(needle)) {
      if (this.#ended) {
        throw new StepFailed(
          `${this.#what} ended before printing ${JSON.stringify(needle)}; stderr:\n` +
            indented(await this.#stderr),
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StepFailed(
          `${this.#what} did not print ${JSON.stringify(needle)} within ${timeoutMs} ms; ` +
            `it printed:\n${indented(this.#stdout)}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Interrupts it (SIGINT, like Ctrl-C) and fails unless it exits 0. */
  stop(): Promise<StepResult> {
    try {
      this.#child.kill("SIGINT");
    } catch {
      // already exited; its status says how
    }
    return this.finish("after SIGINT");
  }

  /** Waits for it to exit on its own and fails unless it exits 0. */
  async finish(when = ""): Promise<StepResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), WAIT_TIMEOUT_MS);
    });
    const status = await Promise.race([this.#child.status, timedOut]);
    clearTimeout(timer);
    if (status === "timeout") {
      this.kill();
      throw new StepFailed(`${this.#what} did not exit within ${WAIT_TIMEOUT_MS} ms ${when}`);
    }
    await this.#reading;
    const result = { code: status.code, stdout: this.#stdout, stderr: await this.#stderr };
    if (result.code !== 0) {
      throw new StepFailed(
        `${this.#what} exited with ${result.code} ${when}; stderr:\n${indented(result.stderr)}`,
      );
    }
    return result;
  }

  /** Kills it outright (cleanup after a failure). */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new StepFailed(`unexpected output: ${what}`);
}

/** The id `post` reports in `posted TYPE as AGENT (entry ID)`. */
function postedId(result: StepResult): string {
  const id = /\(entry ([0-9]+-[0-9]+)\)/.exec(result.stdout)?.[1];
  expect(id !== undefined, `no entry id in ${JSON.stringify(result.stdout)}`);
  return id!;
}

/** A scene: a title and the steps it plays. */
interface Scene {
  title: string;
  play(stage: Stage, cleanup: Set<Background>): Promise<void>;
}

const joining: Scene = {
  title: "Two agents join the room",
  async play(stage) {
    stage.say("alice reviews, bob implements; each says so in a STATUS event");
    await stage.run(alice, [
      "post",
      "STATUS",
      JSON.stringify({ role: "reviewer", working_on: "reviewing the HTTP retry change" }),
    ]);
    await stage.run(bob, [
      "post",
      "STATUS",
      JSON.stringify({ role: "implementer", working_on: "HTTP client retries" }),
    ]);
    stage.say("bob checks who is here");
    const who = await stage.run(bob, ["who"]);
    expect(
      who.stdout.includes(`alice-${alice.session}`) && who.stdout.includes(`bob-${bob.session}`),
      "who should list alice and bob",
    );
  },
};

const talking: Scene = {
  title: "A note and a live question",
  async play(stage, cleanup) {
    const note = "CI is green on main; starting on bob's retry branch";
    await stage.run(alice, ["post", "NOTE", note]);

    stage.say("bob follows the room live in the background");
    const follower = stage.spawn(bob, ["tail", "--follow"]);
    cleanup.add(follower);
    await follower.waitFor(note); // history printed: bob is now waiting for new events

    const question = "Is the retry backoff capped? I see no upper bound in retry.ts";
    stage.say("alice asks bob directly");
    const asked = await stage.run(alice, ["post", "QUESTION", question, "--to", "bob"]);
    await follower.waitFor(question);

    stage.say("the question reached bob's follower at once; bob stops it with Ctrl-C");
    const followed = await follower.stop();
    cleanup.delete(follower);
    console.log(`\n[bob's tail --follow printed, until Ctrl-C:]\n${indented(followed.stdout)}`);
    expect(followed.stdout.includes(`To: bob-${bob.session}`), "the question should be to bob");

    stage.say("bob answers with a correlated REPLY, linking the question");
    await stage.run(bob, [
      "post",
      "REPLY",
      "Capped at 30s with jitter; see the last commit",
      "--reply-to",
      postedId(asked),
    ]);
  },
};

const asking: Scene = {
  title: "Ask and wait for the answer",
  async play(stage, cleanup) {
    stage.say("alice asks bob and blocks until he replies (ask waits on a blocking read)");
    const asker = stage.spawn(alice, ["ask", "Can I merge the retry branch?", "--to", "bob"]);
    cleanup.add(asker);
    await asker.waitFor("asked ");
    stage.say("bob finds the question in his durable inbox");
    const unread = await stage.run(bob, ["inbox", "--json"]);
    const question = unread.stdout.trim().split("\n").map((l) => JSON.parse(l))
      .find((e) => e.type === "ASK");
    expect(question !== undefined, "bob's inbox should hold alice's ASK");
    await stage.run(bob, ["reply", question.id, "Yes, CI is green on it"]);
    const answered = await asker.finish();
    cleanup.delete(asker);
    console.log(`\n[alice's ask printed:]\n${indented(answered.stdout)}`);
    expect(answered.stdout.includes("Yes, CI is green on it"), "alice should get bob's reply");
  },
};

const catchingUp: Scene = {
  title: "Catching up",
  async play(stage) {
    await stage.run(bob, ["tail", "--count", "5"]);
  },
};

const leaving: Scene = {
  title: "Everyone leaves",
  async play(stage) {
    await stage.run(alice, ["leave"]);
    await stage.run(bob, ["leave"]);
    stage.say("carol's Claude Code session ends: its SessionEnd hook clears carol's presence");
    await stage.hook("carol", "session-end", {
      session_id: CAROL_SESSION,
      cwd: ROOT,
      hook_event_name: "SessionEnd",
      reason: "exit",
    });
    const who = await stage.run(alice, ["who", "--all"]);
    expect(who.stdout.includes("nobody here"), "who should show nobody after all left");
  },
};

const racing: Scene = {
  title: "Two agents race for one task",
  async play(stage) {
    stage.say("alice registers a kind of work; bob publishes one task of that kind");
    await stage.run(alice, ["register", "FIX_TEST", "make a failing test pass"]);
    const posted = await stage.run(bob, ["post", "FIX_TEST", '{"test":"retry_cap_test"}']);
    const id = postedId(posted);
    await stage.run(alice, ["open"]);
    stage.say("both claim it at the same moment: exactly one wins, the other gets exit 3");
    const [a, b] = await Promise.all([
      stage.run(alice, ["claim", id, "--ttl", "10m"], [0, 3]),
      stage.run(bob, ["claim", id, "--ttl", "10m"], [0, 3]),
    ]);
    expect([a.code, b.code].sort().join() === "0,3", "exactly one claim should win");
    const [winner, loser] = a.code === 0 ? [alice, bob] : [bob, alice];
    stage.say(`${loser.handle} lost (exit 3), sees who holds it, and moves on`);
    await stage.run(loser, ["task", id]);
    await stage.run(loser, ["who"]);
    stage.say(`${winner.handle} finishes the work; the task drops off 'open'`);
    await stage.run(winner, ["done", id, '{"commit":"a1b2c3d"}']);
    const open = await stage.run(loser, ["open"]);
    expect(open.stdout.includes("no open tasks"), "the done task should leave 'open'");
    await stage.run(loser, ["tail", "--type", "TASK_CLAIMED,TASK_DONE"]);
  },
};

/** Carol's Claude Code session id (the hooks get it on stdin). */
const CAROL_SESSION = "c3d9e2f1-7a6b-4c5d-8e9f-0a1b2c3d4e5f";

const leasing: Scene = {
  title: "A lease guards a directory",
  async play(stage) {
    stage.say("alice reserves src/db before changing the schema");
    const acquired = await stage.run(alice, [
      "lease",
      "acquire",
      "path:src/db",
      "--purpose",
      "add an index to the orders table",
      "--ttl",
      "10m",
      "--json",
    ]);
    const id: string = JSON.parse(acquired.stdout).id;
    expect(typeof id === "string" && id !== "", "lease acquire --json should give the lease id");
    stage.say("bob checks before editing a file inside it: the guard exits 3 and names alice");
    const blocked = await stage.run(bob, ["guard", "path:src/db/schema.sql"], [3]);
    expect(blocked.stderr.includes(`alice-${alice.session}`), "the guard should name alice");
    await stage.run(bob, ["guard", "path:src/api/routes.ts"]);
    stage.say(
      "carol opens Claude Code in the same repository: its SessionStart hook shows the room",
    );
    const digest = await stage.hook("carol", "session-start", {
      session_id: CAROL_SESSION,
      cwd: ROOT,
      hook_event_name: "SessionStart",
      source: "startup",
    });
    expect(
      digest?.additionalContext?.includes("alice-a1f4") === true,
      "the digest should show alice's lease",
    );
    stage.say("carol's model tries to edit a file inside it: PreToolUse denies it before it runs");
    const denied = await stage.hook("carol", "pre-tool-use", {
      session_id: CAROL_SESSION,
      cwd: ROOT,
      hook_event_name: "PreToolUse",
      tool_name: "Edit",
      tool_input: { file_path: `${ROOT}src/db/schema.sql`, old_string: "a", new_string: "b" },
    });
    expect(denied?.permissionDecision === "deny", "the edit of a leased file should be denied");
    stage.say("alice is done and releases the lease; bob's guard now passes");
    await stage.run(alice, ["lease", "release", id]);
    await stage.run(bob, ["guard", "path:src/db/schema.sql"]);
    await stage.run(bob, ["status"]);
  },
};

/** The scenes, in order. Append new ones here. */
const working: Scene = {
  title: "A shell command becomes a worker",
  async play(stage, cleanup) {
    stage.say(
      "bob runs a worker: each TEST_REQUEST runs the command once (event JSON on stdin, fields in the environment); exit 0 completes it",
    );
    const worker = stage.spawn(bob, [
      "worker",
      "--group",
      "tester",
      "--interest",
      "TEST_REQUEST",
      "--",
      "sh",
      "-c",
      'echo "tester ran $AGENTROOM_EVENT_TYPE with $AGENTROOM_EVENT_PAYLOAD"',
    ]);
    cleanup.add(worker);
    const deadline = Date.now() + WAIT_TIMEOUT_MS;
    while (!(await stage.quiet(bob, ["groups"])).stdout.includes("tester")) {
      if (Date.now() > deadline) throw new StepFailed("the worker's group did not appear");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stage.run(alice, ["post", "TEST_REQUEST", JSON.stringify({ suite: "http-retry" })]);
    await worker.waitFor("tester ran TEST_REQUEST");
    stage.say("the worker printed (its command's output passes through):");
    console.log(indented(worker.output));
    stage.say("the group has nothing pending; a crashed worker's events would be taken over");
    await stage.run(bob, ["groups"]);
    await worker.stop();
    cleanup.delete(worker);
  },
};

export const SCENES: readonly Scene[] = [
  joining,
  talking,
  asking,
  catchingUp,
  racing,
  leasing,
  working,
  leaving,
];

async function main(): Promise<number> {
  const server = new RedisMemoryServer({
    binary: { systemBinary: REDIS_BINARY },
    instance: { args: ["--save", "", "--appendonly", "no"] },
  });
  const cleanup = new Set<Background>();
  try {
    const url = `redis://${await server.getHost()}:${await server.getPort()}`;
    console.log("agentroom demo: two agents coordinate through one room");
    console.log(`  Redis: a throwaway redis-server at ${url} (AGENTROOM_REDIS_URL)`);
    console.log(`  room:  every command carries ${ROOM_FLAGS.join(" ")}`);
    console.log(`  alice: AGENTROOM_AGENT=alice AGENTROOM_SESSION_ID=${alice.session}`);
    console.log(`  bob:   AGENTROOM_AGENT=bob AGENTROOM_SESSION_ID=${bob.session}`);
    const stage = new Stage(url);
    for (const [i, scene] of SCENES.entries()) {
      stage.scene(`${i + 1}. ${scene.title}`);
      await scene.play(stage, cleanup);
    }
    console.log("\ndemo finished: every step exited 0");
    return 0;
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
    console.error(`\ndemo failed: ${error.message}`);
    return 1;
  } finally {
    for (const background of cleanup) background.kill();
    await server.stop();
  }
}

if (import.meta.main) {
  Deno.exit(await main());
}
