// Reads an ORCA load report from the `endpoint-load-metrics` response header, in the forms Envoy
// (>= 1.30) parses in source/common/orca/orca_parser.cc (parseOrcaLoadReportHeaders):
//   "TEXT cpu_utilization=0.3, application_utilization=0.5, named_metrics.num_requests_waiting=4"
//       comma-separated key=value pairs (Envoy also accepts key:value; so does this);
//   "JSON {\"cpu_utilization\": 0.3, \"named_metrics\": {\"num_requests_waiting\": 4}}"
//       the proto3 JSON of xds.data.orca.v3.OrcaLoadReport (xds/data/orca/v3/orca_load_report.proto;
//       snake_case or lowerCamelCase keys);
//   "BIN <base64>" the serialized proto: not decoded here (counted as unparsed).
// The metrics kept are OrcaLoadReport's cpu_utilization, mem_utilization,
// application_utilization, rps_fractional, and the queue as named_metrics.num_requests_waiting
// (the name vLLM's ORCA header uses). As in Envoy, a value that is not a number, NaN or infinite,
// a repeated key, an empty key or an unknown prefix makes the whole header unreadable; unlike
// Envoy, other keys (eps, other named metrics, utilization.*) are ignored rather than refused
// (and so are repeats among them).
// Pure: the caller hands over the header's bytes; nothing here calls the host.
import { JSON_NUMBER, JSON_OBJECT, JsonValue, parseJson } from "../json/json";

/** Metric slots of an OrcaSample (and of UpstreamLoad's fields 3..7, minus 3). */
export const ORCA_CPU: i32 = 0;
export const ORCA_MEM: i32 = 1;
export const ORCA_APPLICATION: i32 = 2;
export const ORCA_RPS: i32 = 3;
export const ORCA_QUEUE: i32 = 4;
export const ORCA_METRICS: i32 = 5;

/** The TEXT keys of the slots, in slot order. */
const TEXT_KEYS: StaticArray<string> = [
  "cpu_utilization", "mem_utilization", "application_utilization", "rps_fractional", "named_metrics.num_requests_waiting",
];
/** The JSON (lowerCamelCase) keys of the first four slots. */
const CAMEL_KEYS: StaticArray<string> = ["cpuUtilization", "memUtilization", "applicationUtilization", "rpsFractional"];
const QUEUE_NAME = "num_requests_waiting";

/** One parsed report: the value of each slot, NaN where the report does not carry it. */
export class OrcaSample {
  values: StaticArray<f64> = new StaticArray<f64>(ORCA_METRICS);

  clear(): void {
    for (let i = 0; i < ORCA_METRICS; i++) unchecked((this.values[i] = NaN));
  }
}

/** The TEXT keys of the slots, pre-encoded, in slot order. */
const TEXT_KEY_BYTES: StaticArray<ArrayBuffer> = [
  String.UTF8.encode("cpu_utilization"), String.UTF8.encode("mem_utilization"),
  String.UTF8.encode("application_utilization"), String.UTF8.encode("rps_fractional"),
  String.UTF8.encode("named_metrics.num_requests_waiting"),
];
/** "TEXT " and "JSON " as little-endian u32s of their first four bytes (the fifth is a space). */
const PREFIX_TEXT: u32 = 0x54584554;
const PREFIX_JSON: u32 = 0x4e4f534a;
/** Exact powers of ten as doubles (10^0 .. 10^22: every one is exact in binary64). */
const POW10: StaticArray<f64> = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parses the header's value (len bytes at ptr) into `out`; false when the header is unreadable
 * (then `out` is cleared). The TEXT form is read in place, without allocating (but for a number
 * with an exponent or more than 15 digits); the JSON form is decoded to a string and parsed with
 * the configuration's JSON parser (slower).
 */
export function parseOrca(ptr: usize, len: i32, out: OrcaSample): bool {
  out.clear();
  if (len < 5 || load<u8>(ptr + 4) != 0x20) return false;
  const prefix = load<u32>(ptr);
  let ok = false;
  if (prefix == PREFIX_TEXT) ok = parseText(ptr + 5, len - 5, out);
  else if (prefix == PREFIX_JSON) ok = parseJsonForm(String.UTF8.decodeUnsafe(ptr + 5, <usize>(len - 5)), out);
  if (!ok) out.clear();
  return ok;
}

function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x09;
}

