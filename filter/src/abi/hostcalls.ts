// Typed wrappers over the host functions in ./imports.ts: strings in UTF-8, host-allocated
// results copied into GC-managed objects and their raw blocks freed, statuses returned.
import * as env from "./imports";
import { releaseHostBlock } from "./memory";
import { LogLevel, Status } from "./types";
import { sameBytes, utf8 } from "../core/bytes";

// Static cells the host writes return values into (no allocation per call).
const RET_PTR: usize = memory.data(8);
const RET_SIZE: usize = memory.data(8);
const RET_CAS: usize = memory.data(8);
const RET_U64: usize = memory.data(8);

/** The last log level the host reported; messages below it are not even formatted. */
let hostLogLevel: i32 = LogLevel.TRACE;

export function refreshLogLevel(): void {
  if (env.proxy_get_log_level(RET_U64) == Status.OK) hostLogLevel = load<i32>(RET_U64);
}

export function logEnabled(level: i32): bool {
  return level >= hostLogLevel;
}

/** Logs `message` at `level`, prefixed "autoglm: " (every line of the filter's; added here once). */
export function log(level: i32, message: string): void {
  if (level < hostLogLevel) return;
  const bytes = utf8("autoglm: " + message);
  env.proxy_log(level, changetype<usize>(bytes), <usize>bytes.byteLength);
}

/** Pre-encodes a constant (header name, metric name, shared-data key) once. */
export { utf8 };

/** Copies the block the host returned through RET_PTR/RET_SIZE and frees it. */
function takeBytes(): ArrayBuffer {
  const ptr = load<usize>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  const out = new ArrayBuffer(<i32>size);
  if (ptr != 0) {
    if (size > 0) memory.copy(changetype<usize>(out), ptr, size);
    heap.free(ptr);
  }
  return out;
}

/** Decodes the block the host returned as UTF-8 and frees it. */
function takeString(): string {
  const ptr = load<usize>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  if (ptr == 0) return "";
  const out = size > 0 ? String.UTF8.decodeUnsafe(ptr, size) : "";
  heap.free(ptr);
  return out;
}

function clearReturn(): void {
  store<usize>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
}

// ---------------------------------------------------------------------------------------------
// Clock and timer
// ---------------------------------------------------------------------------------------------

/** Host time, nanoseconds since the Unix epoch (virtual in tests). */
export function nowNs(): u64 {
  store<u64>(RET_U64, 0);
  env.proxy_get_current_time_nanoseconds(RET_U64);
  return load<u64>(RET_U64);
}

export function setTickPeriodMs(periodMs: u32): void {
  env.proxy_set_tick_period_milliseconds(periodMs);
}

// ---------------------------------------------------------------------------------------------
// Buffers
// ---------------------------------------------------------------------------------------------

/** Up to maxSize bytes of a buffer from start; null when the buffer is unavailable. */
export function getBufferBytes(bufferType: i32, start: u32, maxSize: u32): ArrayBuffer | null {
  clearReturn();
  const status = env.proxy_get_buffer_bytes(bufferType, start, maxSize, RET_PTR, RET_SIZE);
  if (status != Status.OK) return null;
  return takeBytes();
}

/** Copies up to maxSize bytes of a buffer from `start` to dst (no managed allocation); returns the
 *  number copied (0 when the buffer has none or the call fails). */
export function copyBufferBytes(bufferType: i32, start: u32, maxSize: u32, dst: usize): u32 {
  clearReturn();
  if (env.proxy_get_buffer_bytes(bufferType, start, maxSize, RET_PTR, RET_SIZE) != Status.OK) return 0;
  const ptr = load<usize>(RET_PTR);
  let size = load<u32>(RET_SIZE);
  if (ptr == 0) return 0;
  if (size > maxSize) size = maxSize;
  memory.copy(dst, ptr, size);
  heap.free(ptr);
  return size;
}

/** The host's copy of up to maxSize bytes of a buffer from its start, left where the host wrote
 *  it (no copy): its address, 0 when there is none; its length is returnedSize(). The caller
 *  frees it with heap.free. */
