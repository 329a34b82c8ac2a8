// One HTTP request/response pair going through a module: the stream context (its header maps,
// body buffers and properties, which the host functions read and change) and the embedder's way
// of driving it, callback by callback, the way Envoy's filter manager does.
//
//   const stream = plugin.createHttpStream();
//   if (stream.sendRequestHeaders({ ":method": "GET", ":path": "/" }, true) === Action.Continue) …
//   stream.localReply         // set when the module answered itself (or trapped, fail-closed)
//   stream.requestHeaders     // the headers as the module left them
//   stream.sendResponseHeaders({ ":status": "200" }, false); stream.sendResponseBody(bytes, true);
//   stream.complete();        // proxy_on_done, proxy_on_log, proxy_on_delete
import { Action, StreamType } from "./abi.js";
import { HeaderMap, type HeaderInput } from "./header-map.js";
import { PropertyStore, type PropertyPath, type PropertyValue } from "./properties.js";
import type { StreamCallback, WasmVm } from "./vm.js";

/** A response the module (or the host, after a trap) produced instead of the upstream's. */
export interface LocalReply {
  /** HTTP status code. */
  status: number;
  /** Response code details (Envoy's %RESPONSE_CODE_DETAILS%), e.g. "wasm_fail_stream". */
  details: string;
  body: Uint8Array;
  /** Headers to send (without ":status"). */
  headers: HeaderMap;
  /** gRPC status the module asked for, or -1 for none. */
  grpcStatus: number;
}

const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function toMap(input: HeaderInput | undefined): HeaderMap {
  if (input === undefined) return new HeaderMap();
  return input instanceof HeaderMap ? input : HeaderMap.from(input);
}

export type StreamPhase = "open" | "done_pending" | "deleted";

export class HttpStream {
  requestHeaders = new HeaderMap();
  requestTrailers: HeaderMap | null = null;
  responseHeaders: HeaderMap | null = null;
  responseTrailers: HeaderMap | null = null;
  /** The request body the module sees in proxy_on_request_body (buffered while it pauses). */
  requestBody: Uint8Array = EMPTY;
  responseBody: Uint8Array = EMPTY;
  /** After a send…Body that returned Continue: the bytes to pass on (possibly changed by the module). */
  forwardedBody: Uint8Array = EMPTY;
  properties: PropertyStore | null = null;
  /** Set when the module sent a local reply, or when it trapped and the host failed closed. */
  localReply: LocalReply | null = null;
  /** The module trapped while handling this stream. */
  trapped = false;
  /** The module is skipped for the rest of this stream (it trapped and the plugin fails open). */
  bypassed = false;
  phase: StreamPhase = "open";
  /** The module resumed a paused request or response (proxy_continue_stream). Called outside the module. */
  onContinue: ((type: StreamType) => void) | null = null;
  /** The module asked to reset the stream (proxy_close_stream). */
  onClose: ((type: StreamType) => void) | null = null;
  /** The module sent a local reply outside a send…() call (e.g. from a gRPC callback). */
  onLocalReply: ((reply: LocalReply) => void) | null = null;
  /** Times the module cleared the route cache (Envoy's clear_route_cache foreign function). */
  routeCacheClears = 0;
  /** True while one of the send…() methods runs the module. */
  inCall = false;
  private responseStarted = false;

  constructor(
    readonly vm: WasmVm,
    /** The stream's context id inside its VM. */
    readonly id: number,
  ) {}

  /** Sets a property this stream's module will read (e.g. "response.flags", "xds.cluster_name"). */
  setProperty(path: PropertyPath, value: PropertyValue): void {
    (this.properties ??= new PropertyStore()).set(path, value);
  }

  sendRequestHeaders(headers?: HeaderInput, endOfStream = false): Action {
    if (headers !== undefined) this.requestHeaders = toMap(headers);
    return this.run(this.vm.exports.onRequestHeaders, this.requestHeaders.size, endOfStream ? 1 : 0);
  }

  sendRequestBody(chunk: Uint8Array, endOfStream: boolean): Action {
    this.requestBody = concat(this.requestBody, chunk);
    const action = this.run(this.vm.exports.onRequestBody, this.requestBody.length, endOfStream ? 1 : 0);
    if (action === Action.Continue) {
      this.forwardedBody = this.requestBody;
      this.requestBody = EMPTY;
    } else {
      this.forwardedBody = EMPTY;
    }
    return action;
  }

