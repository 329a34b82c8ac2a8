// Which sidecar workers confirmed a halt's decision version (core/halt/confirmation.ts): pure,
// on given times, over a table of cases.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ConfirmationWatch, confirmationSettled, confirmationStatus, type ConfirmationState } from "../control-plane/src/core/halt/index.js";
import type { Capability } from "../control-plane/src/core/capabilities.js";

const V = 100;
const SINCE = 10_000;
const WAIT = 5_000;

interface Worker {
  id: string;
  capabilities?: string[];
  /** Versions it acknowledged or enforced, with when. */
  reached?: [version: number, atMs: number][];
}

interface Case {
  name: string;
  requires?: Capability;
  workers: Worker[];
  nowMs: number;
  waitEnded?: boolean;
  state: ConfirmationState;
  confirmed?: string[];
  waiting?: string[];
  unconfirmed?: string[];
  cannot?: string[];
  confirmedAtMs?: number | null;
}

const cases: Case[] = [
  { name: "no worker connected: nothing to confirm", workers: [], nowMs: SINCE, state: "no_sidecars", confirmedAtMs: null },
  {
    name: "every worker acknowledged the version: confirmed when the last one did",
    workers: [{ id: "a", reached: [[V, SINCE + 20]] }, { id: "b", reached: [[V, SINCE + 70]] }],
    nowMs: SINCE + 100,
    state: "confirmed",
    confirmed: ["a", "b"],
    confirmedAtMs: SINCE + 70,
  },
  {
    name: "a later version confirms the halt too (versions only grow while halted)",
    workers: [{ id: "a", reached: [[V + 3, SINCE + 5]] }],
    nowMs: SINCE + 10,
    state: "confirmed",
    confirmed: ["a"],
    confirmedAtMs: SINCE + 5,
  },
  {
    name: "an earlier version does not confirm: the worker is waiting within the wait",
    workers: [{ id: "a", reached: [[V, SINCE]] }, { id: "b", reached: [[V - 1, SINCE]] }],
    nowMs: SINCE + WAIT - 1,
    state: "waiting",
    confirmed: ["a"],
    waiting: ["b"],
  },
  {
    name: "a worker that never acknowledges is unconfirmed once the wait is over",
    workers: [{ id: "a", reached: [[V, SINCE]] }, { id: "b" }],
    nowMs: SINCE + WAIT,
    state: "unconfirmed",
    confirmed: ["a"],
    unconfirmed: ["b"],
  },
  {
    name: "the caller's wait ended before the clock reached the deadline: unconfirmed",
    workers: [{ id: "b" }],
    nowMs: SINCE,
    waitEnded: true,
    state: "unconfirmed",
    unconfirmed: ["b"],
  },
  {
    name: "a worker without the capability cannot confirm an immediate halt, though it acknowledged the version",
    requires: "halt_immediate",
    workers: [{ id: "new", capabilities: ["shed", "halt_immediate"], reached: [[V, SINCE + 1]] }, { id: "old", capabilities: ["shed"], reached: [[V, SINCE + 2]] }],
    nowMs: SINCE + 3,
    state: "confirmed_partly",
    confirmed: ["new"],
    cannot: ["old"],
    confirmedAtMs: SINCE + 2,
  },
  {
    name: "an older filter that names no capability and has not acknowledged keeps it unconfirmed",
    requires: "halt_immediate",
    workers: [{ id: "old", capabilities: [] }],
    nowMs: SINCE + WAIT,
    state: "unconfirmed",
    cannot: ["old"],
  },
];

for (const c of cases) {
  test(`halt confirmation: ${c.name}`, () => {
    const watch = new ConfirmationWatch(V, SINCE, c.requires);
    for (const w of c.workers) for (const [version, at] of w.reached ?? []) watch.observe(w.id, version, at);
    const status = confirmationStatus({
      watch,
      workers: c.workers.map((w) => ({ streamId: w.id, nodeId: w.id, workerId: 0, capabilities: w.capabilities ?? [] })),
      nowMs: c.nowMs,
      waitMs: WAIT,
      ...(c.waitEnded === undefined ? {} : { waitEnded: c.waitEnded }),
    });
    assert.equal(status.state, c.state);
    assert.equal(status.deadline_ms, SINCE + WAIT);
    assert.deepEqual(status.confirmed.map((w) => w.node_id), c.confirmed ?? []);
    assert.deepEqual(status.waiting.map((w) => w.node_id), c.waiting ?? []);
    assert.deepEqual(status.unconfirmed.map((w) => w.node_id), c.unconfirmed ?? []);
    assert.deepEqual(status.cannot.map((w) => w.node_id), c.cannot ?? []);
    if (c.confirmedAtMs !== undefined) assert.equal(status.confirmed_at_ms, c.confirmedAtMs);
    assert.equal(confirmationSettled(status), ["confirmed", "confirmed_partly", "no_sidecars"].includes(c.state));
  });
}

test("a worker's first arrival counts; a later acknowledgement does not move it, and a departed worker is forgotten", () => {
  const watch = new ConfirmationWatch(V, SINCE);
  assert.equal(watch.observe("a", V - 1, SINCE + 1), false);
  assert.equal(watch.observe("a", V, SINCE + 2), true);
  assert.equal(watch.observe("a", V + 1, SINCE + 9), false);
  assert.equal(watch.arrivedAt("a"), SINCE + 2);
  watch.forget("a");
  assert.equal(watch.arrivedAt("a"), undefined);
});
