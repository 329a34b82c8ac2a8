// Prometheus text exposition (format 0.0.4) of the host's metrics, the way Envoy's admin
// /stats/prometheus renders a proxy-wasm module's metrics:
//
// 1. Envoy defines every metric of a Wasm module under the custom stat namespace "wasmcustom"
//    (source/extensions/common/wasm/wasm.h: CustomStatNamespace; context.cc defineMetric), so the
//    full stat name is "wasmcustom.<name>".
// 2. Tag extraction (envoy.config.metrics.v3.StatsConfig.stats_tags, TagSpecifier.regex) runs on
//    the full name: each regex is searched independently in the original name; the first capture
//    group is the part removed from the name, the second (else the first) the tag's value. After
//    all of them, the removed parts are cut out, giving the "tag-extracted name".
// 3. The Prometheus formatter (source/server/admin/prometheus_stats.cc, metricName) strips a
//    registered custom namespace and then does NOT add the "envoy_" prefix; every character
//    outside [a-zA-Z0-9_] becomes "_" (names of custom stats starting with a digit are dropped).
//
// Envoy stops there: counters keep their names (no "_total"), histograms keep the recorded unit.
// With `conventions`, this host also applies Prometheus's naming conventions (counters end in
// "_total"; a histogram whose name ends in the unit "_us"/"_microseconds" is exported in seconds),
// which the local sidecar uses so that `promtool check metrics` passes on its output.
import type { HistogramValue, MetricKind, MetricSnapshot } from "./metrics.js";

/** Envoy's stat namespace of Wasm-defined metrics. */
export const WASM_CUSTOM_NAMESPACE = "wasmcustom";

/** One envoy.config.metrics.v3.TagSpecifier with a regex (RE2 syntax; the subset JavaScript shares). */
export interface TagSpecifier {
  tagName: string;
  regex: string;
}

export interface PrometheusOptions {
  /** Prepended to every exported name (e.g. "wasm_"). Default "". */
  prefix?: string;
  /** Envoy's stats_config.stats_tags, matched against "<namespace>.<name>". Default none. */
  tags?: readonly TagSpecifier[];
  /** The custom stat namespace the metrics live in (Envoy: "wasmcustom" for a Wasm module's
   *  metrics), seen by the tag regexes and stripped from the exported name. Default none. */
  namespace?: string;
  /** Apply Prometheus naming conventions Envoy does not (see the file comment). Default false. */
  conventions?: boolean;
  /** What defined the metrics, for the HELP lines. Default "proxy-wasm". */
  origin?: string;
}

/** A metric name made valid for Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*, other characters become "_". */
export function prometheusName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/** A label name made valid for Prometheus: [a-zA-Z_][a-zA-Z0-9_]*. */
function labelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escaped as the format requires (backslash and line feed). */
function helpText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatNumber(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

interface CompiledTag {
  label: string;
  regex: RegExp;
}

/** Compiles tag specifiers; throws naming the specifier whose regex is invalid or has no group. */
export function compileTags(tags: readonly TagSpecifier[]): CompiledTag[] {
  return tags.map((t) => {
    let regex: RegExp;
    try {
      regex = new RegExp(t.regex, "d");
    } catch (e) {
      throw new Error(`stats tag ${JSON.stringify(t.tagName)}: invalid regex ${JSON.stringify(t.regex)}: ${(e as Error).message}`);
    }
    if (!/\((?!\?)/.test(t.regex)) throw new Error(`stats tag ${JSON.stringify(t.tagName)}: the regex needs a capture group`);
    return { label: labelName(t.tagName), regex };
  });
}

/**
 * Envoy's tag extraction of `fullName`: the tag-extracted name and the tags, in specifier order.
 * A tag whose regex does not match (or whose first group did not take part) is absent.
 */
export function extractTags(fullName: string, tags: readonly CompiledTag[]): { name: string; labels: [string, string][] } {
  const labels: [string, string][] = [];
  const removed = new Array<boolean>(fullName.length).fill(false);
  for (const tag of tags) {
    const m = tag.regex.exec(fullName);
    const span = m?.indices?.[1];
    if (m === null || span === undefined) continue;
    labels.push([tag.label, m[2] ?? m[1]!]);
    for (let i = span[0]; i < span[1]; i++) removed[i] = true;
  }
  let name = "";
  for (let i = 0; i < fullName.length; i++) if (!removed[i]) name += fullName[i];
  return { name, labels };
}

/** A histogram unit suffix that `conventions` turns into seconds, with the factor. */
const TIME_UNITS: readonly [RegExp, number][] = [
  [/_(us|microseconds)$/, 1e6],
  [/_(ms|milliseconds)$/, 1e3],
];

interface Series {
  labels: [string, string][];
  snapshot: MetricSnapshot;
}

interface Family {
  name: string;
  kind: MetricKind;
  /** Recorded units per exported unit (histograms in microseconds exported in seconds: 1e6). */
  divisor: number;
  sources: Set<string>;
  series: Series[];
}

function renderLabels(labels: readonly [string, string][], extra?: [string, string]): string {
  const all = extra === undefined ? labels : [...labels, extra];
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${labelValue(v)}"`).join(",")}}`;
}

function renderHistogram(lines: string[], name: string, labels: readonly [string, string][], h: HistogramValue, divisor: number): void {
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i]!;
    lines.push(`${name}_bucket${renderLabels(labels, ["le", formatNumber(h.bounds[i]! / divisor)])} ${cumulative}`);
  }
  lines.push(`${name}_bucket${renderLabels(labels, ["le", "+Inf"])} ${h.count}`);
  lines.push(`${name}_sum${renderLabels(labels)} ${formatNumber(h.sum / divisor)}`);
  lines.push(`${name}_count${renderLabels(labels)} ${h.count}`);
}

