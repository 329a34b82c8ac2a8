// Robustness of the filter (real build/filter.wasm): random bytes through the decision path do
// not trap or disturb the last good decisions, and a long run keeps memory flat.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decisionBytes, seeded, startFilter, spread } from "./filter-support.js";

test("random bytes from the control plane never trap and never change the enforced decisions", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 3, clusters: [{ cluster: "llm-a", weight: 3 }, { cluster: "llm-b", weight: 1 }] });
    const random = seeded(4242);
    let expected = 3n;
    let accepted = 0;
    const valid = decisionBytes({ version: 9, clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 1 }] });
    for (let i = 0; i < 2000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(Math.floor(random() * 64));
        for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(random() * 256);
      } else {
        // A mutated valid message: flip, drop or truncate bytes so that structure is nearly right.
        bytes = valid.slice(0, 1 + Math.floor(random() * valid.length));
        const flips = 1 + Math.floor(random() * 3);
        for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      const acksBefore = cp.sent("ack").length;
      cp.sendRaw(bytes);
      const acks = cp.sent("ack");
      if (acks.length > acksBefore) {
        // Accepted: only a mutated valid set can be (it may still carry, e.g., a mangled reason),
        // never an older version, and the version acknowledged is the one now enforced.
        assert.equal(i % 2, 1, "pure random bytes are never accepted");
        const version = acks.at(-1)!.version;
        assert.ok(version >= expected, `version ${version} is not older than ${expected}`);
        expected = version;
        accepted++;
      }
      if (i % 200 === 0) assert.equal(t.request().trapped, false);
    }
    assert.equal(t.plugin.restarts, 0, "the VM never trapped");
    assert.equal(t.request().requestHeaders["x-autoglm-version"], String(expected));
    if (accepted === 0) assert.deepEqual(spread(t, 400), { "llm-a": 300, "llm-b": 100 }, "the last good weights still rule");
    assert.ok(cp.sent("nack").length > 100, "malformed messages were NACKed");
  } finally {
    t.close();
  }
});

test("thousands of requests in flight at once, finished in random order, each keep their own context", async () => {
  const { t, cp } = await startFilter();
  try {
    t.advance(1000);
    const before = cp.sent("report").length;
    // A deterministic shuffle (xorshift) so a failure can be replayed.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const failing = new Set<number>();
    let completed = 0;
    for (const inFlight of [3000, 40, 1500]) {
      const open = [];
      for (let i = 0; i < inFlight; i++) {
        const stream = t.plugin.createHttpStream(0);
        stream.sendRequestHeaders([[":method", "GET"], [":path", "/v1/chat"], [":authority", "llm"], [":scheme", "http"], ["x-autoglm-target", "llm-a"]], true);
        assert.equal(stream.localReply, null);
        open.push({ stream, n: completed + i });
      }
      // Response headers and completion in a shuffled order; every seventh one fails.
      while (open.length > 0) {
        const { stream, n } = open.splice(rnd(open.length), 1)[0]!;
        if (n % 7 === 0) failing.add(n);
        stream.sendResponseHeaders([[":status", n % 7 === 0 ? "503" : "200"]], true);
        stream.complete();
      }
      completed += inFlight;
    }
    t.advance(1000);
    const a = cp.sent("report").slice(before).flatMap((r) => r.clusters).filter((c) => c.cluster === "llm-a");
    assert.equal(a.reduce((s, c) => s + c.requests, 0), completed, "every request recorded once");
    assert.equal(a.reduce((s, c) => s + c.errors5xx, 0), failing.size, "each failure recorded on its own request");
    assert.equal(t.plugin.restarts, 0);
  } finally {
    t.close();
  }
});

test("a flood of local replies (a cluster's breaker open) keeps the filter's memory small", async () => {
  const { t } = await startFilter();
  try {
    const vm = t.plugin.vms[0]!;
    let local = 0;
    for (let i = 0; i < 30_000; i++) {
      const stream = t.plugin.createHttpStream(0);
      stream.sendRequestHeaders([[":method", "GET"], [":path", "/v1/chat"], [":authority", "llm"], [":scheme", "http"], ["x-autoglm-target", "llm-a"]], true);
      if (stream.localReply === null) stream.sendResponseHeaders([[":status", "503"]], true);
      else local++;
      stream.complete();
      if (i % 1000 === 999) t.advance(100);
    }
    assert.ok(local > 25_000, `the breaker opened and replied locally (${local})`);
    // Each local reply leaves a few KiB of garbage; it must be collected often enough.
    const bytes = vm.memory.bytes().length;
    assert.ok(bytes <= 512 * 1024, `linear memory is ${bytes} bytes`);
    assert.equal(t.plugin.restarts, 0);
  } finally {
    t.close();
  }
});

test("100k requests leave the filter's memory flat", async () => {
  const { t } = await startFilter();
  try {
    const vm = t.plugin.vms[0]!;
    const one = (i: number): void => {
      const stream = t.plugin.createHttpStream(0);
      stream.sendRequestHeaders([[":method", "GET"], [":path", "/v1/chat"], [":authority", "llm"], [":scheme", "http"]], true);
      if (stream.localReply === null) stream.sendResponseHeaders([[":status", i % 10 === 0 ? "503" : "200"]], true);
      stream.complete();
      if (i % 1000 === 999) t.advance(100);
    };
    for (let i = 0; i < 10_000; i++) one(i);
    const before = vm.memory.bytes().byteLength;
    for (let i = 0; i < 100_000; i++) one(i);
    const grown = vm.memory.bytes().byteLength - before;
    assert.ok(grown <= 65536, `memory grew by ${grown} bytes`);
    assert.equal(t.plugin.restarts, 0);
  } finally {
    t.close();
  }
});
