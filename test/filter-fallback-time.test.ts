// The hello's disconnected_ms and fallback_ms (capability "fallback_time"): how long a worker ran
// without a live control-plane stream before it said hello again, and of that how long its local
// fallback breakers ruled. The real build/filter.wasm on virtual time, against a fake control plane.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_CONFIG, BreakerState, startFilter, type FakeControlPlane } from "./filter-support.js";

const FAST_RECONNECT = { reconnect_base_ms: 200, reconnect_max_ms: 1000 };
const CONFIG = { ...BASE_CONFIG, control_plane: FAST_RECONNECT };
const CLUSTERS = [{ cluster: "llm-a", state: BreakerState.CLOSED, weight: 50 }, { cluster: "llm-b", weight: 50 }];

/** The newest hello's disconnected and fallback times, ms. */
function lastHello(cp: FakeControlPlane): { disconnected: number; fallback: number; capabilities: string[] } {
  const hellos = cp.sent("hello");
  const h = hellos[hellos.length - 1]!;
  return { disconnected: Number(h.disconnectedMs), fallback: Number(h.fallbackMs), capabilities: h.capabilities };
}

test("the first hello says fallback_time and reports 0 ms disconnected, 0 ms on the fallback", async () => {
  const { t, cp } = await startFilter(CONFIG);
  try {
    assert.deepEqual(lastHello(cp), { disconnected: 0, fallback: 0, capabilities: ["shed", "streams", "fallback_time", "sent", "halt_immediate", "upstream_load"] });
  } finally {
    t.close();
  }
});

test("after a disconnect longer than the ttl the hello reports the time since the stream ended and, of it, the time past the ttl", async () => {
  const { t, cp } = await startFilter(CONFIG);
  try {
    cp.push({ version: 1, ttlMs: 10_000, clusters: CLUSTERS });
    t.advance(3_000);
    cp.unavailable = true;
    cp.closeAll();
    const endedAt = t.clock.now();
    t.advance(25_000);
    const attempts = cp.streams.length;
    cp.unavailable = false;
    t.advance(1_500); // the next attempt (at most reconnect_max_ms away) reaches it
    assert.ok(cp.streams.length > attempts, "the filter reconnected");
    const h = lastHello(cp);
    const openedAt = t.clock.now() - 1_500; // bounds: the attempt happened in the last 1.5 s
    assert.ok(h.disconnected >= openedAt - endedAt && h.disconnected <= t.clock.now() - endedAt, `disconnected ${h.disconnected}`);
    assert.equal(h.fallback, h.disconnected - 10_000, "on the fallback from the moment the ttl ran out");
  } finally {
    t.close();
  }
});

test("after a disconnect shorter than the ttl the hello reports the gap and no fallback time", async () => {
  const { t, cp } = await startFilter(CONFIG);
  try {
    cp.push({ version: 1, ttlMs: 10_000, clusters: CLUSTERS });
    t.advance(3_000);
    cp.closeAll(); // the next attempt is accepted at once
    const endedAt = t.clock.now();
    t.advance(1_500);
    const h = lastHello(cp);
    assert.ok(h.disconnected > 0 && h.disconnected <= t.clock.now() - endedAt, `disconnected ${h.disconnected}`);
    assert.equal(h.fallback, 0);
  } finally {
    t.close();
  }
});

test("a worker that never had valid decisions reports its whole disconnection as fallback time", async () => {
  const { t, cp } = await startFilter(CONFIG);
  try {
    // The control plane answers (the stream is live) with a set the filter refuses: no plan.
    cp.push({ version: 1, ttlMs: 10_000, clusters: [{ cluster: "llm-z", weight: 1 }] });
    assert.equal(cp.sent("nack").length, 1);
    t.advance(2_000);
    cp.unavailable = true;
    cp.closeAll();
    t.advance(4_000);
    cp.unavailable = false;
    t.advance(1_500);
    const h = lastHello(cp);
    assert.ok(h.disconnected >= 4_000, `disconnected ${h.disconnected}`);
    assert.equal(h.fallback, h.disconnected);
  } finally {
    t.close();
  }
});

test("once a reconnected stream delivers a message, the next disconnection is counted afresh", async () => {
  const { t, cp } = await startFilter(CONFIG);
  try {
    cp.push({ version: 1, ttlMs: 5_000, clusters: CLUSTERS });
    cp.unavailable = true;
    cp.closeAll();
    t.advance(20_000);
    cp.unavailable = false;
    t.advance(1_500);
    assert.ok(lastHello(cp).fallback >= 15_000);
    cp.push({ version: 2, ttlMs: 5_000, clusters: CLUSTERS }); // live again: the offline period is over
    t.advance(3_000);
    cp.closeAll();
    const endedAt = t.clock.now();
    t.advance(1_500);
    const h = lastHello(cp);
    assert.ok(h.disconnected <= t.clock.now() - endedAt, `disconnected ${h.disconnected} counts only the new gap`);
    assert.equal(h.fallback, 0);
  } finally {
    t.close();
  }
});
