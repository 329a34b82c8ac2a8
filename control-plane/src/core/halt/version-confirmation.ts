// Whether one sidecar worker confirmed the decision version in force within a bound (the
// configuration's halt.confirm_wait_s): it confirms by acknowledging the version (DecisionAck) or
// saying it enforces it or a later one (hello, reports). The bound runs from the version's
// publication, or from the worker's connection when it connected later (a new stream gets the
// set in force first). A worker that has not confirmed by then is flagged unconfirmed (GET
// /v1/sidecars, the dashboard's banner, autoglm_sidecars_unconfirmed) until it does: it may
// still enforce an older set. Pure: times are epoch ms passed in.

/** confirmed: it reached the version; waiting: not yet, within the bound; unconfirmed: not within it. */
export type VersionConfirmationState = "confirmed" | "waiting" | "unconfirmed";

export interface VersionConfirmation {
  /** The decision version in force it is measured against. */
  version: number;
  state: VersionConfirmationState;
  /** When it is due to have confirmed it, epoch ms. */
  dueAtMs: number;
  /** When it first reached the version or a later one (state confirmed). */
  confirmedAtMs?: number;
}

export interface VersionConfirmationInput {
  version: number;
  /** When the version was published, epoch ms. */
  publishedAtMs: number;
  /** When the worker's stream said hello, epoch ms. */
  connectedAtMs: number;
  /** When it first reached `version` or above (undefined: not yet). */
  reachedAtMs: number | undefined;
  /** The bound, ms. */
  waitMs: number;
  nowMs: number;
}

export function versionConfirmation(input: VersionConfirmationInput): VersionConfirmation {
  const dueAtMs = Math.max(input.publishedAtMs, input.connectedAtMs) + input.waitMs;
  if (input.reachedAtMs !== undefined) return { version: input.version, state: "confirmed", dueAtMs, confirmedAtMs: input.reachedAtMs };
  return { version: input.version, state: input.nowMs >= dueAtMs ? "unconfirmed" : "waiting", dueAtMs };
}
