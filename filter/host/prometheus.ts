// Prometheus text exposition (format 0.0.4) of the host's metrics.
import type { MetricSnapshot } from "./metrics.js";

/** A metric name made valid for Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*, other characters become "_". */
export function prometheusName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[a-zA-Z_:]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function formatNumber(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

/** Renders metrics as Prometheus text; `prefix` is prepended to every name (e.g. "wasm_"). */
export function toPrometheusText(metrics: readonly MetricSnapshot[], prefix = ""): string {
  const lines: string[] = [];
  for (const m of metrics) {
    const name = prometheusName(prefix + m.name);
    lines.push(`# HELP ${name} proxy-wasm ${m.kind} ${JSON.stringify(m.name)}`);
    lines.push(`# TYPE ${name} ${m.kind}`);
    if (m.histogram === undefined) {
      lines.push(`${name} ${formatNumber(m.value)}`);
      continue;
    }
    const h = m.histogram;
    let cumulative = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cumulative += h.counts[i]!;
      lines.push(`${name}_bucket{le="${formatNumber(h.bounds[i]!)}"} ${cumulative}`);
    }
    lines.push(`${name}_bucket{le="+Inf"} ${h.count}`);
    lines.push(`${name}_sum ${formatNumber(h.sum)}`);
    lines.push(`${name}_count ${h.count}`);
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
