// Deduplication of alerts: at most one alert per (kind, cluster) per cooldown period. Pure:
// the caller passes the time.

export interface GateDecision {
  send: boolean;
  /** When sending: alerts of this key held back since the last one sent. */
  suppressed: number;
}

export class CooldownGate {
  private readonly lastSentMs = new Map<string, number>();
  private readonly held = new Map<string, number>();

  /** `cooldownMs`: minimum time between two alerts of one key. */
  constructor(private readonly cooldownMs: number) {}

  static key(kind: string, cluster: string): string {
    return `${kind}\u0000${cluster}`;
  }

  admit(key: string, nowMs: number): GateDecision {
    const last = this.lastSentMs.get(key);
    if (last !== undefined && nowMs - last < this.cooldownMs) {
      this.held.set(key, (this.held.get(key) ?? 0) + 1);
      return { send: false, suppressed: 0 };
    }
    this.lastSentMs.set(key, nowMs);
    const suppressed = this.held.get(key) ?? 0;
    this.held.delete(key);
    return { send: true, suppressed };
  }
}
