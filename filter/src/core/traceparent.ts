// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/), version 00 only:
//   00-<32 lower-hex trace id, not all zero>-<16 lower-hex parent id, not all zero>-<2 hex flags>
// A valid header is propagated with a new span id as parent; anything else starts a new trace.
import { Rng } from "./rng";
import { allocString, lowerHexValue, writeChar, writeHex } from "./hex";

export const TRACEPARENT_LENGTH: i32 = 55;

/** A parsed trace context. */
export class TraceContext {
  traceIdHigh: u64 = 0;
  traceIdLow: u64 = 0;
  parentId: u64 = 0;
  flags: u32 = 0;
}

/** Parses `count` lower-hex digits of s from `at`; returns false on any other character. */
function parseHex(s: string, at: i32, count: i32, out: StaticArray<u64>): bool {
  let v: u64 = 0;
  for (let i = 0; i < count; i++) {
    const d = lowerHexValue(s.charCodeAt(at + i));
    if (d < 0) return false;
    v = (v << 4) | <u64>d;
  }
  unchecked((out[0] = v));
  return true;
}

const scratch = new StaticArray<u64>(1);

/** Parses a version-00 traceparent strictly into `out`; false when malformed. */
export function parseTraceparent(s: string, out: TraceContext): bool {
  if (s.length != TRACEPARENT_LENGTH) return false;
  if (s.charCodeAt(0) != 48 || s.charCodeAt(1) != 48) return false; // version "00"
  if (s.charCodeAt(2) != 45 || s.charCodeAt(35) != 45 || s.charCodeAt(52) != 45) return false; // '-'
  if (!parseHex(s, 3, 16, scratch)) return false;
  const hi = unchecked(scratch[0]);
  if (!parseHex(s, 19, 16, scratch)) return false;
  const lo = unchecked(scratch[0]);
  if (!parseHex(s, 36, 16, scratch)) return false;
  const parent = unchecked(scratch[0]);
  if (!parseHex(s, 53, 2, scratch)) return false;
  const flags = unchecked(scratch[0]);
  if ((hi | lo) == 0 || parent == 0) return false;
  out.traceIdHigh = hi;
  out.traceIdLow = lo;
  out.parentId = parent;
  out.flags = <u32>flags;
  return true;
}

/** Formats a version-00 traceparent. */
export function formatTraceparent(traceIdHigh: u64, traceIdLow: u64, spanId: u64, flags: u32): string {
  const s = allocString(TRACEPARENT_LENGTH);
  writeChar(s, 0, 48);
  writeChar(s, 1, 48);
  writeChar(s, 2, 45);
  writeHex(s, 3, traceIdHigh, 16);
  writeHex(s, 19, traceIdLow, 16);
  writeChar(s, 35, 45);
  writeHex(s, 36, spanId, 16);
  writeChar(s, 52, 45);
  writeHex(s, 53, <u64>(flags & 0xff), 2);
  return s;
}

/** A non-zero random 64-bit id. */
export function randomNonZero(rng: Rng): u64 {
  let v = rng.next();
  while (v == 0) v = rng.next();
  return v;
}

/**
 * The traceparent to send upstream: the incoming one continued with a new span id when valid
 * (isValid reports which), otherwise a new sampled trace.
 */
export class TraceDecision {
  header: string = "";
  continued: bool = false;
}

const parsed = new TraceContext();

export function nextTraceparent(incoming: string | null, rng: Rng, out: TraceDecision): void {
  if (incoming !== null && parseTraceparent(incoming, parsed)) {
    out.header = formatTraceparent(parsed.traceIdHigh, parsed.traceIdLow, randomNonZero(rng), parsed.flags);
    out.continued = true;
    return;
  }
  out.header = formatTraceparent(randomNonZero(rng), rng.next(), randomNonZero(rng), 1);
  out.continued = false;
}
