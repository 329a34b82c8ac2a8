// Breaker states, numbered as BreakerState in traffic_guard.proto (and the gauges report them).
export const STATE_CLOSED: i32 = 1;
export const STATE_OPEN: i32 = 2;
export const STATE_HALF_OPEN: i32 = 3;

export function stateName(state: i32): string {
  if (state == STATE_CLOSED) return "closed";
  if (state == STATE_OPEN) return "open";
  if (state == STATE_HALF_OPEN) return "half_open";
  return "unknown";
}
