// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/), version 00 only:
//   00-<32 lower-hex trace id, not all zero>-<16 lower-hex parent id, not all zero>-<2 hex flags>
// A valid header is propagated with a new span id as parent; anything else starts a new trace.
// Works on ASCII bytes in linear memory (the header value as the host gave it).
import { Rng } from "./rng";
import { lowerHexValue, writeHex } from "./hex";

export const TRACEPARENT_LENGTH: i32 = 55;

/** A parsed trace context. */
export class TraceContext {
  traceIdHigh: u64 = 0;
  traceIdLow: u64 = 0;
  parentId: u64 = 0;
  flags: u32 = 0;
}

/** `count` lower-hex digits at ptr as a number; -1 in `ok` when any is not one. */
class HexRead {
  value: u64 = 0;
  ok: bool = false;
}

const hex = new HexRead();

function readHex(ptr: usize, count: i32): bool {
  let v: u64 = 0;
  for (let i = 0; i < count; i++) {
    const d = lowerHexValue(<i32>load<u8>(ptr + <usize>i));
    if (d < 0) return false;
    v = (v << 4) | <u64>d;
  }
  hex.value = v;
  return true;
}

/** Parses a version-00 traceparent of `len` bytes at ptr strictly into `out`; false when malformed. */
export function parseTraceparent(ptr: usize, len: i32, out: TraceContext): bool {
  if (len != TRACEPARENT_LENGTH) return false;
  if (load<u8>(ptr) != 48 || load<u8>(ptr + 1) != 48) return false; // version "00"
  if (load<u8>(ptr + 2) != 45 || load<u8>(ptr + 35) != 45 || load<u8>(ptr + 52) != 45) return false; // '-'
  if (!readHex(ptr + 3, 16)) return false;
  const hi = hex.value;
  if (!readHex(ptr + 19, 16)) return false;
  const lo = hex.value;
  if (!readHex(ptr + 36, 16)) return false;
  const parent = hex.value;
  if (!readHex(ptr + 53, 2)) return false;
  const flags = hex.value;
  if ((hi | lo) == 0 || parent == 0) return false;
  out.traceIdHigh = hi;
  out.traceIdLow = lo;
  out.parentId = parent;
  out.flags = <u32>flags;
  return true;
}

/** Writes a version-00 traceparent (TRACEPARENT_LENGTH bytes) at ptr. */
export function formatTraceparent(ptr: usize, traceIdHigh: u64, traceIdLow: u64, spanId: u64, flags: u32): void {
  store<u8>(ptr, 48);
  store<u8>(ptr + 1, 48);
  store<u8>(ptr + 2, 45);
  writeHex(ptr + 3, traceIdHigh, 16);
  writeHex(ptr + 19, traceIdLow, 16);
  store<u8>(ptr + 35, 45);
  writeHex(ptr + 36, spanId, 16);
  store<u8>(ptr + 52, 45);
  writeHex(ptr + 53, <u64>(flags & 0xff), 2);
}

/** A non-zero random 64-bit id. */
export function randomNonZero(rng: Rng): u64 {
  let v = rng.next();
  while (v == 0) v = rng.next();
  return v;
}

const parsed = new TraceContext();

/**
 * Writes the traceparent to send upstream at `out`: the incoming one (ptr/len; len < 0 when
 * absent) continued with a new span id when valid, otherwise a new sampled trace. Returns
 * whether the incoming trace was continued.
 */
export function nextTraceparent(ptr: usize, len: i32, rng: Rng, out: usize): bool {
  if (len >= 0 && parseTraceparent(ptr, len, parsed)) {
    // Valid, so its version, trace id and flags are copied as they are; only the span id is new.
    memory.copy(out, ptr, 36); // "00-" trace-id "-"
    writeHex(out + 36, randomNonZero(rng), 16);
    memory.copy(out + 52, ptr + 52, 3); // "-" flags
    return true;
  }
  formatTraceparent(out, randomNonZero(rng), rng.next(), randomNonZero(rng), 1);
  return false;
}
