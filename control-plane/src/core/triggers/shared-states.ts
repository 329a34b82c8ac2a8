// Every trigger rule's state as several replicas share it (replicas/etcd-state.ts, key
// `state/triggers`): not only the fired rules the audit log keeps (FiredTrigger), but a pending
// hold (since when its condition holds, its peak) and a fired rule's clearing hysteresis (since
// when its condition is false), so a new leader continues a hold or a clearing where the last
// one left off instead of starting anew. Written by the leader when a state changes; mirrored by
// followers for their views. Pure data and checks, no I/O. Times are epoch ms.
import type { FiringValues, TriggerState } from "./types.js";

/** One rule's state (rules in the idle state are left out). */
export interface SharedTriggerState {
  name: string;
  state: Exclude<TriggerState, { kind: "idle" }>;
  /** A pending hold's highest value so far (its firing values report it). */
  peak?: number;
}

export interface SharedTriggerStates {
  /** When the leader wrote it, epoch ms. */
  atMs: number;
  rules: SharedTriggerState[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function firingProblem(v: unknown): string | undefined {
  if (!isObject(v)) return "expected an object";
  for (const key of ["value", "peak", "threshold", "heldMs"] as const) if (!isNumber(v[key])) return `.${key}: expected a number`;
  return typeof v.reason === "string" ? undefined : ".reason: expected a string";
}

function stateProblem(s: unknown): string | undefined {
  if (!isObject(s) || !isNumber(s.since)) return ": expected {kind, since, ...}";
  if (s.kind === "pending") return isNumber(s.value) ? undefined : ".value: expected a number";
  if (s.kind !== "fired") return `.kind: expected pending or fired, got ${JSON.stringify(s.kind)}`;
  if (!isNumber(s.firedAtMs)) return ".firedAtMs: expected a number";
  if (s.falseSince !== undefined && !isNumber(s.falseSince)) return ".falseSince: expected a number";
  const fired = firingProblem(s.fired);
  return fired === undefined ? undefined : `.fired${fired.startsWith(".") ? fired : `: ${fired}`}`;
}

/** Reads stored trigger states, checking their shape; a problem names its path. */
export function parseTriggerStates(text: string): { ok: true; states: SharedTriggerStates } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
  if (!isObject(raw) || !isNumber(raw.atMs) || !Array.isArray(raw.rules)) return { ok: false, error: "expected {atMs, rules: [...]}" };
  for (const [i, r] of raw.rules.entries()) {
    if (!isObject(r) || typeof r.name !== "string" || r.name === "") return { ok: false, error: `rules[${i}].name: expected a rule name` };
    if (r.peak !== undefined && !isNumber(r.peak)) return { ok: false, error: `rules[${i}].peak: expected a number` };
    const problem = stateProblem(r.state);
    if (problem !== undefined) return { ok: false, error: `rules[${i}].state${problem}` };
  }
  return { ok: true, states: raw as unknown as SharedTriggerStates };
}

export function encodeTriggerStates(states: SharedTriggerStates): string {
  return JSON.stringify(states);
}

/** Whether two sets of states are the same (the time written aside): a leader writes only changes. */
export function sameTriggerStates(a: SharedTriggerStates | undefined, b: SharedTriggerStates): boolean {
  return a !== undefined && JSON.stringify(a.rules) === JSON.stringify(b.rules);
}

/** Whether two firings are the same one (a clear by hand names the firing it clears). */
export function sameFiring(a: FiringValues, b: FiringValues): boolean {
  return a.value === b.value && a.peak === b.peak && a.threshold === b.threshold && a.heldMs === b.heldMs && a.reason === b.reason;
}
