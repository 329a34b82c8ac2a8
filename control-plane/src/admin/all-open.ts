// Forcing every cluster open by overrides stops all traffic: a halt by another name, without the
// halt's name in the audit log, the dashboard or the alerts. The override route refuses it unless
// the request confirms it (confirm_all_open), and says what to use instead.
import type { ClusterStatus } from "../core/types.js";

/**
 * Why forcing `cluster` open now is refused: every other cluster already has an "open" override
 * in force (not expired at `nowMs`, epoch ms). Undefined when some cluster would still be left
 * to the policy or forced closed.
 */
export function allOpenRefusal(statuses: readonly ClusterStatus[], cluster: string, nowMs: number): string | undefined {
  const forcedOpen = (s: ClusterStatus): boolean =>
    s.cluster === cluster || (s.override?.state === "open" && (s.override.untilMs === undefined || s.override.untilMs > nowMs));
  if (!statuses.every(forcedOpen)) return undefined;
  const names = statuses.map((s) => s.cluster).join(", ");
  return (
    `this would force every cluster open (${names}): no request would be served anywhere, which is a halt by another name. ` +
    `To stop all traffic use POST /v1/halt (POST /v1/resume undoes it); to force every cluster open anyway, send this override again with "confirm_all_open": true`
  );
}
