// Upstreams that report their own load (ORCA, the format's cluster `load_report`:
// sim/scenarios/README.md) for generated scenarios. models/src/scenario-generator.ts and
// scenario-generator-shifted.ts call this on a scenario's JSON when `loadReportShare` asks for
// it. Whether a scenario's upstreams report is the first draw of a generator of its own, seeded
// from the scenario's simulator seed, so the scenario's other fields, and every scenario
// generated without load reports, stay exactly what they were.
//
// A fleet runs one model server build, so either every cluster of a scenario reports or none
// does; with chance MIXED_FLEET_SHARE a reporting scenario is a fleet mid-upgrade, where each
// cluster reports with chance 1/2 (at least one does).
import { createRng } from "./prng.js";

/** Added to the simulator seed for the load-report draws' own generator. */
const LOAD_REPORT_SEED_SALT = 0x4ca;
/** Share of reporting scenarios whose clusters report one by one (a fleet mid-upgrade). */
export const MIXED_FLEET_SHARE = 0.25;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Marks scenario `seed`'s clusters in `raw` (its JSON before parsing) as reporting their load, with
 * chance `share`. Returns the note for its description, or null when it does not report.
 * Throws a RangeError naming the problem when `share` is not a number from 0 to 1.
 */
export function addLoadReports(seed: number, share: number, raw: { [key: string]: Json }): string | null {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`loadReportShare must be a number from 0 to 1, got ${share}`);
  if (share === 0) return null;
  const rng = createRng(seed + LOAD_REPORT_SEED_SALT);
  if (!(rng.next() < share)) return null;
  const clusters = raw.clusters as Array<{ [key: string]: Json }>;
  const mixed = rng.next() < MIXED_FLEET_SHARE;
  const reporting = clusters.map(() => !mixed || rng.next() < 0.5);
  if (!reporting.some(Boolean)) reporting[rng.int(0, clusters.length - 1)] = true;
  clusters.forEach((c, i) => {
    if (reporting[i]) c.load_report = true;
  });
  const count = reporting.filter(Boolean).length;
  return count === clusters.length ? "upstreams report load (ORCA)" : `${count} of ${clusters.length} clusters report load (ORCA)`;
}
