// The rules' state machines: fed the merged windows as they close (oldest first) and the time,
// each rule goes idle -> pending (its condition holds) -> fired (held for forMs) -> idle (cleared
// by itself after clearAfterMs of windows where it no longer holds, or by a human). Pure: no I/O,
// time comes in as nowMs. What the fired rules ask (`actions`, actions.ts combineActions) is kept
// in step with their states; the decision engine applies it.
import { ControlPlaneError } from "../errors.js";
import type { ClusterWindowStats } from "../types.js";
import { combineActions, noActions } from "./actions.js";
import { conditionLabel, conditionValue } from "./condition.js";
import { sameFiring, type SharedTriggerState, type SharedTriggerStates } from "./shared-states.js";
import type { FiredTrigger, FiringValues, TriggerActions, TriggerEvent, TriggerRule, TriggerState } from "./types.js";

/** A rule, its state and the last value it saw (GET /v1/triggers). */
export interface TriggerStatus {
  rule: TriggerRule;
  state: TriggerState;
  /** The condition's value in the newest window (undefined: no data there). */
  lastValue?: number;
  lastWindowStartMs?: number;
}

/** Seconds as text: "30 s", "2.5 s". */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** A value as text with up to 4 significant decimals. */
function figure(v: number): string {
  return String(Math.round(v * 10_000) / 10_000);
}

export class TriggerEngine {
  private readonly states = new Map<string, TriggerState>();
  private readonly last = new Map<string, { value?: number; windowStartMs: number }>();
  /** Peak value of a pending hold, by rule. */
  private readonly peaks = new Map<string, number>();
  /** What the fired rules ask, as of their states now (a new object at every change). */
  private combined: TriggerActions = noActions();

  constructor(readonly rules: readonly TriggerRule[]) {
    for (const r of rules) this.states.set(r.name, { kind: "idle" });
  }

  /** What the fired rules ask (actions.ts combineActions): clusters held open, the halt, shed
   *  fractions. Replaced, not changed in place, whenever a rule's state changes. */
  get actions(): TriggerActions {
    return this.combined;
  }

  private refresh(): void {
    this.combined = combineActions(this.firedRules());
  }

  /** Steps every rule over the windows that closed (each: every cluster's stats of one window,
   *  oldest first); returns the rules that fired or cleared, in order. */
  observe(windows: readonly (readonly ClusterWindowStats[])[], nowMs: number): TriggerEvent[] {
    const events: TriggerEvent[] = [];
    for (const window of windows) {
      const first = window[0];
      if (first === undefined) continue;
      const start = first.windowStartMs;
      const end = start + first.windowLengthMs;
      for (const rule of this.rules) {
        const value = conditionValue(rule.condition, window);
        this.last.set(rule.name, value === undefined ? { windowStartMs: start } : { value, windowStartMs: start });
        const event = this.step(rule, value, start, end, nowMs);
        if (event !== undefined) events.push(event);
      }
    }
    this.refresh();
    return events;
  }

  private step(rule: TriggerRule, value: number | undefined, start: number, end: number, nowMs: number): TriggerEvent | undefined {
    const holds = value !== undefined && value > rule.condition.above;
    let state = this.states.get(rule.name)!;
    if (state.kind === "fired") {
      if (holds) {
        if (state.falseSince !== undefined) this.states.set(rule.name, { ...state, falseSince: undefined });
        return undefined;
      }
      const falseSince = state.falseSince ?? start;
      if (rule.clear === "auto" && end - falseSince >= rule.clearAfterMs) {
        this.states.set(rule.name, { kind: "idle" });
        return { kind: "cleared", trigger: rule.name, action: rule.action, atMs: nowMs, values: state.fired, clearedBy: "condition" };
      }
      if (state.falseSince === undefined) this.states.set(rule.name, { ...state, falseSince });
      return undefined;
    }
    if (!holds) {
      if (state.kind === "pending") this.states.set(rule.name, { kind: "idle" });
      return undefined;
    }
    if (state.kind === "idle") {
      state = { kind: "pending", since: start, value: value! };
      this.peaks.set(rule.name, value!);
    }
    const peak = Math.max(this.peaks.get(rule.name) ?? value!, value!);
    this.peaks.set(rule.name, peak);
    const heldMs = end - state.since;
    if (heldMs < rule.forMs) {
      this.states.set(rule.name, { kind: "pending", since: state.since, value: value! });
      return undefined;
    }
    const c = rule.condition;
    const fired: FiringValues = {
      value: value!,
      peak,
      threshold: c.above,
      heldMs,
      reason: `trigger ${rule.name}: ${conditionLabel(c)} ${figure(value!)} > ${figure(c.above)} for ${seconds(heldMs)}`,
    };
    this.states.set(rule.name, { kind: "fired", since: state.since, firedAtMs: nowMs, fired });
    this.peaks.delete(rule.name);
    return { kind: "fired", trigger: rule.name, action: rule.action, atMs: nowMs, values: fired };
  }

