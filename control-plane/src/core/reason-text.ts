// Text shared by the reasons the decision core writes (audit log, decisions, transitions).

/** A fraction as a percentage for a reason, e.g. "12.5%" (under 10 %: one decimal) or "30%". */
export function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)}%`;
}
