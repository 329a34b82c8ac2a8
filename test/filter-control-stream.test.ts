// The filter's side of the control-plane stream (real build/filter.wasm, virtual time): how long
// decisions outlive a lost control plane while every reconnect fails, which versions are
// refused, the enforced version in every hello, reports the control plane refused, and how
// often a failing control plane is logged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ControlMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { BASE_CONFIG, BreakerState, startFilter, spread } from "./filter-support.js";

/** version = generation * 2^20 + sequence (see DecisionSet.version in the .proto). */
const version = (generation: number, sequence: number): bigint => BigInt(generation) * 2n ** 20n + BigInt(sequence);

const FAST_RECONNECT = { reconnect_base_ms: 200, reconnect_max_ms: 1000 };
const OPEN_A = [{ cluster: "llm-a", state: BreakerState.OPEN, weight: 50 }, { cluster: "llm-b", weight: 50 }];

const fallbackLines = (messages: string[]): string[] => messages.filter((m) => m.includes("local fallback breakers rule"));

test("with every reconnect failing, decisions hold for their ttl from the end of the last live stream, then the fallback rules", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, control_plane: FAST_RECONNECT });
  try {
    cp.push({ version: 1, ttlMs: 10_000, clusters: OPEN_A });
    t.advance(3_000);
    assert.deepEqual(spread(t, 10), { "llm-b": 10 }, "a quiet, open stream keeps the decisions");
    // The control plane dies: its stream ends and every new one fails at once.
    cp.unavailable = true;
    cp.closeAll();
    const attemptsBefore = cp.attempts;
    t.advance(9_000);
    assert.deepEqual(spread(t, 10), { "llm-b": 10 }, "fail-static within the ttl");
    assert.equal(t.metric("autoglm.fallback"), 0);
    t.advance(2_000);
    assert.deepEqual(spread(t, 10), { "llm-a": 5, "llm-b": 5 }, "after the ttl: base weights, nothing open");
    t.advance(1_000);
    assert.equal(t.metric("autoglm.fallback"), 1);
    assert.ok(cp.attempts - attemptsBefore >= 10, `reconnects were tried: ${cp.attempts - attemptsBefore}`);
    t.advance(120_000);
    assert.deepEqual(spread(t, 10), { "llm-a": 5, "llm-b": 5 }, "failed reconnects never revive the dead control plane's decisions");
    assert.equal(t.metric("autoglm.fallback"), 1);
    assert.equal(fallbackLines(t.logMessages()).length, 1, "one log line when the fallback takes over");
    assert.match(fallbackLines(t.logMessages())[0]!, /version 1/);

    // The control plane comes back: its first message ends the fallback.
    cp.unavailable = false;
    t.advance(2_000);
    cp.push({ version: 2, ttlMs: 10_000, clusters: OPEN_A });
    t.advance(1_000);
    assert.deepEqual(spread(t, 10), { "llm-b": 10 });
    assert.equal(t.metric("autoglm.fallback"), 0);
  } finally {
    t.close();
  }
});

test("a stream the control plane accepts but never answers on does not count as a live control plane", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, control_plane: { ...FAST_RECONNECT, timeout_ms: 2_000 } });
  try {
    cp.push({ version: 1, ttlMs: 10_000, clusters: OPEN_A });
    cp.closeAll(); // the streams that follow are accepted and stay silent
    t.advance(9_000);
    assert.deepEqual(spread(t, 10), { "llm-b": 10 });
    t.advance(2_000);
    assert.deepEqual(spread(t, 10), { "llm-a": 5, "llm-b": 5 });
    // A silent stream is given up after timeout_ms and another one tried.
    const silent = cp.streams.slice(1);
    assert.ok(silent.length >= 3, `streams after the close: ${silent.length}`);
    assert.ok(silent.slice(0, -1).every((s) => s.closedByFilter), "every silent stream but the newest was cancelled");
  } finally {
    t.close();
  }
});

test("every hello carries the decision version the worker enforces", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, control_plane: FAST_RECONNECT });
  try {
    assert.equal(cp.sent("hello")[0]?.enforcedVersion, 0n, "none enforced yet");
    const v = version(1_764_000_000, 18);
    cp.push({ version: v, clusters: OPEN_A });
    cp.closeAll();
    t.advance(1_500);
    const hellos = cp.sent("hello");
    assert.ok(hellos.length >= 2);
    assert.equal(hellos.at(-1)!.enforcedVersion, v);
  } finally {
    t.close();
  }
});

// Versions compare as plain integers: generation * 2^20 + sequence.
const enforced = version(1_764_000_000, 18);
const versionCases: Array<{ name: string; version: bigint; outcome: "ack" | "nack" }> = [
  { name: "an older sequence of the same generation", version: enforced - 1n, outcome: "nack" },
  { name: "an older generation with a higher sequence", version: version(1_763_999_999, 900_000), outcome: "nack" },
  { name: "sequence 1 of an older generation", version: version(1, 1), outcome: "nack" },
  { name: "the enforced version again", version: enforced, outcome: "ack" },
  { name: "the next sequence", version: enforced + 1n, outcome: "ack" },
  { name: "a newer generation's first sequence", version: version(1_764_000_001, 1), outcome: "ack" },
  { name: "the highest version the scheme allows", version: 2n ** 53n - 1n, outcome: "ack" },
];

