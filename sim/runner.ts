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
//
// Streams (clusters with an llm block, sim/stream.ts): the client's own measurements are the
// ground truth of the report: TTFT of every stream that got a first token (or the client's
// timeout when it came later), TPOT of every stream with two tokens or more, and a cut stream
// fails for the client. Its latency is the time to its end. A policy with a StreamObserver
// (autoglm) gets the headers at arrival and every body chunk at its time, in order with every
// other event; other policies see only the end (status and end-of-stream latency).
import type { Scenario } from "./scenario.js";
import { STREAM, Xoshiro128 } from "./random.js";
import { arrivals } from "./traffic.js";
import { FaultTimeline } from "./faults.js";
import { UpstreamHost, type HostLoad } from "./upstream.js";
import { Samples, quantileSorted } from "./quantile.js";
import type { Policy, SimRequest, StreamObserver } from "./policy.js";
import { deliveredEvents, eventTimeMs, streamTruth, tokensIn, type StreamDraws, type StreamPlan } from "./stream.js";
import { SseEncoder } from "./sse.js";
import { CompletionQueue, type Completion } from "./completion-queue.js";
import type { SimTriggerEvent } from "./triggers.js";

/** One cluster in one window. Latencies in milliseconds. */
export interface ClusterWindowRecord {
  /** Requests the policy sent to the cluster (arrived in this window). */
  sent: number;
  /** Of those, answered with 5xx by a host (errors, overload 503, refusals). */
  errors: number;
  /** Of those, timed out at the client. */
  timeouts: number;
  /** Of those, streams cut before their end (a reset is also one of errors). */
  cut: number;
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
  /** Streamed answers (200 with a stream) of requests that arrived in the window. */
  streams: number;
  /** p99 time to first token of those streams (client timeout when later), ms; NaN when none. */
  ttftP99Ms: number;
  /** p99 time per output token of those with two tokens or more, ms; NaN when none. */
  tpotP99Ms: number;
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
  /** Streamed answers over the run; 0 in a scenario without llm blocks. */
  streams: number;
  /** Client TTFT and TPOT p99 over the run's streams, ms; NaN without streams. */
  ttftP99Ms: number;
  tpotP99Ms: number;
  /** The scenario's triggers that fired and cleared (policies that run them; sim/triggers.ts). */
  triggers?: SimTriggerEvent[];
}

export interface RunOptions {
  /** Overrides scenario.seed (training data uses other seeds). */
  seed?: number;
  /** Called at window ends with the fraction of the run done, about every tenth of the run. */
  onProgress?: (fraction: number) => void;
}

interface ClusterAccumulator {
  sent: number;
  errors: number;
  timeouts: number;
  cut: number;
  latencies: Samples;
  open: boolean;
}

interface WindowAccumulator {
  offered: number;
  failed: number;
  localRejects: number;
  timeouts: number;
  latencies: Samples;
  streams: number;
  /** Null in a scenario without streams. */
  ttft: Samples | null;
  tpot: Samples | null;
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
  const hasStreams = scenario.clusters.some((c) => c.llm !== undefined);
  const streamRandom = hasStreams ? new Xoshiro128(seed, STREAM.streams) : null;
  const observer: StreamObserver | undefined = policy.streams;
  const sse = new SseEncoder();

