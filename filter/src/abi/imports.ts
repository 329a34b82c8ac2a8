// Host functions of the proxy-wasm ABI 0.2.1, declared from the spec
// (proxy-wasm/spec abi-versions/v0.2.1/README.md). Every one is imported from module "env";
// nothing else is imported (no env.abort, no WASI), so the module loads in Envoy unchanged.
// All return a proxy_status_t (see ./types.ts). Pointers are linear-memory addresses; sizes are
// byte counts; "return_*" parameters are addresses the host writes its results to.

// ---- logging, clock, timer ----
@external("env", "proxy_log")
export declare function proxy_log(level: i32, messageData: usize, messageSize: usize): i32;
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(returnLevel: usize): i32;
/** Writes a u64 of nanoseconds since the Unix epoch at returnTime. */
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(returnTime: usize): i32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMs: u32): i32;

// ---- context ----
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): i32;
@external("env", "proxy_done")
export declare function proxy_done(): i32;

// ---- buffers ----
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(
  bufferType: i32, start: usize, maxSize: usize, returnData: usize, returnSize: usize): i32;
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(
  bufferType: i32, start: usize, size: usize, valueData: usize, valueSize: usize): i32;

// ---- header maps ----
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(mapType: i32, returnData: usize, returnSize: usize): i32;
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(mapType: i32, data: usize, size: usize): i32;
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(
  mapType: i32, keyData: usize, keySize: usize, returnData: usize, returnSize: usize): i32;
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(
  mapType: i32, keyData: usize, keySize: usize, valueData: usize, valueSize: usize): i32;
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(
  mapType: i32, keyData: usize, keySize: usize, valueData: usize, valueSize: usize): i32;
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(mapType: i32, keyData: usize, keySize: usize): i32;

// ---- streams ----
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: i32): i32;
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(streamType: i32): i32;
@external("env", "proxy_get_status")
export declare function proxy_get_status(returnCode: usize, returnMessageData: usize, returnMessageSize: usize): i32;
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  statusCode: u32, detailsData: usize, detailsSize: usize, bodyData: usize, bodySize: usize,
  headersData: usize, headersSize: usize, grpcStatus: i32): i32;

// ---- gRPC (12 and 9 parameters: initial metadata included) ----
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  upstreamData: usize, upstreamSize: usize, serviceData: usize, serviceSize: usize,
  methodData: usize, methodSize: usize, metadataData: usize, metadataSize: usize,
  messageData: usize, messageSize: usize, timeoutMs: u32, returnCallId: usize): i32;
@external("env", "proxy_grpc_stream")
export declare function proxy_grpc_stream(
  upstreamData: usize, upstreamSize: usize, serviceData: usize, serviceSize: usize,
  methodData: usize, methodSize: usize, metadataData: usize, metadataSize: usize,
  returnStreamId: usize): i32;
@external("env", "proxy_grpc_send")
export declare function proxy_grpc_send(streamId: u32, messageData: usize, messageSize: usize, endStream: u32): i32;
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(callOrStreamId: u32): i32;
@external("env", "proxy_grpc_close")
export declare function proxy_grpc_close(callOrStreamId: u32): i32;

// ---- shared data ----
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(
  keyData: usize, keySize: usize, returnData: usize, returnSize: usize, returnCas: usize): i32;
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(
  keyData: usize, keySize: usize, valueData: usize, valueSize: usize, cas: u32): i32;

// ---- metrics (increment takes an i64 delta, record a u64 value) ----
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(metricType: i32, nameData: usize, nameSize: usize, returnId: usize): i32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metricId: u32, delta: i64): i32;
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(metricId: u32, value: u64): i32;

// ---- properties (path segments joined with \0) ----
@external("env", "proxy_get_property")
export declare function proxy_get_property(
  pathData: usize, pathSize: usize, returnData: usize, returnSize: usize): i32;

// ---- foreign functions (host extensions by name; NOT_FOUND when the host has no such function) ----
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(
  nameData: usize, nameSize: usize, argumentsData: usize, argumentsSize: usize,
  returnResultsData: usize, returnResultsSize: usize): i32;
