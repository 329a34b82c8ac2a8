// Constants of the proxy-wasm ABI 0.2.1 (spec: proxy-wasm/spec abi-versions/v0.2.1/README.md, "Types").

/** proxy_status_t: what every host function returns. */
export const Status = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  InternalFailure: 10,
  Unimplemented: 12,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** proxy_action_t: what stream callbacks return. */
export const Action = { Continue: 0, Pause: 1 } as const;
export type Action = (typeof Action)[keyof typeof Action];

/** proxy_log_level_t. */
export const LogLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];
export const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error", "critical"] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

/** proxy_buffer_type_t. */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  ForeignFunctionArguments: 8,
} as const;
export type BufferType = (typeof BufferType)[keyof typeof BufferType];

/** proxy_map_type_t. */
export const MapType = {
  HttpRequestHeaders: 0,
  HttpRequestTrailers: 1,
  HttpResponseHeaders: 2,
  HttpResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;
export type MapType = (typeof MapType)[keyof typeof MapType];

/** proxy_stream_type_t. */
export const StreamType = { HttpRequest: 0, HttpResponse: 1, Downstream: 2, Upstream: 3 } as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];

/** proxy_metric_type_t. */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** wasi_errno_t values the host returns from the few WASI functions the spec lists. */
export const WasiErrno = { Success: 0, Badf: 8, Fault: 21, Inval: 28, Nosys: 52, Notsup: 58 } as const;

/** The export that marks a module as ABI 0.2.1. */
export const ABI_VERSION_EXPORT = "proxy_abi_version_0_2_1";

/** gRPC status codes the host itself produces (google.rpc.Code). */
export const GrpcStatus = {
  Ok: 0,
  Cancelled: 1,
  Unknown: 2,
  DeadlineExceeded: 4,
  NotFound: 5,
  Internal: 13,
  Unavailable: 14,
} as const;
