// The event-driven scenario runner on a virtual clock.
//
// Arrivals (Poisson, from the scenario's seed) go to a sidecar in round robin; the policy routes
// each to a host of a cluster or rejects it locally; the simulated host answers (sim/upstream.ts)
// and the answer comes back as a completion event at arrival + latency, or at the client's
// timeout with 504 when the answer would be later. The policy's own timers and the telemetry
// windows (every window_s) are events on the same clock. Nothing here reads the wall clock, so a
// run is a pure function of (scenario, seed, policy).
//
// Client-side metrics are kept per window, each request counted in the window it arrived in:
// offered, failed (5xx, local reject, timeout), and the latency of every request that got an
// upstream answer or timed out. Per cluster and window: requests sent, 5xx, timeouts, latency
// quantiles, and whether the policy held the cluster's breaker open at the window's end.
import type { Scenario } from "./scenario.js";
import { STREAM, Xoshiro128 } from "./random.js";
import { arrivals } from "./traffic.js";
import { FaultTimeline } from "./faults.js";
import { UpstreamHost } from "./upstream.js";
import { Samples, quantileSorted } from "./quantile.js";
import type { Policy, SimRequest } from "./policy.js";
import type { SimTriggerEvent } from "./triggers.js";

/** One cluster in one window. Latencies in milliseconds. */
export interface ClusterWindowRecord {
  /** Requests the policy sent to the cluster (arrived in this window). */
  sent: number;
  /** Of those, answered with 5xx by a host (errors, overload 503, refusals). */
  errors: number;
  /** Of those, timed out at the client. */
  timeouts: number;
  /** Latency quantiles of its answered or timed-out requests; NaN when none. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** The policy held the cluster's breaker open at the window's end. */
  open: boolean;
}

/** One telemetry window, client side and per cluster. */
export interface WindowRecord {
  startS: number;
  endS: number;
  /** Requests that arrived. */
  offered: number;
  /** Failed for the client: 5xx, local reject or timeout. */
  failed: number;
  localRejects: number;
  timeouts: number;
  /** p99 of the requests that got an upstream answer or timed out, ms; NaN when none. */
  p99Ms: number;
  clusters: ClusterWindowRecord[];
}

/** Everything a run measured. */
export interface RunResult {
  scenario: Scenario;
  policy: string;
  windows: WindowRecord[];
  requests: number;
  failed: number;
  /** Client p99 over the run (answered or timed out), ms. */
  p99Ms: number;
  /** The scenario's triggers that fired and cleared (policies that run them; sim/triggers.ts). */
  triggers?: SimTriggerEvent[];
}

export interface RunOptions {
  /** Overrides scenario.seed (training data uses other seeds). */
  seed?: number;
  /** Called at window ends with the fraction of the run done, about every tenth of the run. */
  onProgress?: (fraction: number) => void;
}

interface Completion {
  atS: number;
  seq: number;
  request: SimRequest;
  cluster: number;
  host: number;
  status: number;
  latencyMs: number;
  window: number;
}

/** A binary min-heap of completions by (time, sequence). */
class CompletionQueue {
  private readonly items: Completion[] = [];

  get size(): number {
    return this.items.length;
  }

  peekTime(): number {
    return this.items.length > 0 ? this.items[0]!.atS : Infinity;
  }

  private less(a: Completion, b: Completion): boolean {
    return a.atS < b.atS || (a.atS === b.atS && a.seq < b.seq);
  }

