// A test driver in the spirit of the Go SDK's proxytest: start a plugin from a .wasm on virtual
// time, push requests through, and read what the module did.
//
//   const t = await PluginTester.start({ wasm: "build/filter.wasm", configuration: {...},
//                                        grpc: (req, toSidecar) => controlPlane.open(req, toSidecar) });
//   const x = t.request({ headers: { ":path": "/v1/chat" }, response: { status: 200, body: "ok" } });
//   x.requestHeaders["x-request-id"]; x.localReply; t.metric("autoglm_requests_total");
//   t.advance(1000);   // fires ticks in order; gRPC messages the module sent: t.grpcSent()
import { Action } from "./abi.js";
import type { GrpcTransport } from "./grpc-transport.js";
import { HeaderMap, type HeaderInput } from "./header-map.js";
import type { HttpStream, LocalReply } from "./http-stream.js";
import { InProcessGrpcTransport, type InProcessAcceptor, type RecordedGrpcStream } from "./in-process-grpc.js";
import type { CapturedLog } from "./log-sink.js";
import { ManualClock } from "./manual-clock.js";
import { decodeUtf8, encodeUtf8 } from "./memory.js";
import type { HistogramValue } from "./metrics.js";
import { ProxyWasmPlugin, type PluginOptions } from "./plugin.js";
import type { PropertyValue } from "./properties.js";

export interface PluginTesterOptions extends Omit<PluginOptions, "clock" | "grpc" | "captureLogs"> {
  /** Virtual clock (default: a new ManualClock at 2025-01-01T00:00:00Z). */
  clock?: ManualClock;
  /** An in-process acceptor (recorded: see grpcStreams) or any transport. */
  grpc?: InProcessAcceptor | GrpcTransport;
}

export interface TestResponse {
  /** Default 200. */
  status?: number;
  headers?: HeaderInput;
  /** The body, or its chunks in order. */
  body?: string | Uint8Array | Array<string | Uint8Array>;
  trailers?: HeaderInput;
  /** Stream properties set before the response reaches the module (e.g. response.flags). */
  properties?: Record<string, PropertyValue>;
}

export interface TestRequest {
  /** Request headers; default GET / with :authority "test" and :scheme "http". */
  headers?: HeaderInput;
  body?: string | Uint8Array;
  trailers?: HeaderInput;
  /** The upstream's response (default 200 without body); null: stop after the request. */
  response?: TestResponse | null;
  /** Stream properties set before the request headers reach the module. */
  properties?: Record<string, PropertyValue>;
  /** Run on this VM instance (default: round-robin). */
  worker?: number;
  /** Call proxy_on_done / on_log / on_delete at the end (default true). */
  complete?: boolean;
}

export interface TestExchange {
  stream: HttpStream;
  /** What proxy_on_request_headers returned (Pause also after a local reply). */
  requestAction: Action;
  /** Request headers as the module left them (what would go upstream). */
  requestHeaders: Record<string, string>;
  /** The module's (or the host's, after a trap) local reply. */
  localReply: LocalReply | null;
  /** The local reply's body as text ("" when none). */
  localReplyBody: string;
  /** Response headers as the module left them; null when there was no upstream response. */
  responseHeaders: Record<string, string> | null;
  /** Response body bytes passed on downstream. */
  responseBody: Uint8Array;
  /** The module trapped in this exchange. */
  trapped: boolean;
  /** The module paused the request without answering: the test drives `stream` from here. */
  paused: boolean;
}

const DEFAULT_REQUEST_HEADERS: Array<[string, string]> = [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "test"],
  [":scheme", "http"],
];

function bytes(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? encodeUtf8(value) : value;
}

export class PluginTester {
  private constructor(
    readonly plugin: ProxyWasmPlugin,
    readonly clock: ManualClock,
    readonly grpc: InProcessGrpcTransport | null,
  ) {}

  static async start(options: PluginTesterOptions): Promise<PluginTester> {
    const { grpc, clock: givenClock, ...rest } = options;
    const clock = givenClock ?? new ManualClock();
    let transport: GrpcTransport | undefined;
    let recorded: InProcessGrpcTransport | null = null;
    if (typeof grpc === "function") {
      recorded = new InProcessGrpcTransport(grpc, { record: true });
      transport = recorded;
    } else {
      transport = grpc;
    }
    const plugin = await ProxyWasmPlugin.start({
      logLevel: "trace",
      ...rest,
      clock,
      ...(transport !== undefined ? { grpc: transport } : {}),
      captureLogs: true,
    });
    return new PluginTester(plugin, clock, recorded);
  }