export function borrowBufferBytes(bufferType: i32, maxSize: u32): usize {
  clearReturn();
  if (env.proxy_get_buffer_bytes(bufferType, 0, maxSize, RET_PTR, RET_SIZE) != Status.OK) return 0;
  return load<usize>(RET_PTR);
}

/** The length of the block the last borrowBufferBytes returned, bytes. */
export function returnedSize(): u32 {
  return load<u32>(RET_SIZE);
}

/** Replaces bytes [0, size) of a body buffer with the len bytes at ptr (Envoy: drains `size` bytes
 *  and prepends the data; source/extensions/common/wasm/context.cc, Buffer::copyFrom). */
export function replaceBufferBytes(bufferType: i32, size: u32, ptr: usize, len: usize): void {
  env.proxy_set_buffer_bytes(bufferType, 0, size, ptr, len);
}

/** Asks the host to end the stream (Envoy resets it after the callback returns; context.cc,
 *  Context::closeStream: encoder_callbacks_->resetStream() for the response). */
export function closeStream(streamType: i32): void {
  env.proxy_close_stream(streamType);
}

// ---------------------------------------------------------------------------------------------
// Header maps
// ---------------------------------------------------------------------------------------------

export function replaceHeader(mapType: i32, key: ArrayBuffer, value: string): void {
  const v = utf8(value);
  env.proxy_replace_header_map_value(
    mapType, changetype<usize>(key), <usize>key.byteLength, changetype<usize>(v), <usize>v.byteLength);
}

/** Replaces (or adds) a header with `len` bytes at ptr as its value. */
export function replaceHeaderRaw(mapType: i32, key: ArrayBuffer, ptr: usize, len: i32): void {
  env.proxy_replace_header_map_value(mapType, changetype<usize>(key), <usize>key.byteLength, ptr, <usize>len);
}

/** Adds a header with `len` bytes at ptr as its value (for a header known to be absent: cheaper
 *  than a replace, which must look for existing entries first). */
export function addHeaderRaw(mapType: i32, key: ArrayBuffer, ptr: usize, len: i32): void {
  env.proxy_add_header_map_value(mapType, changetype<usize>(key), <usize>key.byteLength, ptr, <usize>len);
}

/** Replaces (or adds) a header with a pre-encoded value. */
export function replaceHeaderBytes(mapType: i32, key: ArrayBuffer, value: ArrayBuffer): void {
  env.proxy_replace_header_map_value(
    mapType, changetype<usize>(key), <usize>key.byteLength, changetype<usize>(value), <usize>value.byteLength);
}

/**
 * Finds the values of a few wanted keys in a header map without decoding anything else: one
 * proxy_get_header_map_value per key. (Measured against one proxy_get_header_map_pairs for the
 * whole map: even for a two-header response the pairs call cost more, since the host must
 * measure and copy every header, and real maps hold more headers than the few wanted.)
 * Values stay in the host's blocks (valuePtr/valueLength) until release(), which must be called
 * before the callback returns.
 */
export class HeaderScan {
  private keys: StaticArray<ArrayBuffer>;
  private ptrs: StaticArray<usize>;
  private lens: StaticArray<i32>;
  /** The block the host allocated for each found value (0: none). */
  private blocks: StaticArray<usize>;

  /** keys: pre-encoded lower-case names (an empty one is never looked up). */
  constructor(keys: StaticArray<ArrayBuffer>) {
    this.keys = keys;
    this.ptrs = new StaticArray<usize>(keys.length);
    this.lens = new StaticArray<i32>(keys.length);
    this.blocks = new StaticArray<usize>(keys.length);
    for (let i = 0; i < keys.length; i++) unchecked((this.lens[i] = -1));
  }

  /** Reads the map; afterwards valueLength(i) is -1 for absent keys. */
  scan(mapType: i32): void {
    this.release();
    const n = this.keys.length;
    for (let i = 0; i < n; i++) {
      const key = unchecked(this.keys[i]);
      if (key.byteLength == 0) continue; // an unconfigured key: no header has an empty name
      clearReturn();
      const status = env.proxy_get_header_map_value(mapType, changetype<usize>(key), <usize>key.byteLength, RET_PTR, RET_SIZE);
      const ptr = load<usize>(RET_PTR);
      if (status != Status.OK) {
        if (ptr != 0) heap.free(ptr); // a host may still have allocated
        continue;
      }
      unchecked((this.blocks[i] = ptr));
      unchecked((this.ptrs[i] = ptr));
      unchecked((this.lens[i] = <i32>load<u32>(RET_SIZE)));
    }
  }

