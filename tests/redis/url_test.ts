import assert from "node:assert/strict";
import { InvalidValueError } from "../../src/errors.ts";
import {
  endpointFromAddr,
  parseRedisUrl,
  redactUrl,
  type RedisEndpoint,
} from "../../src/redis/url.ts";

/** Runs `fn`, asserts it throws an `InvalidValueError`, and returns it. */
function invalid(fn: () => unknown): InvalidValueError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidValueError, `unexpected error ${error}`);
    return error;
  }
  assert.fail("expected an InvalidValueError");
}

const base = { host: "127.0.0.1", port: 6379, db: 0, tls: false };

const valid: [string, Partial<RedisEndpoint>][] = [
  ["redis://", { display: "redis://127.0.0.1:6379" }],
  ["redis://localhost", { host: "localhost", display: "redis://localhost:6379" }],
  ["redis://example.com:6380", { host: "example.com", port: 6380 }],
  ["redis://10.0.0.1:7000/3", { host: "10.0.0.1", port: 7000, db: 3 }],
  ["redis://h:1/", { host: "h", port: 1 }],
  ["redis://h/5?db=7", { host: "h", db: 7, display: "redis://h:6379/7" }],
  ["redis://h?db=2&protocol=2", { host: "h", db: 2 }],
  ["REDIS://H:1", { host: "H", port: 1 }],
  ["rediss://cache.internal:6380", {
    host: "cache.internal",
    port: 6380,
    tls: true,
    display: "rediss://cache.internal:6380",
  }],
  ["redis://[::1]:6390", { host: "::1", port: 6390, display: "redis://[::1]:6390" }],
  ["redis://[::1]", { host: "::1" }],
  ["redis://:s3cret@h:1", { host: "h", port: 1, password: "s3cret", display: "redis://:***@h:1" }],
  ["redis://alice:pw@h:1/2", {
    host: "h",
    port: 1,
    db: 2,
    username: "alice",
    password: "pw",
    display: "redis://alice:***@h:1/2",
  }],
  ["redis://alice@h", { host: "h", username: "alice", display: "redis://alice@h:6379" }],
  ["redis://al%40ce:p%40ss%3Aw%2Fd@h", { host: "h", username: "al@ce", password: "p@ss:w/d" }],
  ["redis://u:p@ss@h", { host: "h", username: "u", password: "p@ss" }],
  ["redis://:@h", { host: "h", password: "" }],
  ["  redis://h:2  ", { host: "h", port: 2 }],
];

for (const [url, expected] of valid) {
  Deno.test(`parseRedisUrl accepts ${url.trim()}`, () => {
    const endpoint = parseRedisUrl(url);
    const { display: _, ...want } = { ...base, ...expected };
    const { display, ...got } = endpoint;
    for (const key of ["username", "password"] as const) {
      if (got[key] === undefined) delete got[key];
    }
    assert.deepEqual(got, want);
    if (expected.display) assert.deepEqual(display, expected.display);
    if (endpoint.password) assert.ok(!display.includes(endpoint.password));
  });
}

const malformed: [string, RegExp][] = [
  ["", /scheme|expected/],
  ["localhost:6379", /expected redis:\/\//],
  ["http://h:1", /unsupported scheme "http"/],
  ["http://h:1", /unsupported scheme "http"/],
  ["redis://h:abc", /invalid port "abc"/],
  ["redis://h:", /invalid port ""/],
  ["redis://h:0", /out of range/],
  ["redis://h:65536", /out of range/],
  ["redis://h:-1", /invalid port/],
  ["redis://h:1/abc", /database "abc"/],
  ["redis://h:1/-1", /database "-1"/],
  ["redis://h:1/1.5", /database "1.5"/],
  ["redis://h:1/1/2", /database "1\/2"/],
  ["redis://h:1?db=x", /database "x"/],
  ["redis://h o:1", /invalid host/],
  ["redis://[::1", /unclosed/],
  ["redis://[::1]x", /after IPv6/],
  ["redis://[zz]:1", /invalid IPv6/],
  ["redis://u:%zz@h", /percent-encoding in the password/],
  ["redis://%zz:p@h", /percent-encoding in the user name/],
];

for (const [url, pattern] of malformed) {
  Deno.test(`parseRedisUrl rejects ${JSON.stringify(url)}`, () => {
    const error = invalid(() => parseRedisUrl(url));
    assert.ok(pattern.test(error.message), error.message);
    assert.ok(error.message.startsWith("Invalid Redis URL: "));
  });
}

Deno.test("parseRedisUrl never echoes the password in errors", () => {
  for (const url of ["redis://u:hunter2@h:bad", "redis://:hunter2@h:1/x", "redis://:hunter2@h o"]) {
    const error = invalid(() => parseRedisUrl(url));
    assert.ok(!error.message.includes("hunter2"), error.message);
  }
});

Deno.test("endpointFromAddr parses host:port", () => {
  assert.deepEqual(endpointFromAddr("redis.local:6380"), {
    host: "redis.local",
    port: 6380,
    db: 0,
    tls: false,
    display: "redis://redis.local:6380",
  });
  assert.deepEqual(endpointFromAddr("[::1]:7000").host, "::1");
  assert.deepEqual(endpointFromAddr("[::1]:7000").display, "redis://[::1]:7000");
  assert.deepEqual(endpointFromAddr(":6379").host, "127.0.0.1");
});

for (const addr of ["", "localhost", "h:", "h:x", "h:99999", "[::1]", "::1", "a b:1", "h:1:2"]) {
  Deno.test(`endpointFromAddr rejects ${JSON.stringify(addr)}`, () => {
    const error = invalid(() => endpointFromAddr(addr));
    assert.ok(error.message.startsWith("Invalid Redis address"), error.message);
  });
}

Deno.test("redactUrl hides the password only", () => {
  assert.deepEqual(redactUrl("redis://u:pw@h:1/2"), "redis://u:***@h:1/2");
  assert.deepEqual(redactUrl("redis://:pw@h"), "redis://:***@h");
  assert.deepEqual(redactUrl("redis://h:1"), "redis://h:1");
  assert.deepEqual(redactUrl("redis://u@h:1"), "redis://u@h:1");
});

Deno.test("parseRedisUrl accepts Unix-socket URLs", () => {
  const plain = parseRedisUrl("unix:///run/agentroom/redis.sock");
  assert.equal(plain.path, "/run/agentroom/redis.sock");
  assert.equal(plain.db, 0);
  assert.equal(plain.tls, false);
  assert.equal(plain.display, "unix:///run/agentroom/redis.sock");
  const db = parseRedisUrl("redis+unix:///tmp/r.sock?db=3");
  assert.equal(db.path, "/tmp/r.sock");
  assert.equal(db.db, 3);
  assert.equal(db.display, "unix:///tmp/r.sock?db=3");
  const auth = parseRedisUrl("unix://alice:s3cret@/tmp/r.sock");
  assert.equal(auth.username, "alice");
  assert.equal(auth.password, "s3cret");
  assert.equal(auth.display, "unix://alice:***@/tmp/r.sock");
  invalid(() => parseRedisUrl("unix://relative/path"));
  invalid(() => parseRedisUrl("unix://"));
  invalid(() => parseRedisUrl("unix:///tmp/r.sock?db=x"));
});
