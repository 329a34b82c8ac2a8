// Every function the host provides to modules: all host functions of proxy-wasm ABI 0.2.1 (module
// "env") and the WASI functions the spec lists (module "wasi_snapshot_preview1"). A module that
// imports anything else is refused before it is instantiated.

export const ENV_FUNCTIONS = [
  "proxy_log",
  "proxy_get_log_level",
  "proxy_get_current_time_nanoseconds",
  "proxy_set_tick_period_milliseconds",
  "proxy_done",
  "proxy_set_effective_context",
  "proxy_get_buffer_bytes",
  "proxy_set_buffer_bytes",
  "proxy_get_buffer_status",
  "proxy_get_header_map_size",
  "proxy_get_header_map_pairs",
  "proxy_set_header_map_pairs",
  "proxy_get_header_map_value",
  "proxy_add_header_map_value",
  "proxy_replace_header_map_value",
  "proxy_remove_header_map_value",
  "proxy_continue_stream",
  "proxy_close_stream",
  "proxy_get_status",
  "proxy_send_local_response",
  "proxy_http_call",
  "proxy_grpc_call",
  "proxy_grpc_stream",
  "proxy_grpc_send",
  "proxy_grpc_cancel",
  "proxy_grpc_close",
  "proxy_set_shared_data",
  "proxy_get_shared_data",
  "proxy_register_shared_queue",
  "proxy_resolve_shared_queue",
  "proxy_enqueue_shared_queue",
  "proxy_dequeue_shared_queue",
  "proxy_define_metric",
  "proxy_record_metric",
  "proxy_increment_metric",
  "proxy_get_metric",
  "proxy_get_property",
  "proxy_set_property",
  "proxy_call_foreign_function",
] as const;

export const WASI_FUNCTIONS = [
  "fd_write",
  "clock_time_get",
  "random_get",
  "environ_sizes_get",
  "environ_get",
  "args_sizes_get",
  "args_get",
  "proc_exit",
] as const;

export type EnvFunctionName = (typeof ENV_FUNCTIONS)[number];
export type WasiFunctionName = (typeof WASI_FUNCTIONS)[number];

const provided = new Set<string>([
  ...ENV_FUNCTIONS.map((n) => `env.${n}`),
  ...WASI_FUNCTIONS.map((n) => `wasi_snapshot_preview1.${n}`),
]);

/** Whether the host provides function `module.name`. */
export function isProvidedImport(module: string, name: string): boolean {
  return provided.has(`${module}.${name}`);
}