for (const c of versionCases) {
  test(`a decision set with ${c.name} is ${c.outcome === "ack" ? "accepted" : "refused"}`, async () => {
    const { t, cp } = await startFilter();
    try {
      cp.push({ version: enforced, clusters: [{ cluster: "llm-a", weight: 1 }, { cluster: "llm-b", weight: 0 }] });
      cp.push({ version: c.version, clusters: [{ cluster: "llm-a", weight: 0 }, { cluster: "llm-b", weight: 1 }] });
      const acks = cp.sent("ack").map((a) => a.version);
      const nacks = cp.sent("nack");
      if (c.outcome === "ack") {
        assert.deepEqual(acks, [enforced, c.version]);
        assert.equal(nacks.length, 0);
        assert.equal(t.request().requestHeaders["x-autoglm-version"], c.version.toString());
      } else {
        assert.deepEqual(acks, [enforced]);
        assert.equal(nacks.length, 1);
        assert.equal(nacks[0]!.version, c.version);
        assert.equal(nacks[0]!.enforcedVersion, enforced);
        assert.match(nacks[0]!.reason, /^version: \d+ < enforced \d+$/);
        assert.equal(t.request().requestHeaders["x-autoglm-version"], enforced.toString());
      }
    } finally {
      t.close();
    }
  });
}

function reportRejected(sequence: number, reason: string, clockOffsetMs: number): Uint8Array {
  return toBinary(ControlMessageSchema, create(ControlMessageSchema, {
    kind: { case: "reportRejected", value: { sequence: BigInt(sequence), reason, clockOffsetMs: BigInt(clockOffsetMs) } },
  }));
}

test("a refused report is logged with its reason, a clock offset as a wrong clock, at most once a minute", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 1, clusters: OPEN_A });
    const reason = "window_start_ms: 4102444800000 is 2280000000 ms ahead of the control plane's clock (allowed skew 5000 ms)";
    cp.sendRaw(reportRejected(3, reason, -120_000));
    let warns = t.logMessages("warn").filter((m) => m.includes("refused report"));
    assert.equal(warns.length, 1);
    assert.ok(warns[0]!.includes(reason.slice(0, 80)), warns[0]); // echoed as printable ASCII, at most 80 characters
    assert.match(warns[0]!, /refused report 3: /);
    assert.match(warns[0]!, /clock looks wrong by -120000 ms/);
    for (let i = 0; i < 5; i++) {
      t.advance(1_000);
      cp.sendRaw(reportRejected(4 + i, "late", 0));
    }
    warns = t.logMessages("warn").filter((m) => m.includes("refused report"));
    assert.equal(warns.length, 1, "rate-limited");
    t.advance(60_000);
    cp.sendRaw(reportRejected(20, "counters: errors_5xx 7 > requests 5", 0));
    warns = t.logMessages("warn").filter((m) => m.includes("refused report"));
    assert.equal(warns.length, 2);
    assert.match(warns[1]!, /5 similar suppressed/);
    assert.doesNotMatch(warns[1]!, /clock/);
    assert.equal(cp.sent("nack").length, 0, "a refused report is not a decision to NACK");
    assert.equal(t.request({ headers: { "x-autoglm-target": "llm-a" } }).localReply?.status, 503, "the decisions stay");
  } finally {
    t.close();
  }
});

test("a ControlMessage of a kind this build does not know is ignored", async () => {
  const { t, cp } = await startFilter();
  try {
    cp.push({ version: 1, clusters: OPEN_A });
    // field 15, a message { 1: 1 }: a kind from a newer control plane
    cp.sendRaw(new BinaryWriter().tag(15, WireType.LengthDelimited).bytes(new Uint8Array([0x08, 0x01])).finish());
    assert.equal(cp.sent("nack").length, 0);
    assert.deepEqual(cp.sent("ack").map((a) => a.version), [1n]);
    assert.deepEqual(spread(t, 10), { "llm-b": 10 });
  } finally {
    t.close();
  }
});

test("a control plane that keeps failing is logged at first, then at most once a minute with a count", async () => {
  const { t, cp } = await startFilter({ ...BASE_CONFIG, control_plane: FAST_RECONNECT });
  try {
    cp.push({ version: 1, clusters: OPEN_A });
    cp.unavailable = true;
    cp.closeAll();
    const before = cp.attempts;
    t.advance(150_000);
    const failing = t.logMessages("warn").filter((m) => m.includes("control-plane stream"));
    assert.ok(cp.attempts - before >= 100, `attempts: ${cp.attempts - before}`);
    assert.ok(failing.length >= 2 && failing.length <= 4, failing.join("\n"));
    assert.match(failing.at(-1)!, /similar suppressed/);
  } finally {
    t.close();
  }
});
