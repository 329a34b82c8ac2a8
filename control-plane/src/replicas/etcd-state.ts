// The control plane's shared state in etcd: the keys, and the few operations replicas need on
// them. Every key starts with the configured prefix (etcd.prefix, e.g. "/autoglm/"):
//
//   state/decisions            the last published decision set   {type:"decisions", atMs, decisions, origin}
//   state/halt                 the halt                           {type:"halt", atMs, halted, reason, actor, origin}
//   state/overrides/<cluster>  the cluster's last override        {type:"override", atMs, override, origin}
//                              (state "auto": back to the policy; kept, so watchers see who did it)
//   state/rollback             the rollback pinned, or its end    {type:"rollback" | "rollback_end", ...}
//   state/trigger-clears/<rule> the last clear by hand of a rule  {type:"trigger", event: cleared, ...}
//   state/source-limits/<source> a source's last limit change    {type:"source_limit", limit, cause: set | removed | expired, ...}
//                              (<source>: URI-encoded; "set" with until_ms still ahead: in force)
//   state/triggers             every rule's state (holds, firings, clearing hysteresis; leader only)
//   state/incidents/<id>       an incident as it now is           {type:"incident", incident, ...} (leader only)
//   state/error-budget/<start> an error-budget period bucket's counts, every scope {type:"error_budget", ...}
//                              (<start>: the bucket's start, epoch ms, 16 digits; leader only)
//   state/burn-windows/<start> an alert-window minute bucket's counts, every scope, kept for the
//                              longest alert window (6 h): 360 keys; the changed ones written
//                              every 10 s (leader only; a successor continues a burn in progress)
//   state/generation           the decision-version generation counter (decimal text)
//   state/assessment           the leader's compact assessment (core/assessment.ts), for a successor
//   history/decisions/<version> every published decision set, the newest HISTORY_KEPT (16 digits;
//                              a rollback on any replica looks versions up here: etcd-decision-history.ts)
//   election/leader/<lease>    the leader election (etcd3's Election; a key per candidate,
//                              bound to its lease; the oldest one leads)
//
// Values are the audit log's records (audit/records.ts) plus `origin`, the replica that wrote
// them, and are checked with the same shape checks when read: a damaged value is skipped and
// reported, never trusted. Revisions are etcd's (they order every change of the cluster).
// "leader only": written fenced by the leader's election key, as decision sets are: a leader whose
// lease expired cannot overwrite its successor's.
import { Range, type Etcd3, type IKeyValue, type Watcher } from "etcd3";
import { mergeBudget, parseRecord, type AuditRecord } from "../audit/records.js";
import { storedForm } from "../audit/record-codec.js";
import { encodeAssessment, parseAssessment, type Assessment } from "../core/assessment.js";
import type { PersistedBudget } from "../core/error-budget/types.js";
import { WINDOW_BUCKET_MS } from "../core/error-budget/tracker.js";
import type { Incident } from "../core/incidents/incident.js";
import { encodeTriggerStates, parseTriggerStates, type SharedTriggerStates } from "../core/triggers/shared-states.js";
import type { DecisionSet, PersistedState } from "../core/types.js";

export type DecisionsRecord = Extract<AuditRecord, { kind: "decisions" }>;
/** A change any replica makes for an operator: an override, the halt (a halt or a resume record
 *  under one key), a rollback or its end, a trigger cleared by hand, a source limit set, removed
 *  or expired. */
export type ControlRecord = Extract<AuditRecord, { kind: "override" | "halt" | "resume" | "rollback" | "rollback_end" | "source_limit" }> | TriggerClearRecord;
export type TriggerClearRecord = Extract<AuditRecord, { kind: "trigger" }>;
export type IncidentRecord = Extract<AuditRecord, { kind: "incident" }>;
export type BudgetRecord = Extract<AuditRecord, { kind: "error_budget" }>;

/** Decision versions and bucket starts in keys: 16 digits (2^53 has 16), so keys sort as numbers. */
export function keyNumber(n: number): string {
  return String(Math.floor(n)).padStart(16, "0");
}

/** Whether a trigger record is a clear by hand (the records of firings and of clears by the
 *  condition stay in the local audit log; the rules' states are in state/triggers). */
export function isTriggerClear(record: AuditRecord): record is TriggerClearRecord {
  return record.kind === "trigger" && record.event.kind === "cleared" && record.event.clearedBy !== undefined && record.event.clearedBy !== "condition";
}

/** The shared key a control record is written to. */
export function controlKey(record: ControlRecord): string {
  switch (record.kind) {
    case "override":
      return `state/overrides/${record.override.cluster}`;
    case "halt":
    case "resume":
      return "state/halt";
    case "rollback":
    case "rollback_end":
      return "state/rollback";
    case "trigger":
      return `state/trigger-clears/${record.event.trigger}`;
    case "source_limit":
      return `${SOURCE_LIMITS}${encodeURIComponent(record.limit.source)}`;
  }
}

