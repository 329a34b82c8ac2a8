// `autoglm bench filter`: N requests (default one million) through the pass-through module and
// through the filter, each in the project's proxy-wasm host on a virtual clock, with the same
// request and response per iteration. Reports ns per request for both, the filter's overhead,
// the filter's .wasm size and how much its linear memory grew after warm-up. Then streamed
// responses (text/event-stream, STREAM_CHUNKS body chunks each) through both: ns per chunk.
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import type { Command } from "../command.js";
import { tryWriteFile } from "../output-file.js";
import { ManualClock, ProxyWasmPlugin } from "../../filter/host/index.js";

const help = `Usage: autoglm bench filter [options]

Pushes requests through build/passthrough.wasm and build/filter.wasm in the project's proxy-wasm
host (virtual clock, one worker, no control plane) and prints, as JSON (times are CPU time of
this process per request, so that a busy machine does not inflate them; the median over chunks
of 1% of the requests, so that a virtual machine's stalls do not either; the means are also given):
  ns_per_request_passthrough  host + pass-through module, per request (median chunk)
  ns_per_request_filter       host + filter, per request (median chunk)
  overhead_ns                 the difference (target <= 1500)
  wasm_bytes                  size of the filter module (target <= 65536)
  memory_growth_bytes         growth of the filter's linear memory after warm-up (target <= 65536)
  ns_per_chunk_passthrough    host + pass-through module, per body chunk of a 500-chunk SSE stream
  ns_per_chunk_filter         host + filter, the same (the filter measures the stream: clock read,
                              counters, a copy of the chunk's last bytes)
  chunk_overhead_ns           the difference
  body_scan                   per streamed body of 1 KiB and 64 KiB (text/event-stream, 256-byte
                              chunks), ns per body (median batch) through the filter without a
                              deny-list and with one (BENCH_DENY_LIST: 8 literals, none in the
                              body, so every byte is scanned), and the scan's cost per KiB

Options:
  --requests N      requests per module (default 1000000)
  --warmup N        requests before measuring (default 20000)
  --filter PATH     filter module (default build/filter.wasm)
  --passthrough P   pass-through module (default build/passthrough.wasm)
  --streams N       500-chunk streams per module (default 1000; 0: none)
  --bodies N        batches (about 2 MiB of body each) of each size and configuration for
                    body_scan (default 30; 0: none)
  --upstream-load M ORCA load reports (endpoint-load-metrics): "absent" (default: the filter
                    looks the header up, responses have none), "present" (every response carries
                    a TEXT-form report the filter parses; both modules get the same headers) or
                    "off" (the filter is configured not to look: headers.upstream_load "")
  --sources S       who sends the traffic: "off" (default: no \`sources\` configuration),
                    "address" (counted by source.address; requests come from 48 addresses, a
                    third of them from one) or "header" (by a hashed x-api-key, same mix)
  --json FILE       also write the figures to FILE
  --no-progress     no progress bar on stderr
  -h, --help        this text`;

/** The figures `--json` writes. */
export interface FilterBenchResult {
  ns_per_request_passthrough: number;
  ns_per_request_filter: number;
  overhead_ns: number;
  wasm_bytes: number;
  memory_growth_bytes: number;
  requests: number;
  /** Means over every request (include the machine's stalls), for comparison. */
  mean_ns_per_request_passthrough: number;
  mean_ns_per_request_filter: number;
  /** Per body chunk of the 500-chunk streams (median over streams; null with --streams 0). */
  ns_per_chunk_passthrough: number | null;
  ns_per_chunk_filter: number | null;
  chunk_overhead_ns: number | null;
  streams: number;
  /** Streamed bodies without and with a deny-list (empty with --bodies 0). */
  body_scan: BodyScanFigures[];
}

/** One body size of the body_scan bench. */
export interface BodyScanFigures {
  body_bytes: number;
  chunk_bytes: number;
  /** Median ns per body through the filter: no deny-list (no body work), and with BENCH_DENY_LIST. */
  ns_per_body_no_deny_list: number;
  ns_per_body_deny_list: number;
  /** The difference, and per KiB of body. */
  scan_cost_ns: number;
  scan_cost_ns_per_kib: number;
}