  /** Pushes one request (and its response) through the module. */
  request(req: TestRequest = {}): TestExchange {
    const stream = this.plugin.createHttpStream(req.worker);
    for (const [path, value] of Object.entries(req.properties ?? {})) stream.setProperty(path, value);
    const headers = HeaderMap.from(req.headers ?? DEFAULT_REQUEST_HEADERS);
    if (req.headers !== undefined) {
      for (const [k, v] of DEFAULT_REQUEST_HEADERS) if (!headers.has(k)) headers.add(k, v);
    }
    const hasBody = req.body !== undefined;
    const requestAction = stream.sendRequestHeaders(headers, !hasBody && req.trailers === undefined);
    const exchange: TestExchange = {
      stream,
      requestAction,
      requestHeaders: stream.requestHeaders.toRecord(),
      localReply: null,
      localReplyBody: "",
      responseHeaders: null,
      responseBody: new Uint8Array(0),
      trapped: false,
      paused: false,
    };
    let go = stream.localReply === null && requestAction === Action.Continue;
    if (go && hasBody) {
      stream.sendRequestBody(bytes(req.body!), req.trailers === undefined);
      go = stream.localReply === null;
    }
    if (go && req.trailers !== undefined) go = stream.sendRequestTrailers(req.trailers) === Action.Continue;
    exchange.requestHeaders = stream.requestHeaders.toRecord();
    const response = req.response === undefined ? {} : req.response;
    if (go && stream.localReply === null && response !== null) {
      for (const [path, value] of Object.entries(response.properties ?? {})) stream.setProperty(path, value);
      const rh = HeaderMap.from(response.headers ?? []);
      rh.replace(":status", String(response.status ?? 200));
      const chunks = response.body === undefined ? [] : Array.isArray(response.body) ? response.body.map(bytes) : [bytes(response.body)];
      stream.sendResponseHeaders(rh, chunks.length === 0 && response.trailers === undefined);
      const forwarded: Uint8Array[] = [];
      chunks.forEach((chunk, i) => {
        const last = i === chunks.length - 1 && response.trailers === undefined;
        if (stream.sendResponseBody(chunk, last) === Action.Continue) forwarded.push(stream.forwardedBody);
      });
      if (response.trailers !== undefined) stream.sendResponseTrailers(response.trailers);
      exchange.responseHeaders = stream.responseHeaders!.toRecord();
      exchange.responseBody = concatAll(forwarded);
    } else if (stream.localReply === null && requestAction === Action.Pause) {
      exchange.paused = true;
    }
    exchange.localReply = stream.localReply;
    exchange.localReplyBody = stream.localReply === null ? "" : decodeUtf8(stream.localReply.body);
    exchange.trapped = stream.trapped;
    if (req.complete !== false && !exchange.paused) stream.complete();
    return exchange;
  }

  /** Moves virtual time forward, firing ticks and timeouts in order. */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** A counter's or gauge's value (a histogram's sample count), or undefined. */
  metric(name: string): number | undefined {
    return this.plugin.store.metrics.value(name);
  }

  histogram(name: string): HistogramValue | undefined {
    return this.plugin.store.metrics.histogram(name);
  }

  /** Captured module logs, optionally only those at `level`. */
  logs(level?: CapturedLog["level"]): CapturedLog[] {
    return level === undefined ? this.plugin.logs : this.plugin.logs.filter((l) => l.level === level);
  }

  /** Messages of captured logs. */
  logMessages(level?: CapturedLog["level"]): string[] {
    return this.logs(level).map((l) => l.message);
  }

  /** gRPC streams the module opened (in-process transport only). */
  get grpcStreams(): RecordedGrpcStream[] {
    return this.grpc?.streams ?? [];
  }

  /** Every gRPC message the module sent, in order of streams then messages. */
  grpcSent(): Uint8Array[] {
    return this.grpcStreams.flatMap((s) => s.sent);
  }

  /** Shared data under `key` (vm id of this plugin). */
  sharedData(key: string, vmId = ""): Uint8Array | undefined {
    return this.plugin.store.data.get(vmId, key)?.value;
  }

  prometheus(): string {
    return this.plugin.prometheus();
  }

  close(): void {
    this.plugin.close();
  }
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
