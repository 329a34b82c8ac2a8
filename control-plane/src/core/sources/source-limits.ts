// Source limits: what an operator (or a rule) asks (deny a source, or cap its rate over the mesh,
// until a time), checked; and what the decision set carries for them (proto SourceLimit). A cap
// becomes the fraction of the source's requests every worker admits: cap / the source's offered
// rate over every sidecar in the last closed window (its merged count; the filters count a
// source before its limit, so the refused requests are in it). Each sidecar then admits cap x its
// own share of the source; one that never saw it admits the same fraction of what it gets (if
// the source moves there wholesale, that is the cap again, a window later). Pure.
import { ControlPlaneError } from "../errors.js";
import type { SourceLimitDecision, SourceLimitEntry } from "./types.js";

/** Longest identity accepted, characters (an IPv6 address is at most 45; a hash 16). */
export const MAX_SOURCE_CHARS = 256;
/** Most limits in force at once (each is a per-request comparison in every filter). */
export const MAX_SOURCE_LIMITS = 64;
/** The largest TTL of a limit, ms (7 days). */
export const MAX_SOURCE_LIMIT_TTL_MS = 7 * 24 * 3600 * 1000;

/** Throws CP_ERR_SOURCE_LIMIT, naming the field, unless `l` is a valid limit at nowMs. */
export function validateSourceLimit(l: SourceLimitEntry, nowMs: number, others: readonly SourceLimitEntry[]): void {
  const fail = (msg: string): never => {
    throw new ControlPlaneError("CP_ERR_SOURCE_LIMIT", msg);
  };
  if (typeof l.source !== "string" || l.source.length > MAX_SOURCE_CHARS) fail(`source_limit.source: expected a string of at most ${MAX_SOURCE_CHARS} characters`);
  if (l.action !== "deny" && l.action !== "cap") fail(`source_limit.action: expected "deny" or "cap", got ${JSON.stringify(l.action)}`);
  if (l.action === "cap" && !(typeof l.capPerS === "number" && Number.isFinite(l.capPerS) && l.capPerS > 0)) {
    fail(`source_limit.cap_per_s: expected a rate > 0 (requests per second) for a cap, got ${JSON.stringify(l.capPerS)}`);
  }
  if (l.action === "deny" && l.capPerS !== undefined) fail("source_limit.cap_per_s: only a cap has a rate (a deny refuses everything)");
  if (!(Number.isFinite(l.untilMs) && l.untilMs > nowMs && l.untilMs <= nowMs + MAX_SOURCE_LIMIT_TTL_MS)) {
    fail(`source_limit.until_ms: expected a time within ${MAX_SOURCE_LIMIT_TTL_MS / 1000} s from now`);
  }
  if (typeof l.reason !== "string" || l.reason.trim() === "") fail("source_limit.reason: expected a non-empty string");
  if (typeof l.actor !== "string" || l.actor.trim() === "") fail("source_limit.actor: expected a non-empty string");
  if (!others.some((o) => o.source === l.source) && others.length >= MAX_SOURCE_LIMITS) {
    fail(`source_limit: ${MAX_SOURCE_LIMITS} limits are in force already (the most at once); remove one first`);
  }
}

/** The admitted fraction of a cap, rounded to two significant digits so that a rate that wobbles
 *  does not make a new decision version every round; 1 when the source sends less than the cap
 *  (or was not seen). */
export function capFraction(capPerS: number, offeredPerS: number | undefined): number {
  if (offeredPerS === undefined || !(offeredPerS > capPerS)) return 1;
  return Math.min(1, Number((capPerS / offeredPerS).toPrecision(2)));
}

/** The decision set's limits: every limit in force at nowMs (expired ones left out), in source
 *  order. offeredPerS: a source's offered rate over the mesh (undefined: not seen). */
export function limitDecisions(limits: readonly SourceLimitEntry[], nowMs: number, offeredPerS: (source: string) => number | undefined): SourceLimitDecision[] {
  return limits
    .filter((l) => l.untilMs > nowMs)
    .slice()
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
    .map((l) => {
      const reason = `source limit by ${l.actor}: ${l.reason}`;
      if (l.action === "deny") {
        // The limit's whole TTL (at most an hour: a client should not go away for days); not the
        // time left, which would change the set, and its version, every round.
        return { source: l.source, deny: true, admitFraction: 0, retryAfterS: Math.min(3600, Math.max(1, Math.ceil((l.untilMs - l.atMs) / 1000))), reason, capPerS: 0 };
      }
      return { source: l.source, deny: false, admitFraction: capFraction(l.capPerS!, offeredPerS(l.source)), retryAfterS: 1, reason, capPerS: l.capPerS! };
    });
}

/** What a trigger's limit_source action asks (core/triggers/types.ts). */
export interface TriggerLimitAsk {
  source?: string;
  deny: boolean;
  capPerS?: number;
  ttlMs: number;
}

/**
 * The limit a rule that fired at atMs sets: on the source it names, else on `topFlagged` (the
 * flagged source with the most requests in the last closed window); actor "trigger <name>", the
 * firing's reason, until atMs + ttlMs. A text saying why none is set when the rule names no
 * source and none is flagged.
 */
export function triggerSourceLimit(ask: TriggerLimitAsk, trigger: string, reason: string, topFlagged: string | undefined, atMs: number): SourceLimitEntry | string {
  const source = ask.source ?? topFlagged;
  if (source === undefined) return `trigger ${trigger} fired but sets no source limit: it names no source and no source is flagged`;
  return {
    source,
    action: ask.deny ? "deny" : "cap",
    ...(ask.deny ? {} : { capPerS: ask.capPerS! }),
    untilMs: atMs + ask.ttlMs,
    reason,
    actor: `trigger ${trigger}`,
    atMs,
  };
}