function slotOfTextKey(ptr: usize, len: i32): i32 {
  for (let i = 0; i < ORCA_METRICS; i++) {
    const k = unchecked(TEXT_KEY_BYTES[i]);
    if (k.byteLength == len && memory.compare(ptr, changetype<usize>(k), <usize>len) == 0) return i;
  }
  return -1;
}

/**
 * A finite number of len bytes at ptr; NaN when the bytes are not one. The usual form
 * ("0.3", "4", "-2.75": an optional minus, digits, an optional fraction, at most 15 significant
 * digits and 22 decimals) is computed in place, exactly rounded (one division by an exact power
 * of ten); any other (an exponent, "1e-05", or more digits) goes through the JSON parser's
 * number grammar.
 */
export function parseDecimalNumber(ptr: usize, len: i32): f64 {
  let i = 0;
  const negative = len > 0 && load<u8>(ptr) == 0x2d;
  if (negative) i++;
  let mantissa: u64 = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < len; i++) {
    const c = <u32>load<u8>(ptr + <usize>i);
    if (c == 0x2e && decimals < 0) {
      decimals = 0;
      continue;
    }
    const d = c - 0x30;
    if (d > 9) break;
    mantissa = mantissa * 10 + <u64>d;
    digits++;
    if (decimals >= 0) decimals++;
  }
  if (i == len && digits > 0 && digits <= 15 && decimals <= 22) {
    const v = decimals > 0 ? <f64>mantissa / unchecked(POW10[decimals]) : <f64>mantissa;
    return negative ? -v : v;
  }
  const r = parseJson(String.UTF8.decodeUnsafe(ptr, <usize>len));
  const v = r.value;
  return v === null || v.kind != JSON_NUMBER || !isFinite(v.numberValue) ? NaN : v.numberValue;
}

/** The TEXT form's body: comma-separated key=value (or key:value) pairs, read in place. */
function parseText(ptr: usize, len: i32, out: OrcaSample): bool {
  // Repeats are refused (as Envoy does) among the keys kept: one bit per slot.
  let seen = 0;
  let from = 0;
  while (from <= len) {
    let end = from;
    while (end < len && load<u8>(ptr + <usize>end) != 0x2c) end++;
    let a = from;
    let b = end;
    from = end + 1;
    while (a < b && isSpace(load<u8>(ptr + <usize>a))) a++;
    while (b > a && isSpace(load<u8>(ptr + <usize>(b - 1)))) b--;
    if (a == b) continue; // "a=1,,b=2" and a trailing comma, as Envoy's comma parsing
    let sep = a;
    while (sep < b && load<u8>(ptr + <usize>sep) != 0x3d && load<u8>(ptr + <usize>sep) != 0x3a) sep++;
    if (sep == b) return false;
    let keyEnd = sep;
    while (keyEnd > a && isSpace(load<u8>(ptr + <usize>(keyEnd - 1)))) keyEnd--;
    let valueStart = sep + 1;
    while (valueStart < b && isSpace(load<u8>(ptr + <usize>valueStart))) valueStart++;
    if (keyEnd == a) return false;
    const value = parseDecimalNumber(ptr + <usize>valueStart, b - valueStart);
    if (isNaN(value)) return false;
    const slot = slotOfTextKey(ptr + <usize>a, keyEnd - a);
    if (slot < 0) continue;
    if (seen & (1 << slot)) return false;
    seen |= 1 << slot;
    unchecked((out.values[slot] = value));
  }
  return true;
}

/** A member of a JSON object under either of two names; null when absent. */
function member(o: JsonValue, snake: string, camel: string): JsonValue | null {
  const v = o.get(snake);
  return v !== null ? v : o.get(camel);
}

function parseJsonForm(body: string, out: OrcaSample): bool {
  const r = parseJson(body);
  const root = r.value;
  if (root === null || root.kind != JSON_OBJECT) return false;
  for (let i = 0; i < ORCA_QUEUE; i++) {
    const v = member(root, unchecked(TEXT_KEYS[i]), unchecked(CAMEL_KEYS[i]));
    if (v === null) continue;
    if (v.kind != JSON_NUMBER || !isFinite(v.numberValue)) return false;
    unchecked((out.values[i] = v.numberValue));
  }
  const named = member(root, "named_metrics", "namedMetrics");
  if (named !== null) {
    if (named.kind != JSON_OBJECT) return false;
    const q = named.get(QUEUE_NAME);
    if (q !== null) {
      if (q.kind != JSON_NUMBER || !isFinite(q.numberValue)) return false;
      unchecked((out.values[ORCA_QUEUE] = q.numberValue));
    }
  }
  return true;
}
