// Validation of the plugin configuration's JSON tree into a FilterConfig. Every problem of the
// configuration is reported at once, each as "<field path>: expected <what>, got <what>", joined
// by "; " into one error (one log line); unknown fields are rejected so that a misspelt option
// does not silently fall back to its default.
import { ClusterConfig, ConfigResult, FilterConfig } from "./config";
import {
  JSON_ARRAY, JSON_BOOL, JSON_KIND_NAMES, JSON_NUMBER, JSON_OBJECT, JSON_STRING, JsonValue, parseJsonText,
} from "./json/json";
import { dec, numberText } from "./core/numbertext";
import { MAX_BANNED, MAX_BANNED_BYTES } from "./core/denylist";

export const MAX_CLUSTERS: i32 = 64;
export const MAX_HOSTS: i32 = 64;
/** The largest sources.top_k: one request's look-up is a pass over K keys. */
export const MAX_SOURCES_TOP_K: i32 = 64;

function describe(v: JsonValue): string {
  if (v.kind == JSON_STRING) return "\"" + (v.stringValue.length > 40 ? v.stringValue.substring(0, 40) + "…" : v.stringValue) + "\"";
  if (v.kind == JSON_NUMBER) return numberText(v.numberValue);
  if (v.kind == JSON_BOOL) return v.boolValue ? "true" : "false";
  return unchecked(JSON_KIND_NAMES[v.kind]);
}

/** Collects every problem of the configuration (not only the first), each "<path>: <what>". */
class Checker {
  problems: string[] = [];

  fail(path: string, expected: string, got: string): void {
    this.problems.push(path + ": expected " + expected + ", got " + got);
  }

  /** Problems found so far: a check that depends on fields read before compares counts. */
  count(): i32 {
    return this.problems.length;
  }

  /** Rejects members of obj not in allowed. */
  onlyKnown(obj: JsonValue, path: string, allowed: string[]): void {
    for (let i = 0; i < obj.keys.length; i++) {
      const k = unchecked(obj.keys[i]);
      if (!allowed.includes(k)) {
        const prefix: string = path.length > 0 ? path + "." : "";
        this.problems.push(prefix + k + ": unknown field (known: " + allowed.join(", ") + ")");
      }
    }
  }

  str(obj: JsonValue, key: string, path: string, fallback: string, required: bool, nonEmpty: bool): string {
    const v = obj.get(key);
    const at = path.length > 0 ? path + "." + key : key;
    if (v === null) {
      if (required) this.fail(at, nonEmpty ? "a non-empty string" : "a string", "nothing");
      return fallback;
    }
    if (v.kind != JSON_STRING) { this.fail(at, "a string", describe(v)); return fallback; }
    if (nonEmpty && v.stringValue.length == 0) { this.fail(at, "a non-empty string", "\"\""); return fallback; }
    return v.stringValue;
  }

  bool(obj: JsonValue, key: string, path: string, fallback: bool): bool {
    const v = obj.get(key);
    const at = path.length > 0 ? path + "." + key : key;
    if (v === null) return fallback;
    if (v.kind != JSON_BOOL) { this.fail(at, "a boolean", describe(v)); return fallback; }
    return v.boolValue;
  }

  /** An integer in [min, max]. */
  int(obj: JsonValue, key: string, path: string, fallback: f64, min: f64, max: f64): f64 {
    const v = obj.get(key);
    const at = path.length > 0 ? path + "." + key : key;
    if (v === null) return fallback;
    const range = "an integer " + numberText(min) + ".." + numberText(max);
    if (v.kind != JSON_NUMBER) { this.fail(at, range, describe(v)); return fallback; }
    const x = v.numberValue;
    if (!isFinite(x) || Math.floor(x) != x || x < min || x > max) { this.fail(at, range, describe(v)); return fallback; }
    return x;
  }

  /** A number in (0, 1]. */
  fraction(obj: JsonValue, key: string, path: string, fallback: f64): f64 {
    const v = obj.get(key);
    const at = path + "." + key;
    if (v === null) return fallback;
    if (v.kind != JSON_NUMBER) { this.fail(at, "a number in (0, 1]", describe(v)); return fallback; }
    const x = v.numberValue;
    if (!(x > 0.0 && x <= 1.0)) { this.fail(at, "a number in (0, 1]", describe(v)); return fallback; }
    return x;
  }

  object(obj: JsonValue, key: string, path: string): JsonValue | null {
    const v = obj.get(key);
    if (v === null) return null;
    if (v.kind != JSON_OBJECT) { this.fail(path.length > 0 ? path + "." + key : key, "an object", describe(v)); return null; }
    return v;
  }

  headerName(obj: JsonValue, key: string, fallback: string, allowEmpty: bool, path: string = "headers"): string {
    const at = path + "." + key;
    const before = this.count();
    const name = this.str(obj, key, path, fallback, false, !allowEmpty);
    if (this.count() != before) return fallback;
    if (name.length == 0) return name;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      const okChar = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e;
      if (!okChar) {
        this.fail(at, "a lower-case header name", "\"" + name + "\""); // a-z, 0-9, '-', '_', '.'
        return fallback;
      }
    }
    return name;
  }
}