  /** Byte length of key i's value, or -1 when absent. */
  valueLength(i: i32): i32 {
    return unchecked(this.lens[i]);
  }

  valuePtr(i: i32): usize {
    return unchecked(this.ptrs[i]);
  }

  /** Whether key i's value equals the given bytes. */
  valueEquals(i: i32, bytes: ArrayBuffer): bool {
    const len = unchecked(this.lens[i]);
    return len == bytes.byteLength && sameBytes(unchecked(this.ptrs[i]), changetype<usize>(bytes), <usize>len);
  }

  /** Frees the host's blocks; every key reads as absent until the next scan. */
  release(): void {
    for (let i = 0; i < this.keys.length; i++) {
      const b = unchecked(this.blocks[i]);
      if (b != 0) {
        releaseHostBlock(b, <usize>unchecked(this.lens[i])); // lens[i]: the block's content
        unchecked((this.blocks[i] = 0));
      }
      unchecked((this.lens[i] = -1));
    }
  }
}

export function removeHeader(mapType: i32, key: ArrayBuffer): void {
  env.proxy_remove_header_map_value(mapType, changetype<usize>(key), <usize>key.byteLength);
}

/**
 * Serializes pairs in the ABI's map encoding: u32 count, count × (u32 key_len, u32 value_len),
 * then key\0value\0 … (little-endian).
 */
export function serializePairs(keys: string[], values: string[]): ArrayBuffer {
  const n = keys.length < values.length ? keys.length : values.length;
  const encodedKeys = new StaticArray<ArrayBuffer>(n);
  const encodedValues = new StaticArray<ArrayBuffer>(n);
  let size: i32 = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const k = utf8(unchecked(keys[i]));
    const v = utf8(unchecked(values[i]));
    unchecked((encodedKeys[i] = k));
    unchecked((encodedValues[i] = v));
    size += k.byteLength + v.byteLength + 2;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>n);
  let lens = base + 4;
  let data = base + 4 + <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const k = unchecked(encodedKeys[i]);
    const v = unchecked(encodedValues[i]);
    store<u32>(lens, <u32>k.byteLength);
    store<u32>(lens + 4, <u32>v.byteLength);
    lens += 8;
    memory.copy(data, changetype<usize>(k), <usize>k.byteLength);
    data += <usize>k.byteLength;
    store<u8>(data, 0);
    data += 1;
    memory.copy(data, changetype<usize>(v), <usize>v.byteLength);
    data += <usize>v.byteLength;
    store<u8>(data, 0);
    data += 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Local replies and streams
// ---------------------------------------------------------------------------------------------

export function sendLocalResponse(statusCode: u32, details: string, body: string, headers: ArrayBuffer): i32 {
  const d = utf8(details);
  const b = utf8(body);
  return env.proxy_send_local_response(
    statusCode, changetype<usize>(d), <usize>d.byteLength, changetype<usize>(b), <usize>b.byteLength,
    changetype<usize>(headers), <usize>headers.byteLength, -1);
}

/** The status of the gRPC stream being closed (call from proxy_on_grpc_close). */
export function getStatusMessage(): string {
  clearReturn();
  store<u32>(RET_U64, 0);
  if (env.proxy_get_status(RET_U64, RET_PTR, RET_SIZE) != Status.OK) return "";
  return takeString();
}

// ---------------------------------------------------------------------------------------------
// gRPC
// ---------------------------------------------------------------------------------------------

/** Opens a gRPC stream to `upstream` (a cluster name or a serialized GrpcService, see
 *  filter/grpcservice.ts); returns the stream id, or 0 when the host refused. */
