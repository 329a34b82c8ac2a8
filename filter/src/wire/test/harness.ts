// Test entry (not part of the filter): exposes the wire codec, the histogram and the JSON parser
// to the TypeScript tests (test/wire-*.test.ts compile it with asc and raw bindings). Results
// go back as canonical JSON text that the tests compare with protobuf-es and JSON.parse.

import { decodeControlMessage, decodeSidecarMessage } from "../decode";
import { encodeAck, encodeControlMessage, encodeHello, encodeNack, encodeReport, encodeReportRejected } from "../encode";
import { bucketLowerBound, bucketOf, recordLatency } from "../histogram";
import {
  ClusterDecision,
  ClusterWindow,
  DecisionAck,
  DecisionNack,
  DecisionSet,
  HISTOGRAM_BUCKETS,
  Hello,
  LatencyHistogram,
  ReportRejected,
  SourceCount,
  SourceLimit,
  StreamWindow,
  TelemetryReport,
  UpstreamLoad,
} from "../messages";
import { ORCA_METRICS, OrcaSample, parseOrca } from "../../core/orca";
import { parseDecimal } from "../../core/decimal";
import { tailCompletionTokens, tailHasDone, tailHasError } from "../../core/ssetail";
import { fnv1a64, SourceSketch } from "../../core/sourcesketch";
import { BodyScanner, DenyList } from "../../core/denylist";
import { JSON_NUMBER, JSON_STRING, JsonValue, parseJson, quoteJsonString, stringifyJson } from "../../json/json";

let lastErrorText = "";