/** Body chunks of one benchmark stream: an LLM answer of 500 tokens, one event each. */
export const STREAM_CHUNKS = 500;
const STREAM_RESPONSE_HEADERS: Array<[string, string]> = [
  [":status", "200"],
  ["content-type", "text/event-stream"],
];
const enc = new TextEncoder();
/** An OpenAI-style content event (about 110 bytes), and the last chunk: usage and [DONE]. */
const STREAM_EVENT = enc.encode('data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" token"}}]}\n\n');
const STREAM_END = enc.encode('data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"total_tokens":512,"completion_tokens":500}}\n\ndata: [DONE]\n\n');

/** Streams through one module: median ns per chunk over streams (CPU time, as for requests). */
async function runStreams(wasm: string, configuration: object | string, streams: number): Promise<number> {
  const clock = new ManualClock();
  const plugin = await ProxyWasmPlugin.start({ wasm, configuration, clock, logLevel: "silent", workers: 1 });
  const one = (): number => {
    const stream = plugin.createHttpStream(0);
    stream.sendRequestHeaders(REQUEST_HEADERS.slice(), true);
    const t0 = process.cpuUsage();
    if (stream.localReply === null) {
      stream.sendResponseHeaders(STREAM_RESPONSE_HEADERS, false);
      for (let c = 0; c < STREAM_CHUNKS - 1; c++) {
        clock.advance(1);
        stream.sendResponseBody(STREAM_EVENT, false);
      }
      stream.sendResponseBody(STREAM_END, true);
    }
    const d = process.cpuUsage(t0);
    stream.complete();
    return ((d.user + d.system) * 1000) / STREAM_CHUNKS;
  };
  for (let i = 0; i < Math.min(50, streams); i++) one(); // warm-up
  const perChunk: number[] = [];
  for (let i = 0; i < streams; i++) perChunk.push(one());
  const trapped = plugin.restarts;
  plugin.close();
  if (trapped > 0) throw new Error(`${wasm}: the module trapped ${trapped} time(s) during the stream bench`);
  perChunk.sort((a, b) => a - b);
  return perChunk[Math.floor(perChunk.length / 2)]!;
}

/** The deny-list of the body_scan bench: literals an operator might ban, whose first letters are
 *  common in the body (each such byte starts a comparison), none of them in the body. */
export const BENCH_DENY_LIST = [
  "ignore previous instructions", "BEGIN RSA PRIVATE KEY", "api_key=", "password:", "sk-live-", "<script", "drop table", "ssn ",
];
const BODY_CHUNK_BYTES = 256;
/** About 256 bytes of an SSE event with ordinary English text, and the last chunk, which ends
 *  the stream cleanly with [DONE] (a stream without it is cut, a failure that would soon open the
 *  local fallback breaker and turn the rest of the bench into local replies). */
const BODY_EVENT = enc.encode(('data: {"choices":[{"delta":{"content":"' + "the answer is in the second paragraph, please see it and " +
  "tell us if anything is missing from the description of this process; all steps are listed in order" + '"}}]}\n\n').padEnd(BODY_CHUNK_BYTES, " "));
const BODY_END = enc.encode("data: [DONE]\n\n".padStart(BODY_CHUNK_BYTES, " "));

/** Streamed bodies of bodyBytes through the filter, in `batches` batches of about 2 MiB of body
 *  each (CPU time is counted in coarse ticks: a batch takes milliseconds): the median over
 *  batches of ns per body. */
async function runBodies(wasm: string, configuration: object, bodyBytes: number, batches: number): Promise<number> {
  const clock = new ManualClock();
  const plugin = await ProxyWasmPlugin.start({ wasm, configuration, clock, logLevel: "silent", workers: 1 });
  const chunks = Math.ceil(bodyBytes / BODY_CHUNK_BYTES);
  const perBatch = Math.max(1, Math.round((2 * 1024 * 1024) / bodyBytes));
  let answeredLocally = 0;
  const one = (): void => {
    const stream = plugin.createHttpStream(0);
    stream.sendRequestHeaders(REQUEST_HEADERS.slice(), true);
    if (stream.localReply === null) {
      stream.sendResponseHeaders(STREAM_RESPONSE_HEADERS, false);
      for (let c = 0; c < chunks - 1; c++) stream.sendResponseBody(BODY_EVENT, false);
      stream.sendResponseBody(BODY_END, true);
    } else {
      answeredLocally++;
    }
    stream.complete();
    clock.advance(1);
  };
  for (let i = 0; i < perBatch; i++) one(); // warm-up
  const perBody: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < perBatch; i++) one();
    const d = process.cpuUsage(t0);
    perBody.push(((d.user + d.system) * 1000) / perBatch);
  }
  const trapped = plugin.restarts;
  plugin.close();
  if (trapped > 0) throw new Error(`${wasm}: the module trapped ${trapped} time(s) during the body bench`);
  if (answeredLocally > 0) throw new Error(`${wasm}: ${answeredLocally} request(s) of the body bench were answered locally (no body went through)`);
  perBody.sort((a, b) => a - b);
  return perBody[Math.floor(perBody.length / 2)]!;
}

