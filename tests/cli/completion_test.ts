/**
 * Completion scripts come from the command table: every command and global
 * flag is in each script, the scripts parse in their shells where installed,
 * and bash completes for real. Suggestions for typos; `--version`.
 */
import assert from "node:assert/strict";
import { GLOBAL_FLAGS } from "../../src/cli/_args.ts";
import { didYouMean } from "../../src/cli/_args.ts";
import { completionScript, SHELLS } from "../../src/cli/completion.ts";
import { COMMANDS } from "../../src/cli/main.ts";
import { runCli } from "../support/cli.ts";

async function installed(shell: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(shell, {
      args: ["-c", "exit 0"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test("completion: every command, its actions and flags, and every global flag, in every shell", async () => {
  for (const shell of SHELLS) {
    const result = await runCli(["completion", shell]);
    assert.equal(result.code, 0, result.stderr);
    const script = result.stdout;
    assert.ok(completionScript(shell, COMMANDS).length > 0);
    for (const command of [...COMMANDS.map((c) => c.name), "help"]) {
      assert.ok(new RegExp(`\\b${command}\\b`).test(script), `${shell}: command ${command}`);
    }
    for (const flag of Object.keys(GLOBAL_FLAGS)) {
      assert.ok(
        script.includes(shell === "fish" ? `-l ${flag}` : `--${flag}`),
        `${shell}: --${flag}`,
      );
    }
    for (const command of COMMANDS) {
      for (const action of command.actions ?? []) {
        assert.ok(script.includes(action), `${shell}: ${command.name} ${action}`);
      }
      for (const flag of Object.keys(command.flags)) {
        assert.ok(
          script.includes(shell === "fish" ? `-l ${flag}` : `--${flag}`),
          `${shell}: ${command.name} --${flag}`,
        );
      }
    }
  }
  const bad = await runCli(["completion", "tcsh"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: unknown shell "tcsh": use bash, zsh, fish, powershell/);
});

Deno.test("completion: the scripts parse in their shells (where installed)", async () => {
  for (
    const [shell, args] of [["bash", ["-n"]], ["zsh", ["-n"]], ["fish", ["--no-execute"]]] as const
  ) {
    if (!await installed(shell)) continue;
    const dir = await Deno.makeTempDir();
    const file = `${dir}/completion`;
    await Deno.writeTextFile(file, (await runCli(["completion", shell])).stdout);
    const out = await new Deno.Command(shell, { args: [...args, file], stderr: "piped" }).output();
    assert.equal(out.code, 0, `${shell}: ${new TextDecoder().decode(out.stderr)}`);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "completion: bash completes commands, actions and flags",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/completion.bash`;
    await Deno.writeTextFile(file, (await runCli(["completion", "bash"])).stdout);
    const complete = async (...words: string[]) => {
      const line = words.map((w) => `'${w}'`).join(" ");
      const script = `source '${file}'; COMP_WORDS=(agentroom ${line}); ` +
        `COMP_CWORD=${words.length}; _agentroom; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const out = await new Deno.Command("bash", { args: ["-c", script], stdout: "piped" })
        .output();
      return new TextDecoder().decode(out.stdout).trim().split("\n").sort();
    };
    assert.deepEqual(await complete("se"), ["server", "setup"]);
    assert.deepEqual(await complete("--repo", "x", "server", "st"), ["start", "status", "stop"]);
    assert.deepEqual(await complete("server", "--so"), ["--socket"]);
    assert.deepEqual(await complete("--js"), ["--json"]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("did you mean: unknown commands and flags get the closest one", async () => {
  const command = await runCli(["psot", "NOTE", "x"]);
  assert.equal(command.code, 2);
  assert.equal(
    command.stderr,
    `error: unknown command "psot"; did you mean 'post'?; run 'agentroom --help'\n`,
  );
  const flag = await runCli(["tail", "--folow"]);
  assert.equal(flag.code, 2);
  assert.match(
    flag.stderr,
    /^error: unknown flag --folow; did you mean '--follow'\?; run 'agentroom tail --help'\n$/,
  );
  const far = await runCli(["zzzzzz"]);
  assert.doesNotMatch(far.stderr, /did you mean/);
  assert.equal(didYouMean("docter", ["doctor", "done"]), "; did you mean 'doctor'?");
  assert.equal(didYouMean("comp", ["completion", "claim"]), "; did you mean 'completion'?");
  assert.equal(didYouMean("x", ["post"]), "");
});