/** Where source limits live: one key per source (an identity may hold ':', '[' or '/'). */
const SOURCE_LIMITS = "state/source-limits/";

/** What is in etcd at one revision. */
export interface SharedSnapshot {
  state: PersistedState;
  /** The last clear by hand of each rule (a new leader applies those whose firing is in force:
   *  one committed just before the last leader died). */
  triggerClears: TriggerClearRecord[];
  /** The generation counter (0 when never written). */
  generation: number;
  /** The revision the snapshot was read at: a watch from revision + 1 misses nothing. */
  revision: number;
  /** Values skipped as damaged, each "key: problem". */
  problems: string[];
}

/** One committed change of a shared key, as a watch delivers it. */
export type SharedChange =
  | { kind: "decisions"; record: DecisionsRecord; origin: string; revision: number }
  | { kind: "control"; record: ControlRecord; origin: string; revision: number }
  | { kind: "generation"; generation: number; revision: number }
  | { kind: "assessment"; assessment: Assessment; revision: number }
  | { kind: "triggers"; states: SharedTriggerStates; revision: number }
  | { kind: "incident"; incident: Incident; revision: number }
  | { kind: "budget"; budget: PersistedBudget; revision: number };

export class EtcdState {
  constructor(
    private readonly client: Etcd3,
    /** The configured etcd.prefix, e.g. "/autoglm/". */
    readonly prefix: string,
    /** This replica's id, written as `origin` with every value. */
    readonly origin: string,
  ) {}

  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Reads every shared key at one revision. */
  async load(): Promise<SharedSnapshot> {
    const response = await this.client.getAll().prefix(this.key("state/")).exec();
    const snapshot: SharedSnapshot = { state: { overrides: [] }, triggerClears: [], generation: 0, revision: Number(response.header.revision), problems: [] };
    const incidents: Incident[] = [];
    for (const kv of response.kvs) {
      const change = this.parse(kv);
      if (typeof change === "string") {
        snapshot.problems.push(change);
        continue;
      }
      if (change.kind === "decisions") snapshot.state.decisions = change.record.decisions;
      else if (change.kind === "assessment") snapshot.state.assessment = change.assessment;
      else if (change.kind === "generation") snapshot.generation = change.generation;
      else if (change.kind === "triggers") snapshot.state.triggerStates = change.states;
      else if (change.kind === "incident") incidents.push(change.incident);
      else if (change.kind === "budget") {
        if (change.budget.bucketMs === WINDOW_BUCKET_MS) snapshot.state.burnWindows = mergeBudget(snapshot.state.burnWindows, change.budget, Number.NEGATIVE_INFINITY);
        else snapshot.state.errorBudget = mergeBudget(snapshot.state.errorBudget, change.budget, Number.NEGATIVE_INFINITY);
      }
      else if (change.kind === "control") {
        const r = change.record;
        if (r.kind === "override") {
          if (r.override.state !== "auto") snapshot.state.overrides.push(r.override);
        } else if (r.kind === "rollback") snapshot.state.rollback = r.rollback;
        else if (r.kind === "trigger") snapshot.triggerClears.push(r);
        else if (r.kind === "source_limit") {
          // Limits whose TTL has passed are dropped by the control plane when it restores them.
          if (r.cause === "set") snapshot.state.sourceLimits = [...(snapshot.state.sourceLimits ?? []), r.limit];
        }
        else if (r.kind === "halt" || r.kind === "resume") {
          snapshot.state.halt = { halted: r.kind === "halt", reason: r.reason, actor: r.actor, atMs: r.atMs, ...(r.kind === "halt" && r.mode !== undefined ? { mode: r.mode } : {}) };
        }
      }
    }
    if (incidents.length > 0) snapshot.state.incidents = incidents.sort((a, b) => a.startedAtMs - b.startedAtMs);
    return snapshot;
  }

  /** Commits a control record (an override, the halt, a rollback, a trigger's clear by hand);
   *  resolves to the revision of the commit. */
  async putControl(record: ControlRecord): Promise<number> {
    const response = await this.client.put(this.key(controlKey(record))).value(this.value(record)).exec();
    return Number(response.header.revision);
  }

  /** Every rule's state, while `fenceKey` exists (as putDecisions). */
  async putTriggers(states: SharedTriggerStates, fenceKey: string): Promise<{ committed: boolean; revision: number }> {
    return this.fenced(fenceKey, this.client.put(this.key("state/triggers")).value(encodeTriggerStates(states)));
  }

