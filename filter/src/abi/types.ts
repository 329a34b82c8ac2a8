// Enumerations of the proxy-wasm ABI 0.2.1 (spec section "Types").

export namespace Status {
  export const OK: i32 = 0;
  export const NOT_FOUND: i32 = 1;
  export const BAD_ARGUMENT: i32 = 2;
  export const SERIALIZATION_FAILURE: i32 = 3;
  export const PARSE_FAILURE: i32 = 4;
  export const INVALID_MEMORY_ACCESS: i32 = 6;
  export const EMPTY: i32 = 7;
  export const CAS_MISMATCH: i32 = 8;
  export const INTERNAL_FAILURE: i32 = 10;
  export const UNIMPLEMENTED: i32 = 12;
}

export namespace LogLevel {
  export const TRACE: i32 = 0;
  export const DEBUG: i32 = 1;
  export const INFO: i32 = 2;
  export const WARN: i32 = 3;
  export const ERROR: i32 = 4;
  export const CRITICAL: i32 = 5;
}

export namespace Action {
  export const CONTINUE: i32 = 0;
  export const PAUSE: i32 = 1;
}

export namespace BufferType {
  export const HTTP_REQUEST_BODY: i32 = 0;
  export const HTTP_RESPONSE_BODY: i32 = 1;
  export const GRPC_CALL_MESSAGE: i32 = 5;
  export const VM_CONFIGURATION: i32 = 6;
  export const PLUGIN_CONFIGURATION: i32 = 7;
}

/** proxy_stream_type_t (proxy_continue_stream, proxy_close_stream). */
export namespace StreamType {
  export const HTTP_REQUEST: i32 = 0;
  export const HTTP_RESPONSE: i32 = 1;
}

export namespace MapType {
  export const HTTP_REQUEST_HEADERS: i32 = 0;
  export const HTTP_REQUEST_TRAILERS: i32 = 1;
  export const HTTP_RESPONSE_HEADERS: i32 = 2;
  export const HTTP_RESPONSE_TRAILERS: i32 = 3;
  export const GRPC_CALL_INITIAL_METADATA: i32 = 4;
  export const GRPC_CALL_TRAILING_METADATA: i32 = 5;
}

export namespace MetricType {
  export const COUNTER: i32 = 0;
  export const GAUGE: i32 = 1;
  export const HISTOGRAM: i32 = 2;
}
