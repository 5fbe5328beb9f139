/**
 * Conformance suite of the Redis port, run against both adapters on a real
 * redis-server (no mocks).
 */
import assert from "node:assert/strict";
import {
  AbortedError,
  RedisCommandError,
  RedisUnavailableError,
  TimeoutError,
} from "../../src/errors.ts";
import { type ConnectOptions, connectRedis, type RedisTransport } from "../../src/redis/connect.ts";
import type { LuaScript, RedisPort, RedisReply } from "../../src/redis/port.ts";
import { connectIoredis, connectIoredisCluster } from "../../src/redis/ioredis.ts";
import { RespParser } from "../../src/redis/_resp_parser.ts";
import { parseRedisUrl } from "../../src/redis/url.ts";
import { closedPort, shared, startRedis } from "../support/redis.ts";
import { until } from "../support/poll.ts";
import { silentServer } from "../support/silent_server.ts";

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** Awaits `promise`, asserts it rejects with `cls`, and returns the error. */
async function rejects<E>(promise: Promise<unknown>, cls: ErrorClass<E>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof cls, `unexpected error: ${error}`);
    return error;
  }
  assert.fail(`expected ${cls.name}`);
}

function key(name: string): string {
  return `port-test:${crypto.randomUUID().slice(0, 8)}:${name}`;
}

