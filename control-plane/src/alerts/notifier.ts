// The alert pipeline: notify() is synchronous and cheap (cooldown check + enqueue), so the
// decision loop never waits on a webhook; one async sender drains the queue and delivers each
// alert to every target (targets in parallel, each with its own retries). The queue is bounded:
// when full, the oldest alert is dropped and counted.
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../lib/log.js";
import type { AlertsConfig } from "../config/types.js";
import { CooldownGate } from "./cooldown.js";
import type { Alert, AlertPayload } from "./types.js";
import { deliver, type DeliveryResult, type Sleep } from "./webhook.js";

export interface NotifierOptions {
  config: AlertsConfig;
  logger: Logger;
  /** Epoch ms (cooldowns are measured on it). */
  now: () => number;
  /** Waits between retries; injected so tests need not wait. */
  sleep?: Sleep;
  fetchImpl?: typeof fetch;
  /** Alerts waiting at most; the oldest is dropped beyond. */
  queueLimit?: number;
  /** Called after each delivery attempt series (for metrics). */
  onResult?: (alert: Alert, outcome: "sent" | "failed" | "suppressed" | "dropped") => void;
}

const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export class AlertNotifier {
  private readonly gate: CooldownGate;
  private readonly queue: AlertPayload[] = [];
  private readonly alerts = new Map<string, Alert>();
  private draining: Promise<void> | undefined;
  private closed = false;
  /** Counters since start. */
  readonly stats = { sent: 0, failed: 0, suppressed: 0, dropped: 0 };

  constructor(private readonly options: NotifierOptions) {
    this.gate = new CooldownGate(options.config.cooldownS * 1000);
  }

  /** Queues `alert` unless its (kind, cluster) is cooling down. Never blocks, never throws. */
  notify(alert: Alert): void {
    if (this.closed || this.options.config.webhooks.length === 0) return;
    const decision = this.gate.admit(CooldownGate.key(alert.kind, alert.cluster), this.options.now());
    if (!decision.send) {
      this.stats.suppressed++;
      this.options.onResult?.(alert, "suppressed");
      this.options.logger.debug({ kind: alert.kind, cluster: alert.cluster }, "alert suppressed by cooldown");
      return;
    }
    const payload: AlertPayload = {
      source: "open-autoglm",
      id: randomUUID(),
      kind: alert.kind,
      cluster: alert.cluster,
      severity: alert.severity,
      summary: alert.summary,
      at: new Date(alert.atMs).toISOString(),
      at_ms: alert.atMs,
      details: alert.details,
      suppressed_since_last: decision.suppressed,
    };
    this.alerts.set(payload.id, alert);
    this.queue.push(payload);
    const limit = this.options.queueLimit ?? 1000;
    while (this.queue.length > limit) {
      const dropped = this.queue.shift()!;
      this.stats.dropped++;
      this.options.onResult?.(this.alerts.get(dropped.id)!, "dropped");
      this.alerts.delete(dropped.id);
      this.options.logger.warn({ kind: dropped.kind, cluster: dropped.cluster }, "alert queue full: dropped the oldest alert");
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves when everything queued so far was delivered or gave up (or after `timeoutMs`). */
  async flush(timeoutMs = 10_000): Promise<void> {
    if (this.draining === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.draining, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    if (timer !== undefined) clearTimeout(timer);
  }

  /** Stops accepting alerts; delivers what is queued (up to `timeoutMs`). */
  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    await this.flush(timeoutMs);
  }

  private async drain(): Promise<void> {
    const { config, logger } = this.options;
    const sleep = this.options.sleep ?? defaultSleep;
    const policy = { retries: config.retries, backoffMs: config.backoffMs, timeoutMs: config.timeoutMs };
    for (let payload = this.queue.shift(); payload !== undefined; payload = this.queue.shift()) {
      const alert = this.alerts.get(payload.id)!;
      this.alerts.delete(payload.id);
      const results: DeliveryResult[] = await Promise.all(
        config.webhooks.map((target) =>
          deliver(target, payload, policy, sleep, this.options.fetchImpl).catch(
            (error: unknown): DeliveryResult => ({ ok: false, attempts: 0, last: String(error) }),
          ),
        ),
      );
      results.forEach((result, i) => {
        const url = redact(config.webhooks[i]!.url);
        if (result.ok) logger.info({ kind: payload.kind, cluster: payload.cluster, url, attempts: result.attempts }, "alert sent");
        else logger.warn({ kind: payload.kind, cluster: payload.cluster, url, attempts: result.attempts, last: result.last }, "alert delivery failed");
      });
      const ok = results.some((r) => r.ok);
      if (ok) this.stats.sent++;
      else this.stats.failed++;
      this.options.onResult?.(alert, ok ? "sent" : "failed");
    }
  }
}

/** A URL without credentials or query, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(bad url)";
  }
}
