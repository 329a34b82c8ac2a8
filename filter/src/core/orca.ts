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
import { parseDecimal } from "./decimal";
import { sameBytes, utf8 } from "./bytes";

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
  utf8("cpu_utilization"), utf8("mem_utilization"),
  utf8("application_utilization"), utf8("rps_fractional"),
  utf8("named_metrics.num_requests_waiting"),
];
/** "TEXT " and "JSON " as little-endian u32s of their first four bytes (the fifth is a space). */
const PREFIX_TEXT: u32 = 0x54584554;
const PREFIX_JSON: u32 = 0x4e4f534a;
/**
 * Parses the header's value (len bytes at ptr) into `out`; false when the header is unreadable
 * (then `out` is cleared). The TEXT form is read in place, without allocating; the JSON form is
 * decoded to a string and parsed with the configuration's JSON parser (slower).
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
    if (k.byteLength == len && sameBytes(ptr, changetype<usize>(k), <usize>len)) return i;
  }
  return -1;
}

/** A finite number of len bytes at ptr (core/decimal.ts: "0.3", "4", "-2.75", "1e-05", ".5");
 *  NaN when the bytes are not one, or it is infinite. Read in place, without allocating. */
export function parseDecimalNumber(ptr: usize, len: i32): f64 {
  const v = parseDecimal(ptr, len, false);
  return isFinite(v) ? v : NaN;
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
