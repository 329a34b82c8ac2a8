// How one upstream request ended, classified for counters, the window and the local breaker.

/** Outcome classes (index into per-cluster counters). */
export const CLASS_1XX: i32 = 0;
export const CLASS_2XX: i32 = 1;
export const CLASS_3XX: i32 = 2;
export const CLASS_4XX: i32 = 3;
export const CLASS_5XX: i32 = 4;
export const CLASS_RESET: i32 = 5;
export const CLASS_TIMEOUT: i32 = 6;
export const CLASS_LOCAL_REJECT: i32 = 7;
export const CLASS_COUNT: i32 = 8;

export const CLASS_NAMES: StaticArray<string> = ["1xx", "2xx", "3xx", "4xx", "5xx", "reset", "timeout", "local_reject"];

/** Envoy response flags that mean the upstream request timed out (UT). */
export const FLAG_BITS_TIMEOUT: u64 = 0x4;
/** Envoy response flags that mean a reset or a failed connection: LR 0x8, UR 0x10, UF 0x20,
 *  UC 0x40, UO 0x80, URX 0x8000 (bit values of Envoy's StreamInfo::ResponseFlag). */
export const FLAG_BITS_RESET: u64 = 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x8000;

export const RESPONSE_FLAGS_NONE: i32 = 0;
export const RESPONSE_FLAGS_TIMEOUT: i32 = 1;
export const RESPONSE_FLAGS_RESET: i32 = 2;

/**
 * Reads the response.flags property: Envoy gives a u64 bit vector (8 bytes, little-endian);
 * a host may also give the short codes as text ("UT", "UF,URX"). Timeout wins over reset.
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
    if (code == RESPONSE_FLAGS_TIMEOUT) return RESPONSE_FLAGS_TIMEOUT;
    if (code == RESPONSE_FLAGS_RESET) result = RESPONSE_FLAGS_RESET;
    from = i + 1;
  }
  return result;
}

/** The meaning of one short response-flag code (UT; UF UR URX UC LR UO), NONE for others. */
function codeOf(ptr: usize, len: i32): i32 {
  if (len == 2) {
    const c0 = load<u8>(ptr);
    const c1 = load<u8>(ptr + 1);
    if (c0 == 0x55) { // 'U'
      if (c1 == 0x54) return RESPONSE_FLAGS_TIMEOUT; // UT
      if (c1 == 0x46 || c1 == 0x52 || c1 == 0x43 || c1 == 0x4f) return RESPONSE_FLAGS_RESET; // UF UR UC UO
    }
    if (c0 == 0x4c && c1 == 0x52) return RESPONSE_FLAGS_RESET; // LR
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