/** The error of the last call that failed ("" if none). */
export function lastError(): string {
  return lastErrorText;
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON of decoded messages (floats as their IEEE-754 bits, uint64 as strings)
// ---------------------------------------------------------------------------------------------

function q(s: string): string {
  return quoteJsonString(s);
}

function u64s(v: u64): string {
  return "\"" + v.toString() + "\"";
}

function f32bits(v: f32): string {
  return reinterpret<u32>(v).toString();
}

/** A double as the decimal string of its IEEE-754 bits (exact on both sides). */
function f64bits(v: f64): string {
  return "\"" + reinterpret<u64>(v).toString() + "\"";
}

function decisionSetJson(m: DecisionSet): string {
  let out = "{\"version\":" + u64s(m.version) + ",\"issuedAtMs\":" + u64s(m.issuedAtMs) + ",\"ttlMs\":" + m.ttlMs.toString();
  out += ",\"halted\":" + (m.halted ? "true" : "false") + ",\"haltReason\":" + q(m.haltReason) + ",\"clusters\":[";
  for (let i = 0; i < m.clusters.length; i++) {
    const c = m.clusters[i];
    if (i > 0) out += ",";
    out += "{\"cluster\":" + q(c.cluster) + ",\"state\":" + c.state.toString() + ",\"weight\":" + c.weight.toString();
    out += ",\"probeFractionBits\":" + f32bits(c.probeFraction) + ",\"retryAfterS\":" + c.retryAfterS.toString();
    out += ",\"reason\":" + q(c.reason) + ",\"anomalyScoreBits\":" + f32bits(c.anomalyScore);
    out += ",\"shedFractionBits\":" + f32bits(c.shedFraction) + "}";
  }
  out += "],\"shedFractionBits\":" + f32bits(m.shedFraction) + ",\"shedReason\":" + q(m.shedReason) +
    ",\"haltMode\":" + m.haltMode.toString() + ",\"sourceLimits\":[";
  for (let i = 0; i < m.sourceLimits.length; i++) {
    const l = m.sourceLimits[i];
    out += (i > 0 ? "," : "") + "{\"source\":" + q(l.source) + ",\"admitFractionBits\":" + f32bits(l.admitFraction) + "}";
  }
  return out + "]}";
}

function reportRejectedJson(m: ReportRejected): string {
  return "{\"sequence\":" + u64s(m.sequence) + ",\"reason\":" + q(m.reason) + ",\"clockOffsetMs\":\"" + m.clockOffsetMs.toString() + "\"}";
}

/** Decodes a ControlMessage: {"error": "..."} or {"decisions": null | {...}, "reportRejected": null | {...}}. */
export function decodeControl(buf: ArrayBuffer): string {
  const r = decodeControlMessage(buf);
  if (r.error !== null) return "{\"error\":" + q(r.error as string) + "}";
  const d = r.decisions;
  const rr = r.reportRejected;
  return "{\"decisions\":" + (d === null ? "null" : decisionSetJson(d)) +
    ",\"reportRejected\":" + (rr === null ? "null" : reportRejectedJson(rr)) + "}";
}

function histogramJson(h: LatencyHistogram): string {
  let first = 0;
  while (first < HISTOGRAM_BUCKETS && h.counts[first] == 0) first++;
  let end = HISTOGRAM_BUCKETS;
  while (end > first && h.counts[end - 1] == 0) end--;
  if (first >= end) {
    first = 0;
    end = 0;
  }
  let out = "{\"firstBucket\":" + first.toString() + ",\"counts\":[";
  for (let b = first; b < end; b++) out += (b > first ? "," : "") + h.counts[b].toString();
  return out + "],\"sumUs\":" + u64s(h.sumUs) + ",\"maxUs\":" + u64s(h.maxUs) + "}";
}

const LOAD_METRIC_KEYS: StaticArray<string> = ["cpuUtilization", "memUtilization", "applicationUtilization", "rpsFractional", "queueSize"];

function upstreamLoadJson(m: UpstreamLoad): string {
  let out = "{\"reports\":" + m.reports.toString() + ",\"unparsed\":" + m.unparsed.toString();
  for (let k = 0; k < 5; k++) {
    out += ",\"" + LOAD_METRIC_KEYS[k] + "\":{\"count\":" + m.counts[k].toString() + ",\"sumBits\":" + f64bits(m.sums[k]) +
      ",\"maxBits\":" + f64bits(m.maxes[k]) + "}";
  }
  return out + "}";
}

/** Decodes a SidecarMessage: {"error": "..."} or {"kind": "hello"|..., "<kind>": {...}} (kind null if none). */
export function decodeSidecar(buf: ArrayBuffer): string {
  const r = decodeSidecarMessage(buf);
  if (r.error !== null) return "{\"error\":" + q(r.error as string) + "}";
  const hello = r.hello;
  if (hello !== null) {
    let out = "{\"kind\":\"hello\",\"hello\":{\"nodeId\":" + q(hello.nodeId) + ",\"zone\":" + q(hello.zone);
    out += ",\"workerId\":" + hello.workerId.toString() + ",\"filterVersion\":" + q(hello.filterVersion) + ",\"clusters\":[";
    for (let i = 0; i < hello.clusters.length; i++) out += (i > 0 ? "," : "") + q(hello.clusters[i]);
    out += "],\"instanceId\":" + u64s(hello.instanceId) + ",\"enforcedVersion\":" + u64s(hello.enforcedVersion) + ",\"capabilities\":[";
    for (let i = 0; i < hello.capabilities.length; i++) out += (i > 0 ? "," : "") + q(hello.capabilities[i]);
    return out + "],\"disconnectedMs\":" + u64s(hello.disconnectedMs) + ",\"fallbackMs\":" + u64s(hello.fallbackMs) + "}}";
  }
  const report = r.report;
  if (report !== null) {
    let out = "{\"kind\":\"report\",\"report\":{\"windowStartMs\":" + u64s(report.windowStartMs) + ",\"windowLengthMs\":" + report.windowLengthMs.toString();
    out += ",\"sequence\":" + u64s(report.sequence) + ",\"enforcedVersion\":" + u64s(report.enforcedVersion) + ",\"clusters\":[";
    for (let i = 0; i < report.clusters.length; i++) {
      const c = report.clusters[i];
      out += (i > 0 ? "," : "") + "{\"cluster\":" + q(c.cluster) + ",\"requests\":" + c.requests.toString() + ",\"errors5xx\":" + c.errors5xx.toString();
      out += ",\"localRejects\":" + c.localRejects.toString() + ",\"timeouts\":" + c.timeouts.toString() + ",\"resets\":" + c.resets.toString();
      out += ",\"grpcErrors\":" + c.grpcErrors.toString() + ",\"headersLatency\":" + histogramJson(c.headersLatency);
      out += ",\"totalLatency\":" + histogramJson(c.totalLatency) + ",\"shed\":" + c.shed.toString();
      out += ",\"upstreamLoad\":" + upstreamLoadJson(c.upstreamLoad) + ",\"streams\":" + streamWindowJson(c.streams);
      const b = c.bodyScan;
      out += ",\"bodyScan\":" + (b === null ? "null" : "{\"scanned\":" + b[0].toString() + ",\"matched\":" + b[1].toString() +
        ",\"compressed\":" + b[2].toString() + "}") + ",\"sent\":" + c.sent.toString();
      // sent_ended is on the wire whenever sent is not 0 (encode.ts), absent otherwise.
      out += ",\"sentEnded\":" + (c.sent != 0 ? c.sentEnded.toString() : "null");
      // failed is on the wire whenever requests is not 0 (encode.ts), absent otherwise.
      out += ",\"failed\":" + (c.requests != 0 ? c.failed.toString() : "null") + "}";
    }
    out += "],\"sources\":[";
    for (let i = 0; i < report.sources.length; i++) {
      const x = report.sources[i];
      out += (i > 0 ? "," : "") + "{\"source\":" + q(x.source) + ",\"requests\":" + x.requests.toString() + ",\"overestimate\":" + x.overestimate.toString() +
        ",\"errors\":" + x.errors.toString() + ",\"limited\":" + x.limited.toString() + "}";
    }
    return out + "],\"sourcesTotal\":" + u64s(report.sourcesTotal) + "}}";
  }
  const ack = r.ack;
  if (ack !== null) return "{\"kind\":\"ack\",\"ack\":{\"version\":" + u64s(ack.version) + "}}";
  const nack = r.nack;
  if (nack !== null) {
    return "{\"kind\":\"nack\",\"nack\":{\"version\":" + u64s(nack.version) + ",\"reason\":" + q(nack.reason) + ",\"enforcedVersion\":" + u64s(nack.enforcedVersion) + "}}";
  }
  return "{\"kind\":null}";
}

// ---------------------------------------------------------------------------------------------
// Building messages from proto3 JSON (as protobuf-es toJson writes it), then encoding them
// ---------------------------------------------------------------------------------------------

/** An int64 from proto3 JSON (a decimal string, maybe negative, or a number); 0 if absent. */
function i64Of(v: JsonValue | null): i64 {
  if (v === null) return 0;
  if (v.kind == JSON_NUMBER) return <i64>v.numberValue;
  if (v.kind != JSON_STRING) return 0;
  const s = v.stringValue;
  const negative = s.startsWith("-");
  let n: i64 = 0;
  for (let i = negative ? 1 : 0; i < s.length; i++) n = n * 10 + <i64>(s.charCodeAt(i) - 0x30);
  return negative ? -n : n;
}

/** A uint64 from proto3 JSON (a decimal string or a number); 0 if absent. */
function u64Of(v: JsonValue | null): u64 {
  if (v === null) return 0;
  if (v.kind == JSON_NUMBER) return <u64>v.numberValue;
  if (v.kind != JSON_STRING) return 0;
  let n: u64 = 0;
  const s = v.stringValue;
  for (let i = 0; i < s.length; i++) n = n * 10 + <u64>(s.charCodeAt(i) - 0x30);
  return n;
}

function u32Of(v: JsonValue, key: string): u32 {
  return <u32>v.getNumber(key, 0);
}

function histogramFrom(h: LatencyHistogram, v: JsonValue | null): void {
  if (v === null) return;
  const first = u32Of(v, "firstBucket");
  const counts = v.getArray("counts");
  if (counts !== null) {
    for (let i = 0; i < counts.length; i++) h.counts[<i32>first + i] = <u32>counts[i].numberValue;
  }
  h.sumUs = u64Of(v.get("sumUs"));
  h.maxUs = u64Of(v.get("maxUs"));
}

/** A StreamWindow as canonical JSON (null when absent). */
function streamWindowJson(s: StreamWindow | null): string {
  if (s === null) return "null";
  return "{\"streams\":" + s.streams.toString() + ",\"cut\":" + s.cut.toString() + ",\"failedInStream\":" + s.failedInStream.toString() +
    ",\"tokensOut\":" + u64s(s.tokensOut) + ",\"tokensEstimated\":" + u64s(s.tokensEstimated) + ",\"ttft\":" + histogramJson(s.ttft) +
    ",\"tpot\":" + histogramJson(s.tpot) + ",\"maxGap\":" + histogramJson(s.maxGap) + "}";
}

/** Encodes a SidecarMessage given as proto3 JSON; on bad JSON sets lastError and returns no bytes. */
export function encodeSidecarFromJson(text: string): ArrayBuffer {
  const parsed = parseJson(text);
  const root = parsed.value;
  if (root === null) {
    lastErrorText = parsed.error as string;
    return new ArrayBuffer(0);
  }
  const hello = root.getObject("hello");
  if (hello !== null) {
    const m = new Hello();
    m.nodeId = hello.getString("nodeId", "");
    m.zone = hello.getString("zone", "");
    m.workerId = u32Of(hello, "workerId");
    m.filterVersion = hello.getString("filterVersion", "");
    const clusters = hello.getArray("clusters");
    if (clusters !== null) for (let i = 0; i < clusters.length; i++) m.clusters.push(clusters[i].stringValue);
    m.instanceId = u64Of(hello.get("instanceId"));
    m.enforcedVersion = u64Of(hello.get("enforcedVersion"));
    const capabilities = hello.getArray("capabilities");
    if (capabilities !== null) for (let i = 0; i < capabilities.length; i++) m.capabilities.push(capabilities[i].stringValue);
    m.disconnectedMs = u64Of(hello.get("disconnectedMs"));
    m.fallbackMs = u64Of(hello.get("fallbackMs"));
    return encodeHello(m);
  }
  const report = root.getObject("report");
  if (report !== null) {
    const m = new TelemetryReport();
    m.windowStartMs = u64Of(report.get("windowStartMs"));
    m.windowLengthMs = u32Of(report, "windowLengthMs");
    m.sequence = u64Of(report.get("sequence"));
    m.enforcedVersion = u64Of(report.get("enforcedVersion"));
    const clusters = report.getArray("clusters");
    if (clusters !== null) {
      for (let i = 0; i < clusters.length; i++) {
        const c = clusters[i];
        const w = new ClusterWindow();
        w.cluster = c.getString("cluster", "");
        w.requests = u32Of(c, "requests");
        w.errors5xx = u32Of(c, "errors5xx");
        w.localRejects = u32Of(c, "localRejects");
        w.timeouts = u32Of(c, "timeouts");
        w.resets = u32Of(c, "resets");
        w.grpcErrors = u32Of(c, "grpcErrors");
        histogramFrom(w.headersLatency, c.getObject("headersLatency"));
        histogramFrom(w.totalLatency, c.getObject("totalLatency"));
        w.shed = u32Of(c, "shed");
        w.sent = u32Of(c, "sent");
        w.sentEnded = u32Of(c, "sentEnded");
        w.failed = u32Of(c, "failed");
        const load = c.getObject("upstreamLoad");
        if (load !== null) {
          w.upstreamLoad.reports = u32Of(load, "reports");
          w.upstreamLoad.unparsed = u32Of(load, "unparsed");
          for (let k = 0; k < 5; k++) {
            const v = load.getObject(LOAD_METRIC_KEYS[k]);
            if (v === null) continue;
            w.upstreamLoad.counts[k] = u32Of(v, "count");
            w.upstreamLoad.sums[k] = v.getNumber("sum", 0);
            w.upstreamLoad.maxes[k] = v.getNumber("max", 0);
          }
        }
        const streams = c.getObject("streams");
        if (streams !== null) {
          const sw = new StreamWindow();
          sw.streams = u32Of(streams, "streams");
          sw.cut = u32Of(streams, "cut");
          sw.failedInStream = u32Of(streams, "failedInStream");
          sw.tokensOut = u64Of(streams.get("tokensOut"));
          sw.tokensEstimated = u64Of(streams.get("tokensEstimated"));
          histogramFrom(sw.ttft, streams.getObject("ttft"));
          histogramFrom(sw.tpot, streams.getObject("tpot"));
          histogramFrom(sw.maxGap, streams.getObject("maxGap"));
          w.streams = sw;
        }
        const scan = c.getObject("bodyScan");
        if (scan !== null) {
          const b = new StaticArray<u32>(3);
          b[0] = u32Of(scan, "scanned");
          b[1] = u32Of(scan, "matched");
          b[2] = u32Of(scan, "compressed");
          w.bodyScan = b;
        }
        m.clusters.push(w);
      }
    }
    const sources = report.getArray("sources");
    if (sources !== null) {
      for (let i = 0; i < sources.length; i++) {
        const x = sources[i];
        const sc = new SourceCount();
        sc.source = x.getString("source", "");
        sc.requests = u32Of(x, "requests");
        sc.overestimate = u32Of(x, "overestimate");
        sc.errors = u32Of(x, "errors");
        sc.limited = u32Of(x, "limited");
        m.sources.push(sc);
      }
    }
    m.sourcesTotal = u64Of(report.get("sourcesTotal"));
    return encodeReport(m);
  }
  const ack = root.getObject("ack");
  if (ack !== null) {
    const m = new DecisionAck();
    m.version = u64Of(ack.get("version"));
    return encodeAck(m);
  }
  const nack = root.getObject("nack");
  if (nack !== null) {
    const m = new DecisionNack();
    m.version = u64Of(nack.get("version"));
    m.reason = nack.getString("reason", "");
    m.enforcedVersion = u64Of(nack.get("enforcedVersion"));
    return encodeNack(m);
  }
  lastErrorText = "no hello, report, ack or nack in the JSON";
  return new ArrayBuffer(0);
}

function stateOf(v: JsonValue | null): i32 {
  if (v === null) return 0;
  if (v.kind == JSON_NUMBER) return <i32>v.numberValue;
  const s = v.stringValue;
  if (s == "BREAKER_STATE_CLOSED") return 1;
  if (s == "BREAKER_STATE_OPEN") return 2;
  if (s == "BREAKER_STATE_HALF_OPEN") return 3;
  return 0;
}

/** Encodes ControlMessage{decisions} or {report_rejected} given as proto3 JSON of the ControlMessage. */
export function encodeControlFromJson(text: string): ArrayBuffer {
  const parsed = parseJson(text);
  const root = parsed.value;
  if (root === null) {
    lastErrorText = parsed.error as string;
    return new ArrayBuffer(0);
  }
  const rejected = root.getObject("reportRejected");
  if (rejected !== null) {
    const m = new ReportRejected();
    m.sequence = u64Of(rejected.get("sequence"));
    m.reason = rejected.getString("reason", "");
    m.clockOffsetMs = i64Of(rejected.get("clockOffsetMs"));
    return encodeReportRejected(m);
  }
  const d = root.getObject("decisions");
  if (d === null) {
    lastErrorText = "no decisions or reportRejected in the JSON";
    return new ArrayBuffer(0);
  }
  const m = new DecisionSet();
  m.version = u64Of(d.get("version"));
  m.issuedAtMs = u64Of(d.get("issuedAtMs"));
  m.ttlMs = u32Of(d, "ttlMs");
  m.halted = d.getBool("halted", false);
  m.haltReason = d.getString("haltReason", "");
  const clusters = d.getArray("clusters");
  if (clusters !== null) {
    for (let i = 0; i < clusters.length; i++) {
      const c = clusters[i];
      const cd = new ClusterDecision();
      cd.cluster = c.getString("cluster", "");
      cd.state = stateOf(c.get("state"));
      cd.weight = u32Of(c, "weight");
      cd.probeFraction = <f32>c.getNumber("probeFraction", 0);
      cd.retryAfterS = u32Of(c, "retryAfterS");
      cd.reason = c.getString("reason", "");
      cd.anomalyScore = <f32>c.getNumber("anomalyScore", 0);
      cd.shedFraction = <f32>c.getNumber("shedFraction", 0);
      m.clusters.push(cd);
    }
  }
  m.shedFraction = <f32>d.getNumber("shedFraction", 0);
  m.shedReason = d.getString("shedReason", "");
  const mode = d.get("haltMode");
  m.haltMode = mode === null ? 0 : mode.kind == JSON_NUMBER ? <i32>mode.numberValue
    : mode.stringValue == "HALT_MODE_IMMEDIATE" ? 2 : mode.stringValue == "HALT_MODE_DRAIN" ? 1 : 0;
  const limits = d.getArray("sourceLimits");
  if (limits !== null) {
    for (let i = 0; i < limits.length; i++) {
      const x = limits[i];
      const l = new SourceLimit();
      l.source = x.getString("source", "");
      l.admitFraction = <f32>x.getNumber("admitFraction", 0);
      m.sourceLimits.push(l);
    }
  }
  return encodeControlMessage(m);
}

// ---------------------------------------------------------------------------------------------
// Fuzzing, histogram, JSON
// ---------------------------------------------------------------------------------------------

/**
 * Decodes arbitrary bytes as a ControlMessage and checks the result is consistent:
 * 0: an error (non-empty), 1: a decision set that re-encodes and decodes to the same values,
 * 2: no kind, 3: a report_rejected that re-encodes and decodes to the same values;
 * -1: an inconsistency (empty error, both kinds, or the re-encoded message differs).
 */
export function fuzzControl(buf: ArrayBuffer): i32 {
  const r = decodeControlMessage(buf);
  if (r.error !== null) return (r.error as string).length > 0 && r.decisions === null && r.reportRejected === null ? 0 : -1;
  const d = r.decisions;
  const rr = r.reportRejected;
  if (d !== null && rr !== null) return -1;
  if (rr !== null) {
    const back = decodeControlMessage(encodeReportRejected(rr)).reportRejected;
    return back !== null && reportRejectedJson(back) == reportRejectedJson(rr) ? 3 : -1;
  }
  if (d === null) return 2;
  const again = decodeControlMessage(encodeControlMessage(d));
  const d2 = again.decisions;
  if (again.error !== null || d2 === null) return -1;
  return decisionSetJson(d) == decisionSetJson(d2) ? 1 : -1;
}

/** Same as fuzzControl for SidecarMessage bytes: 0 error, 1 decoded, -1 inconsistent. */
export function fuzzSidecar(buf: ArrayBuffer): i32 {
  const r = decodeSidecarMessage(buf);
  if (r.error !== null) return (r.error as string).length > 0 && r.kind == 0 ? 0 : -1;
  return 1;
}

export function histogramBucketOf(us: u64): i32 {
  return bucketOf(us);
}

export function histogramLowerBound(b: i32): u64 {
  return bucketLowerBound(b);
}

/** Records the values into a histogram and returns its canonical JSON (trimmed). */
export function histogramRecord(values: Uint64Array): string {
  const h = new LatencyHistogram();
  for (let i = 0; i < values.length; i++) recordLatency(h, values[i]);
  return histogramJson(h);
}

/** Parses an ORCA header value (core/orca.ts): "unparsed", or the five slots (cpu, mem,
 *  application, rps, queue) as JSON numbers, null where absent. */
export function orcaParse(text: string): string {
  const sample = new OrcaSample();
  const bytes = String.UTF8.encode(text);
  if (!parseOrca(changetype<usize>(bytes), bytes.byteLength, sample)) return "unparsed";
  let out = "[";
  for (let i = 0; i < ORCA_METRICS; i++) {
    const v = sample.values[i];
    out += (i > 0 ? "," : "") + (isNaN(v) ? "null" : v.toString());
  }
  return out + "]";
}

/** "ok:" + the compact re-serialization, or "error:" + the parse error. */
export function jsonRoundTrip(text: string): string {
  const r = parseJson(text);
  const v = r.value;
  if (v === null) return "error:" + (r.error as string);
  return "ok:" + stringifyJson(v);
}

/** core/decimal.ts on text: as UTF-16 code units (the JSON parser's way) when wide, else as its
 *  UTF-8 bytes (the ORCA TEXT form's way). */
export function decimalParse(text: string, wide: bool): f64 {
  if (wide) return parseDecimal(changetype<usize>(text), text.length, true);
  const bytes = String.UTF8.encode(text);
  return parseDecimal(changetype<usize>(bytes), bytes.byteLength, false);
}

/** core/ssetail.ts on a stream's last bytes (given as text): "<done> <error> <completion tokens>",
 *  e.g. "true false 28" (-1: no usage found). */
export function sseTail(text: string): string {
  const bytes = String.UTF8.encode(text);
  const ptr = changetype<usize>(bytes);
  const n = bytes.byteLength;
  return (tailHasDone(ptr, n) ? "true" : "false") + " " + (tailHasError(ptr, n) ? "true" : "false") + " " + tailCompletionTokens(ptr, n).toString();
}

/** Runs the filter's heavy-hitters sketch (core/sourcesketch.ts) with K slots over a stream of
 *  identities (one per line) and returns its report: {"total", "sources": [{source, requests,
 *  overestimate}]} in slot order. */
export function sketchRun(stream: string, k: i32): string {
  const sketch = new SourceSketch(k);
  const ids = stream.split("\n");
  for (let i = 0; i < ids.length; i++) {
    const bytes = String.UTF8.encode(ids[i]);
    const ptr = changetype<usize>(bytes);
    sketch.offer(fnv1a64(ptr, bytes.byteLength), ptr, bytes.byteLength);
  }
  const report = new TelemetryReport();
  sketch.drain(report);
  let out = "{\"total\":" + report.sourcesTotal.toString() + ",\"sources\":[";
  for (let i = 0; i < report.sources.length; i++) {
    const x = report.sources[i];
    out += (i > 0 ? "," : "") + "{\"source\":" + q(x.source) + ",\"requests\":" + x.requests.toString() + ",\"overestimate\":" + x.overestimate.toString() + "}";
  }
  return out + "]}";
}

/** core/denylist.ts: the deny-list `words` scanned over a body given as `chunks` (JSON arrays of
 *  strings, each chunk as UTF-8), one BodyScanner for the body as the filter uses it: the index
 *  of the chunk in which a literal completed, or -1 when none did. */
export function denyScan(words: string, chunks: string): i32 {
  const w = parseJson(words).value as JsonValue;
  const c = parseJson(chunks).value as JsonValue;
  const list: string[] = [];
  for (let i = 0; i < w.items.length; i++) list.push(w.items[i].stringValue);
  const deny = new DenyList(list);
  const scanner = new BodyScanner();
  for (let i = 0; i < c.items.length; i++) {
    const bytes = String.UTF8.encode(c.items[i].stringValue);
    if (scanner.scan(deny, changetype<usize>(bytes), bytes.byteLength)) return i;
  }
  return -1;
}
