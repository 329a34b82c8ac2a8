// Bounds on what a sidecar may send, so that no single stream can grow the control plane's
// memory, its audit log, its log or its /v1/sidecars view without limit.
//
// Hello strings (node_id, zone, filter_version, cluster names and their count) and report
// cluster names and counts over their bound are REFUSED: the stream is closed with
// INVALID_ARGUMENT naming the field and the bound. They identify the sidecar in every view, metric
// and audit record; truncating them could silently merge two sidecars and hide a
// misconfiguration, and no sidecar configured as the filter expects comes near these bounds.
// A NACK reason over its bound is TRUNCATED with a marker: the NACK itself (which version was
// refused) must still reach the operator, and the start of the reason names the field.
//
// Lengths are counted in UTF-16 code units (JavaScript string length).

/** Longest node_id accepted (an Istio node id "sidecar~ip~pod.namespace~domain" fits easily). */
export const MAX_NODE_ID_CHARS = 512;
/** Longest zone and filter_version accepted. */
export const MAX_LABEL_CHARS = 128;
/** Longest cluster name accepted (Istio's "outbound|port|subset|fqdn" fits easily). */
export const MAX_CLUSTER_NAME_CHARS = 512;
/** Most cluster names in a Hello, and cluster entries in a report. */
export const MAX_CLUSTERS = 1024;
/** A NACK reason is cut to this many characters, plus the truncation marker. */
export const MAX_NACK_REASON_CHARS = 1024;
/** Largest SidecarMessage the gRPC server accepts unless configured, bytes. A report of 100
 *  clusters with full histograms is about 250 KiB. */
export const DEFAULT_MAX_RECEIVE_BYTES = 1024 * 1024;

/** Undefined when `value` fits in `max` characters, else an error naming the field and bound. */
export function checkLength(field: string, value: string, max: number): string | undefined {
  return value.length <= max ? undefined : `${field}: ${value.length} characters exceed the limit of ${max}`;
}

/** The Hello fields that are bounded, as the session reads them. */
export interface HelloStrings {
  nodeId: string;
  zone: string;
  filterVersion: string;
  clusters: readonly string[];
}

/** Undefined when every string of a Hello is within its bound, else the first problem. */
export function checkHello(h: HelloStrings): string | undefined {
  if (h.clusters.length > MAX_CLUSTERS) return `hello.clusters: ${h.clusters.length} entries exceed the limit of ${MAX_CLUSTERS}`;
  const tooLong =
    checkLength("hello.node_id", h.nodeId, MAX_NODE_ID_CHARS) ??
    checkLength("hello.zone", h.zone, MAX_LABEL_CHARS) ??
    checkLength("hello.filter_version", h.filterVersion, MAX_LABEL_CHARS);
  if (tooLong !== undefined) return tooLong;
  for (let i = 0; i < h.clusters.length; i++) {
    const problem = checkLength(`hello.clusters[${i}]`, h.clusters[i]!, MAX_CLUSTER_NAME_CHARS);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * `text` cut to `max` characters with a marker naming the original length, e.g.
 * "clusters[0].weight: … [truncated, 1048576 characters]"; unchanged when it fits. Never splits
 * a surrogate pair.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… [truncated, ${text.length} characters]`;
}
