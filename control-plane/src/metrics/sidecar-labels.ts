// Bounded label values for per-sidecar series, so that the number of sidecars that ever
// connected does not grow /metrics: at most `limit` node ids have their own label value at a
// time, later ones share OTHER_LABEL, and a node's value is released (its series removed by the
// caller) once its last stream has disconnected.

/** The label value shared by the sidecars beyond the limit. */
export const OTHER_LABEL = "other";

export class SidecarLabels {
  /** Node id -> streams currently connected (only for nodes holding their own label value). */
  private readonly held = new Map<string, number>();
  /** Node id -> streams connected, for nodes beyond the limit. */
  private readonly overflow = new Map<string, number>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`metrics.maxSidecarLabels: expected an integer >= 0, got ${limit}`);
  }

  /** A stream of `nodeId` connected. */
  connected(nodeId: string): void {
    if (this.held.has(nodeId)) this.held.set(nodeId, this.held.get(nodeId)! + 1);
    else if (this.held.size < this.limit) this.held.set(nodeId, 1);
    else this.overflow.set(nodeId, (this.overflow.get(nodeId) ?? 0) + 1);
  }

  /**
   * A stream of `nodeId` disconnected. Returns the label value to remove when it was the node's
   * last stream and the node held its own value; undefined otherwise.
   */
  disconnected(nodeId: string): string | undefined {
    const held = this.held.get(nodeId);
    if (held !== undefined) {
      if (held > 1) {
        this.held.set(nodeId, held - 1);
        return undefined;
      }
      this.held.delete(nodeId);
      return nodeId;
    }
    const n = this.overflow.get(nodeId);
    if (n !== undefined) {
      if (n > 1) this.overflow.set(nodeId, n - 1);
      else this.overflow.delete(nodeId);
    }
    return undefined;
  }

  /** The label value of `nodeId`: its own while it holds one, else OTHER_LABEL. */
  label(nodeId: string): string {
    return this.held.has(nodeId) ? nodeId : OTHER_LABEL;
  }
}

/**
 * The `limit` entries with the largest values, each under its own labels, and the rest folded
 * into one entry (labels `other`, the largest of their values): for per-sidecar gauges.
 */
export function topWithOther<T>(items: readonly T[], value: (item: T) => number, limit: number): { item: T | undefined; value: number }[] {
  const sorted = [...items].sort((a, b) => value(b) - value(a));
  const out: { item: T | undefined; value: number }[] = sorted.slice(0, limit).map((item) => ({ item, value: value(item) }));
  if (sorted.length > limit) out.push({ item: undefined, value: value(sorted[limit]!) });
  return out;
}
