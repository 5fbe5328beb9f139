/**
 * The CLI dispatcher: find the command, parse its flags, run it, map every
 * error to one `error:` line and an exit code. The single place where CLI
 * errors are caught.
 *
 * @module
 */
import { AgentroomError, AskPendingError, RedisUnavailableError } from "../errors.ts";
import { isNetworkBlocked } from "../redis/connect.ts";
import { networkBlockedText } from "./setup.ts";
import { didYouMean, findCommand, parseCommandArgs, UsageError } from "./_args.ts";
import { VERSION } from "../version.ts";
import { type CliIo, type Command, Context } from "./_context.ts";
import { type Output, outputTo } from "./_output.ts";
import { commandHelp, rootHelp } from "./help.ts";
import { guard } from "./guard.ts";
import { hook } from "./hook.ts";
import { lease } from "./lease.ts";
import { leave } from "./leave.ts";
import { askCommand, inbox, replyCommand, wait, welcome } from "./messaging.ts";
import { post } from "./post.ts";
import { completionCommand } from "./completion.ts";
import { doctor } from "./doctor.ts";
import { server } from "./server.ts";
import { setup } from "./setup.ts";
import { status } from "./status.ts";
import { tail } from "./tail.ts";
import { catalog, claim, done, open, register, release, task } from "./tasks.ts";
import { relay } from "./relay.ts";
import { decide, hung, thread } from "./board.ts";
import { version } from "./version.ts";
import { watch } from "./watch.ts";
import { who } from "./who.ts";
import { windowCommand } from "./window.ts";
import { work } from "./work.ts";
import { dlq, groups, worker } from "./worker.ts";
import { pad } from "./pad.ts";
import { archive } from "./archive.ts";
import { rooms } from "./rooms.ts";
import { daemon } from "./daemon.ts";

import { CliError, EXIT } from "./errors.ts";

export { EXIT } from "./errors.ts";

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  post,
  tail,
  watch,
  relay,
  who,
  leave,
  inbox,
  askCommand,
  replyCommand,
  wait,
  welcome,
  register,
  catalog,
  open,
  claim,
  done,
  release,
  task,
  lease,
  guard,
  windowCommand,
  work,
  status,
  hung,
  thread,
  decide,
  pad,
  worker,
  groups,
  dlq,
  archive,
  rooms,
  daemon,
  hook,
  setup,
  server,
  doctor,
  completionCommand(() => ALL),
  version,
];

const helpCommand: Command = {
  name: "help",
  summary: "show help for a command",
  usage: "help [command]",
  examples: ["help", "help tail"],
  flags: {},
  args: { min: 0, max: 1, what: "[command]" },
  run: (ctx) => {
    const topic = ctx.line.positionals[0];
    if (topic === undefined) {
      ctx.out.line(rootHelp(ALL));
      return Promise.resolve(EXIT.ok);
    }
    const command = ALL.find((c) => c.name === topic);
    if (!command) throw new UsageError(`unknown help topic ${JSON.stringify(topic)}`);
    ctx.out.line(commandHelp(command));
    return Promise.resolve(EXIT.ok);
  },
};

const ALL: readonly Command[] = [...COMMANDS, helpCommand];

/**
 * Runs the CLI on `args` and returns the exit code. Never exits the process
 * and never reads it: environment, working directory and streams come from
 * `io` (`cli.ts` builds it from `Deno`; tests build their own).
 *
 * @param args command-line arguments
 * @param io environment, working directory, streams and process facts
 * @returns the exit code
 */
export async function main(args: string[], io: CliIo): Promise<number> {
  const out = outputTo(io.stdout, io.stderr);
  let ctx: Context | undefined;
  let name = "";
  try {
    const found = findCommand(args);
    name = found.command;
    if (found.index === -1) {
      if (args.includes("--version") || args.includes("-V")) {
        out.line(`agentroom ${VERSION}`);
        return EXIT.ok;
      }
      const line = parseCommandArgs("", args, {});
      if (line.values.help) {
        out.line(rootHelp(ALL));
        return EXIT.ok;
      }
      out.line(rootHelp(ALL));
      throw new UsageError("missing command");
    }
    const command = ALL.find((c) => c.name === name);
    if (!command) {
      throw new UsageError(
        `unknown command ${JSON.stringify(name)}${didYouMean(name, ALL.map((c) => c.name))}`,
      );
    }
    const rest = [...args.slice(0, found.index), ...args.slice(found.index + 1)];
    const line = parseCommandArgs(name, rest, command.flags);
    if (line.values.help) {
      out.line(commandHelp(command));
      return EXIT.ok;
    }
    const count = line.positionals.length;
    if (count < command.args.min) {
      throw new UsageError(`missing argument: ${name} takes ${command.args.what}`, name);
    }
    if (count > command.args.max) {
      const takes = command.args.max === 0 ? "no arguments" : command.args.what;
      throw new UsageError(
        `too many arguments: ${name} takes ${takes} (quote a payload with spaces)`,
        name,
      );
    }
    ctx = new Context(line, out, io);
    return await command.run(ctx);
  } catch (error) {
    return report(out, error, name);
  } finally {
    await ctx?.close().catch(() => {});
  }
}

function report(out: Output, error: unknown, command: string): number {
  // The reader went away (`agentroom tail | head -1`): stop quietly, like other Unix tools.
  if (error instanceof Deno.errors.BrokenPipe) return EXIT.ok;
  if (error instanceof UsageError) {
    const topic = error.command || command;
    const hint = topic && ALL.some((c) => c.name === topic)
      ? `run 'agentroom ${topic} --help'`
      : "run 'agentroom --help'";
    out.error(`${error.message}; ${hint}`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    out.error(error.message);
    return error.exitCode;
  }
  // a second ask while one is pending is contention, like a lost claim
  if (error instanceof AskPendingError) {
    out.error(error.message);
    return EXIT.conflict;
  }
  if (error instanceof RedisUnavailableError && isNetworkBlocked(error)) {
    out.error(networkBlockedText(error.address));
    return EXIT.failure;
  }
  if (error instanceof RedisUnavailableError) {
    out.error(
      `${error.message}; start redis-server or point --redis / AGENTROOM_REDIS_URL at a running Redis`,
    );
    return EXIT.failure;
  }
  if (error instanceof AgentroomError) {
    out.error(error.message);
    return EXIT.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`internal: ${message}`);
  return EXIT.failure;
}
