// The resilience4j circuit breaker (COUNT_BASED), on small hand-made traces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CircuitBreaker, resilience4jConfig } from "../sim/policies/circuit-breaker.js";

function breaker(): CircuitBreaker {
  return new CircuitBreaker(resilience4jConfig(2000));
}

function calls(b: CircuitBreaker, n: number, outcome: { failed?: boolean; ms?: number }, atS = 1): void {
  for (let i = 0; i < n; i++) {
    assert.ok(b.tryAcquirePermission(atS), "permitted");
    b.onResult(outcome.failed ?? false, outcome.ms ?? 100, atS);
  }
}

test("the breaker needs 20 calls before it judges the failure rate", () => {
  const b = breaker();
  calls(b, 19, { failed: true });
  assert.equal(b.state.kind, "closed", "19 failures are not enough calls");
  calls(b, 1, { failed: true });
  assert.equal(b.state.kind, "open");
});

const rates: Array<[number, number, string]> = [
  [10, 10, "open"],
  [9, 11, "closed"],
  [50, 50, "open"],
  [49, 51, "closed"],
];
for (const [failed, ok, expected] of rates) {
  test(`${failed} failures and ${ok} successes leave the breaker ${expected} (threshold 50%)`, () => {
    const b = breaker();
    calls(b, ok, {});
    calls(b, failed, { failed: true });
    assert.equal(b.state.kind, expected);
  });
}

test("the window holds the last 100 calls only", () => {
  const b = breaker();
  calls(b, 100, {});
  calls(b, 49, { failed: true });
  assert.equal(b.state.kind, "closed", "49 of the last 100 failed");
  calls(b, 1, { failed: true });
  assert.equal(b.state.kind, "open", "50 of the last 100 failed (of all 150 calls: a third)");
});

test("calls slower than slo.latency_ms open the breaker at 50% slow calls", () => {
  const b = breaker();
  calls(b, 10, { ms: 100 });
  calls(b, 9, { ms: 2500 });
  assert.equal(b.state.kind, "closed");
  calls(b, 1, { ms: 2001 });
  assert.equal(b.state.kind, "open");
  assert.match((b.state as { reason: string }).reason, /slow call rate/);
});

test("an open breaker refuses calls for 5 s, then lets 10 through half-open", () => {
  const b = breaker();
  calls(b, 20, { failed: true }, 10);
  assert.equal(b.tryAcquirePermission(14.9), false);
  for (let i = 0; i < 10; i++) assert.equal(b.tryAcquirePermission(15), true, `probe ${i + 1}`);
  assert.equal(b.state.kind, "half_open");
  assert.equal(b.tryAcquirePermission(15), false, "the 11th is refused");
});

const halfOpen: Array<[number, string]> = [[4, "closed"], [5, "open"]];
for (const [failures, expected] of halfOpen) {
  test(`${failures} failures among the 10 half-open calls leave the breaker ${expected}`, () => {
    const b = breaker();
    calls(b, 20, { failed: true }, 0);
    for (let i = 0; i < 10; i++) assert.ok(b.tryAcquirePermission(6));
    for (let i = 0; i < 10; i++) b.onResult(i < failures, 100, 7);
    assert.equal(b.state.kind, expected);
    if (expected === "closed") {
      calls(b, 19, { failed: true }, 8);
      assert.equal(b.state.kind, "closed", "a fresh window after closing needs 20 calls again");
    } else {
      assert.equal(b.tryAcquirePermission(8), false, "open again for another 5 s");
    }
  });
}
