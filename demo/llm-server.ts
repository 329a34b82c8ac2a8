// An OpenAI-compatible stand-in for one LLM host of a demo cluster: POST /v1/chat/completions,
// non-streaming JSON or (with "stream": true) server-sent events ending with `data: [DONE]`.
// Its latency and errors follow the scenario's cluster model played in real time: a log-normal
// latency fitted to the cluster's p50/p99 (scaled by latencyScale so a demo stays snappy), the
// baseline error_rate, and the scenario's faults at the current scenario second (latency_x,
// added error_rate, down; ramps included) from sim/faults.ts.
//
// Streams follow the simulator's model (sim/stream.ts) with the cluster's llm block, or, when it
// has none, the stand-in's earlier shape (demoStreams: a third of the cluster's latency to the
// first token, then the other seven of eight words over the rest): 200 and text/event-stream headers at once, the first token after
// TTFT (times the host's queueing multiplier from its arrivals over its capacity, as in
// sim/upstream.ts), then an event every tokens_per_event tokens at TPOT each, the final event with
// usage.completion_tokens and `data: [DONE]`. Each stream fault plays as in the simulator:
// ttft_x (prefill queueing), tpot_x (decode slowdown), cut_rate (the stream stops at a random
// event with an SSE error event inside the 200, or with a reset of the connection: cut_as).
// TTFT and TPOT are scaled by latencyScale like every other latency.
//
// Each response echoes the request's x-request-id and x-autoglm-cluster (what the filter set) and
// names the host that answered in x-demo-upstream ("<cluster>/<host index>"). Every answer that
// reaches the handler carries the host's load as an ORCA report in `endpoint-load-metrics`
// (TEXT form, as vLLM sends it; see filter/src/core/orca.ts): its arrivals over the last second
// (rps_fractional), those over its share of the cluster's capacity (application_utilization,
// with a fault's capacity_x), and cpu_utilization as that utilisation capped at 1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { FaultTimeline } from "../sim/faults.js";
import type { Scenario, ScenarioLlm } from "../sim/scenario.js";
import { StreamModel, eventTimeMs, tokensIn, type StreamPlan } from "../sim/stream.js";
import { queueingMultiplier } from "../sim/upstream.js";
import { contentEvent, errorEvent, finalEvents } from "../sim/sse.js";

/** z of the 0.99 quantile of the standard normal. */
const Z99 = 2.3263478740408408;

export interface LlmServerOptions {
  scenario: Scenario;
  /** Index into scenario.clusters. */
  cluster: number;
  /** Host index within the cluster (faults hit hosts 0 .. endpoints-1). */
  host: number;
  /** Shared fault timeline of the scenario. */
  faults: FaultTimeline;
  /** The current scenario time, seconds (0 = when the load started). */
  scenarioSeconds: () => number;
  /** Multiplier on the model's latency (e.g. 0.1: p50 180 ms becomes 18 ms). */
  latencyScale: number;
  /** Uniform random in [0, 1). Default Math.random. */
  random?: () => number;
  /** Clock, epoch ms (the `created` field, the load over the last second, stream event times). Default Date.now. */
  now?: () => number;
}

export interface RunningLlmServer {
  /** "127.0.0.1:port". */
  address: string;
  /** Requests answered so far, by outcome. */
  counts: { ok: number; errors: number; refused: number };
  close(): Promise<void>;
}

/** One drawn answer: refused at once (down), an error after a delay, or a success after a delay. */
export interface DrawnAnswer {
  kind: "ok" | "error" | "refused";
  /** Milliseconds until the answer (for streams: until the last chunk). */
  delayMs: number;
}

/** Draws one answer for a request arriving at scenario second t. Pure given `random`. */
export function drawAnswer(options: Pick<LlmServerOptions, "scenario" | "cluster" | "host" | "faults" | "latencyScale">, t: number, random: () => number): DrawnAnswer {
  const spec = options.scenario.clusters[options.cluster]!;
  const effect = options.faults.effectOn(options.cluster, options.host, t);
  if (effect.downChance > 0 && random() < effect.downChance) return { kind: "refused", delayMs: 0 };
  const mu = Math.log(spec.latency_ms.p50);
  const sigma = Math.max(0, (Math.log(spec.latency_ms.p99) - mu) / Z99);
  // Box-Muller: one standard normal draw.
  const u1 = Math.max(Number.EPSILON, random());
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
  const delayMs = Math.exp(mu + sigma * z) * effect.latencyX * options.latencyScale;
  const errorRate = Math.min(1, spec.error_rate + effect.addedErrorRate);
  return { kind: random() < errorRate ? "error" : "ok", delayMs };
}