/** Generates a throwaway CA and a server certificate for 127.0.0.1. */
async function makeCerts(dir: string): Promise<void> {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  };
  await Deno.writeTextFile(
    `${dir}/san.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
  );
  await run(
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=agentroom test CA"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign"],
  );
  await run(
    ...["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
    ...["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
  );
  await run(
    ...["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key"],
    ...["-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "san.ext"],
  );
}

async function tlsUnavailableReason(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output();
    if (!out.success) return "openssl does not run";
  } catch {
    return "openssl is not installed";
  }
  return undefined;
}

const TLS_SKIP = await tlsUnavailableReason();
if (TLS_SKIP) console.error(`TLS tests skipped: ${TLS_SKIP}`);

const SCRIPT_SOURCE = "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}";

for (const transport of ["resp", "ioredis"] as RedisTransport[]) {
  const open = (url = shared.url, options: ConnectOptions = {}) =>
    connectRedis(parseRedisUrl(url), { transport, ...options });

  /** Runs `fn` with a port on the shared server and closes it afterwards. */
  const withPort = async (fn: (port: RedisPort) => Promise<void>, options?: ConnectOptions) => {
    const port = await open(shared.url, options);
    try {
      await fn(port);
    } finally {
      await port.close();
    }
  };

  const test = (name: string, fn: () => Promise<void>, ignore = false) =>
    Deno.test({ name: `${transport}: ${name}`, ignore, fn });

  test("SET and GET", () =>
    withPort(async (port) => {
      const k = key("str");
      assert.equal(await port.call(["SET", k, "value"]), "OK");
      assert.equal(await port.call(["GET", k]), "value");
      assert.equal(port.address, shared.url);
    }));

  test("unicode, control characters and byte arguments round trip", () =>
    withPort(async (port) => {
      const values = ["héllo wörld 🎉 日本語", "a\r\nb\0c\x01\x7f", "$5\r\n*1\r\n", "", " "];
      for (const value of values) {
        const k = key("u");
        await port.call(["SET", k, value]);
        assert.equal(await port.call(["GET", k]), value);
        assert.equal(await port.call(["STRLEN", k]), new TextEncoder().encode(value).length);
      }
      const k = key("bytes");
      await port.call(["SET", k, new Uint8Array([0x68, 0x69, 0x00, 0x0a])]);
      assert.equal(await port.call(["GET", k]), "hi\0\n");
      await port.call(["SET", k, 12.5]);
      assert.equal(await port.call(["GET", k]), "12.5");
    }));

  test("5 MB bulk reply", () =>
    withPort(async (port) => {
      const k = key("big");
      const value = "0123456789abcdé".repeat(5 * 1024 * 1024 / 16);
      await port.call(["SET", k, value]);
      const reply = await port.call(["GET", k]);
      assert.equal(typeof reply, "string");
      assert.equal((reply as string).length, value.length);
      assert.ok(reply === value);
      await port.call(["DEL", k]);
    }));

  test("nested arrays, nil and integers", () =>
    withPort(async (port) => {
      const s = key("stream");
      const id1 = await port.call(["XADD", s, "*", "f1", "v1", "f2", "v2"]);
      const id2 = await port.call(["XADD", s, "*", "f3", "v3"]);
      assert.deepEqual(await port.call(["XRANGE", s, "-", "+"]), [
        [id1, ["f1", "v1", "f2", "v2"]],
        [id2, ["f3", "v3"]],
      ]);
      assert.deepEqual(await port.call(["XRANGE", s, "0", "0"]), []);
      assert.equal(await port.call(["GET", key("missing")]), null);
      assert.equal(await port.call(["BLPOP", key("empty"), "0.01"]), null);
      assert.deepEqual(await port.call(["HMGET", key("nohash"), "a", "b"]), [null, null]);
      const n = key("n");
      assert.equal(await port.call(["INCR", n]), 1);
      assert.equal(await port.call(["INCRBY", n, 41]), 42);
      assert.equal(await port.call(["DECRBY", n, 50]), -8);
      assert.equal(await port.call(["PING"]), "PONG");
    }));

  test("error reply rejects with RedisCommandError", () =>
    withPort(async (port) => {
      const k = key("wrongtype");
      await port.call(["SET", k, "x"]);
      const e1 = await rejects(port.call(["LPUSH", k, "y"]), RedisCommandError);
      assert.match(e1.message, /^WRONGTYPE /);
      assert.equal(e1.code, "redis_error");
      const e2 = await rejects(port.call(["NOSUCHCOMMAND", "a"]), RedisCommandError);
      assert.match(e2.message, /^ERR unknown command/);
      assert.equal(await port.call(["GET", k]), "x", "connection still usable");
    }));

  test("pipeline with one failing slot", () =>
    withPort(async (port) => {
      const k = key("pipe");
      const replies = await port.pipeline([
        ["SET", k, "v"],
        ["INCR", k],
        ["GET", k],
        ["XRANGE", key("nostream"), "-", "+"],
        ["GET", key("missing")],
      ]);
      assert.equal(replies.length, 5);
      assert.equal(replies[0], "OK");
      assert.ok(replies[1] instanceof RedisCommandError);
      assert.match((replies[1] as Error).message, /not an integer/);
      assert.deepEqual(replies.slice(2), ["v", [], null]);
      assert.deepEqual(await port.pipeline([]), []);
    }));

  test("evalScript falls back to EVAL, then uses EVALSHA, also after SCRIPT FLUSH", () =>
    withPort(async (port) => {
      const script: LuaScript = {
        name: "test",
        source: `-- ${crypto.randomUUID()}\n${SCRIPT_SOURCE}`,
      };
      const evalCalls = async () => {
        const info = await port.call(["INFO", "commandstats"]) as string;
        return Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0);
      };
      const sha = await sha1(script.source);
      const k = key("script");
      assert.deepEqual(await port.call(["SCRIPT", "EXISTS", sha]), [0]);
      const before = await evalCalls();
      assert.deepEqual(await port.evalScript(script, [k], ["a"]), [k, "a", 1]);
      assert.equal(await evalCalls(), before + 1, "first call uses EVAL");
      assert.deepEqual(await port.call(["SCRIPT", "EXISTS", sha]), [1]);
      assert.deepEqual(await port.evalScript(script, [k], [7]), [k, "7", 2]);
      assert.equal(await evalCalls(), before + 1, "second call uses EVALSHA");
      await port.call(["SCRIPT", "FLUSH"]);
      assert.deepEqual(await port.evalScript(script, [k], ["b"]), [k, "b", 3]);
      assert.equal(await evalCalls(), before + 2, "after SCRIPT FLUSH it falls back again");
      const failing: LuaScript = { name: "failing", source: "return redis.call('INCR', KEYS[1])" };
      await port.call(["SET", k, "text"]);
      const error = await rejects(port.evalScript(failing, [k], []), RedisCommandError);
      assert.match(error.message, /not an integer/);
    }));

  test("concurrent calls on one port get their own replies", () =>
    withPort(async (port) => {
      const base = key("conc");
      await port.pipeline(Array.from({ length: 200 }, (_, i) => ["SET", `${base}:${i}`, `v${i}`]));
      const counter = key("counter");
      const [gets, incrs] = await Promise.all([
        Promise.all(Array.from({ length: 200 }, (_, i) => port.call(["GET", `${base}:${i}`]))),
        Promise.all(Array.from({ length: 200 }, () => port.call(["INCR", counter]))),
      ]);
      assert.deepEqual(gets, Array.from({ length: 200 }, (_, i) => `v${i}`));
      assert.deepEqual(
        [...incrs as number[]].sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
    }));

  test("XREAD BLOCK 0 with timeoutMs 0 outlives the command deadline", async () => {
    const reader = await open(shared.url, { commandTimeoutMs: 300 });
    const writer = await open();
    try {
      const s = key("block");
      const pending = reader.call(["XREAD", "BLOCK", "0", "STREAMS", s, "$"], { timeoutMs: 0 });
      await new Promise((resolve) => setTimeout(resolve, 600));
      const id = await writer.call(["XADD", s, "*", "k", "v"]);
      assert.deepEqual(await pending, [[s, [[id, ["k", "v"]]]]]);
      assert.equal(await reader.call(["PING"]), "PONG");
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  test("a server that never answers fails within the command deadline", async () => {
    const server = silentServer();
    try {
      const port = await open(`redis://127.0.0.1:${server.port}`, { commandTimeoutMs: 300 });
      try {
        const started = Date.now();
        const error = await rejects(port.call(["PING"]), TimeoutError);
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
        assert.match(error.message, /PING within 300 ms/);
        await rejects(port.call(["PING"]), RedisUnavailableError);
        const timed = await rejects(port.call(["PING"], { timeoutMs: 100 }), RedisUnavailableError);
        assert.ok(timed.message.includes(`127.0.0.1:${server.port}`));
      } finally {
        await port.close();
      }
    } finally {
      await server.close();
    }
  });

  test("aborting the connect signal during AUTH rejects with AbortedError and closes the socket", async () => {
    const server = silentServer();
    try {
      const abort = new AbortController();
      const connecting = open(`redis://:pw@127.0.0.1:${server.port}`, {
        connectTimeoutMs: 60_000,
        signal: abort.signal,
      });
      while (server.accepted() === 0) await new Promise((r) => setTimeout(r, 5));
      abort.abort(new Error("deadline"));
      const error = await rejects(connecting, AbortedError);
      assert.equal(error.code, "aborted");
      assert.match(error.message, /: deadline$/);
      await server.closedByClient(0); // resolves only once the client closed the socket
    } finally {
      await server.close();
    }
  });

  test("aborting the connect signal rejects pending commands with AbortedError and closes the socket", async () => {
    const server = silentServer();
    try {
      const abort = new AbortController();
      const port = await open(`redis://127.0.0.1:${server.port}`, {
        commandTimeoutMs: 0,
        signal: abort.signal,
      });
      try {
        const pending = [port.call(["PING"]), port.pipeline([["PING"], ["PING"]])];
        abort.abort(new Error("shutting down"));
        for (const command of pending) await rejects(command, AbortedError);
        await rejects(port.call(["PING"]), AbortedError);
        await server.closedByClient(0);
      } finally {
        await port.close();
      }
    } finally {
      await server.close();
    }
  });

  test("a command's own signal rejects it with AbortedError and drops the connection", async () => {
    const server = silentServer();
    try {
      const port = await open(`redis://127.0.0.1:${server.port}`, { commandTimeoutMs: 0 });
      try {
        const abort = new AbortController();
        abort.abort();
        await rejects(port.call(["PING"], { signal: abort.signal }), AbortedError); // not sent
        const late = new AbortController();
        const pending = port.call(["PING"], { signal: late.signal });
        late.abort();
        await rejects(pending, AbortedError);
        await server.closedByClient(0);
        await rejects(port.call(["PING"]), RedisUnavailableError);
      } finally {
        await port.close();
      }
    } finally {
      await server.close();
    }
  });

  test("AUTH to a server that never answers fails within the connect deadline", async () => {
    const server = silentServer();
    try {
      const started = Date.now();
      const error = await rejects(
        open(`redis://:pw@127.0.0.1:${server.port}/2`, { connectTimeoutMs: 300 }),
        RedisUnavailableError,
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 1500, `took ${elapsed} ms`);
      assert.ok(!error.message.includes("pw@"), error.message);
    } finally {
      await server.close();
    }
  });

  test("connection refused names the address", async () => {
    const p = closedPort();
    const error = await rejects(open(`redis://127.0.0.1:${p}`), RedisUnavailableError);
    assert.match(
      error.message,
      new RegExp(`^Cannot reach Redis at redis://127\\.0\\.0\\.1:${p}: `),
    );
    assert.match(error.message, /refused/);
    assert.equal(error.code, "redis_unavailable");
  });

  test("a connection dropped by the server mid-command rejects", () =>
    withPort(async (port) => {
      const id = await port.call(["CLIENT", "ID"]);
      const pending = rejects(
        port.call(["BLPOP", key("never"), "0"], { timeoutMs: 0 }),
        RedisUnavailableError,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const killer = await open();
      try {
        assert.equal(await killer.call(["CLIENT", "KILL", "ID", id as number]), 1);
      } finally {
        await killer.close();
      }
      assert.match((await pending).message, /closed by the server|reset/);
      await rejects(port.call(["PING"]), RedisUnavailableError);
    }));

  test("close is idempotent and later calls reject", async () => {
    const port = await open();
    await port.close();
    await port.close();
    const error = await rejects(port.call(["PING"]), RedisUnavailableError);
    assert.match(error.message, /closed/);
    await rejects(port.pipeline([["PING"]]), RedisUnavailableError);
  });

  test("AUTH with a password", async () => {
    const server = await startRedis(["--requirepass", "s3cret"]);
    try {
      const good = await open(`redis://:s3cret@${server.host}:${server.port}`);
      try {
        assert.equal(await good.call(["PING"]), "PONG");
        assert.equal(good.address, `redis://:***@${server.host}:${server.port}`);
      } finally {
        await good.close();
      }
      const bad = await rejects(
        open(`redis://:wrong-pw@${server.host}:${server.port}`),
        RedisUnavailableError,
      );
      assert.match(bad.message, /authentication failed: WRONGPASS/);
      assert.ok(!bad.message.includes("wrong-pw"), bad.message);
      const anonymous = await open(server.url);
      try {
        const error = await rejects(anonymous.call(["PING"]), RedisCommandError);
        assert.match(error.message, /^NOAUTH/);
      } finally {
        await anonymous.close();
      }
    } finally {
      await server.stop();
    }
  });

  test("AUTH with an ACL user", () =>
    withPort(async (admin) => {
      const user = `alice-${crypto.randomUUID().slice(0, 8)}`;
      await admin.call(["ACL", "SETUSER", user, "on", ">p@ss:w/d", "~*", "+@all"]);
      try {
        const url = `redis://${user}:${
          encodeURIComponent("p@ss:w/d")
        }@${shared.host}:${shared.port}`;
        const port = await open(url);
        try {
          assert.equal(await port.call(["ACL", "WHOAMI"]), user);
        } finally {
          await port.close();
        }
        const error = await rejects(
          open(`redis://${user}:nope@${shared.host}:${shared.port}`),
          RedisUnavailableError,
        );
        assert.match(error.message, /authentication failed/);
      } finally {
        await admin.call(["ACL", "DELUSER", user]);
      }
    }));

  test("SELECT db from the URL", async () => {
    const db3 = await open(`${shared.url}/3`);
    const db0 = await open();
    try {
      const k = key("db");
      await db3.call(["SET", k, "in-3"]);
      assert.equal(await db0.call(["GET", k]), null);
      assert.equal(await db3.call(["GET", k]), "in-3");
      await db3.call(["DEL", k]);
    } finally {
      await db3.close();
      await db0.close();
    }
    const error = await rejects(open(`${shared.url}/99`), RedisUnavailableError);
    assert.match(error.message, /select database 99|DB index/);
  });

  test("TLS with rediss://", async () => {
    const dir = await Deno.makeTempDir({ prefix: "agentroom-tls-" });
    let server: Awaited<ReturnType<typeof startRedis>> | undefined;
    try {
      await makeCerts(dir);
      const tlsPort = closedPort();
      try {
        server = await startRedis([
          ...["--tls-port", String(tlsPort), "--tls-auth-clients", "no"],
          ...["--tls-cert-file", `${dir}/server.crt`, "--tls-key-file", `${dir}/server.key`],
          ...["--tls-ca-cert-file", `${dir}/ca.crt`],
        ]);
      } catch (error) {
        console.error(`TLS test skipped: redis-server did not start with TLS: ${error}`);
        return;
      }
      const ca = await Deno.readTextFile(`${dir}/ca.crt`);
      const url = `rediss://127.0.0.1:${tlsPort}/1`;
      const port = await open(url, { caCerts: [ca] });
      try {
        const k = key("tls");
        assert.equal(await port.call(["SET", k, "secure"]), "OK");
        assert.equal(await port.call(["GET", k]), "secure");
        const info = await port.call(["CLIENT", "INFO"]) as string;
        assert.match(info, / db=1 /);
      } finally {
        await port.close();
      }
      const untrusted = await rejects(open(url), RedisUnavailableError);
      assert.ok(untrusted.message.includes(`rediss://127.0.0.1:${tlsPort}/1`), untrusted.message);
      assert.match(untrusted.message, /certificate/);
    } finally {
      await server?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  }, TLS_SKIP !== undefined);
}

Deno.test("ioredis without fail-fast reconnects after the server drops it", async () => {
  const port = await connectIoredis(parseRedisUrl(`${shared.url}/2`), { failFast: false });
  try {
    const k = key("reconnect");
    await port.call(["SET", k, "in-2"]);
    const id = await port.call(["CLIENT", "ID"]);
    const killer = await connectRedis(parseRedisUrl(shared.url));
    try {
      assert.equal(await killer.call(["CLIENT", "KILL", "ID", id as number]), 1);
    } finally {
      await killer.close();
    }
    assert.equal(await port.call(["GET", k]), "in-2", "reconnected to db 2");
    assert.notEqual(await port.call(["CLIENT", "ID"]), id);
  } finally {
    await port.close();
  }
});

Deno.test("ioredis cluster: one-node cluster serves calls, pipelines and scripts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "agentroom-cluster-" });
  const server = await startRedis([
    ...["--cluster-enabled", "yes", "--cluster-config-file", `${dir}/nodes.conf`],
    ...["--cluster-announce-ip", "127.0.0.1"],
  ]);
  try {
    const endpoint = parseRedisUrl(server.url);
    const admin = await connectRedis(endpoint);
    try {
      await admin.call(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
      // A fresh master accepts writes about 2 s after startup.
      await until(
        "cluster_state:ok",
        async () => String(await admin.call(["CLUSTER", "INFO"])).includes("cluster_state:ok"),
        10_000,
      );
    } finally {
      await admin.close();
    }
    const port = await connectIoredisCluster([endpoint]);
    try {
      const k = `{${key("room")}}`;
      assert.equal(await port.call(["SET", `${k}:a`, "1"]), "OK");
      const replies = await port.pipeline([["INCR", `${k}:a`], ["HGET", `${k}:a`, "f"]]);
      assert.equal(replies[0], 2);
      assert.ok(replies[1] instanceof RedisCommandError);
      const script: LuaScript = { name: "get", source: "return redis.call('GET', KEYS[1])" };
      assert.equal(await port.evalScript(script, [`${k}:a`], []), "2");
      await rejects(port.call(["NOSUCHCOMMAND"]), RedisCommandError);
    } finally {
      await port.close();
    }
    await rejects(
      connectIoredisCluster([parseRedisUrl(`redis://127.0.0.1:${closedPort()}`)]),
      RedisUnavailableError,
    );
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RESP parser handles replies split byte by byte", () => {
  const wire =
    "*3\r\n$3\r\nabc\r\n*2\r\n:-7\r\n$-1\r\n*-1\r\n+OK\r\n-ERR boom\r\n$0\r\n\r\n*0\r\n" +
    "$3\r\né!\r\n";
  const bytes = new TextEncoder().encode(wire);
  const parser = new RespParser();
  const out: unknown[] = [];
  for (const byte of bytes) out.push(...parser.feed(new Uint8Array([byte])));
  const whole = new RespParser().feed(bytes);
  assert.deepEqual(out, whole);
  const expected: (RedisReply | string)[] = [["abc", [-7, null], null], "OK"];
  assert.deepEqual(out.slice(0, 2), expected);
  assert.equal((out[2] as Error).message, "ERR boom");
  assert.deepEqual(out.slice(3), ["", [], "é!"]);
});

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
