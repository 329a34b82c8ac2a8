// How one upstream request ended, classified for counters, the window and the local breaker.

/** Outcome classes (index into per-cluster counters). */
export const CLASS_1XX: i32 = 0;
export const CLASS_2XX: i32 = 1;
export const CLASS_3XX: i32 = 2;
export const CLASS_4XX: i32 = 3;
export const CLASS_5XX: i32 = 4;
export const CLASS_RESET: i32 = 5;
export const CLASS_TIMEOUT: i32 = 6;
/** Answered locally for the cluster: its breaker, or its connection pool full (Envoy's UO). */
export const CLASS_LOCAL_REJECT: i32 = 7;
/** The client ended the stream before the upstream answered (DC, DR, or SI mid-request). */
export const CLASS_CLIENT_ENDED: i32 = 8;
export const CLASS_COUNT: i32 = 9;

export const CLASS_NAMES: StaticArray<string> = [
  "1xx", "2xx", "3xx", "4xx", "5xx", "reset", "timeout", "local_reject", "client_ended",
];

// Whom a stream's end blames, from Envoy's response flags (envoy/stream_info/stream_info.h:
// `response.flags` is StreamInfo::legacyResponseFlags(), bit n for CoreResponseFlag n). The
// filter blames the upstream only for what the upstream did, as Envoy's outlier detection does:
//   - The upstream's: UT (timeout), and UR, UF, UC, LR, URX (resets, failed connections, retries
//     exhausted on them): the router reports each to outlier detection (Filter::onUpstreamReset,
//     onResponseTimeout in source/common/router/router.cc).
//   - Local overflow, UO: the cluster's circuit breaker or connection pool was full and the
//     request never left. The router skips outlier detection for it ("Ignore upstream reset
//     caused by a resource overflow ... this reason is cluster-wise, not upstream-related",
//     Filter::onUpstreamReset, envoyproxy/envoy#25487, PR #25488). Counted as a local reject.
//     UO also marks an upstream response passed on because a retry overflowed; its
//     response.code_details is then "via_upstream", and it counts as that response.
//   - The client's: DC (its connection closed: ConnectionManagerImpl::ActiveStream's
//     completeRequest sets it when the downstream closed remotely), DR (it reset its stream), SI
//     (the HCM's stream idle timeout, onIdleTimeout: a local 408 when no response had started).
//     The router then resets its upstream request from Filter::onDestroy (resetAll) without an
//     outlier-detection result: the host did nothing wrong. Such a stream ended before any
//     upstream response headers is not counted in the cluster's report at all, neither as a
//     request nor as a failure: it says nothing about the upstream, and its duration is the
//     client's, not a latency sample (the report's histograms hold one value per request). SI
//     blames the client only while the request was still arriving: once the whole request was
//     with the upstream, the silence is the upstream's and counts as a timeout (Envoy's route
//     timeout, 15 s by default, normally ends such a wait first with UT).
export const FLAG_BITS_TIMEOUT: u64 = 0x4; // UT
export const FLAG_BITS_RESET: u64 = 0x8 | 0x10 | 0x20 | 0x40 | 0x8000; // LR UR UF UC URX
export const FLAG_BITS_OVERFLOW: u64 = 0x80; // UO
export const FLAG_BITS_STREAM_IDLE: u64 = 0x10000; // SI
export const FLAG_BITS_DOWNSTREAM: u64 = 0x4000 | 0x10000000; // DC DR

/** What the response flags say, by precedence: a higher value wins when several flags are set
 *  (an upstream failure outweighs a client that also left, or a retry that overflowed). */
export const RESPONSE_FLAGS_NONE: i32 = 0;
/** DC or DR: the client went away. */
export const RESPONSE_FLAGS_DOWNSTREAM: i32 = 1;
/** SI: the stream idle timeout (whose silence depends on where the request was). */
export const RESPONSE_FLAGS_STREAM_IDLE: i32 = 2;
/** UO: local overflow. */
export const RESPONSE_FLAGS_OVERFLOW: i32 = 3;
export const RESPONSE_FLAGS_RESET: i32 = 4;
export const RESPONSE_FLAGS_TIMEOUT: i32 = 5;