const TOP_FIELDS: string[] = ["node_id", "zone", "control_plane", "window_ms", "clusters", "hosts", "headers", "latency_header",
  "fallback", "fast_trip", "fail_open", "decision_check_ms", "retry_after_s", "banned_output", "sources"];
const SOURCES_FIELDS: string[] = ["header", "top_k"];
const CP_FIELDS: string[] = ["cluster", "authority", "timeout_ms", "token", "reconnect_base_ms", "reconnect_max_ms"];
const CLUSTER_FIELDS: string[] = ["name", "weight"];
const HEADER_FIELDS: string[] = ["cluster", "explicit_cluster", "node", "version", "latency", "upstream_load"];
const FAST_TRIP_FIELDS: string[] = ["consecutive_failures", "hold_ms"];
const FALLBACK_FIELDS: string[] = ["failure_rate", "min_requests", "slow_call_ms", "slow_call_rate", "open_ms", "probe_requests"];

/** What hosts and control_plane.authority take (isAuthority). */
const HOST_PORT = "host or host:port";

/** Whether s can be an HTTP/2 :authority (host or host:port): printable ASCII without the
 *  characters servers reject there ('|' among them: istio/istio#27918), spaces, '/', '@'. */
function isAuthority(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c == 0x7c || c == 0x2f || c == 0x40 || c == 0x22 || c == 0x5c) return false;
  }
  return true;
}

/** Whether s holds an ASCII upper-case letter (String#toLowerCase would pull in Unicode tables). */
function hasUpperCase(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return true;
  }
  return false;
}

function failed(message: string): ConfigResult {
  const r = new ConfigResult();
  r.error = message;
  return r;
}