  /** A human clears a fired rule (any clear mode). Throws CP_ERR_TRIGGER for an unknown rule or
   *  one not fired. */
  clear(name: string, actor: string, nowMs: number): TriggerEvent {
    const rule = this.rules.find((r) => r.name === name);
    if (rule === undefined) {
      throw new ControlPlaneError("CP_ERR_TRIGGER", `trigger "${name}" is not configured; configured: ${this.rules.map((r) => r.name).join(", ") || "none"}`);
    }
    const state = this.states.get(name)!;
    if (state.kind !== "fired") throw new ControlPlaneError("CP_ERR_TRIGGER", `trigger "${name}" has not fired (it is ${state.kind})`);
    this.states.set(name, { kind: "idle" });
    this.refresh();
    return { kind: "cleared", trigger: name, action: rule.action, atMs: nowMs, values: state.fired, clearedBy: actor };
  }

  /** Every rule with its state, in configuration order. */
  statuses(): TriggerStatus[] {
    return this.rules.map((rule) => {
      const last = this.last.get(rule.name);
      return {
        rule,
        state: this.states.get(rule.name)!,
        ...(last?.value !== undefined ? { lastValue: last.value } : {}),
        ...(last !== undefined ? { lastWindowStartMs: last.windowStartMs } : {}),
      };
    });
  }

  /** The rules in force (fired), in configuration order. */
  firedRules(): { rule: TriggerRule; fired: FiringValues }[] {
    const out: { rule: TriggerRule; fired: FiringValues }[] = [];
    for (const rule of this.rules) {
      const s = this.states.get(rule.name)!;
      if (s.kind === "fired") out.push({ rule, fired: s.fired });
    }
    return out;
  }

  /** Fired rules as kept in the audit log (restored after a restart). */
  persisted(): FiredTrigger[] {
    const out: FiredTrigger[] = [];
    for (const rule of this.rules) {
      const s = this.states.get(rule.name)!;
      if (s.kind === "fired") out.push({ name: rule.name, since: s.since, firedAtMs: s.firedAtMs, fired: s.fired });
    }
    return out;
  }

  /** Puts fired rules back in force after a restart; names no longer configured are ignored. */
  restore(fired: readonly FiredTrigger[]): void {
    for (const f of fired) {
      if (!this.states.has(f.name)) continue;
      this.states.set(f.name, { kind: "fired", since: f.since, firedAtMs: f.firedAtMs, fired: f.fired });
    }
    this.refresh();
  }

  /** Every rule's state as replicas share it (shared-states.ts): holds, firings and their
   *  clearing hysteresis, in configuration order. */
  shared(nowMs: number): SharedTriggerStates {
    const rules: SharedTriggerState[] = [];
    for (const rule of this.rules) {
      const state = this.states.get(rule.name)!;
      if (state.kind === "idle") continue;
      const peak = this.peaks.get(rule.name);
      rules.push({ name: rule.name, state: { ...state }, ...(state.kind === "pending" && peak !== undefined ? { peak } : {}) });
    }
    return { atMs: nowMs, rules };
  }

  /** Takes the shared states as this engine's (a new leader continuing, a follower mirroring):
   *  rules not named are idle; names no longer configured are ignored. */
  adopt(shared: SharedTriggerStates): void {
    this.peaks.clear();
    for (const rule of this.rules) this.states.set(rule.name, { kind: "idle" });
    for (const r of shared.rules) {
      if (!this.states.has(r.name)) continue;
      this.states.set(r.name, { ...r.state });
      if (r.state.kind === "pending") this.peaks.set(r.name, r.peak ?? r.state.value);
    }
    this.refresh();
  }

  /** A clear by hand made elsewhere (another replica): clears `name` only while it is in force
   *  with the same firing values (not a later firing). Returns the event, undefined when not. */
  clearFiring(name: string, fired: FiringValues, actor: string, nowMs: number): TriggerEvent | undefined {
    const state = this.states.get(name);
    if (state === undefined || state.kind !== "fired" || !sameFiring(state.fired, fired)) return undefined;
    return this.clear(name, actor, nowMs);
  }
}