export function grpcStream(u: ArrayBuffer, service: string, method: string, metadata: ArrayBuffer): u32 {
  const s = utf8(service);
  const m = utf8(method);
  store<u32>(RET_U64, 0);
  const status = env.proxy_grpc_stream(
    changetype<usize>(u), <usize>u.byteLength, changetype<usize>(s), <usize>s.byteLength,
    changetype<usize>(m), <usize>m.byteLength, changetype<usize>(metadata), <usize>metadata.byteLength,
    RET_U64);
  if (status != Status.OK) return 0;
  return load<u32>(RET_U64);
}

export function grpcSend(streamId: u32, message: ArrayBuffer, endStream: bool): i32 {
  return env.proxy_grpc_send(streamId, changetype<usize>(message), <usize>message.byteLength, endStream ? 1 : 0);
}

export function grpcCancel(streamId: u32): i32 {
  return env.proxy_grpc_cancel(streamId);
}

export function grpcClose(streamId: u32): i32 {
  return env.proxy_grpc_close(streamId);
}

// ---------------------------------------------------------------------------------------------
// Shared data
// ---------------------------------------------------------------------------------------------

/** Result of a shared-data read: value null when the key is absent. */
export class SharedValue {
  value: ArrayBuffer | null = null;
  cas: u32 = 0;
}

export function getSharedData(key: ArrayBuffer): SharedValue {
  clearReturn();
  store<u32>(RET_CAS, 0);
  const out = new SharedValue();
  const status = env.proxy_get_shared_data(
    changetype<usize>(key), <usize>key.byteLength, RET_PTR, RET_SIZE, RET_CAS);
  if (status != Status.OK) {
    const ptr = load<usize>(RET_PTR);
    if (ptr != 0) heap.free(ptr);
    return out;
  }
  out.cas = load<u32>(RET_CAS);
  out.value = takeBytes();
  return out;
}

/** Writes shared data; cas 0 overwrites, otherwise a stale cas fails with CAS_MISMATCH. */
export function setSharedData(key: ArrayBuffer, value: ArrayBuffer, cas: u32): i32 {
  return env.proxy_set_shared_data(
    changetype<usize>(key), <usize>key.byteLength, changetype<usize>(value), <usize>value.byteLength, cas);
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/** Defines a metric; returns its id, or u32.MAX_VALUE when the host refused. */
export function defineMetric(metricType: i32, name: string): u32 {
  const n = utf8(name);
  store<u32>(RET_U64, 0);
  if (env.proxy_define_metric(metricType, changetype<usize>(n), <usize>n.byteLength, RET_U64) != Status.OK) {
    return u32.MAX_VALUE;
  }
  return load<u32>(RET_U64);
}

export function incrementMetric(metricId: u32, delta: i64): void {
  if (metricId != u32.MAX_VALUE) env.proxy_increment_metric(metricId, delta);
}

export function recordMetric(metricId: u32, value: u64): void {
  if (metricId != u32.MAX_VALUE) env.proxy_record_metric(metricId, value);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** Encodes a property path: segments joined with \0. */
export function propertyPath(segments: string[]): ArrayBuffer {
  return utf8(segments.join("\0"));
}

/** A property's raw bytes, or null when absent. */
export function getProperty(path: ArrayBuffer): ArrayBuffer | null {
  clearReturn();
  const status = env.proxy_get_property(changetype<usize>(path), <usize>path.byteLength, RET_PTR, RET_SIZE);
  if (status != Status.OK) {
    const ptr = load<usize>(RET_PTR);
    if (ptr != 0) heap.free(ptr);
    return null;
  }
  return takeBytes();
}

// ---------------------------------------------------------------------------------------------
// Foreign functions
// ---------------------------------------------------------------------------------------------

/** Calls the host's foreign function `name` (pre-encoded) with no arguments; returns the status
 *  (NOT_FOUND when this host has no such function). Any result the host returns is freed. */
export function callForeignNoArgs(name: ArrayBuffer): i32 {
  clearReturn();
  const status = env.proxy_call_foreign_function(
    changetype<usize>(name), <usize>name.byteLength, 0, 0, RET_PTR, RET_SIZE);
  const ptr = load<usize>(RET_PTR);
  if (ptr != 0) heap.free(ptr);
  return status;
}
