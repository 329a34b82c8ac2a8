// The host functions a module imports: every env.proxy_* function of ABI 0.2.1 and the WASI
// functions the spec lists. Each is created once per VM (no per-call closures), reads its
// arguments from module memory with bounds checks and answers with a proxy_status_t.
import { BufferType, LogLevel, MapType, Status, StreamType, WasiErrno } from "./abi.js";
import { deserializePairs, HeaderMap, measurePairs, PairsFormatError, writeMeasuredPairs } from "./header-map.js";
import type { EnvFunctionName, WasiFunctionName } from "./import-names.js";
import type { LocalReply } from "./http-stream.js";
import { AddressCache } from "./address-cache.js";
import { parseGrpcUpstream } from "./grpc-service.js";
import { decodeString, decodeUtf8 } from "./memory.js";
import { PropertyStore, resolveProperty } from "./properties.js";
import type { WasmVm } from "./vm.js";
import type { WasmImports } from "./wasm-api.js";

type HostFunction = (...args: never[]) => number | void;

/** A header name decoded at some address of module memory (see readHeaderKey). */
interface CachedKey {
  /** The bytes seen at the address, as little-endian 32-bit words (see wordsOf). */
  words: Int32Array;
  /** Their number of bytes. */
  length: number;
  /** The decoded string (a lower-cased, interned name in the key cache; a value in the value cache). */
  key: string;
  /** Times the bytes at this address differed from the cached ones (value cache only). */
  misses: number;
}

/** Misses after which the value cache stops following an address (its bytes change per call). */
const VALUE_CACHE_MISSES = 8;

/** The words of u8[ptr, ptr+len) for a CachedKey, read exactly as sameBytes reads them (little-
 *  endian whatever the platform's byte order; the last, partial word from its bytes alone). */
function wordsOf(u8: Uint8Array, view: DataView, ptr: number, len: number): Int32Array {
  const words = new Int32Array((len + 3) >> 2);
  const whole = len & ~3;
  let i = 0;
  for (; i < whole; i += 4) words[i >> 2] = view.getInt32(ptr + i, true);
  if (i < len) words[i >> 2] = tailWord(u8, ptr + i, len - i);
  return words;
}

/** The 1–3 bytes at ptr as a little-endian number (the upper bytes zero). */
function tailWord(u8: Uint8Array, ptr: number, count: number): number {
  let last = 0;
  for (let k = count - 1; k >= 0; k--) last = (last << 8) | u8[ptr + k]!;
  return last;
}

/** Whether u8[ptr, ptr+len) (u8 and view over the same memory) holds the cached bytes. Compares
 *  four bytes at a time: a name or value of 10–40 bytes costs a few word loads, not a byte loop. */
function sameBytes(cached: CachedKey, u8: Uint8Array, view: DataView, ptr: number, len: number): boolean {
  if (cached.length !== len) return false;
  const words = cached.words;
  const whole = len & ~3;
  let i = 0;
  for (; i < whole; i += 4) if (view.getInt32(ptr + i, true) !== words[i >> 2]) return false;
  return i === len || tailWord(u8, ptr + i, len - i) === words[i >> 2];
}

/** The interned (V8-internalized) copy of `s`: equal interned strings are the same object. */
function intern(s: string): string {
  const holder: Record<string, true> = {};
  holder[s] = true;
  return Object.keys(holder)[0] ?? s;
}
/** The longest header name or value the caches keep. */
const KEY_CACHE_MAX_BYTES = 64;

/** Maps a proxy_map_type_t to the map of the effective context; undefined for an unknown type. */
function mapFor(vm: WasmVm, type: number, create: boolean): HeaderMap | null | undefined {
  const s = vm.effectiveStream;
  switch (type) {
    case MapType.HttpRequestHeaders:
      return s === null ? null : s.requestHeaders;
    case MapType.HttpRequestTrailers:
      if (s === null) return null;
      if (s.requestTrailers === null && create) s.requestTrailers = new HeaderMap();
      return s.requestTrailers;
    case MapType.HttpResponseHeaders:
      return s === null ? null : s.responseHeaders;
    case MapType.HttpResponseTrailers:
      if (s === null) return null;
      if (s.responseTrailers === null && create) s.responseTrailers = new HeaderMap();
      return s.responseTrailers;
    case MapType.GrpcReceiveInitialMetadata:
      return vm.grpcInitialMetadata;
    case MapType.GrpcReceiveTrailingMetadata:
      return vm.grpcTrailingMetadata;
    case MapType.HttpCallResponseHeaders:
    case MapType.HttpCallResponseTrailers:
      return null; // proxy_http_call is not implemented, so there is never a response
    default:
      return undefined;
  }
}

