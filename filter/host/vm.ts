// One VM instance of a module (Envoy runs one per worker thread): the wasm instance, its root
// context and stream contexts, the effective context host functions act on, its gRPC calls and
// tick timer. Every callback into the module goes through call…(), which sets the effective
// context, keeps the dispatcher from re-entering the module, and turns a trap into a failed VM.
import { Action, GrpcStatus, type StreamType } from "./abi.js";
import type { Clock, TimerHandle } from "./clock.js";
import type { GrpcStreamHandle, GrpcTransport } from "./grpc-transport.js";
import type { ForeignFunction } from "./foreign-functions.js";
import type { GrpcUpstream } from "./grpc-service.js";
import { HeaderMap, type HeaderPairs } from "./header-map.js";
import { createHostImports } from "./hostcalls.js";
import { HttpStream } from "./http-stream.js";
import type { LogSink } from "./log-sink.js";
import { WasmMemory } from "./memory.js";
import type { ProxyWasmModule } from "./module-loader.js";
import type { PropertyStore } from "./properties.js";
import type { QueueOwner } from "./shared-queues.js";
import type { SharedStore } from "./shared-store.js";
import { instantiateWasm, type WasmInstance, type WasmMemoryObject } from "./wasm-api.js";

/** A stream callback: (context id, a, b) → action (or bool for proxy_on_done). */
export type StreamCallback = (contextId: number, a: number, b: number) => number;
/** A callback without a meaningful result. */
type VoidCallback = (contextId: number, a: number, b: number) => unknown;

/** The module's callbacks (all optional, per the spec). */
export interface CallbackExports {
  onContextCreate?: VoidCallback;
  onVmStart?: StreamCallback;
  onConfigure?: StreamCallback;
  onTick?: VoidCallback;
  onRequestHeaders?: StreamCallback;
  onRequestBody?: StreamCallback;
  onRequestTrailers?: StreamCallback;
  onResponseHeaders?: StreamCallback;
  onResponseBody?: StreamCallback;
  onResponseTrailers?: StreamCallback;
  onDone?: StreamCallback;
  onLog?: VoidCallback;
  onDelete?: VoidCallback;
  onQueueReady?: VoidCallback;
  onGrpcReceiveInitialMetadata?: VoidCallback;
  onGrpcReceive?: VoidCallback;
  onGrpcReceiveTrailingMetadata?: VoidCallback;
  onGrpcClose?: VoidCallback;
}

const CALLBACK_EXPORTS: Record<keyof CallbackExports, string> = {
  onContextCreate: "proxy_on_context_create",
  onVmStart: "proxy_on_vm_start",
  onConfigure: "proxy_on_configure",
  onTick: "proxy_on_tick",
  onRequestHeaders: "proxy_on_request_headers",
  onRequestBody: "proxy_on_request_body",
  onRequestTrailers: "proxy_on_request_trailers",
  onResponseHeaders: "proxy_on_response_headers",
  onResponseBody: "proxy_on_response_body",
  onResponseTrailers: "proxy_on_response_trailers",
  onDone: "proxy_on_done",
  onLog: "proxy_on_log",
  onDelete: "proxy_on_delete",
  onQueueReady: "proxy_on_queue_ready",
  onGrpcReceiveInitialMetadata: "proxy_on_grpc_receive_initial_metadata",
  onGrpcReceive: "proxy_on_grpc_receive",
  onGrpcReceiveTrailingMetadata: "proxy_on_grpc_receive_trailing_metadata",
  onGrpcClose: "proxy_on_grpc_close",
};