/** The words of every stand-in answer (one token each). */
const WORDS = ["The", " circuit", " breaker", " kept", " the", " mesh", " healthy", "."];

/**
 * Streams of a cluster without an llm block, so a scenario written before streams keeps its
 * latencies: the first token after a third of latency_ms, then the other seven of eight words
 * over the remaining two thirds (p50 and p99 alike).
 */
export function demoStreams(latency: { p50: number; p99: number }): ScenarioLlm {
  const perWord = (ms: number) => (ms * 2) / 3 / (WORDS.length - 1);
  return {
    stream_fraction: 1, ttft_ms: { p50: latency.p50 / 3, p99: latency.p99 / 3 },
    tpot_ms: { p50: perWord(latency.p50), p99: perWord(latency.p99) },
    output_tokens: { p50: WORDS.length, p99: WORDS.length + 0.001 }, tokens_per_event: 1, usage: true,
  };
}

/** One drawn streamed answer: refused at once (down), an error before the stream, or a stream. */
export type DrawnStream =
  | { kind: "refused" }
  | { kind: "error"; delayMs: number }
  | { kind: "stream"; plan: StreamPlan };

/**
 * Draws a streamed answer for a request arriving at scenario second t, on a host at utilisation
 * `utilisation` (arrivals over capacity). Times are already scaled by latencyScale. Pure given `random`.
 */
export function drawStream(
  options: Pick<LlmServerOptions, "scenario" | "cluster" | "host" | "faults" | "latencyScale">,
  t: number, utilisation: number, random: () => number,
): DrawnStream {
  const spec = options.scenario.clusters[options.cluster]!;
  const effect = options.faults.effectOn(options.cluster, options.host, t);
  if (effect.downChance > 0 && random() < effect.downChance) return { kind: "refused" };
  const model = new StreamModel(spec.llm ?? demoStreams(spec.latency_ms));
  const draws = { stream: 0, ttft: random(), tpot: random(), tokens: random(), cut: random(), cutPoint: random() };
  const raw = model.plan(draws, effect, queueingMultiplier(utilisation));
  const plan = { ...raw, ttftMs: raw.ttftMs * options.latencyScale, tpotMs: raw.tpotMs * options.latencyScale };
  if (random() < Math.min(1, spec.error_rate + effect.addedErrorRate)) return { kind: "error", delayMs: plan.ttftMs };
  return { kind: "stream", plan };
}

/** The host's load as an ORCA `endpoint-load-metrics` value (TEXT form): `rps` arrivals in the
 *  last second against `capacityRps`, the host's share of its cluster's capacity. */
export function orcaLoadHeader(rps: number, capacityRps: number): string {
  const utilization = capacityRps > 0 ? rps / capacityRps : 1;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return `TEXT cpu_utilization=${round(Math.min(1, utilization))}, application_utilization=${round(utilization)}, rps_fractional=${round(rps)}`;
}

