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
// Pure: the caller hands over the header's text; nothing here calls the host.
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

/** Parses header text into `out`; false when the header is unreadable (then `out` is cleared). */
export function parseOrca(text: string, out: OrcaSample): bool {
  out.clear();
  let ok = false;
  if (text.startsWith("TEXT ")) ok = parseText(text.substring(5), out);
  else if (text.startsWith("JSON ")) ok = parseJsonForm(text.substring(5), out);
  if (!ok) out.clear();
  return ok;
}

/** A finite number written as JSON writes numbers ("0.3", "4", "1e3", "-2"); NaN otherwise. */
function numberOf(s: string): f64 {
  const r = parseJson(s);
  const v = r.value;
  if (v === null || v.kind != JSON_NUMBER || !isFinite(v.numberValue)) return NaN;
  return v.numberValue;
}

function slotOfTextKey(key: string): i32 {
  for (let i = 0; i < ORCA_METRICS; i++) if (unchecked(TEXT_KEYS[i]) == key) return i;
  return -1;
}

/** s without leading and trailing spaces and tabs (HTTP's optional whitespace). */
function trimmed(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) == 0x20 || s.charCodeAt(a) == 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) == 0x20 || s.charCodeAt(b - 1) == 0x09)) b--;
  return s.substring(a, b);
}

function parseText(body: string, out: OrcaSample): bool {
  // Duplicates are refused (as Envoy does) among the keys kept: one bit per slot.
  let seen = 0;
  let from = 0;
  while (from <= body.length) {
    let end = body.indexOf(",", from);
    if (end < 0) end = body.length;
    const part = trimmed(body.substring(from, end));
    from = end + 1;
    if (part.length == 0) continue; // "a=1,,b=2" and a trailing comma, as Envoy's comma parsing
    let at = part.indexOf("=");
    const colon = part.indexOf(":");
    if (at < 0 || (colon >= 0 && colon < at)) at = colon;
    if (at <= 0) return false;
    const key = trimmed(part.substring(0, at));
    const value = numberOf(trimmed(part.substring(at + 1)));
    if (key.length == 0 || isNaN(value)) return false;
    const slot = slotOfTextKey(key);
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
