// Foreign functions (proxy_call_foreign_function): host extensions called by name. Envoy registers
// a few (source/extensions/common/wasm/foreign.cc); this host registers only what the embedder
// passes (PluginOptions.foreignFunctions), so by default every name answers NOT_FOUND, as an Envoy
// without that function does.
import { Status } from "./abi.js";
import type { HttpStream } from "./http-stream.js";

/** A foreign function: the arguments and the effective stream (null for the root context); returns
 *  result bytes (status OK) or a proxy_status_t. */
export type ForeignFunction = (args: Uint8Array, stream: HttpStream | null) => Uint8Array | number;

/** Envoy's clear_route_cache (envoyproxy/envoy#36671, Envoy 1.33+): ignores its arguments and
 *  clears the effective stream's route cache; here it counts the clears on the stream. */
export const clearRouteCache: ForeignFunction = (_args, stream) => {
  if (stream === null) return Status.NotFound;
  stream.routeCacheClears++;
  return new Uint8Array(0);
};