/** Arrivals over the last second, from their times (epoch ms). */
class RecentArrivals {
  private readonly times: number[] = [];
  add(nowMs: number): number {
    this.times.push(nowMs);
    while (this.times.length > 0 && this.times[0]! <= nowMs - 1000) this.times.shift();
    return this.times.length;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

interface ChatRequest {
  model?: unknown;
  stream?: unknown;
  messages?: unknown;
}

function readBody(req: http.IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limitBytes) {
        reject(new Error(`request body is larger than ${limitBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}


/** Starts one stand-in host on 127.0.0.1 (port 0: a free one). */
export async function startLlmServer(options: LlmServerOptions, port = 0): Promise<RunningLlmServer> {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const clusterName = options.scenario.clusters[options.cluster]!.name;
  const counts = { ok: 0, errors: 0, refused: 0 };
  const spec = options.scenario.clusters[options.cluster]!;
  const arrivals = new RecentArrivals();

  /** Plays a drawn streamed answer: headers at once, events at their times, the end or the cut. */
  async function stream(res: http.ServerResponse, echo: Record<string, string>, id: string, model: string, drawn: DrawnStream): Promise<void> {
    if (drawn.kind === "refused") {
      counts.refused++;
      sendJson(res, 503, echo, { error: { message: `${clusterName} host ${options.host} is down`, type: "unavailable" } });
      return;
    }
    if (drawn.kind === "error") {
      await sleep(drawn.delayMs);
      counts.errors++;
      sendJson(res, 500, echo, { error: { message: `${clusterName} host ${options.host} failed`, type: "server_error" } });
      return;
    }
    const plan = drawn.plan;
    const started = now();
    res.writeHead(200, { ...echo, "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.flushHeaders();
    const stop = plan.cutBefore ?? plan.events;
    for (let j = 0; j < stop; j++) {
      await sleep(started + eventTimeMs(plan, j) - now());
      if (res.destroyed) return;
      const tokens = tokensIn(plan, j);
      res.write(contentEvent(id, model, tokens, j === 0, Array.from({ length: tokens }, (_, k) => WORDS[(j + k) % WORDS.length]).join("")));
    }
    if (plan.cutBefore !== null) {
      await sleep(started + eventTimeMs(plan, plan.cutBefore) - now());
      counts.errors++;
      if (plan.cutAs === "reset") res.destroy();
      else res.end(errorEvent(`${clusterName} host ${options.host} failed while generating`));
      return;
    }
    res.end(finalEvents(id, model, plan.tokens, plan.usage));
    counts.ok++;
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const rps = arrivals.add(now());
      const capacity = (spec.capacity_rps / spec.endpoints) * options.faults.effectOn(options.cluster, options.host, options.scenarioSeconds()).capacityX;
      const echo: Record<string, string> = {
        "x-demo-upstream": `${clusterName}/${options.host}`,
        "endpoint-load-metrics": orcaLoadHeader(rps, capacity),
      };
      for (const h of ["x-request-id", "x-autoglm-cluster"]) {
        const v = req.headers[h];
        if (typeof v === "string") echo[h] = v;
      }
      if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== "/v1/chat/completions") {
        sendJson(res, 404, echo, { error: { message: `not found: ${req.method} ${req.url}; try POST /v1/chat/completions`, type: "not_found" } });
        return;
      }
      let body: ChatRequest;
      try {
        const parsed: unknown = JSON.parse(await readBody(req, 1 << 20));
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("expected a JSON object");
        body = parsed as ChatRequest;
      } catch (e) {
        sendJson(res, 400, echo, { error: { message: `bad request body: ${(e as Error).message}`, type: "invalid_request_error" } });
        return;
      }
      const model = typeof body.model === "string" ? body.model : "demo-model";
      const id = `chatcmpl-${Math.floor(random() * 1e12).toString(36)}`;
      const created = Math.floor(now() / 1000);
      if (body.stream === true) {
        await stream(res, echo, id, model, drawStream(options, options.scenarioSeconds(), capacity > 0 ? rps / capacity : 1, random));
        return;
      }
      const answer = drawAnswer(options, options.scenarioSeconds(), random);
      if (answer.kind === "refused") {
        counts.refused++;
        sendJson(res, 503, echo, { error: { message: `${clusterName} host ${options.host} is down`, type: "unavailable" } });
        return;
      }
      if (answer.kind === "error") {
        await sleep(answer.delayMs);
        counts.errors++;
        sendJson(res, 500, echo, { error: { message: `${clusterName} host ${options.host} failed`, type: "server_error" } });
        return;
      }
      await sleep(answer.delayMs);
      counts.ok++;
      sendJson(res, 200, echo, {
        id, object: "chat.completion", created, model,
        choices: [{ index: 0, message: { role: "assistant", content: WORDS.join("") }, finish_reason: "stop" }],
        usage: { prompt_tokens: 12, completion_tokens: WORDS.length, total_tokens: 12 + WORDS.length },
      });
    })().catch(() => {
      if (!res.headersSent) sendJson(res, 500, {}, { error: { message: "stand-in server failed", type: "server_error" } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${a.port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
