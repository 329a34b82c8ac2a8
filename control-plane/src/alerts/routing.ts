// Which channels an alert goes to: the union of the channels of every route it matches, in
// the order the channels are configured; with no routes configured, every channel. Pure.
import type { AlertKind, AlertsConfig, Severity } from "./types.js";

export interface RouteQuery {
  kind: AlertKind;
  severity: Severity;
}

/**
 * Names of the channels `alert` goes to. `anyKind`: ignore the routes' `kinds` filters (a test
 * alert of a severity goes where an alert of that severity of any kind could go).
 */
export function channelsFor(config: Pick<AlertsConfig, "channels" | "routes">, alert: RouteQuery, anyKind = false): string[] {
  const names = config.channels.map((c) => c.name);
  if (config.routes === undefined) return names;
  const chosen = new Set<string>();
  for (const route of config.routes) {
    if (route.severities !== undefined && !route.severities.includes(alert.severity)) continue;
    if (!anyKind && route.kinds !== undefined && !route.kinds.includes(alert.kind)) continue;
    for (const name of route.channels) chosen.add(name);
  }
  return names.filter((name) => chosen.has(name));
}