/** The buffer of a proxy_buffer_type_t for the effective context; undefined for an unknown type. */
function bufferFor(vm: WasmVm, type: number): Uint8Array | null | undefined {
  const s = vm.effectiveStream;
  switch (type) {
    case BufferType.HttpRequestBody:
      return s === null ? null : s.requestBody;
    case BufferType.HttpResponseBody:
      return s === null ? null : s.responseBody;
    case BufferType.GrpcReceiveBuffer:
      return vm.grpcMessage;
    case BufferType.VmConfiguration:
      return vm.settings.vmConfiguration;
    case BufferType.PluginConfiguration:
      return vm.settings.pluginConfiguration;
    case BufferType.DownstreamData:
    case BufferType.UpstreamData:
    case BufferType.HttpCallResponseBody:
    case BufferType.ForeignFunctionArguments:
      return null;
    default:
      return undefined;
  }
}

export function createHostImports(vm: WasmVm): WasmImports {
  const settings = vm.settings;
  const log = settings.log;
  const shared = settings.store;
  const vmId = settings.vmId;
  // `vm.memory` exists only after instantiation; every function below runs later than that.
  const mem = () => vm.memory;

  function readStringOr(ptr: number, len: number): string | null {
    return mem().readString(ptr, len);
  }

  // Header names the module passes usually live at fixed addresses (constants in its data or
  // long-lived buffers): remember the lower-cased name decoded at each address, with a copy of its
  // bytes, and reuse it while the bytes there are unchanged. A hit costs a byte compare instead of
  // a UTF-8 decode and toLowerCase. The cached name is interned (V8's internalized strings), so a
  // header map compares it with the names it holds by identity.
  const keyCache = new AddressCache<CachedKey>();

  /** The lower-cased header name at [ptr, ptr+len), or null when out of bounds. */
  function readHeaderKey(ptr: number, len: number): string | null {
    const m = mem();
    const u8 = m.bytes();
    if (ptr < 0 || len < 0 || ptr + len > u8.length) return null;
    if (len > KEY_CACHE_MAX_BYTES) return decodeString(u8, ptr, len).toLowerCase();
    const hit = keyCache.get(ptr);
    if (hit !== undefined && sameBytes(hit, u8, m.view(), ptr, len)) return hit.key;
    const key = intern(decodeString(u8, ptr, len).toLowerCase());
    keyCache.put(ptr, { words: wordsOf(u8, m.view(), ptr, len), length: len, key, misses: 0 });
    return key;
  }

  // Header values at fixed addresses are often constant too (the chosen cluster's name, the node
  // id, the decision version); others change on every request (a fresh request id in a reused
  // buffer). Values are cached like names, but an address whose bytes keep changing stops being
  // cached after VALUE_CACHE_MISSES misses.
  const valueCache = new AddressCache<CachedKey>();

  /** The header value at [ptr, ptr+len) as a string, or null when out of bounds. */
  function readHeaderValue(ptr: number, len: number): string | null {
    const m = mem();
    const u8 = m.bytes();
    if (ptr < 0 || len < 0 || ptr + len > u8.length) return null;
    if (len > KEY_CACHE_MAX_BYTES) return decodeString(u8, ptr, len);
    const hit = valueCache.get(ptr);
    if (hit === undefined) {
      const value = decodeString(u8, ptr, len);
      valueCache.put(ptr, { words: wordsOf(u8, m.view(), ptr, len), length: len, key: value, misses: 0 });
      return value;
    }
    // An address given up on is decoded straight away, without a compare that would fail.
    if (hit.misses < VALUE_CACHE_MISSES && sameBytes(hit, u8, m.view(), ptr, len)) return hit.key;
    const value = decodeString(u8, ptr, len);
    if (hit.misses < VALUE_CACHE_MISSES) {
      hit.misses++;
      hit.words = wordsOf(u8, m.view(), ptr, len);
      hit.length = len;
      hit.key = value;
    }
    return value;
  }

  function readPairs(ptr: number, len: number): string[] | null {
    const m = mem();
    if (!m.inBounds(ptr, len)) return null;
    return deserializePairs(m.bytes(), ptr, len);
  }

  const env: Record<EnvFunctionName, HostFunction> = {
    proxy_log(level: number, ptr: number, len: number): number {
      if (level < LogLevel.Trace || level > LogLevel.Critical) return Status.BadArgument;
      if (!log.enabled(level)) return mem().inBounds(ptr, len) ? Status.Ok : Status.InvalidMemoryAccess;
      const message = readStringOr(ptr, len);
      if (message === null) return Status.InvalidMemoryAccess;
      log.write(level, message, vm.index, vm.effectiveId);
      return Status.Ok;
    },

    proxy_get_log_level(retLevel: number): number {
      return mem().writeU32(retLevel, Math.min(log.threshold, LogLevel.Critical)) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_get_current_time_nanoseconds(retTime: number): number {
      return mem().writeNanosFromMs(retTime, vm.clock.now()) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_set_tick_period_milliseconds(periodMs: number): number {
      vm.setTickPeriod(periodMs >>> 0);
      return Status.Ok;
    },

    proxy_done(): number {
      const s = vm.effectiveStream;
      if (s === null || s.phase !== "done_pending") return Status.NotFound;
      vm.doneDeferred(s);
      return Status.Ok;
    },

    proxy_set_effective_context(contextId: number): number {
      if (contextId === vm.rootContextId) {
        vm.effectiveId = contextId;
        vm.effectiveStream = null;
        return Status.Ok;
      }
      const s = vm.streams.get(contextId);
      if (s === undefined) return Status.BadArgument;
      vm.effectiveId = contextId;
      vm.effectiveStream = s;
      return Status.Ok;
    },

    proxy_get_buffer_bytes(type: number, start: number, maxSize: number, retPtr: number, retSize: number): number {
      if (type === BufferType.HttpRequestBody || type === BufferType.HttpResponseBody) vm.bodyReads++;
      const buffer = bufferFor(vm, type);
      if (buffer === undefined) return Status.BadArgument;
      if (buffer === null) return Status.NotFound;
      start >>>= 0;
      maxSize >>>= 0;
      if (start > buffer.length) return Status.BadArgument;
      const end = Math.min(buffer.length, start + maxSize);
      const slice = start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
      return mem().returnBytes(slice, retPtr, retSize) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_set_buffer_bytes(type: number, start: number, size: number, ptr: number, len: number): number {
      const s = vm.effectiveStream;
      if (type !== BufferType.HttpRequestBody && type !== BufferType.HttpResponseBody) {
        return bufferFor(vm, type) === undefined ? Status.BadArgument : Status.NotFound;
      }
      if (s === null) return Status.NotFound;
      const value = mem().readBytes(ptr, len);
      if (value === null) return Status.InvalidMemoryAccess;
      const buffer = type === BufferType.HttpRequestBody ? s.requestBody : s.responseBody;
      start >>>= 0;
      size >>>= 0;
      const from = Math.min(start, buffer.length);
      const to = Math.min(buffer.length, from + size);
      const out = new Uint8Array(from + value.length + (buffer.length - to));
      out.set(buffer.subarray(0, from), 0);
      out.set(value, from);
      out.set(buffer.subarray(to), from + value.length);
      if (type === BufferType.HttpRequestBody) s.requestBody = out;
      else s.responseBody = out;
      return Status.Ok;
    },

    proxy_get_buffer_status(type: number, retSize: number, retFlags: number): number {
      const buffer = bufferFor(vm, type);
      if (buffer === undefined) return Status.BadArgument;
      if (buffer === null) return Status.NotFound;
      const m = mem();
      return m.writeU32(retSize, buffer.length) && m.writeU32(retFlags, 0) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_get_header_map_size(type: number, retSize: number): number {
      const map = mapFor(vm, type, false);
      if (map === undefined) return Status.BadArgument;
      if (map === null) return Status.NotFound;
      return mem().writeU32(retSize, map.serializedSize()) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_get_header_map_pairs(type: number, retPtr: number, retSize: number): number {
      const map = mapFor(vm, type, false);
      if (map === undefined) return Status.BadArgument;
      const m = mem();
      if (map === null) {
        // An absent map reads as an empty one (size 0), as in the SDKs' expectations.
        return m.writeU32(retPtr, 0) && m.writeU32(retSize, 0) ? Status.Ok : Status.InvalidMemoryAccess;
      }
      // Measure once, allocate, then write each string straight into module memory.
      const entries = map.entries;
      const size = measurePairs(entries);
      const ptr = m.allocate(size);
      if (ptr === 0 || !m.inBounds(ptr, size)) return Status.InvalidMemoryAccess;
      writeMeasuredPairs(entries, m.bytes(), m.view(), ptr);
      return m.writeU32(retPtr, ptr) && m.writeU32(retSize, size) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_set_header_map_pairs(type: number, ptr: number, len: number): number {
      const map = mapFor(vm, type, true);
      if (map === undefined) return Status.BadArgument;
      if (map === null) return Status.NotFound;
      try {
        const entries = readPairs(ptr, len);
        if (entries === null) return Status.InvalidMemoryAccess;
        map.entries = entries;
        return Status.Ok;
      } catch (e) {
        if (e instanceof PairsFormatError) return Status.ParseFailure;
        throw e;
      }
    },

    proxy_get_header_map_value(type: number, keyPtr: number, keyLen: number, retPtr: number, retSize: number): number {
      const map = mapFor(vm, type, false);
      if (map === undefined) return Status.BadArgument;
      const key = readHeaderKey(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      if (map === null) return Status.NotFound;
      const value = map.getLower(key);
      if (value === undefined) return Status.NotFound;
      return mem().returnString(value, retPtr, retSize) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_add_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const map = mapFor(vm, type, true);
      if (map === undefined) return Status.BadArgument;
      const key = readHeaderKey(keyPtr, keyLen);
      const value = readHeaderValue(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      if (map === null) return Status.NotFound;
      map.addLower(key, value);
      return Status.Ok;
    },

    proxy_replace_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const map = mapFor(vm, type, true);
      if (map === undefined) return Status.BadArgument;
      const key = readHeaderKey(keyPtr, keyLen);
      const value = readHeaderValue(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      if (map === null) return Status.NotFound;
      map.replaceLower(key, value);
      return Status.Ok;
    },

    proxy_remove_header_map_value(type: number, keyPtr: number, keyLen: number): number {
      const map = mapFor(vm, type, false);
      if (map === undefined) return Status.BadArgument;
      const key = readHeaderKey(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      if (map !== null) map.removeLower(key);
      return Status.Ok;
    },

    proxy_continue_stream(type: number): number {
      if (type === StreamType.Downstream || type === StreamType.Upstream) return Status.Unimplemented;
      if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return Status.BadArgument;
      const s = vm.effectiveStream;
      if (s === null) return Status.NotFound;
      vm.notifyContinue(s, type);
      return Status.Ok;
    },

    proxy_close_stream(type: number): number {
      if (type === StreamType.Downstream || type === StreamType.Upstream) return Status.Unimplemented;
      if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return Status.BadArgument;
      const s = vm.effectiveStream;
      if (s === null) return Status.NotFound;
      vm.notifyClose(s, type);
      return Status.Ok;
    },

    proxy_get_status(retCode: number, retPtr: number, retSize: number): number {
      const m = mem();
      if (!m.writeU32(retCode, vm.lastStatus.code)) return Status.InvalidMemoryAccess;
      return m.returnString(vm.lastStatus.message, retPtr, retSize) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_send_local_response(
      status: number,
      detailsPtr: number,
      detailsLen: number,
      bodyPtr: number,
      bodyLen: number,
      headersPtr: number,
      headersLen: number,
      grpcStatus: number,
    ): number {
      const s = vm.effectiveStream;
      const m = mem();
      const details = m.readString(detailsPtr, detailsLen);
      const body = m.readBytes(bodyPtr, bodyLen);
      if (details === null || body === null) return Status.InvalidMemoryAccess;
      let headers: string[] | null;
      try {
        headers = readPairs(headersPtr, headersLen);
      } catch (e) {
        if (e instanceof PairsFormatError) return Status.ParseFailure;
        throw e;
      }
      if (headers === null) return Status.InvalidMemoryAccess;
      if (s === null) return Status.NotFound;
      if (s.localReply !== null) return Status.Ok; // the first reply wins, as in Envoy
      const reply: LocalReply = { status: status >>> 0, details, body, headers: new HeaderMap(headers), grpcStatus };
      s.localReply = reply;
      if (!s.inCall) vm.notifyLocalReply(s);
      return Status.Ok;
    },

    proxy_http_call(): number {
      // HTTP callouts are not needed by this project's filter; say so rather than fail to link.
      return Status.Unimplemented;
    },

    proxy_grpc_call(
      upPtr: number,
      upLen: number,
      svcPtr: number,
      svcLen: number,
      methodPtr: number,
      methodLen: number,
      mdPtr: number,
      mdLen: number,
      msgPtr: number,
      msgLen: number,
      timeoutMs: number,
      retToken: number,
    ): number {
      return openGrpc(upPtr, upLen, svcPtr, svcLen, methodPtr, methodLen, mdPtr, mdLen, msgPtr, msgLen, timeoutMs >>> 0, retToken, false);
    },

    proxy_grpc_stream(
      upPtr: number,
      upLen: number,
      svcPtr: number,
      svcLen: number,
      methodPtr: number,
      methodLen: number,
      mdPtr: number,
      mdLen: number,
      retToken: number,
    ): number {
      return openGrpc(upPtr, upLen, svcPtr, svcLen, methodPtr, methodLen, mdPtr, mdLen, 0, 0, 0, retToken, true);
    },

    proxy_grpc_send(token: number, ptr: number, len: number, endStream: number): number {
      const call = vm.grpcCalls.get(token);
      if (call === undefined) return Status.NotFound;
      if (!call.isStream) return Status.BadArgument;
      const message = mem().readBytes(ptr, len);
      if (message === null) return Status.InvalidMemoryAccess;
      call.handle.send(message);
      if (endStream !== 0) call.handle.halfClose();
      return Status.Ok;
    },

    proxy_grpc_cancel(token: number): number {
      const call = vm.grpcCalls.get(token);
      if (call === undefined) return Status.NotFound;
      call.timer?.cancel();
      call.handle.cancel();
      vm.grpcCalls.delete(token);
      return Status.Ok;
    },

    proxy_grpc_close(token: number): number {
      const call = vm.grpcCalls.get(token);
      if (call === undefined) return Status.NotFound;
      if (call.isStream) {
        // Half-close; proxy_on_grpc_close follows when the peer ends the stream.
        call.handle.halfClose();
      } else {
        call.timer?.cancel();
        call.handle.cancel();
        vm.grpcCalls.delete(token);
      }
      return Status.Ok;
    },

    proxy_set_shared_data(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number, cas: number): number {
      const m = mem();
      const key = m.readString(keyPtr, keyLen);
      const value = m.readBytes(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      return shared.data.set(vmId, key, value, cas >>> 0);
    },

    proxy_get_shared_data(keyPtr: number, keyLen: number, retPtr: number, retSize: number, retCas: number): number {
      const m = mem();
      const key = m.readString(keyPtr, keyLen);
      if (key === null) return Status.InvalidMemoryAccess;
      const entry = shared.data.get(vmId, key);
      if (entry === undefined) return Status.NotFound;
      if (!m.returnBytes(entry.value, retPtr, retSize)) return Status.InvalidMemoryAccess;
      return m.writeU32(retCas, entry.cas) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_register_shared_queue(namePtr: number, nameLen: number, retToken: number): number {
      const name = readStringOr(namePtr, nameLen);
      if (name === null) return Status.InvalidMemoryAccess;
      const token = shared.queues.register(vmId, name, vm, vm.rootContextId);
      return mem().writeU32(retToken, token) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_resolve_shared_queue(vmIdPtr: number, vmIdLen: number, namePtr: number, nameLen: number, retToken: number): number {
      const otherVm = readStringOr(vmIdPtr, vmIdLen);
      const name = readStringOr(namePtr, nameLen);
      if (otherVm === null || name === null) return Status.InvalidMemoryAccess;
      const token = shared.queues.resolve(otherVm === "" ? vmId : otherVm, name);
      if (token === 0) return Status.NotFound;
      return mem().writeU32(retToken, token) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_enqueue_shared_queue(token: number, ptr: number, len: number): number {
      const value = mem().readBytes(ptr, len);
      if (value === null) return Status.InvalidMemoryAccess;
      return shared.queues.enqueue(token, value);
    },

    proxy_dequeue_shared_queue(token: number, retPtr: number, retSize: number): number {
      const item = shared.queues.dequeue(token);
      if (typeof item === "number") return item;
      return mem().returnBytes(item, retPtr, retSize) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_define_metric(type: number, namePtr: number, nameLen: number, retId: number): number {
      const name = readStringOr(namePtr, nameLen);
      if (name === null) return Status.InvalidMemoryAccess;
      const id = shared.metrics.define(type, name);
      if (id < 0) return -id;
      return mem().writeU32(retId, id) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_increment_metric(id: number, delta: bigint): number {
      return shared.metrics.increment(id, Number(BigInt.asIntN(64, delta)));
    },

    proxy_record_metric(id: number, value: bigint): number {
      // u64 on the wire, i64 (a signed BigInt) here: only a value past 2^63 needs re-reading.
      return shared.metrics.record(id, Number(value >= 0n ? value : BigInt.asUintN(64, value)));
    },

    proxy_get_metric(id: number, retValue: number): number {
      if (shared.metrics.isHistogram(id)) return Status.BadArgument;
      const value = shared.metrics.get(id);
      if (value === undefined) return Status.NotFound;
      return mem().writeU64(retValue, BigInt.asUintN(64, BigInt(Math.trunc(value)))) ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_get_property(pathPtr: number, pathLen: number, retPtr: number, retSize: number): number {
      const key = readStringOr(pathPtr, pathLen);
      if (key === null) return Status.InvalidMemoryAccess;
      const value = resolveProperty(key, vm.effectiveStream, settings.properties);
      if (value === undefined) return Status.NotFound;
      const m = mem();
      const ok = typeof value === "string" ? m.returnString(value, retPtr, retSize) : m.returnBytes(value, retPtr, retSize);
      return ok ? Status.Ok : Status.InvalidMemoryAccess;
    },

    proxy_set_property(pathPtr: number, pathLen: number, valuePtr: number, valueLen: number): number {
      const m = mem();
      const key = m.readString(pathPtr, pathLen);
      const value = m.readBytes(valuePtr, valueLen);
      if (key === null || value === null) return Status.InvalidMemoryAccess;
      const s = vm.effectiveStream;
      if (s !== null) (s.properties ??= new PropertyStore()).setRaw(key, value);
      else settings.properties.setRaw(key, value);
      return Status.Ok;
    },

    proxy_call_foreign_function(namePtr: number, nameLen: number, argsPtr: number, argsLen: number, retPtr: number, retSize: number): number {
      const m = mem();
      const name = m.readString(namePtr, nameLen);
      const args = m.readBytes(argsPtr, argsLen);
      if (name === null || args === null) return Status.InvalidMemoryAccess;
      // As proxy-wasm-cpp-host: an unregistered name answers NOT_FOUND (an older Envoy's answer
      // for clear_route_cache).
      const fn = settings.foreignFunctions[name];
      if (fn === undefined) return Status.NotFound;
      const result = fn(args.slice(), vm.effectiveStream);
      if (typeof result === "number") return result;
      return m.returnBytes(result, retPtr, retSize) ? Status.Ok : Status.InvalidMemoryAccess;
    },
  };

  function openGrpc(
    upPtr: number,
    upLen: number,
    svcPtr: number,
    svcLen: number,
    methodPtr: number,
    methodLen: number,
    mdPtr: number,
    mdLen: number,
    msgPtr: number,
    msgLen: number,
    timeoutMs: number,
    retToken: number,
    isStream: boolean,
  ): number {
    const m = mem();
    const upstreamBytes = m.readBytes(upPtr, upLen);
    const service = m.readString(svcPtr, svcLen);
    const method = m.readString(methodPtr, methodLen);
    if (upstreamBytes === null || service === null || method === null) return Status.InvalidMemoryAccess;
    const upstream = parseGrpcUpstream(upstreamBytes.slice());
    const cluster = upstream.cluster;
    let metadata: string[] | null;
    try {
      metadata = readPairs(mdPtr, mdLen);
    } catch (e) {
      if (e instanceof PairsFormatError) return Status.ParseFailure;
      throw e;
    }
    if (metadata === null) return Status.InvalidMemoryAccess;
    const message = isStream ? null : m.readBytes(msgPtr, msgLen);
    if (!isStream && message === null) return Status.InvalidMemoryAccess;
    if (!m.inBounds(retToken, 4)) return Status.InvalidMemoryAccess;
    const pairs = new HeaderMap(metadata).toPairs();
    let token: number | null;
    try {
      token = vm.openGrpc(upstream, service, method, pairs, timeoutMs, isStream, message);
    } catch (e) {
      settings.log.host("error", `gRPC ${service}/${method} to ${cluster} failed to open: ${(e as Error).message}`, vm.index);
      return Status.InternalFailure;
    }
    if (token === null) return Status.ParseFailure; // the spec's answer for an unknown upstream
    mem().writeU32(retToken, token);
    return Status.Ok;
  }

  const wasi: Record<WasiFunctionName, HostFunction> = {
    fd_write(fd: number, iovs: number, iovsLen: number, retWritten: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.Badf;
      const m = mem();
      if (!m.inBounds(iovs, iovsLen * 8)) return WasiErrno.Fault;
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = m.readU32(iovs + i * 8);
        const len = m.readU32(iovs + i * 8 + 4);
        const bytes = m.readBytes(ptr, len);
        if (bytes === null) return WasiErrno.Fault;
        parts.push(bytes);
        total += len;
      }
      const all = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      log.write(fd === 1 ? LogLevel.Info : LogLevel.Error, decodeUtf8(all).replace(/\n$/, ""), vm.index, vm.effectiveId);
      return m.writeU32(retWritten, total) ? WasiErrno.Success : WasiErrno.Fault;
    },

    clock_time_get(clockId: number, _precision: bigint, retTime: number): number {
      if (clockId !== 0 && clockId !== 1) return WasiErrno.Notsup;
      return mem().writeNanosFromMs(retTime, vm.clock.now()) ? WasiErrno.Success : WasiErrno.Fault;
    },

    random_get(ptr: number, len: number): number {
      const m = mem();
      if (len > 65536) return WasiErrno.Inval;
      if (!m.inBounds(ptr, len)) return WasiErrno.Fault;
      const u8 = m.bytes();
      for (let i = 0; i < len; i++) u8[ptr + i] = Math.floor(settings.random() * 256) & 0xff;
      return WasiErrno.Success;
    },

    environ_sizes_get(retCount: number, retSize: number): number {
      const m = mem();
      return m.writeU32(retCount, 0) && m.writeU32(retSize, 0) ? WasiErrno.Success : WasiErrno.Fault;
    },

    environ_get(): number {
      return WasiErrno.Success;
    },

    args_sizes_get(retCount: number, retSize: number): number {
      const m = mem();
      return m.writeU32(retCount, 0) && m.writeU32(retSize, 0) ? WasiErrno.Success : WasiErrno.Fault;
    },

    args_get(): number {
      return WasiErrno.Success;
    },

    proc_exit(code: number): void {
      throw new Error(`module called proc_exit(${code})`);
    },
  };

  return { env, wasi_snapshot_preview1: wasi };
}
