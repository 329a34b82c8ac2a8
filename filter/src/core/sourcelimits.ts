// The source limits a worker enforces (DecisionSet.source_limits): per limited source its key
// (fnv1a64 of the identity, as the sketch keys it) and the fraction of its requests admitted
// (a deny comes with 0: the filter does not read `deny`), spread evenly over its requests by a
// credit, as shed fractions are.
import { SourceLimit } from "../wire/messages";
import { fnv1a64 } from "./sourcesketch";

/** Validates the set's limits and keys them; the index of the first whose admit fraction is not
 *  in [0, 1] (NaN included), or -1 when all are good. */
export function prepareLimits(limits: SourceLimit[]): i32 {
  for (let i = 0; i < limits.length; i++) {
    const l = unchecked(limits[i]);
    const f = <f64>l.admitFraction;
    if (!(f >= 0.0 && f <= 1.0)) return i;
    const bytes = String.UTF8.encode(l.source, false, String.UTF8.ErrorMode.WTF8);
    l.key = fnv1a64(changetype<usize>(bytes), bytes.byteLength);
  }
  return -1;
}

/** The limit that refuses this request of the source `key`, or null (admitted, or not limited). */
export function refusingLimit(limits: SourceLimit[], key: u64): SourceLimit | null {
  for (let i = 0; i < limits.length; i++) {
    const l = unchecked(limits[i]);
    if (l.key != key) continue;
    const credit = l.credit + <f64>l.admitFraction;
    if (credit >= 1.0) {
      l.credit = credit - 1.0;
      return null;
    }
    l.credit = credit;
    return l;
  }
  return null;
}