  /** An incident as it now is, while `fenceKey` exists; `dropped`: incidents no longer kept
   *  (beyond MAX_INCIDENTS), deleted in the same transaction. */
  async putIncident(record: IncidentRecord, dropped: readonly string[], fenceKey: string): Promise<{ committed: boolean; revision: number }> {
    return this.fenced(
      fenceKey,
      this.client.put(this.key(`state/incidents/${record.incident.id}`)).value(this.value(record)),
      ...dropped.map((id) => this.client.delete().key(this.key(`state/incidents/${id}`))),
    );
  }

  /**
   * The error-budget buckets of `record` (one key per bucket start, every scope in it), while
   * `fenceKey` exists; buckets that ended a period before record.atMs are deleted in the same
   * transaction, so the keys stay bounded by the period.
   */
  async putBudget(record: BudgetRecord, fenceKey: string): Promise<{ committed: boolean; revision: number }> {
    return this.putBuckets("state/error-budget/", record, fenceKey);
  }

  /** The alert windows' minute buckets (core/error-budget/tracker.ts persistedWindows), as
   *  putBudget: one key per minute, those older than the longest window deleted. */
  async putBurnWindows(record: BudgetRecord, fenceKey: string): Promise<{ committed: boolean; revision: number }> {
    if (record.budget.bucketMs !== WINDOW_BUCKET_MS) throw new RangeError(`burn windows: expected ${WINDOW_BUCKET_MS} ms buckets, got ${record.budget.bucketMs}`);
    return this.putBuckets("state/burn-windows/", record, fenceKey);
  }

  private async putBuckets(dir: string, record: BudgetRecord, fenceKey: string): Promise<{ committed: boolean; revision: number }> {
    const { bucketMs, periodMs, buckets } = record.budget;
    const byStart = new Map<number, typeof buckets>();
    for (const b of buckets) byStart.set(b.startMs, [...(byStart.get(b.startMs) ?? []), b]);
    const prefix = this.key(dir);
    const puts = [...byStart].map(([startMs, group]) =>
      this.client.put(`${prefix}${keyNumber(startMs)}`).value(this.value({ kind: "error_budget", atMs: record.atMs, budget: { bucketMs, periodMs, buckets: group } })),
    );
    const expired = this.client.delete().range(new Range(prefix, `${prefix}${keyNumber(Math.max(0, record.atMs - periodMs - bucketMs))}`));
    return this.fenced(fenceKey, expired, ...puts);
  }

  private value(record: AuditRecord): string {
    return JSON.stringify({ ...storedForm(record), origin: this.origin });
  }

  private async fenced(fenceKey: string, ...ops: Parameters<ReturnType<Etcd3["if"]>["then"]>): Promise<{ committed: boolean; revision: number }> {
    const response = await this.client.if(fenceKey, "Create", ">", 0).then(...ops).commit();
    return { committed: response.succeeded, revision: Number(response.header.revision) };
  }

  /**
   * Commits a decision set only while `fenceKey` (the leader's election key, bound to its lease)
   * exists: a leader whose lease expired cannot overwrite its successor's sets. Resolves to
   * whether it was committed, and the revision.
   */
  async putDecisions(record: DecisionsRecord, fenceKey: string): Promise<{ committed: boolean; revision: number }> {
    const value = this.value(record);
    return this.fenced(
      fenceKey,
      this.client.put(this.key("state/decisions")).value(value),
      // The history a rollback on any replica looks versions up in (etcd-decision-history.ts).
      this.client.put(this.key(`history/decisions/${keyNumber(record.decisions.version)}`)).value(value),
    );
  }

  /** Writes the leader's assessment only while `fenceKey` exists (as putDecisions). */
  async putAssessment(assessment: Assessment, fenceKey: string): Promise<{ committed: boolean; revision: number }> {
    const response = await this.client
      .if(fenceKey, "Create", ">", 0)
      .then(this.client.put(this.key("state/assessment")).value(encodeAssessment(assessment)))
      .commit();
    return { committed: response.succeeded, revision: Number(response.header.revision) };
  }