/**
 * Renders metrics as Prometheus text. `options` may be the bare prefix (as before). Series whose
 * tag-extracted names coincide form one metric family with one HELP and TYPE line; a series
 * whose kind differs from its family's is left out (Prometheus cannot hold both).
 */
export function toPrometheusText(metrics: readonly MetricSnapshot[], options: string | PrometheusOptions = ""): string {
  const opts: PrometheusOptions = typeof options === "string" ? { prefix: options } : options;
  const tags = compileTags(opts.tags ?? []);
  const ns = opts.namespace ?? "";
  const families = new Map<string, Family>();
  for (const m of metrics) {
    const full = ns === "" ? m.name : `${ns}.${m.name}`;
    const extracted = extractTags(full, tags);
    let base = ns !== "" && extracted.name.startsWith(`${ns}.`) ? extracted.name.slice(ns.length + 1) : extracted.name;
    let divisor = 1;
    if (opts.conventions === true) {
      if (m.kind === "counter" && !/_total$/.test(prometheusName(base))) base += "_total";
      if (m.kind === "histogram") {
        for (const [unit, factor] of TIME_UNITS) {
          if (unit.test(base)) {
            base = base.replace(unit, "_seconds");
            divisor = factor;
            break;
          }
        }
      }
    }
    const name = prometheusName((opts.prefix ?? "") + base);
    let family = families.get(name);
    if (family === undefined) {
      family = { name, kind: m.kind, divisor, sources: new Set(), series: [] };
      families.set(name, family);
    }
    if (family.kind !== m.kind) continue;
    family.sources.add(m.name);
    family.series.push({ labels: extracted.labels, snapshot: m });
  }
  const lines: string[] = [];
  for (const f of families.values()) {
    const sources = [...f.sources];
    const from = sources.length === 1 ? JSON.stringify(sources[0]) : `${JSON.stringify(sources[0])} and ${sources.length - 1} more`;
    const unit = f.divisor === 1 ? "" : ` (recorded in 1/${f.divisor} s, exported in seconds)`;
    lines.push(`# HELP ${f.name} ${helpText(`${opts.origin ?? "proxy-wasm"} ${f.kind} ${from}${unit}`)}`);
    lines.push(`# TYPE ${f.name} ${f.kind}`);
    for (const s of f.series) {
      if (s.snapshot.histogram === undefined) lines.push(`${f.name}${renderLabels(s.labels)} ${formatNumber(s.snapshot.value)}`);
      else renderHistogram(lines, f.name, s.labels, s.snapshot.histogram, f.divisor);
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
