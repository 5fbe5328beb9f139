/**
 * What a running command gets: its parsed flags, the output, the process
 * values it may read ({@linkcode CliIo}), and lazily resolved settings,
 * identity and room (Redis is only contacted on first use).
 *
 * @module
 */
import { roomConfig } from "../config.ts";
import { InvalidValueError } from "../errors.ts";
import { resolveIdentity } from "../identity.ts";
import type { AgentIdentity } from "../identity.ts";
import { connectRedis } from "../redis/connect.ts";
import type { RedisPort } from "../redis/port.ts";
import { Room } from "../room.ts";
import { checkSchema } from "../schema.ts";
import type { FlagSpec, ParsedLine } from "./_args.ts";
import { UsageError } from "./_args.ts";
import {
  checkedEnv,
  type EnvLookup,
  envValue,
  resolveCluster,
  resolveDurability,
  resolveEndpoint,
  resolveRoomName,
  resolveToken,
  type Settings,
} from "./_env.ts";
import type { Output } from "./_output.ts";

/**
 * How the CLI talks to the world. The CLI never reads the process itself:
 * `cli.ts` hands it this value built from `Deno`, tests build their own, so
 * `main(args, io)` runs in-process.
 */
export interface CliIo {
  /** Environment lookup. */
  env: EnvLookup;
  /** Working directory. */
  cwd: string;
  /** Writes text to stdout, synchronously; throws when the reader went away. */
  stdout: (text: string) => void;
  /** Writes raw bytes to stdout, synchronously (binary output such as `pad get`). */
  stdoutBytes: (bytes: Uint8Array) => void;
  /** Writes text to stderr, synchronously. */
  stderr: (text: string) => void;
  /** Standard input (`agentroom hook` and `pad put -` read it). */
  stdin: { read(buffer: Uint8Array): Promise<number | null> };
  /** The host name (a session-token fallback), or `undefined` when unknown. */
  hostname: () => string | undefined;
  /** The parent process id (a session-token fallback). */
  ppid: number;
  /** Calls `stop` on an interrupt (Ctrl-C, SIGTERM) until the returned function is called. */
  onInterrupt: (stop: () => void) => () => void;
}

/** A command of the CLI. */
export interface Command {
  /** Command word. */
  name: string;
  /** One-line summary for the command list. */
  summary: string;
  /** Usage line after `agentroom `, e.g. `post <type> [payload] [flags]`. */
  usage: string;
  /** Extra help paragraphs. */
  details?: string[];
  /** The words its first argument takes, when it is one of a fixed set (for completion). */
  actions?: readonly string[];
  /** Example invocations (without the leading `agentroom `). */
  examples: string[];
  /** The command's own flags. */
  flags: Record<string, FlagSpec>;
  /** How many positional arguments it takes. */
  args: { min: number; max: number; what: string };
  /** Runs the command and returns the exit code. */
  run(ctx: Context): Promise<number>;
}

/** The running command's context. */
export class Context {
  /** Parsed flags and positionals. */
  readonly line: ParsedLine;
  /** Where to write. */
  readonly out: Output;
  /** The process values the command may read. */
  readonly io: CliIo;
  #env: EnvLookup;
  #settings?: Settings;
  #port?: RedisPort;
  #room?: Room;

  /** Creates a context for a parsed line. */
  constructor(line: ParsedLine, out: Output, io: CliIo) {
    this.line = line;
    this.out = out;
    this.io = io;
    this.#env = checkedEnv(io.env);
  }

  /** Environment lookup (a variable that is not valid UTF-8 is a usage error). */
  get env(): EnvLookup {
    return this.#env;
  }

  /** Working directory. */
  get cwd(): string {
    return this.io.cwd;
  }

  /** Whether `--json` was given. */
  get json(): boolean {
    return this.line.values.json === true;
  }

  /** A string flag's value, if given. */
  flag(name: string): string | undefined {
    const value = this.line.values[name];
    return typeof value === "string" ? value : undefined;
  }

  /** A boolean flag's value. */
  bool(name: string): boolean {
    return this.line.values[name] === true;
  }

  /** Settings from flags and environment, resolved once. */
  get settings(): Settings {
    if (!this.#settings) {
      const env = this.#env;
      const transport = envValue(env, "AGENTROOM_TRANSPORT") ?? "resp";
      if (transport !== "resp" && transport !== "ioredis") {
        throw new UsageError(`AGENTROOM_TRANSPORT must be resp or ioredis, got ${transport}`);
      }
      let endpoint;
      let cluster;
      try {
        endpoint = resolveEndpoint(
          { redis: this.flag("redis"), addr: this.flag("addr") },
          env,
        );
        cluster = resolveCluster(env, endpoint);
      } catch (error) {
        if (error instanceof InvalidValueError) throw new UsageError(error.message);
        throw error;
      }
      if (cluster && envValue(env, "AGENTROOM_TRANSPORT") === "resp") {
        throw new UsageError(
          "AGENTROOM_REDIS_CLUSTER needs the ioredis transport; unset AGENTROOM_TRANSPORT=resp",
        );
      }
      this.#settings = {
        durability: resolveDurability(env),
        endpoint,
        ...resolveRoomName({ repo: this.flag("repo"), branch: this.flag("branch") }, {
          cwd: this.io.cwd,
          env,
        }),
        handle: this.flag("agent") ?? envValue(env, "AGENTROOM_AGENT") ?? "",
        token: resolveToken(env, { hostname: this.io.hostname(), ppid: this.io.ppid }),
        transport: cluster ? "ioredis" : transport,
        cluster,
      };
    }
    return this.#settings;
  }

  /** The actor's identity (handle qualified with the session token). */
  get identity(): AgentIdentity {
    return resolveIdentity(this.settings.handle, this.settings.token);
  }

  /** The room, connecting to Redis on first use. */
  async room(): Promise<Room> {
    if (!this.#room) {
      const settings = this.settings;
      const config = roomConfig({ repo: settings.repo, branch: settings.branch }, {
        durabilityReplicas: settings.durability.replicas,
        durabilityTimeoutMs: settings.durability.timeoutMs,
      });
      this.#port = await connectRedis(settings.endpoint, {
        transport: settings.transport,
        cluster: settings.cluster,
      });
      await checkSchema(this.#port, config);
      this.#room = new Room(this.#port, config);
    }
    return this.#room;
  }

  /** Closes the Redis connection if one was opened. */
  async close(): Promise<void> {
    await this.#port?.close();
  }
}
