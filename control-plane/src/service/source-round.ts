// Who sends the traffic, as a decision round sees it: each round's source flags and expired
// limits (audited, logged, emitted), the limits the round's decision set carries, and the limit
// a trigger rule with a limit_source action sets when it fires (core/sources/, core/triggers/).
import type { Logger } from "../../../lib/log.js";
import type { AuditRecord } from "../audit/records.js";
import type { DecisionEngine } from "../core/decision-engine.js";
import { triggerSourceLimit, type SourceMonitor } from "../core/sources/index.js";
import type { TriggerEvent } from "../core/triggers/index.js";
import type { ControlPlaneEvents } from "../core/types.js";
import type { TypedEmitter } from "../core/typed-emitter.js";

export interface SourceRoundDeps {
  sources: SourceMonitor;
  engine: Pick<DecisionEngine, "setSourceLimits">;
  /** Appends to the audit log (if any); the promise may be dropped. */
  record(record: AuditRecord): Promise<void>;
  emitter: TypedEmitter<ControlPlaneEvents>;
  log: Logger;
}

export class SourceRound {
  constructor(private readonly deps: SourceRoundDeps) {}

  /** Once per round, at atMs: flags (audited, logged, emitted), expired limits, and the limits
   *  the round's decision set carries. */
  run(atMs: number): void {
    const { sources, record, log, emitter } = this.deps;
    const round = sources.round(atMs);
    for (const flag of round.flags) {
      void record({ kind: "source_flag", atMs, flag });
      if (flag.kind === "flagged") log.warn({ source: flag.source, metric: flag.metric, value: flag.value, threshold: flag.threshold }, describeFlag(flag));
      else log.info({ source: flag.source }, `source ${JSON.stringify(flag.source)} is back within its thresholds`);
      emitter.emit("source_flag", flag);
    }
    for (const limit of round.expired) {
      void record({ kind: "source_limit", atMs, limit, cause: "expired" });
      log.info({ source: limit.source, action: limit.action }, "source limit expired");
      emitter.emit("source_limit", { cause: "expired", limit, atMs });
    }
    this.deps.engine.setSourceLimits(round.decisions);
  }

  /**
   * A rule with a limit_source action fired: its limit is set as an operator's is (validated,
   * audited source_limit "set" with actor "trigger <name>", emitted), and carried from the next
   * round's decision set. None is set (a warning) when the rule names no source and none is
   * flagged, or when the limit does not validate (e.g. 64 limits in force already).
   */
  limitFromTrigger(event: TriggerEvent, atMs: number): void {
    const { sources, log } = this.deps;
    const a = event.action;
    if (event.kind !== "fired" || a.kind !== "limit_source") return;
    const limit = triggerSourceLimit(a, event.trigger, event.values.reason, sources.topFlagged(), atMs);
    if (typeof limit === "string") {
      log.warn({ trigger: event.trigger }, limit);
      return;
    }
    try {
      sources.validate(limit, atMs);
    } catch (error) {
      log.warn({ trigger: event.trigger, source: limit.source, err: error }, `trigger ${event.trigger} fired but its source limit is refused`);
      return;
    }
    sources.setLimit(limit);
    void this.deps.record({ kind: "source_limit", atMs, limit, cause: "set" });
    log.warn({ trigger: event.trigger, source: limit.source, action: limit.action, cap_per_s: limit.capPerS, until_ms: limit.untilMs }, `trigger ${event.trigger} limits source ${JSON.stringify(limit.source)}`);
    this.deps.emitter.emit("source_limit", { cause: "set", limit, atMs });
    this.deps.engine.setSourceLimits(sources.decisions(atMs));
  }
}

/** A flag as a log line: "source \"10.0.0.7\": share 41.0 % above its threshold 12.5 %". */
function describeFlag(flag: { metric: "share" | "qps"; value: number; threshold: number; source: string }): string {
  const fmt = (x: number): string => (flag.metric === "share" ? `${(x * 100).toFixed(1)} %` : `${x.toFixed(1)} req/s`);
  return `source ${JSON.stringify(flag.source)}: ${flag.metric} ${fmt(flag.value)} above its threshold ${fmt(flag.threshold)}`;
}