  /**
   * Sets the generation counter to max(counter + 1, floor) while `fenceKey` exists, atomically
   * (compare-and-swap on the counter's revision, retried on a race). With `fenceKey` undefined,
   * raises the counter to at least `floor` and never lowers it (a replica registering the
   * generation it serves in, so every later leader term starts above it). Resolves to the
   * counter's new value and the commit revision; undefined when the fence is gone.
   */
  async bumpGeneration(floor: number, fenceKey?: string): Promise<{ generation: number; revision: number } | undefined> {
    const key = this.key("state/generation");
    for (;;) {
      const current = await this.client.get(key).exec();
      const kv = current.kvs[0];
      // A damaged counter counts as 0: the floor (above the published set and the clock) still holds.
      const parsed = kv === undefined ? 0 : parseGeneration(kv.value.toString("utf8"));
      const stored = Number.isNaN(parsed) ? 0 : parsed;
      const next = fenceKey === undefined ? Math.max(stored, floor) : Math.max(stored + 1, floor);
      if (fenceKey === undefined && next === stored) return { generation: stored, revision: Number(current.header.revision) };
      let txn = this.client.if(key, "Mod", "==", kv === undefined ? 0 : Number(kv.mod_revision));
      if (fenceKey !== undefined) txn = txn.and(fenceKey, "Create", ">", 0);
      const response = await txn.then(this.client.put(key).value(String(next))).commit();
      if (response.succeeded) return { generation: next, revision: Number(response.header.revision) };
      if (fenceKey !== undefined && !(await this.client.get(fenceKey).exists())) return undefined;
    }
  }

  /**
   * Watches every shared key from revision `fromRevision` on. `onChange` gets each committed
   * change in revision order; `onProblem` a damaged value (skipped) or a watch error.
   */
  async watch(fromRevision: number, onChange: (change: SharedChange) => void, onProblem: (problem: string) => void): Promise<Watcher> {
    const watcher = await this.client.watch().prefix(this.key("state/")).startRevision(String(fromRevision)).create();
    watcher.on("put", (kv) => {
      const change = this.parse(kv);
      if (typeof change === "string") onProblem(change);
      else onChange(change);
    });
    watcher.on("error", (error: Error) => onProblem(`watch: ${error.message}`));
    return watcher;
  }

  /** A key-value of the state as a change, or "key: problem" when damaged or unknown. */
  private parse(kv: IKeyValue): SharedChange | string {
    const key = kv.key.toString("utf8");
    const name = key.slice(this.prefix.length);
    const revision = Number(kv.mod_revision);
    const text = kv.value.toString("utf8");
    if (name === "state/generation") {
      const generation = parseGeneration(text);
      return Number.isNaN(generation) ? `${key}: expected a non-negative integer, got ${JSON.stringify(text.slice(0, 40))}` : { kind: "generation", generation, revision };
    }
    if (name === "state/assessment") {
      const checked = parseAssessment(text);
      return checked.ok ? { kind: "assessment", assessment: checked.assessment, revision } : `${key}: ${checked.error}`;
    }
    if (name === "state/triggers") {
      const checked = parseTriggerStates(text);
      return checked.ok ? { kind: "triggers", states: checked.states, revision } : `${key}: ${checked.error}`;
    }
    const parsed = parseRecord(text);
    if (!parsed.ok) return `${key}: ${parsed.error}`;
    const record = parsed.record;
    const origin = (JSON.parse(text) as { origin?: unknown }).origin;
    const from = typeof origin === "string" ? origin : "";
    if (name === "state/decisions" && record.kind === "decisions") return { kind: "decisions", record, origin: from, revision };
    if (name === "state/halt" && (record.kind === "halt" || record.kind === "resume")) return { kind: "control", record, origin: from, revision };
    if (name.startsWith("state/overrides/") && record.kind === "override" && record.override.cluster === name.slice("state/overrides/".length)) {
      return { kind: "control", record, origin: from, revision };
    }
    if (name === "state/rollback" && (record.kind === "rollback" || record.kind === "rollback_end")) return { kind: "control", record, origin: from, revision };
    if (name.startsWith("state/trigger-clears/") && isTriggerClear(record) && record.event.trigger === name.slice("state/trigger-clears/".length)) {
      return { kind: "control", record, origin: from, revision };
    }
    if (name.startsWith(SOURCE_LIMITS) && record.kind === "source_limit" && encodeURIComponent(record.limit.source) === name.slice(SOURCE_LIMITS.length)) {
      return { kind: "control", record, origin: from, revision };
    }
    if (name.startsWith("state/incidents/") && record.kind === "incident" && record.incident.id === name.slice("state/incidents/".length)) {
      return { kind: "incident", incident: record.incident, revision };
    }
    if (name.startsWith("state/error-budget/") && record.kind === "error_budget" && record.budget.bucketMs !== WINDOW_BUCKET_MS) return { kind: "budget", budget: record.budget, revision };
    if (name.startsWith("state/burn-windows/") && record.kind === "error_budget" && record.budget.bucketMs === WINDOW_BUCKET_MS) return { kind: "budget", budget: record.budget, revision };
    return `${key}: a ${record.kind} record does not belong under this key`;
  }
}

function parseGeneration(text: string): number {
  return /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
}

/** The newer of two decision sets by version (the one to keep). */
export function newerDecisions(a: DecisionSet | undefined, b: DecisionSet | undefined): DecisionSet | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.version > a.version ? b : a;
}