/** The plugin configuration the filter runs with in the bench. */
export const BENCH_FILTER_CONFIG = {
  node_id: "bench-sidecar",
  zone: "zone-a",
  window_ms: 1000,
  clusters: [
    { name: "llm-a", weight: 60 },
    { name: "llm-b", weight: 30 },
    { name: "llm-c", weight: 10 },
  ],
};

const REQUEST_HEADERS: Array<[string, string]> = [
  [":method", "POST"],
  [":path", "/v1/chat/completions"],
  [":authority", "llm.mesh.local"],
  [":scheme", "http"],
  ["content-type", "application/json"],
  ["user-agent", "autoglm-bench"],
];
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const RESPONSE_HEADERS: Array<[string, string]> = [
  [":status", "200"],
  ["content-type", "application/json"],
];

/** Progress on stderr: a bar on a terminal, otherwise a line every 10%. */
class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastTenth = -1;
  private total = 0;
  constructor(private readonly mode: "bar" | "lines" | "none") {}
  start(total: number, label: string): void {
    this.total = total;
    this.lastTenth = -1;
    if (this.mode === "bar") {
      this.bar = new cliProgress.SingleBar(
        { format: "{label} [{bar}] {percentage}% | {value}/{total} requests | {duration}s", stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { label });
    }
  }
  update(done: number, label: string): void {
    if (this.mode === "bar") this.bar?.update(done, { label });
    else if (this.mode === "lines") {
      const tenth = Math.floor((done * 10) / this.total);
      if (tenth !== this.lastTenth) {
        this.lastTenth = tenth;
        process.stderr.write(`${label.trim()}: ${done}/${this.total} requests\n`);
      }
    }
  }
  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

const UPSTREAM_LOAD_MODES = ["absent", "present", "off"] as const;
type UpstreamLoadMode = (typeof UPSTREAM_LOAD_MODES)[number];

/** An ORCA load report as an LLM server sends it (`--upstream-load present`). */
const ORCA_HEADER: [string, string] = ["endpoint-load-metrics", "TEXT cpu_utilization=0.42, application_utilization=0.5, named_metrics.num_requests_waiting=3"];

interface RunOutcome {
  /** Median over chunks of 1% of the requests (steady state). */
  nsPerRequest: number;
  /** Total CPU time over all requests. */
  meanNsPerRequest: number;
  memoryGrowthBytes: number;
}

/** How the bench's requests name their source (\`--sources\`). */
export type SourcesMode = "off" | "address" | "header";
const SOURCES_MODES: readonly string[] = ["off", "address", "header"];

/** The i-th request's client: one heavy client (a third of the requests) and 47 others. */
function clientOf(i: number): number {
  return i % 3 === 0 ? 0 : 1 + (i % 47);
}

/** Virtual milliseconds per request: the window closes (and ticks run) as in a loaded sidecar. */
const VIRTUAL_MS_PER_1000_REQUESTS = 100;

async function run(
  wasm: string,
  configuration: object | string,
  requests: number,
  warmup: number,
  progress: Progress,
  label: string,
  responseHeaders: Array<[string, string]> = RESPONSE_HEADERS,
  sources: SourcesMode = "off",
): Promise<RunOutcome> {
  const clock = new ManualClock();
  const plugin = await ProxyWasmPlugin.start({ wasm, configuration, clock, logLevel: "silent", workers: 1 });
  const vm = plugin.vms[0]!;
  const one = (i: number): void => {
    const stream = plugin.createHttpStream(0);
    const headers: Array<[string, string]> = REQUEST_HEADERS.slice();
    if ((i & 1) === 0) headers.push(["traceparent", TRACEPARENT]);
    if (sources === "address") stream.setProperty("source.address", `10.0.${clientOf(i)}.7:${40000 + (i & 1023)}`);
    else if (sources === "header") headers.push(["x-api-key", `sk-bench-key-${clientOf(i)}`]);
    stream.sendRequestHeaders(headers, true);
    if (stream.localReply === null) stream.sendResponseHeaders(responseHeaders, true);
    stream.complete();
    if (i % 1000 === 999) clock.advance(VIRTUAL_MS_PER_1000_REQUESTS);
  };
  for (let i = 0; i < warmup; i++) one(i);
  const memoryBefore = vm.memory.bytes().length;
  progress.start(requests, label);
  const step = Math.max(1, Math.floor(requests / 100));
  // CPU time of this process (user + system), not wall time: on a shared, loaded machine the
  // wall clock mostly measures waiting for a core.
  // Per chunk of 1% of the requests: ns per request. The median chunk is the steady-state
  // figure: on a virtual machine, stalls of hundreds of milliseconds (the hypervisor taking
  // the core; they show even in a plain JavaScript loop) land in a few chunks and would
  // otherwise dominate the mean. The mean is reported too.
  let elapsedUs = 0;
  const chunkNs: number[] = [];
  for (let done = 0; done < requests; ) {
    const n = Math.min(step, requests - done);
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) one(warmup + done + i);
    const d = process.cpuUsage(t0);
    elapsedUs += d.user + d.system;
    chunkNs.push(((d.user + d.system) * 1000) / n);
    done += n;
    progress.update(done, label);
  }
  chunkNs.sort((a, b) => a - b);
  progress.stop();
  const memoryAfter = plugin.vms[0]!.memory.bytes().length;
  const trapped = plugin.restarts;
  plugin.close();
  if (trapped > 0) throw new Error(`${wasm}: the module trapped ${trapped} time(s) during the bench`);
  return {
    nsPerRequest: chunkNs[Math.floor(chunkNs.length / 2)]!,
    meanNsPerRequest: (elapsedUs * 1000) / requests,
    memoryGrowthBytes: Math.max(0, memoryAfter - memoryBefore),
  };
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: expected a positive integer, got "${raw}"`);
  return n;
}

class UsageError extends Error {}

/** Runs the bench; returns the figures. */
export async function benchFilter(options: {
  requests: number;
  warmup: number;
  filterWasm: string;
  passthroughWasm: string;
  progress: boolean;
  /** ORCA load reports: looked up but absent (default), present on every response, or not looked up. */
  upstreamLoad?: UpstreamLoadMode;
  /** 500-chunk streams per module (0: none). */
  streams?: number;
  /** Batches of bodies of each size per configuration for body_scan (0: none). */
  bodies?: number;
  /** Who sends the traffic: not counted (default), by address or by a hashed header. */
  sources?: SourcesMode;
}): Promise<FilterBenchResult> {
  const bar = new Progress(!options.progress ? "none" : process.stderr.isTTY === true ? "bar" : "lines");
  const mode = options.upstreamLoad ?? "absent";
  const response = mode === "present" ? [...RESPONSE_HEADERS, ORCA_HEADER] : RESPONSE_HEADERS;
  const sources = options.sources ?? "off";
  const config = {
    ...BENCH_FILTER_CONFIG,
    ...(mode === "off" ? { headers: { upstream_load: "" } } : {}),
    ...(sources === "address" ? { sources: { top_k: 8 } } : sources === "header" ? { sources: { header: "x-api-key", top_k: 8 } } : {}),
  };
  const pass = await run(options.passthroughWasm, "", options.requests, options.warmup, bar, "passthrough", response, sources);
  const filter = await run(options.filterWasm, config, options.requests, options.warmup, bar, "filter     ", response, sources);
  const streams = options.streams ?? 0;
  const passChunk = streams > 0 ? await runStreams(options.passthroughWasm, "", streams) : null;
  const filterChunk = streams > 0 ? await runStreams(options.filterWasm, config, streams) : null;
  const bodies = options.bodies ?? 0;
  const bodyScan: BodyScanFigures[] = [];
  for (const size of bodies > 0 ? [1024, 65536] : []) {
    const plain = await runBodies(options.filterWasm, config, size, bodies);
    const scanned = await runBodies(options.filterWasm, { ...config, banned_output: BENCH_DENY_LIST }, size, bodies);
    bodyScan.push({
      body_bytes: size,
      chunk_bytes: BODY_CHUNK_BYTES,
      ns_per_body_no_deny_list: Math.round(plain),
      ns_per_body_deny_list: Math.round(scanned),
      scan_cost_ns: Math.round(scanned - plain),
      scan_cost_ns_per_kib: Math.round(((scanned - plain) * 1024) / size),
    });
  }
  return {
    ns_per_request_passthrough: Math.round(pass.nsPerRequest),
    ns_per_request_filter: Math.round(filter.nsPerRequest),
    overhead_ns: Math.round(filter.nsPerRequest - pass.nsPerRequest),
    wasm_bytes: statSync(options.filterWasm).size,
    memory_growth_bytes: filter.memoryGrowthBytes,
    requests: options.requests,
    mean_ns_per_request_passthrough: Math.round(pass.meanNsPerRequest),
    mean_ns_per_request_filter: Math.round(filter.meanNsPerRequest),
    ns_per_chunk_passthrough: passChunk === null ? null : Math.round(passChunk),
    ns_per_chunk_filter: filterChunk === null ? null : Math.round(filterChunk),
    chunk_overhead_ns: passChunk === null || filterChunk === null ? null : Math.round(filterChunk - passChunk),
    streams,
    body_scan: bodyScan,
  };
}

export const command: Command = {
  name: "bench filter",
  summary: "requests through the pass-through module and the filter: overhead, size, memory",
  help,
  async run(args: string[]): Promise<number> {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          requests: { type: "string" },
          warmup: { type: "string" },
          filter: { type: "string" },
          passthrough: { type: "string" },
          json: { type: "string" },
          "no-progress": { type: "boolean" },
          "upstream-load": { type: "string" },
          streams: { type: "string" },
          bodies: { type: "string" },
          sources: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (e) {
      process.stderr.write(`autoglm bench filter: ${(e as Error).message}\n\n${help}\n`);
      return 2;
    }
    if (values.help === true) {
      process.stdout.write(help + "\n");
      return 0;
    }
    let requests: number;
    let warmup: number;
    let streams: number;
    let bodies: number;
    try {
      requests = positiveInt("requests", values.requests, 1_000_000);
      warmup = positiveInt("warmup", values.warmup, 20_000);
      streams = values.streams === "0" ? 0 : positiveInt("streams", values.streams, 1000);
      bodies = values.bodies === "0" ? 0 : positiveInt("bodies", values.bodies, 30);
    } catch (e) {
      process.stderr.write(`autoglm bench filter: ${(e as Error).message}\n`);
      return 2;
    }
    const upstreamLoad = values["upstream-load"] ?? "absent";
    if (!UPSTREAM_LOAD_MODES.includes(upstreamLoad as UpstreamLoadMode)) {
      process.stderr.write(`autoglm bench filter: --upstream-load: expected one of ${UPSTREAM_LOAD_MODES.join(", ")}, got "${upstreamLoad}"\n`);
      return 2;
    }
    const sources = values.sources ?? "off";
    if (!SOURCES_MODES.includes(sources)) {
      process.stderr.write(`autoglm bench filter: --sources: expected one of ${SOURCES_MODES.join(", ")}, got "${sources}"\n`);
      return 2;
    }
    const filterWasm = values.filter ?? "build/filter.wasm";
    const passthroughWasm = values.passthrough ?? "build/passthrough.wasm";
    for (const [option, path] of [["--filter", filterWasm], ["--passthrough", passthroughWasm]] as const) {
      try {
        readFileSync(path, { flag: "r" }).subarray(0, 0);
      } catch {
        process.stderr.write(`autoglm bench filter: ${option}: cannot read "${path}" (run \`npm run build:filter\` first)\n`);
        return 2;
      }
    }
    const result = await benchFilter({
      requests,
      warmup,
      filterWasm,
      passthroughWasm,
      progress: values["no-progress"] !== true,
      upstreamLoad: upstreamLoad as UpstreamLoadMode,
      streams,
      bodies,
      sources: sources as SourcesMode,
    });
    const text = JSON.stringify(result, null, 2);
    process.stdout.write(text + "\n");
    const failed = values.json === undefined ? null : tryWriteFile(values.json, text + "\n");
    if (failed !== null) {
      process.stderr.write(`autoglm bench filter: cannot write the figures to ${values.json}: ${failed}\n`);
      return 2;
    }
    const misses: string[] = [];
    if (result.overhead_ns > 1500) misses.push(`overhead_ns ${result.overhead_ns} > 1500`);
    if (result.wasm_bytes > 65536) misses.push(`wasm_bytes ${result.wasm_bytes} > 65536`);
    if (result.memory_growth_bytes > 65536) misses.push(`memory_growth_bytes ${result.memory_growth_bytes} > 65536`);
    if (misses.length > 0) process.stderr.write(`autoglm bench filter: targets missed: ${misses.join("; ")}\n`);
    return 0;
  },
};