  sendRequestTrailers(trailers: HeaderInput): Action {
    this.requestTrailers = toMap(trailers);
    return this.run(this.vm.exports.onRequestTrailers, this.requestTrailers.size, 0);
  }

  sendResponseHeaders(headers: HeaderInput, endOfStream = false): Action {
    this.responseHeaders = toMap(headers);
    this.responseStarted = true;
    return this.run(this.vm.exports.onResponseHeaders, this.responseHeaders.size, endOfStream ? 1 : 0);
  }

  sendResponseBody(chunk: Uint8Array, endOfStream: boolean): Action {
    this.responseBody = concat(this.responseBody, chunk);
    const action = this.run(this.vm.exports.onResponseBody, this.responseBody.length, endOfStream ? 1 : 0);
    if (action === Action.Continue) {
      this.forwardedBody = this.responseBody;
      this.responseBody = EMPTY;
    } else {
      this.forwardedBody = EMPTY;
    }
    return action;
  }

  sendResponseTrailers(trailers: HeaderInput): Action {
    this.responseTrailers = toMap(trailers);
    return this.run(this.vm.exports.onResponseTrailers, this.responseTrailers.size, 0);
  }

  /** Takes the request body the module held back while paused (after onContinue). */
  takeBufferedRequestBody(): Uint8Array {
    const body = this.requestBody;
    this.requestBody = EMPTY;
    return body;
  }

  takeBufferedResponseBody(): Uint8Array {
    const body = this.responseBody;
    this.responseBody = EMPTY;
    return body;
  }

  /**
   * Ends the stream: proxy_on_done, then (unless the module keeps the context alive and calls
   * proxy_done later) proxy_on_log and proxy_on_delete.
   */
  complete(): void {
    if (this.phase !== "open") return;
    this.vm.completeStream(this);
  }

  private run(fn: StreamCallback | undefined, a: number, b: number): Action {
    if (this.localReply !== null) return Action.Pause; // the stream was answered locally
    if (this.bypassed || this.phase !== "open") return Action.Continue;
    if (fn === undefined && !this.vm.failed) return Action.Continue;
    this.inCall = true;
    const result = this.vm.callStream(fn, this, a, b);
    this.inCall = false;
    if (result < 0) return this.failed();
    if (this.localReply !== null) {
      this.encodeLocalReply();
      return Action.Pause;
    }
    return result === Action.Pause ? Action.Pause : Action.Continue;
  }

  /** The module trapped (or its VM already had): fail open or closed. */
  private failed(): Action {
    this.trapped = true;
    if (this.vm.settings.failOpen) {
      this.bypassed = true;
      this.localReply = null;
      return Action.Continue;
    }
    this.localReply = {
      status: this.vm.settings.trapStatus,
      details: "wasm_fail_stream",
      body: EMPTY,
      headers: new HeaderMap(),
      grpcStatus: -1,
    };
    return Action.Pause;
  }

  /**
   * As in Envoy, a local reply passes through the module's own response callbacks (its
   * proxy_on_response_headers sees ":status" and may add headers) unless the response had already
   * started or the module failed.
   */
  encodeLocalReply(): void {
    const reply = this.localReply!;
    if (!this.vm.settings.localReplyThroughFilter || this.responseStarted || this.trapped || this.vm.failed) return;
    this.responseStarted = true;
    this.responseHeaders = new HeaderMap([":status", String(reply.status), ...reply.headers.entries]);
    const onHeaders = this.vm.exports.onResponseHeaders;
    if (onHeaders !== undefined) {
      const r = this.vm.callStream(onHeaders, this, this.responseHeaders.size, reply.body.length === 0 ? 1 : 0);
      if (r < 0) {
        this.trapped = true;
        return;
      }
    }
    const onBody = this.vm.exports.onResponseBody;
    if (reply.body.length > 0 && onBody !== undefined) {
      this.responseBody = reply.body;
      const r = this.vm.callStream(onBody, this, reply.body.length, 1);
      if (r < 0) {
        this.trapped = true;
        return;
      }
      reply.body = this.responseBody;
      this.responseBody = EMPTY;
    }
    const status = Number(this.responseHeaders.get(":status"));
    if (Number.isInteger(status) && status >= 100 && status <= 999) reply.status = status;
    const headers = this.responseHeaders.entries.slice();
    const out = new HeaderMap(headers);
    out.remove(":status");
    reply.headers = out;
  }
}