  push(item: Completion): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Completion {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.less(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

interface ClusterAccumulator {
  sent: number;
  errors: number;
  timeouts: number;
  latencies: Samples;
  open: boolean;
}

interface WindowAccumulator {
  offered: number;
  failed: number;
  localRejects: number;
  timeouts: number;
  latencies: Samples;
  clusters: ClusterAccumulator[];
}

/** Runs one scenario with one policy to the end and returns what the clients and clusters saw. */
export async function runScenario(scenario: Scenario, policy: Policy, options: RunOptions = {}): Promise<RunResult> {
  const seed = options.seed ?? scenario.seed;
  const windowS = scenario.window_s;
  const windowCount = Math.ceil(scenario.duration_s / windowS - 1e-9);
  const timeoutMs = scenario.slo.client_timeout_ms;
  const timeline = new FaultTimeline(scenario);
  const hosts = scenario.clusters.map((c) => Array.from({ length: c.endpoints }, () => new UpstreamHost(c, windowS)));
  const arrivalRandom = new Xoshiro128(seed, STREAM.arrivals);
  const requestRandom = new Xoshiro128(seed, STREAM.requests);

  const windows: WindowAccumulator[] = Array.from({ length: windowCount }, () => ({
    offered: 0, failed: 0, localRejects: 0, timeouts: 0, latencies: new Samples(256),
    clusters: scenario.clusters.map(() => ({ sent: 0, errors: 0, timeouts: 0, latencies: new Samples(128), open: false })),
  }));
  const allLatencies = new Samples(1 << 16);
  let requests = 0;
  let failed = 0;

  const queue = new CompletionQueue();
  let seq = 0;
  let nextWindowEnd = 1; // index of the window whose end comes next
  const progressEvery = Math.max(1, Math.floor(windowCount / 10));
  const windowEndTime = (w: number): number => Math.min(w * windowS, scenario.duration_s);

  const completeOne = (c: Completion): void => {
    const win = windows[c.window]!;
    const cw = win.clusters[c.cluster]!;
    win.latencies.push(c.latencyMs);
    cw.latencies.push(c.latencyMs);
    allLatencies.push(c.latencyMs);
    if (c.status === 504) {
      win.timeouts++;
      cw.timeouts++;
    } else if (c.status >= 500) cw.errors++;
    if (c.status >= 500) {
      win.failed++;
      failed++;
    }
    policy.complete(c.request, c.cluster, c.host, c.status, c.latencyMs, c.atS);
  };

  /**
   * Processes every event up to and including time t (seconds), in time order. Synchronous
   * unless a window's end hands back a promise (the autoglm policy's decision round): then it
   * returns that promise and the caller awaits it and calls again.
   */
  const advanceTo = (t: number): Promise<void> | undefined => {
    for (;;) {
      const completionAt = queue.peekTime();
      const timerAt = policy.nextTimerS();
      const windowAt = nextWindowEnd <= windowCount ? windowEndTime(nextWindowEnd) : Infinity;
      const next = Math.min(completionAt, timerAt, windowAt);
      if (next > t || next === Infinity) return undefined;
      if (completionAt === next) completeOne(queue.pop());
      else if (timerAt === next) policy.timer(timerAt);
      else {
        const index = nextWindowEnd - 1;
        const win = windows[index]!;
        scenario.clusters.forEach((_, c) => (win.clusters[c]!.open = policy.isOpen(c)));
        nextWindowEnd++;
        if (options.onProgress !== undefined && nextWindowEnd % progressEvery === 0) options.onProgress((index + 1) / windowCount);
        const pending = policy.windowEnd(index, windowAt);
        if (pending !== undefined) return pending;
      }
    }
  };

  let id = 0;
  for (const t of arrivals(scenario, arrivalRandom)) {
    for (let pending = advanceTo(t); pending !== undefined; pending = advanceTo(t)) await pending;
    const request: SimRequest = { id, arrivalS: t, sidecar: id % scenario.sidecars, routeDraw: requestRandom.next(), spareDraw: requestRandom.next() };
    id++;
    const draws = {
      latency: requestRandom.next(), error: requestRandom.next(), overload: requestRandom.next(), down: requestRandom.next(),
    };
    const window = Math.min(windowCount - 1, Math.floor(t / windowS));
    const win = windows[window]!;
    win.offered++;
    requests++;
    const decision = policy.route(request, t);
    if ("reject" in decision) {
      win.localRejects++;
      win.failed++;
      failed++;
      continue;
    }
    win.clusters[decision.cluster]!.sent++;
    const answer = hosts[decision.cluster]![decision.host]!.answer(t, timeline.effectOn(decision.cluster, decision.host, t), draws);
    const timedOut = answer.latencyMs > timeoutMs;
    const latencyMs = timedOut ? timeoutMs : answer.latencyMs;
    queue.push({
      atS: t + latencyMs / 1000, seq: seq++, request, cluster: decision.cluster, host: decision.host,
      status: timedOut ? 504 : answer.status, latencyMs, window,
    });
  }
  // Let every request in flight finish (answers after the run's end still count for their window):
  // none comes later than the client's timeout after the last arrival.
  const drainUntil = scenario.duration_s + timeoutMs / 1000 + 1;
  for (let pending = advanceTo(drainUntil); pending !== undefined; pending = advanceTo(drainUntil)) await pending;
  while (queue.size > 0) completeOne(queue.pop());
  await policy.close?.();
  const triggers = policy.triggerEvents?.() ?? [];

  const records: WindowRecord[] = windows.map((win, w) => ({
    startS: w * windowS,
    endS: windowEndTime(w + 1),
    offered: win.offered,
    failed: win.failed,
    localRejects: win.localRejects,
    timeouts: win.timeouts,
    p99Ms: quantileSorted(win.latencies.sorted(), 0.99),
    clusters: win.clusters.map((cw) => {
      const sorted = cw.latencies.sorted();
      return {
        sent: cw.sent, errors: cw.errors, timeouts: cw.timeouts,
        p50Ms: quantileSorted(sorted, 0.5), p95Ms: quantileSorted(sorted, 0.95), p99Ms: quantileSorted(sorted, 0.99),
        open: cw.open,
      };
    }),
  }));
  return { scenario, policy: policy.name, windows: records, requests, failed, p99Ms: quantileSorted(allLatencies.sorted(), 0.99), ...(triggers.length === 0 ? {} : { triggers }) };
}
