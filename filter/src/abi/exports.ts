// The callbacks the host calls (proxy_on_*), dispatching to the contexts in ./context.ts.
// Unknown context ids are ignored (never trap on the host's input). Every callback is bracketed
// by enter()/leave() (./gc.ts): garbage is collected only when the outermost one returns.
import { Action } from "./types";
import { createContext, roots, streams } from "./context";
import { enter, leave } from "./gc";

/** ABI marker: this module speaks proxy-wasm ABI 0.2.1. Never called. */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enter();
  createContext(contextId, parentContextId);
  leave(parentContextId == 0);
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): bool {
  enter();
  const root = roots.get(rootContextId);
  const r = root !== null ? root.onVmStart(vmConfigurationSize) : true;
  leave(true);
  return r;
}

export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): bool {
  enter();
  const root = roots.get(rootContextId);
  const r = root !== null ? root.onConfigure(pluginConfigurationSize) : false;
  leave(true);
  return r;
}

export function proxy_on_tick(rootContextId: u32): void {
  enter();
  const root = roots.get(rootContextId);
  if (root !== null) root.onTick();
  leave(true);
}

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: bool): i32 {
  enter();
  const stream = streams.get(contextId);
  const r = stream !== null ? stream.onRequestHeaders(numHeaders, endOfStream) : Action.CONTINUE;
  leave(false);
  return r;
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  enter();
  const stream = streams.get(contextId);
  const r = stream !== null ? stream.onRequestBody(bodySize, endOfStream) : Action.CONTINUE;
  leave(false);
  return r;
}

export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): i32 {
  enter();
  const stream = streams.get(contextId);
  const r = stream !== null ? stream.onRequestTrailers(numTrailers) : Action.CONTINUE;
  leave(false);
  return r;
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: bool): i32 {
  enter();
  const stream = streams.get(contextId);
  const r = stream !== null ? stream.onResponseHeaders(numHeaders, endOfStream) : Action.CONTINUE;
  leave(false);
  return r;
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  enter();
  const stream = streams.get(contextId);
  const r = stream !== null ? stream.onResponseBody(bodySize, endOfStream) : Action.CONTINUE;
  leave(false);
  return r;
}

export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): i32 {
  enter();
  const stream = streams.get(contextId);
  const r = stream !== null ? stream.onResponseTrailers(numTrailers) : Action.CONTINUE;
  leave(false);
  return r;
}

export function proxy_on_log(contextId: u32): void {
  enter();
  const stream = streams.get(contextId);
  if (stream !== null) stream.onLog();
  leave(false);
}

export function proxy_on_done(contextId: u32): bool {
  enter();
  let r = true;
  let root = false;
  const stream = streams.get(contextId);
  if (stream !== null) r = stream.onDone();
  else {
    const rc = roots.get(contextId);
    if (rc !== null) {
      root = true;
      r = rc.onDone();
    }
  }
  leave(root);
  return r;
}

export function proxy_on_delete(contextId: u32): void {
  enter();
  let root = false;
  const stream = streams.get(contextId);
  if (stream !== null) {
    stream.onDelete();
    streams.delete(contextId);
  } else {
    const rc = roots.get(contextId);
    if (rc !== null) {
      root = true;
      rc.onDelete();
      roots.delete(contextId);
    }
  }
  leave(root);
}

export function proxy_on_grpc_receive_initial_metadata(contextId: u32, token: u32, numElements: u32): void {
  enter();
  const root = roots.get(contextId);
  if (root !== null) root.onGrpcReceiveInitialMetadata(token, numElements);
  leave(true);
}

export function proxy_on_grpc_receive(contextId: u32, token: u32, messageSize: u32): void {
  enter();
  const root = roots.get(contextId);
  if (root !== null) root.onGrpcReceive(token, messageSize);
  leave(true);
}

export function proxy_on_grpc_receive_trailing_metadata(contextId: u32, token: u32, numElements: u32): void {
  enter();
  const root = roots.get(contextId);
  if (root !== null) root.onGrpcReceiveTrailingMetadata(token, numElements);
  leave(true);
}

export function proxy_on_grpc_close(contextId: u32, token: u32, statusCode: u32): void {
  enter();
  const root = roots.get(contextId);
  if (root !== null) root.onGrpcClose(token, statusCode);
  leave(true);
}