  const windows: WindowAccumulator[] = Array.from({ length: windowCount }, () => ({
    offered: 0, failed: 0, localRejects: 0, timeouts: 0, latencies: new Samples(256),
    streams: 0, ttft: hasStreams ? new Samples(64) : null, tpot: hasStreams ? new Samples(64) : null,
    clusters: scenario.clusters.map(() => ({ sent: 0, errors: 0, timeouts: 0, cut: 0, latencies: new Samples(128), open: false })),
  }));
  const allLatencies = new Samples(1 << 16);
  const allTtft = new Samples(hasStreams ? 1 << 12 : 1);
  const allTpot = new Samples(hasStreams ? 1 << 12 : 1);
  let streams = 0;
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
    if (c.clientFailed) {
      win.failed++;
      failed++;
    }
    // The host writes its load report with the answer's headers (not Envoy's own 504 on the
    // client's timeout; a stream's came with its headers).
    const load = c.streamLoad ?? (c.reportsLoad === true ? hosts[c.cluster]![c.host]!.loadReportAt(c.atS, timeline.effectOn(c.cluster, c.host, c.atS)) : undefined);
    policy.complete(c.request, c.cluster, c.host, c.status, c.latencyMs, c.atS, c.connectFailed, load);
  };

  /** Records what the client measured on a stream that started (in its arrival window). */
  const recordStream = (window: number, cluster: number, plan: StreamPlan, timedOut: boolean): void => {
    const win = windows[window]!;
    win.streams++;
    streams++;
    if (timedOut) {
      win.ttft!.push(timeoutMs);
      allTtft.push(timeoutMs);
      return;
    }
    const truth = streamTruth(plan);
    if (truth.cut) win.clusters[cluster]!.cut++;
    if (truth.ttftMs !== null) {
      win.ttft!.push(truth.ttftMs);
      allTtft.push(truth.ttftMs);
    }
    if (truth.tpotMs !== null) {
      win.tpot!.push(truth.tpotMs);
      allTpot.push(truth.tpotMs);
    }
  };

  /** Body events a policy is handed for a stream: the delivered ones, plus the error event of a cut. */
  const bodyEvents = (plan: StreamPlan): number =>
    plan.cutBefore === null ? plan.events : plan.cutBefore + (plan.cutAs === "error_event" ? 1 : 0);

  /** Hands the policy a stream's next body chunk, then queues the one after it (or the end). */
  const deliverEvent = (c: Completion): void => {
    const s = c.stream!;
    const plan = s.plan;
    const j = s.next++;
    if (j < deliveredEvents(plan)) {
      const last = plan.cutBefore === null && j === plan.events - 1;
      observer!.body(c.request, sse.content(tokensIn(plan, j), j === 0, last ? plan.tokens : null, plan.usage), last, c.atS);
    } else {
      observer!.body(c.request, sse.error(), true, c.atS); // the cut, as an error event inside the 200
    }
    const arrival = c.request.arrivalS;
    if (s.next < bodyEvents(plan)) {
      c.atS = arrival + eventTimeMs(plan, s.next) / 1000;
    } else {
      delete c.stream;
      c.atS = arrival + c.latencyMs / 1000;
    }
    c.seq = seq++;
    queue.push(c);
  };

  /** Processes the next queued item: a stream's body chunk or a completion. */
  const processNext = (): void => {
    const c = queue.pop();
    if (c.stream !== undefined) deliverEvent(c);
    else completeOne(c);
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
      if (completionAt === next) processNext();
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
  let lastEndS = 0;
  for (const t of arrivals(scenario, arrivalRandom)) {
    for (let pending = advanceTo(t); pending !== undefined; pending = advanceTo(t)) await pending;
    const request: SimRequest = { id, arrivalS: t, sidecar: id % scenario.sidecars, routeDraw: requestRandom.next(), spareDraw: requestRandom.next() };
    id++;
    const draws = {
      latency: requestRandom.next(), error: requestRandom.next(), overload: requestRandom.next(), down: requestRandom.next(),
    };
    const streamDraws: StreamDraws | undefined = streamRandom === null ? undefined : {
      stream: streamRandom.next(), ttft: streamRandom.next(), tpot: streamRandom.next(),
      tokens: streamRandom.next(), cut: streamRandom.next(), cutPoint: streamRandom.next(),
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
    const answer = hosts[decision.cluster]![decision.host]!.answer(t, timeline.effectOn(decision.cluster, decision.host, t), draws, streamDraws);
    const plan = answer.stream;
    // The client's timeout: on the whole answer, or on a stream's first token.
    const timedOut = plan === undefined ? answer.latencyMs > timeoutMs : plan.ttftMs > timeoutMs;
    const latencyMs = timedOut ? timeoutMs : answer.latencyMs;
    let status = timedOut ? 504 : answer.status;
    let clientFailed = status >= 500;
    let streamLoad: HostLoad | undefined;
    if (plan !== undefined) {
      recordStream(window, decision.cluster, plan, timedOut);
      if (!timedOut && plan.cutBefore !== null) {
        clientFailed = true;
        if (plan.cutAs === "reset") status = 502; // what a mesh sees of a reset after the headers
      }
      const host = hosts[decision.cluster]![decision.host]!;
      streamLoad = host.reportsLoad ? host.loadReportAt(t, timeline.effectOn(decision.cluster, decision.host, t)) : undefined;
      observer?.headers(request, t, streamLoad);
    }
    const completion: Completion = {
      atS: t + latencyMs / 1000, seq: seq++, request, cluster: decision.cluster, host: decision.host,
      status, latencyMs, window, clientFailed, connectFailed: answer.cause === "down",
    };
    if (!timedOut && plan === undefined && answer.cause !== "down" && hosts[decision.cluster]![decision.host]!.reportsLoad) completion.reportsLoad = true;
    // A policy that sees streams as meshes do reads the report of their headers at the end.
    if (streamLoad !== undefined && observer === undefined) completion.streamLoad = streamLoad;
    if (plan !== undefined && !timedOut && observer !== undefined && bodyEvents(plan) > 0) {
      completion.stream = { plan, next: 0 };
      completion.atS = t + eventTimeMs(plan, 0) / 1000;
    }
    lastEndS = Math.max(lastEndS, t + latencyMs / 1000);
    queue.push(completion);
  }
  // Let every request in flight finish (answers after the run's end still count for their window):
  // none comes later than the client's timeout after the last arrival, or than a stream's end.
  const drainUntil = Math.max(scenario.duration_s + timeoutMs / 1000 + 1, lastEndS);
  for (let pending = advanceTo(drainUntil); pending !== undefined; pending = advanceTo(drainUntil)) await pending;
  while (queue.size > 0) processNext();
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
    streams: win.streams,
    ttftP99Ms: win.ttft === null ? NaN : quantileSorted(win.ttft.sorted(), 0.99),
    tpotP99Ms: win.tpot === null ? NaN : quantileSorted(win.tpot.sorted(), 0.99),
    clusters: win.clusters.map((cw) => {
      const sorted = cw.latencies.sorted();
      return {
        sent: cw.sent, errors: cw.errors, timeouts: cw.timeouts, cut: cw.cut,
        p50Ms: quantileSorted(sorted, 0.5), p95Ms: quantileSorted(sorted, 0.95), p99Ms: quantileSorted(sorted, 0.99),
        open: cw.open,
      };
    }),
  }));
  return {
    scenario, policy: policy.name, windows: records, requests, failed, p99Ms: quantileSorted(allLatencies.sorted(), 0.99),
    streams, ttftP99Ms: quantileSorted(allTtft.sorted(), 0.99), tpotP99Ms: quantileSorted(allTpot.sorted(), 0.99),
    ...(triggers.length === 0 ? {} : { triggers }),
  };
}