/**
 * Reads the response.flags property: Envoy gives a u64 bit vector (8 bytes, little-endian);
 * a host may also give the short codes as text ("UT", "UF,URX"). The highest-precedence meaning
 * of the flags set (RESPONSE_FLAGS_*).
 */
export function classifyResponseFlags(raw: ArrayBuffer | null): i32 {
  if (raw === null || raw.byteLength == 0) return RESPONSE_FLAGS_NONE;
  if (raw.byteLength == 8) {
    const bits = load<u64>(changetype<usize>(raw));
    // Text of exactly 8 bytes is possible ("UF,UR,UC" is 8): bit vectors never have such high
    // bits set, so treat values with any byte >= 0x20 in the high part as text.
    if ((bits >> 40) == 0) {
      if (bits & FLAG_BITS_TIMEOUT) return RESPONSE_FLAGS_TIMEOUT;
      if (bits & FLAG_BITS_RESET) return RESPONSE_FLAGS_RESET;
      if (bits & FLAG_BITS_OVERFLOW) return RESPONSE_FLAGS_OVERFLOW;
      if (bits & FLAG_BITS_STREAM_IDLE) return RESPONSE_FLAGS_STREAM_IDLE;
      if (bits & FLAG_BITS_DOWNSTREAM) return RESPONSE_FLAGS_DOWNSTREAM;
      return RESPONSE_FLAGS_NONE;
    }
  }
  // Text: comma-separated short codes, compared byte by byte.
  const base = changetype<usize>(raw);
  const size = raw.byteLength;
  let result = RESPONSE_FLAGS_NONE;
  let from = 0;
  for (let i = 0; i <= size; i++) {
    if (i < size && load<u8>(base + <usize>i) != 0x2c) continue;
    let a = from;
    let b = i;
    while (a < b && load<u8>(base + <usize>a) == 0x20) a++;
    while (b > a && load<u8>(base + <usize>(b - 1)) == 0x20) b--;
    const code = codeOf(base + <usize>a, b - a);
    if (code > result) result = code;
    from = i + 1;
  }
  return result;
}

/** The meaning of one short response-flag code (UT; UF UR UC LR URX; UO; SI; DC DR), NONE for others. */
function codeOf(ptr: usize, len: i32): i32 {
  if (len == 2) {
    const c0 = load<u8>(ptr);
    const c1 = load<u8>(ptr + 1);
    if (c0 == 0x55) { // 'U'
      if (c1 == 0x54) return RESPONSE_FLAGS_TIMEOUT; // UT
      if (c1 == 0x46 || c1 == 0x52 || c1 == 0x43) return RESPONSE_FLAGS_RESET; // UF UR UC
      if (c1 == 0x4f) return RESPONSE_FLAGS_OVERFLOW; // UO
    }
    if (c0 == 0x4c && c1 == 0x52) return RESPONSE_FLAGS_RESET; // LR
    if (c0 == 0x53 && c1 == 0x49) return RESPONSE_FLAGS_STREAM_IDLE; // SI
    if (c0 == 0x44 && (c1 == 0x43 || c1 == 0x52)) return RESPONSE_FLAGS_DOWNSTREAM; // DC DR
  } else if (len == 3 && load<u8>(ptr) == 0x55 && load<u8>(ptr + 1) == 0x52 && load<u8>(ptr + 2) == 0x58) {
    return RESPONSE_FLAGS_RESET; // URX
  }
  return RESPONSE_FLAGS_NONE;
}

/** gRPC statuses that signal server trouble: UNKNOWN 2, DEADLINE_EXCEEDED 4,
 *  RESOURCE_EXHAUSTED 8, INTERNAL 13, UNAVAILABLE 14, DATA_LOSS 15. */
export function isGrpcServerError(code: i32): bool {
  return code == 2 || code == 4 || code == 8 || code == 13 || code == 14 || code == 15;
}

export function classOfStatus(status: i32): i32 {
  if (status >= 500) return CLASS_5XX;
  if (status >= 400) return CLASS_4XX;
  if (status >= 300) return CLASS_3XX;
  if (status >= 200) return CLASS_2XX;
  return CLASS_1XX;
}
