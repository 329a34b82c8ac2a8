// The alert pipeline. notify() is synchronous and cheap — cooldown check, routing, one enqueue
// per channel — so the decision loop never waits on a delivery; each channel's queue
// (./delivery-queue.ts) delivers in the background with its own retries. Test alerts
// (sendTest) skip the cooldown and the queues: one attempt per channel, answered with each
// channel's outcome.
import { randomUUID } from "node:crypto";
import type { Logger } from "../../../lib/log.js";
import type { AlertChannel } from "./channel.js";
import { CooldownGate } from "./cooldown.js";
import { ChannelQueue, type DeliveryReport, type Sleep } from "./delivery-queue.js";
import type { AlertMessage } from "./message.js";
import { channelsFor } from "./routing.js";
import type { Alert, AlertsConfig, Severity } from "./types.js";

/** What became of an alert before delivery. */
export type AlertOutcome = "routed" | "suppressed" | "unrouted";

export interface NotifierOptions {
  config: AlertsConfig;
  /** One per configured channel (./build-channels.ts), same names. */
  channels: readonly AlertChannel[];
  logger: Logger;
  /** Epoch ms (cooldowns are measured on it). */
  now: () => number;
  /** Waits between retries; injected so tests need not wait. */
  sleep?: Sleep;
  /** Alert ids; default random UUIDs. */
  newId?: () => string;
  /** Each alert notified, with what became of it (metrics). */
  onAlert?: (alert: Alert, outcome: AlertOutcome) => void;
  /** Each delivery to a channel that ended: sent, failed or dropped (metrics). */
  onDelivery?: (report: DeliveryReport) => void;
  /** Each retry a channel needed (metrics). */
  onRetry?: (channel: string) => void;
}

export interface TestDelivery {
  channel: string;
  type: string;
  outcome: "sent" | "failed";
  detail: string;
}

/** A test alert that names a channel that does not exist. */
export class UnknownChannelError extends Error {
  override readonly name = "UnknownChannelError";
}

const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export class AlertNotifier {
  private readonly gate: CooldownGate;
  private readonly queues = new Map<string, ChannelQueue>();
  private closed = false;
  /** Counters since start: alerts (routed, suppressed, unrouted) and deliveries (sent, failed, dropped). */
  readonly stats = { routed: 0, suppressed: 0, unrouted: 0, sent: 0, failed: 0, dropped: 0 };

  constructor(private readonly options: NotifierOptions) {
    const { config } = options;
    this.gate = new CooldownGate(config.cooldownS * 1000);
    const policy = { retries: config.retries, backoffMs: config.backoffMs, maxBackoffMs: config.maxBackoffMs };
    for (const channel of options.channels) {
      this.queues.set(
        channel.name,
        new ChannelQueue(channel, {
          limit: config.queueLimit,
          policy,
          sleep: options.sleep ?? defaultSleep,
          onReport: (report) => this.delivered(report),
          onRetry: () => options.onRetry?.(channel.name),
        }),
      );
    }
  }

  /** Routes `alert` to its channels unless its (kind, cluster) is cooling down. Never waits, never throws. */
  notify(alert: Alert): void {
    if (this.closed) return;
    const { logger, config } = this.options;
    const targets = channelsFor(config, alert);
    if (targets.length === 0) {
      this.counted(alert, "unrouted");
      logger.debug({ kind: alert.kind, severity: alert.severity, cluster: alert.cluster }, "alert not routed to any channel");
      return;
    }
    const decision = this.gate.admit(CooldownGate.key(alert.kind, alert.cluster), this.options.now());
    if (!decision.send) {
      this.counted(alert, "suppressed");
      logger.debug({ kind: alert.kind, cluster: alert.cluster }, "alert suppressed by cooldown");
      return;
    }
    this.counted(alert, "routed");
    const message: AlertMessage = { id: this.newId(), alert, suppressedSinceLast: decision.suppressed };
    for (const name of targets) this.queues.get(name)?.enqueue(message);
  }

  /**
   * Sends a test alert of `severity` now, once, to `channels` (default: every channel a
   * `severity` alert of any kind is routed to), bypassing cooldown and queues. Resolves with
   * each channel's outcome; rejects with UnknownChannelError for a name not configured.
   */
  async sendTest(severity: Severity, actor: string, channels?: readonly string[]): Promise<{ message: AlertMessage; deliveries: TestDelivery[] }> {
    const names = channels ?? channelsFor(this.options.config, { kind: "test", severity }, true);
    const unknown = names.filter((n) => !this.queues.has(n));
    if (unknown.length > 0) {
      throw new UnknownChannelError(`unknown channel ${unknown.map((n) => JSON.stringify(n)).join(", ")}; configured: ${[...this.queues.keys()].join(", ") || "none"}`);
    }
    const alert: Alert = {
      kind: "test",
      cluster: "",
      severity,
      summary: `test alert (${severity}) requested by ${actor}`,
      atMs: this.options.now(),
      details: { actor },
    };
    const message: AlertMessage = { id: this.newId(), alert, suppressedSinceLast: 0 };
    const deliveries = await Promise.all(
      names.map(async (name): Promise<TestDelivery> => {
        const channel = this.queues.get(name)!.channel;
        const result = await channel.send(message);
        const report: DeliveryReport = { channel: name, type: channel.type, message, outcome: result.ok ? "sent" : "failed", attempts: 1, detail: result.detail };
        this.delivered(report);
        return { channel: name, type: channel.type, outcome: report.outcome as "sent" | "failed", detail: result.detail };
      }),
    );
    return { message, deliveries };
  }

  /** Resolves when everything queued so far was delivered or given up (or after `timeoutMs`). */
  async flush(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const idle = Promise.all([...this.queues.values()].map((q) => q.idle()));
    await Promise.race([idle, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    if (timer !== undefined) clearTimeout(timer);
  }

  /** Stops accepting alerts; delivers what is queued (up to `timeoutMs`), then closes the channels. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush(timeoutMs);
    await Promise.all(this.options.channels.map((c) => c.close().catch(() => undefined)));
  }

  private newId(): string {
    return (this.options.newId ?? randomUUID)();
  }

  private counted(alert: Alert, outcome: AlertOutcome): void {
    this.stats[outcome]++;
    this.options.onAlert?.(alert, outcome);
  }

  private delivered(report: DeliveryReport): void {
    this.stats[report.outcome]++;
    const { alert } = report.message;
    const fields = { channel: report.channel, type: report.type, kind: alert.kind, cluster: alert.cluster, id: report.message.id, attempts: report.attempts, detail: report.detail };
    if (report.outcome === "sent") this.options.logger.info(fields, "alert delivered");
    else if (report.outcome === "failed") this.options.logger.warn(fields, "alert delivery failed");
    else this.options.logger.warn(fields, "alert dropped: channel queue full");
    this.options.onDelivery?.(report);
  }
}