/** Parses the configuration text and validates it. Never traps. */
export function parseConfigJson(text: string): ConfigResult {
  const notObject = "(configuration): expected an object, got ";
  if (text.length == 0) return failed(notObject + "an empty configuration");
  const parsed = parseJsonText(text);
  if (parsed.error !== null) return failed("(configuration): invalid JSON: " + (parsed.error as string));
  const root = parsed.value as JsonValue;
  if (root.kind != JSON_OBJECT) return failed(notObject + describe(root));

  const k = new Checker();
  const c = new FilterConfig();
  k.onlyKnown(root, "", TOP_FIELDS);
  c.nodeId = k.str(root, "node_id", "", "", false, true);
  c.zone = k.str(root, "zone", "", "", false, false);

  const cp = k.object(root, "control_plane", "");
  if (cp !== null) {
    k.onlyKnown(cp, "control_plane", CP_FIELDS);
    c.cpCluster = k.str(cp, "cluster", "control_plane", c.cpCluster, false, true);
    c.cpAuthority = k.str(cp, "authority", "control_plane", "", false, false);
    if (!isAuthority(c.cpAuthority)) {
      k.fail("control_plane.authority", HOST_PORT, "\"" + c.cpAuthority + "\"");
    }
    c.cpTimeoutMs = <u32>k.int(cp, "timeout_ms", "control_plane", c.cpTimeoutMs, 1, 3600000);
    c.cpToken = k.str(cp, "token", "control_plane", "", false, false);
    const beforeBackoff = k.count();
    c.reconnectBaseMs = <u32>k.int(cp, "reconnect_base_ms", "control_plane", c.reconnectBaseMs, 1, 600000);
    c.reconnectMaxMs = <u32>k.int(cp, "reconnect_max_ms", "control_plane", c.reconnectMaxMs, 1, 3600000);
    if (k.count() == beforeBackoff && c.reconnectMaxMs < c.reconnectBaseMs) {
      k.fail("control_plane.reconnect_max_ms", ">= reconnect_base_ms (" + dec(c.reconnectBaseMs) + ")",
        dec(c.reconnectMaxMs));
    }
  }
  c.windowMs = <u32>k.int(root, "window_ms", "", c.windowMs, 10, 3600000);

  const clusters = root.get("clusters");
  if (clusters === null) {
    k.fail("clusters", "an array", "nothing");
  } else if (clusters.kind != JSON_ARRAY) {
    k.fail("clusters", "an array", describe(clusters));
  } else if (clusters.items.length == 0 || clusters.items.length > MAX_CLUSTERS) {
    k.fail("clusters", "1 to " + dec(MAX_CLUSTERS) + " clusters", dec(clusters.items.length));
  } else {
    let sum: f64 = 0;
    const beforeClusters = k.count();
    for (let i = 0; i < clusters.items.length; i++) {
      const at = "clusters[" + dec(i) + "]";
      const item = unchecked(clusters.items[i]);
      if (item.kind != JSON_OBJECT) { k.fail(at, "an object", describe(item)); continue; }
      k.onlyKnown(item, at, CLUSTER_FIELDS);
      const cc = new ClusterConfig();
      cc.name = k.str(item, "name", at, "", true, true);
      cc.weight = <u32>k.int(item, "weight", at, 1, 0, 4294967295);
      for (let j = 0; j < c.clusters.length && cc.name.length > 0; j++) {
        if (unchecked(c.clusters[j]).name == cc.name) { k.fail(at + ".name", "a unique name", "\"" + cc.name + "\" again"); break; }
      }
      sum += <f64>cc.weight;
      c.clusters.push(cc);
    }
    if (k.count() == beforeClusters && sum <= 0) k.fail("clusters", "a weight > 0", "all 0");
  }

  const hosts = root.get("hosts");
  if (hosts !== null) {
    if (hosts.kind != JSON_ARRAY || hosts.items.length > MAX_HOSTS) {
      k.fail("hosts", "at most " + dec(MAX_HOSTS) + " hosts", describe(hosts));
    } else {
      for (let i = 0; i < hosts.items.length; i++) {
        const item = unchecked(hosts.items[i]);
        const h = item.kind == JSON_STRING ? item.stringValue : "";
        if (h.length == 0 || !isAuthority(h) || hasUpperCase(h)) {
          k.fail("hosts[" + dec(i) + "]", "a lower-case " + HOST_PORT, describe(item));
        } else {
          c.hosts.push(h);
        }
      }
    }
  }

  const headers = k.object(root, "headers", "");
  if (headers !== null) {
    k.onlyKnown(headers, "headers", HEADER_FIELDS);
    c.clusterHeader = k.headerName(headers, "cluster", c.clusterHeader, false);
    c.explicitClusterHeader = k.headerName(headers, "explicit_cluster", c.explicitClusterHeader, true);
    c.nodeHeader = k.headerName(headers, "node", c.nodeHeader, false);
    c.versionHeader = k.headerName(headers, "version", c.versionHeader, false);
    c.latencyHeaderName = k.headerName(headers, "latency", c.latencyHeaderName, false);
    c.upstreamLoadHeader = k.headerName(headers, "upstream_load", c.upstreamLoadHeader, true);
  }
  c.latencyHeader = k.bool(root, "latency_header", "", false);

  const fb = k.object(root, "fallback", "");
  if (fb !== null) {
    k.onlyKnown(fb, "fallback", FALLBACK_FIELDS);
    const s = c.fallback;
    s.failureRate = k.fraction(fb, "failure_rate", "fallback", s.failureRate);
    s.minRequests = <i32>k.int(fb, "min_requests", "fallback", s.minRequests, 1, 100000);
    s.slowCallMs = <u32>k.int(fb, "slow_call_ms", "fallback", s.slowCallMs, 0, 3600000);
    s.slowCallRate = k.fraction(fb, "slow_call_rate", "fallback", s.slowCallRate);
    s.openMs = <u32>k.int(fb, "open_ms", "fallback", s.openMs, 1, 3600000);
    s.probeRequests = <i32>k.int(fb, "probe_requests", "fallback", s.probeRequests, 1, 100000);
  }
  const ft = k.object(root, "fast_trip", "");
  if (ft !== null) {
    k.onlyKnown(ft, "fast_trip", FAST_TRIP_FIELDS);
    c.fastTripFailures = <u32>k.int(ft, "consecutive_failures", "fast_trip", c.fastTripFailures, 0, 100000);
    c.fastTripHoldMs = <u32>k.int(ft, "hold_ms", "fast_trip", c.fastTripHoldMs, 0, 3600000);
  }
  c.failOpen = k.bool(root, "fail_open", "", true);
  c.decisionCheckMs = <u32>k.int(root, "decision_check_ms", "", c.decisionCheckMs, 0, 60000);
  c.retryAfterS = <u32>k.int(root, "retry_after_s", "", c.retryAfterS, 0, 86400);
  const src = k.object(root, "sources", "");
  if (src !== null) {
    k.onlyKnown(src, "sources", SOURCES_FIELDS);
    c.sourcesHeader = k.headerName(src, "header", "", true, "sources");
    c.sourcesTopK = <i32>k.int(src, "top_k", "sources", 8, 1, MAX_SOURCES_TOP_K);
  }

  const banned = root.get("banned_output");
  if (banned !== null) {
    // MAX_BANNED strings of 1 to MAX_BANNED_BYTES bytes (core/denylist.ts).
    const what = "at most 32 strings of 1-128 bytes";
    if (banned.kind != JSON_ARRAY || banned.items.length > MAX_BANNED) k.fail("banned_output", what, describe(banned));
    else {
      for (let i = 0; i < banned.items.length; i++) {
        const item = unchecked(banned.items[i]);
        const n = item.kind == JSON_STRING ? String.UTF8.byteLength(item.stringValue) : 0;
        if (n == 0 || n > MAX_BANNED_BYTES) k.fail("banned_output[" + dec(i) + "]", what, describe(item));
        else c.bannedOutput.push(item.stringValue);
      }
    }
  }

  if (k.count() > 0) return failed(k.problems.join("; "));
  const r = new ConfigResult();
  r.config = c;
  return r;
}
