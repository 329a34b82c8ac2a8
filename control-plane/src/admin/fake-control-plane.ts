// A small in-memory stand-in of the ControlPlane for the admin, dashboard and alert tests: it
// keeps cluster states and a decision set, applies overrides/halts, and lets a test open a
// breaker (which emits the same events the real one does).
import { EventEmitter } from "node:events";
import type {
  ClusterStatus,
  ClusterWindowStats,
  ControlPlaneEvents,
  DecisionSet,
  Override,
  SidecarStatus,
} from "../core/types.js";
import type { GoneSidecar } from "../core/gone-sidecars.js";
import type { ControlPlaneView } from "./deps.js";

export class FakeControlPlane implements ControlPlaneView {
  private readonly events = new EventEmitter();
  private readonly statuses = new Map<string, ClusterStatus>();
  private version = 1;
  private halted = false;
  private haltReason = "";
  readonly sidecars: SidecarStatus[] = [];
  /** What goneSidecars() answers (a test fills it). */
  readonly gone: GoneSidecar[] = [];
  readonly calls: { method: string; args: unknown[] }[] = [];

  constructor(
    clusters: readonly { name: string; baseWeight: number }[],
    private readonly now: () => number = Date.now,
  ) {
    for (const c of clusters) {
      this.statuses.set(c.name, {
        cluster: c.name,
        baseWeight: c.baseWeight,
        state: { kind: "closed", since: now() },
        weight: c.baseWeight,
        score: 0.05,
        hard: false,
        reasons: [],
        scorers: {},
        anomalousWindows: 0,
        capacity: { baselineP50Ms: Number.NaN, safeRps: 0, kneeRps: Number.POSITIVE_INFINITY, limitRps: 0 },
        recent: [],
      });
    }
  }

  on<K extends keyof ControlPlaneEvents>(event: K, listener: (e: ControlPlaneEvents[K]) => void): this {
    this.events.on(event, listener);
    return this;
  }
  off<K extends keyof ControlPlaneEvents>(event: K, listener: (e: ControlPlaneEvents[K]) => void): this {
    this.events.off(event, listener);
    return this;
  }
  emit<K extends keyof ControlPlaneEvents>(event: K, payload: ControlPlaneEvents[K]): void {
    this.events.emit(event, payload);
  }

  clusterStatuses(): ClusterStatus[] {
    return [...this.statuses.values()].map((s) => ({ ...s, recent: [...s.recent] }));
  }
  sidecarStatuses(): SidecarStatus[] {
    return [...this.sidecars];
  }
  goneSidecars(): GoneSidecar[] {
    return [...this.gone];
  }
  currentDecisions(): DecisionSet {
    return {
      version: this.version,
      issuedAtMs: this.now(),
      ttlMs: 30_000,
      halted: this.halted,
      haltReason: this.haltReason,
      clusters: [...this.statuses.values()].map((s) => ({
        cluster: s.cluster,
        state: s.state.kind,
        weight: s.weight,
        probeFraction: s.state.kind === "half_open" ? 0.1 : 1,
        retryAfterS: s.state.kind === "open" ? 5 : 0,
        reason: s.reasons.join("; "),
        anomalyScore: s.score,
      })),
    };
  }

  setOverride(override: Override): void {
    this.calls.push({ method: "setOverride", args: [override] });
    const status = this.statuses.get(override.cluster);
    if (status === undefined) throw Object.assign(new Error(`unknown cluster ${override.cluster}`), { code: "CP_ERR_OVERRIDE" });
    status.override = override;
    this.bump();
  }
  halt(reason: string, actor: string): void {
    this.calls.push({ method: "halt", args: [reason, actor] });
    this.halted = true;
    this.haltReason = reason;
    this.bump();
    this.emit("halt", { halted: true, reason, actor, atMs: this.now() });
  }
  resume(reason: string, actor: string): void {
    this.calls.push({ method: "resume", args: [reason, actor] });
    this.halted = false;
    this.haltReason = "";
    this.bump();
    this.emit("halt", { halted: false, reason, actor, atMs: this.now() });
  }

  /** Appends a merged window to a cluster's recent history. */
  addWindow(cluster: string, window: Partial<ClusterWindowStats>): void {
    const status = this.statuses.get(cluster)!;
    status.recent.push({
      cluster,
      windowStartMs: this.now(),
      windowLengthMs: 1000,
      requests: 100,
      errors5xx: 0,
      localRejects: 0,
      timeouts: 0,
      resets: 0,
      grpcErrors: 0,
      errorRate: 0,
      p50Ms: 180,
      p95Ms: 500,
      p99Ms: 800,
      rps: 100,
      reporters: 2,
      ...window,
    });
  }

  /** Opens a cluster's breaker as the detectors would, emitting transition and decisions. */
  openBreaker(cluster: string, reason: string, score = 0.93): void {
    const status = this.statuses.get(cluster)!;
    const now = this.now();
    const from = status.state.kind;
    status.state = { kind: "open", since: now, until: now + 5000, reason, openings: 1 };
    status.weight = 0;
    status.score = score;
    status.hard = true;
    status.reasons = [reason];
    this.bump();
    this.emit("transition", { cluster, from, to: "open", atMs: now, reason });
  }

  private bump(): void {
    this.version += 1;
    this.emit("decisions", this.currentDecisions());
  }
}