export interface VmSettings {
  module: ProxyWasmModule;
  /** Index of this VM among the plugin's instances (the worker number). */
  index: number;
  vmId: string;
  rootId: string;
  vmConfiguration: Uint8Array;
  pluginConfiguration: Uint8Array;
  store: SharedStore;
  clock: Clock;
  grpc: GrpcTransport | null;
  log: LogSink;
  /** Plugin-wide properties (node.*, plugin_name, plugin_root_id, …). */
  properties: PropertyStore;
  failOpen: boolean;
  /** HTTP status of the local reply when a trap ends a stream (fail-closed). */
  trapStatus: number;
  /** Whether local replies pass through the module's response callbacks (Envoy does this). */
  localReplyThroughFilter: boolean;
  /** Random numbers in [0, 1) for wasi random_get. */
  random: () => number;
  /** proxy_call_foreign_function's functions by name (others answer NOT_FOUND). */
  foreignFunctions: Readonly<Record<string, ForeignFunction>>;
  /** Told when the VM failed (after a trap), outside the module. */
  onFailed?: (vm: WasmVm) => void;
}

export type VmStartErrorCode = "trap" | "vm_start_failed" | "configure_failed";

/** The VM could not be started: the module trapped, or refused its VM or plugin configuration. */
export class VmStartError extends Error {
  override name = "VmStartError";
  constructor(
    readonly code: VmStartErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface GrpcCall {
  token: number;
  /** The context that started the call; its callbacks go there. */
  contextId: number;
  handle: GrpcStreamHandle;
  isStream: boolean;
  timer: TimerHandle | null;
}

/** The value proxy_get_status reports (of the last closed gRPC call). */
export interface CallStatus {
  code: number;
  message: string;
}

export class WasmVm implements QueueOwner {
  readonly exports: CallbackExports = {};
  readonly memory: WasmMemory;
  readonly instance: WasmInstance;
  readonly rootContextId = 1;
  /** The VM trapped; it runs no more callbacks. */
  failed = false;
  /** What made it fail. */
  failure = "";
  /** The effective context's id, and its stream (null for the root context). */
  effectiveId = 0;
  effectiveStream: HttpStream | null = null;
  readonly streams = new Map<number, HttpStream>();
  readonly grpcCalls = new Map<number, GrpcCall>();
  /** GRPC_CALL_MESSAGE and metadata maps, set while a gRPC callback runs. */
  grpcMessage: Uint8Array | null = null;
  grpcInitialMetadata: HeaderMap | null = null;
  grpcTrailingMetadata: HeaderMap | null = null;
  lastStatus: CallStatus = { code: 0, message: "" };
  /** Current tick period in ms (0 = no ticks). */
  tickPeriodMs = 0;
  /** proxy_get_buffer_bytes calls on an HTTP body buffer (request or response), for tests that
   *  show a feature that is off does no body work. */
  bodyReads = 0;
  private tickTimer: TimerHandle | null = null;
  private nextContextId = 2;
  private nextCallToken = 1; // calls odd, streams even (as the reference host)
  private nextStreamToken = 2;
  private stopped = false;
  private readonly tick = (): void => {
    if (!this.failed && this.exports.onTick !== undefined) this.callContext("proxy_on_tick", this.exports.onTick, this.rootContextId, 0, 0);
  };

  constructor(readonly settings: VmSettings) {
    const imports = createHostImports(this);
    try {
      this.instance = instantiateWasm(settings.module.module, imports);
    } catch (e) {
      throw new VmStartError("trap", `${settings.module.label}: instantiation failed: ${(e as Error).message}`);
    }
    const exp = this.instance.exports;
    for (const [key, name] of Object.entries(CALLBACK_EXPORTS)) {
      const fn = exp[name];
      if (typeof fn === "function") (this.exports as Record<string, unknown>)[key] = fn;
    }
    const allocate = exp[settings.module.allocator] as (size: number) => number;
    this.memory = new WasmMemory(exp.memory as WasmMemoryObject, allocate);
  }

  get index(): number {
    return this.settings.index;
  }

  get clock(): Clock {
    return this.settings.clock;
  }

  get store(): SharedStore {
    return this.settings.store;
  }

  /** _initialize (else _start), the root context, proxy_on_vm_start, proxy_on_configure. */
  start(): void {
    const exp = this.instance.exports;
    const init = (exp._initialize ?? exp._start) as (() => void) | undefined;
    const label = this.settings.module.label;
    if (typeof init === "function") {
      this.guardStart(() => init(), exp._initialize !== undefined ? "_initialize" : "_start");
      // The spec: main(0, 0) runs after _initialize when both are exported.
      if (exp._initialize !== undefined && typeof exp.main === "function") {
        const main = exp.main as (a: number, b: number) => number;
        this.guardStart(() => main(0, 0), "main");
      }
    }
    this.guardStart(() => this.exports.onContextCreate?.(this.rootContextId, 0, 0), "proxy_on_context_create");
    const vmStart = this.exports.onVmStart;
    if (vmStart !== undefined) {
      const ok = this.guardStart(() => vmStart(this.rootContextId, this.settings.vmConfiguration.length, 0), "proxy_on_vm_start");
      if (ok === 0) throw new VmStartError("vm_start_failed", `${label}: proxy_on_vm_start returned false (VM configuration rejected)`);
    }
    const configure = this.exports.onConfigure;
    if (configure !== undefined) {
      const ok = this.guardStart(
        () => configure(this.rootContextId, this.settings.pluginConfiguration.length, 0),
        "proxy_on_configure",
      );
      if (ok === 0) {
        const logs = this.settings.log.logs.filter((l) => l.vm === this.index && (l.level === "error" || l.level === "critical"));
        const why = logs.length > 0 ? `: ${logs[logs.length - 1]!.message}` : "";
        throw new VmStartError("configure_failed", `${label}: proxy_on_configure returned false (plugin configuration rejected)${why}`);
      }
    }
  }

  private guardStart(fn: () => unknown, where: string): unknown {
    this.effectiveId = this.rootContextId;
    this.effectiveStream = null;
    this.store.dispatcher.enter();
    try {
      return fn();
    } catch (e) {
      this.markFailed(e, where);
      throw new VmStartError("trap", `${this.settings.module.label}: trap in ${where}: ${(e as Error).message}`);
    } finally {
      this.effectiveId = 0;
      this.store.dispatcher.exit();
    }
  }

  /** Creates a stream context (proxy_on_context_create with the root as parent). */
  createStream(): HttpStream {
    const stream = new HttpStream(this, this.nextContextId++);
    this.streams.set(stream.id, stream);
    const create = this.exports.onContextCreate;
    if (create !== undefined && !this.failed) {
      const r = this.callStream(create as StreamCallback, stream, this.rootContextId, 0);
      if (r < 0) stream.trapped = true;
    }
    return stream;
  }

  /**
   * Runs a stream callback with `stream` as the effective context. Returns its result, or -1 when
   * the module trapped (now or before: a failed VM runs nothing).
   */
  callStream(fn: StreamCallback | undefined, stream: HttpStream, a: number, b: number): number {
    if (this.failed || fn === undefined) return this.failed ? -1 : Action.Continue;
    const prevId = this.effectiveId;
    const prevStream = this.effectiveStream;
    this.effectiveId = stream.id;
    this.effectiveStream = stream;
    const dispatcher = this.settings.store.dispatcher;
    dispatcher.depth++;
    let result: number;
    try {
      result = fn(stream.id, a, b) as number;
    } catch (e) {
      this.markFailed(e, `stream ${stream.id}`);
      result = -1;
    }
    this.effectiveId = prevId;
    this.effectiveStream = prevStream;
    dispatcher.exit();
    return result;
  }

  /** Runs a callback for context `contextId` (the root or a live stream); false when it trapped. */
  callContext(where: string, fn: VoidCallback, contextId: number, a: number, b: number): boolean {
    if (this.failed) return false;
    let stream: HttpStream | null = null;
    if (contextId !== this.rootContextId) {
      stream = this.streams.get(contextId) ?? null;
      if (stream === null) return true; // the context is gone; nothing to deliver to
    }
    const prevId = this.effectiveId;
    const prevStream = this.effectiveStream;
    this.effectiveId = contextId;
    this.effectiveStream = stream;
    const dispatcher = this.settings.store.dispatcher;
    dispatcher.enter();
    let ok = true;
    try {
      fn(contextId, a, b);
    } catch (e) {
      this.markFailed(e, where);
      ok = false;
    }
    this.effectiveId = prevId;
    this.effectiveStream = prevStream;
    dispatcher.exit();
    return ok;
  }

  /** proxy_on_done, then proxy_on_log and proxy_on_delete unless the module defers with proxy_done. */
  completeStream(stream: HttpStream): void {
    const onDone = this.exports.onDone;
    if (this.failed || onDone === undefined) {
      this.finalizeStream(stream);
      return;
    }
    const r = this.callStream(onDone, stream, 0, 0);
    if (r === 0) stream.phase = "done_pending";
    else this.finalizeStream(stream);
  }

  /** proxy_on_log, proxy_on_delete, and forgetting the context. */
  finalizeStream(stream: HttpStream): void {
    if (stream.phase === "deleted") return;
    stream.phase = "deleted";
    if (!this.failed) {
      if (this.exports.onLog !== undefined) this.callStream(this.exports.onLog as StreamCallback, stream, 0, 0);
      if (this.exports.onDelete !== undefined) this.callStream(this.exports.onDelete as StreamCallback, stream, 0, 0);
    }
    this.streams.delete(stream.id);
  }

  /** proxy_set_tick_period_milliseconds: 0 stops ticks. */
  setTickPeriod(periodMs: number): void {
    this.tickTimer?.cancel();
    this.tickTimer = null;
    this.tickPeriodMs = periodMs;
    if (periodMs > 0 && !this.stopped) this.tickTimer = this.clock.every(periodMs, this.tick);
  }

  onQueueReady(rootContextId: number, token: number): void {
    const fn = this.exports.onQueueReady;
    if (fn !== undefined) this.callContext("proxy_on_queue_ready", fn, rootContextId, token, 0);
  }

  /** Starts a gRPC call or stream for the root context (from any context); the token, or null for an unknown cluster. */
  openGrpc(
    upstream: GrpcUpstream,
    service: string,
    method: string,
    metadata: HeaderPairs,
    timeoutMs: number,
    isStream: boolean,
    message: Uint8Array | null,
  ): number | null {
    const transport = this.settings.grpc;
    if (transport === null) return null;
    const token = isStream ? this.nextStreamToken : this.nextCallToken;
    const dispatcher = this.store.dispatcher;
    const handle = transport.open(
      { cluster: upstream.cluster, authority: upstream.authority, upstream: upstream.bytes, service, method, metadata, timeoutMs },
      {
        onInitialMetadata: (md) => dispatcher.post(() => this.deliverGrpcMetadata(token, md, true)),
        onMessage: (bytes) => dispatcher.post(() => this.deliverGrpcMessage(token, bytes)),
        onTrailingMetadata: (md) => dispatcher.post(() => this.deliverGrpcMetadata(token, md, false)),
        onClose: (code, details) => dispatcher.post(() => this.deliverGrpcClose(token, code, details)),
      },
    );
    if (handle === null) return null;
    if (isStream) this.nextStreamToken = (this.nextStreamToken + 2) >>> 0;
    else this.nextCallToken = (this.nextCallToken + 2) >>> 0;
    // The call belongs to the root context whichever context opened it: its callbacks
    // (proxy_on_grpc_receive, ...) go to the root context, as proxy-wasm-cpp-host does
    // (src/exports.cc, grpc_call and grpc_stream: contextOrEffectiveContext()->root_context()).
    // A stream a plugin opens while a request's callback runs must outlive that request.
    const call: GrpcCall = { token, contextId: this.rootContextId, handle, isStream, timer: null };
    this.grpcCalls.set(token, call);
    if (message !== null) {
      handle.send(message);
      handle.halfClose();
    }
    if (timeoutMs > 0) {
      call.timer = this.clock.after(timeoutMs, () => {
        if (this.grpcCalls.get(token) !== call) return;
        handle.cancel();
        dispatcher.post(() => this.deliverGrpcClose(token, GrpcStatus.DeadlineExceeded, "deadline exceeded"));
      });
    }
    return token;
  }

  private deliverGrpcMetadata(token: number, metadata: HeaderPairs, initial: boolean): void {
    const call = this.grpcCalls.get(token);
    const fn = initial ? this.exports.onGrpcReceiveInitialMetadata : this.exports.onGrpcReceiveTrailingMetadata;
    if (call === undefined || fn === undefined) return;
    const map = HeaderMap.from(metadata);
    if (initial) this.grpcInitialMetadata = map;
    else this.grpcTrailingMetadata = map;
    this.callContext(initial ? "proxy_on_grpc_receive_initial_metadata" : "proxy_on_grpc_receive_trailing_metadata", fn, call.contextId, token, map.size);
    if (initial) this.grpcInitialMetadata = null;
    else this.grpcTrailingMetadata = null;
  }

  private deliverGrpcMessage(token: number, message: Uint8Array): void {
    const call = this.grpcCalls.get(token);
    const fn = this.exports.onGrpcReceive;
    if (call === undefined || fn === undefined) return;
    this.grpcMessage = message;
    this.callContext("proxy_on_grpc_receive", fn, call.contextId, token, message.length);
    this.grpcMessage = null;
  }

  private deliverGrpcClose(token: number, code: number, message: string): void {
    const call = this.grpcCalls.get(token);
    if (call === undefined) return;
    call.timer?.cancel();
    this.grpcCalls.delete(token);
    const fn = this.exports.onGrpcClose;
    if (fn === undefined) return;
    this.lastStatus = { code, message };
    this.callContext("proxy_on_grpc_close", fn, call.contextId, token, code);
  }

  /** Posts an embedder hook to run outside the module. */
  notifyContinue(stream: HttpStream, type: StreamType): void {
    this.store.dispatcher.post(() => stream.onContinue?.(type));
  }

  notifyClose(stream: HttpStream, type: StreamType): void {
    this.store.dispatcher.post(() => stream.onClose?.(type));
  }

  /** A local reply sent outside a send…() call: encode it through the module and tell the embedder. */
  notifyLocalReply(stream: HttpStream): void {
    this.store.dispatcher.post(() => {
      if (stream.localReply === null) return;
      stream.encodeLocalReply();
      stream.onLocalReply?.(stream.localReply);
    });
  }

  /** proxy_done: finishes a stream whose proxy_on_done returned false. */
  doneDeferred(stream: HttpStream): void {
    this.store.dispatcher.post(() => this.finalizeStream(stream));
  }

  /** The module trapped (or a host function threw): no more callbacks; tell the plugin. */
  private markFailed(error: unknown, where: string): void {
    if (this.failed) return;
    this.failed = true;
    const message = error instanceof Error ? error.message : String(error);
    this.failure = `trap in ${where}: ${message}`;
    this.settings.log.host("error", `wasm VM ${this.index} failed: ${this.failure}`, this.index);
    this.releaseResources();
    const onFailed = this.settings.onFailed;
    if (onFailed !== undefined) this.store.dispatcher.post(() => onFailed(this));
  }

  private releaseResources(): void {
    this.tickTimer?.cancel();
    this.tickTimer = null;
    for (const call of this.grpcCalls.values()) {
      call.timer?.cancel();
      call.handle.cancel();
    }
    this.grpcCalls.clear();
    this.store.queues.dropOwner(this);
  }

  /** Stops ticks and gRPC streams (the plugin is shutting down). */
  stop(): void {
    this.stopped = true;
    this.releaseResources();
  }
}
