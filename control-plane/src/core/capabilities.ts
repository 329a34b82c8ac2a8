// What a sidecar's filter says it enforces or reports beyond the base contract (proto
// Hello.capabilities). A sidecar counts as enforcing a decision field only when its hello names
// it: an older filter skips unknown fields silently and names nothing.

/** The names this control plane knows; a hello's other names (a newer filter's) are ignored. */
export const KNOWN_CAPABILITIES = [
  /** Enforces DecisionSet.shed_fraction and ClusterDecision.shed_fraction. */
  "shed",
  /** Reports ClusterWindow.upstream_load. */
  "upstream_load",
  /** Enforces DecisionSet.halt_mode "immediate" (ends response streams in flight); without it a
   *  filter enforces every halt as a drain. */
  "halt_immediate",
  /** Fills Hello.disconnected_ms and fallback_ms (how long it ran without a live control plane
   *  before this hello, and of that on its local fallback breakers). */
  "fallback_time",
  /** Reports ClusterWindow.streams (TTFT, TPOT, max gap and cuts of streamed responses); without
   *  it the stream objectives (slo.ttft_ms, slo.tpot_ms) have no evidence from that sidecar. */
  "streams",
  /** Reports ClusterWindow.sent (requests counted when they start: the offered load, which the
   *  completed requests lag while answers grow slower). */
  "sent",
  /** Reports TelemetryReport.sources (its sketch of who sends the traffic). */
  "sources",
  /** Enforces DecisionSet.source_limits (a local 429 for a limited source's refused requests). */
  "source_limits",
] as const;
export type Capability = (typeof KNOWN_CAPABILITIES)[number];

/** The known names among a hello's capabilities, each once, in KNOWN_CAPABILITIES order. */
export function knownCapabilities(names: readonly string[]): Capability[] {
  return KNOWN_CAPABILITIES.filter((c) => names.includes(c));
}
