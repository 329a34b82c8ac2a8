// The callbacks the host calls (proxy_on_*), dispatching to the contexts in ./context.ts.
// Unknown context ids are ignored (never trap on the host's input).
import { Action } from "./types";
import { createContext, roots, streams } from "./context";

/** ABI marker: this module speaks proxy-wasm ABI 0.2.1. Never called. */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  createContext(contextId, parentContextId);
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): bool {
  if (!roots.has(rootContextId)) return true;
  return roots.get(rootContextId).onVmStart(vmConfigurationSize);
}

export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): bool {
  if (!roots.has(rootContextId)) return false;
  return roots.get(rootContextId).onConfigure(pluginConfigurationSize);
}

export function proxy_on_tick(rootContextId: u32): void {
  if (roots.has(rootContextId)) roots.get(rootContextId).onTick();
}

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: bool): i32 {
  if (!streams.has(contextId)) return Action.CONTINUE;
  return streams.get(contextId).onRequestHeaders(numHeaders, endOfStream);
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  if (!streams.has(contextId)) return Action.CONTINUE;
  return streams.get(contextId).onRequestBody(bodySize, endOfStream);
}

export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): i32 {
  if (!streams.has(contextId)) return Action.CONTINUE;
  return streams.get(contextId).onRequestTrailers(numTrailers);
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: bool): i32 {
  if (!streams.has(contextId)) return Action.CONTINUE;
  return streams.get(contextId).onResponseHeaders(numHeaders, endOfStream);
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): i32 {
  if (!streams.has(contextId)) return Action.CONTINUE;
  return streams.get(contextId).onResponseBody(bodySize, endOfStream);
}

export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): i32 {
  if (!streams.has(contextId)) return Action.CONTINUE;
  return streams.get(contextId).onResponseTrailers(numTrailers);
}

export function proxy_on_log(contextId: u32): void {
  if (streams.has(contextId)) streams.get(contextId).onLog();
}

export function proxy_on_done(contextId: u32): bool {
  if (streams.has(contextId)) return streams.get(contextId).onDone();
  if (roots.has(contextId)) return roots.get(contextId).onDone();
  return true;
}

export function proxy_on_delete(contextId: u32): void {
  if (streams.has(contextId)) {
    streams.get(contextId).onDelete();
    streams.delete(contextId);
    return;
  }
  if (roots.has(contextId)) {
    roots.get(contextId).onDelete();
    roots.delete(contextId);
  }
}

export function proxy_on_grpc_receive_initial_metadata(contextId: u32, token: u32, numElements: u32): void {
  if (roots.has(contextId)) roots.get(contextId).onGrpcReceiveInitialMetadata(token, numElements);
}

export function proxy_on_grpc_receive(contextId: u32, token: u32, messageSize: u32): void {
  if (roots.has(contextId)) roots.get(contextId).onGrpcReceive(token, messageSize);
}

export function proxy_on_grpc_receive_trailing_metadata(contextId: u32, token: u32, numElements: u32): void {
  if (roots.has(contextId)) roots.get(contextId).onGrpcReceiveTrailingMetadata(token, numElements);
}

export function proxy_on_grpc_close(contextId: u32, token: u32, statusCode: u32): void {
  if (roots.has(contextId)) roots.get(contextId).onGrpcClose(token, statusCode);
}
