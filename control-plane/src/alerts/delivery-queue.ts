// One channel's delivery: a bounded queue of messages drained by one async sender, which makes
// each delivery's attempts with exponential backoff (the wait is injected, so tests do not
// wait). A full queue drops its oldest waiting message and reports it. Channels each have
// their own queue, so a slow mail server never holds back a webhook.
import type { AlertChannel } from "./channel.js";
import type { AlertMessage } from "./message.js";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Delay before the first retry, ms; doubled for each further one. */
  backoffMs: number;
  /** Longest delay, ms. */
  maxBackoffMs: number;
}

/** Waits `ms` milliseconds. */
export type Sleep = (ms: number) => Promise<void>;

export type DeliveryOutcome = "sent" | "failed" | "dropped";

export interface DeliveryReport {
  channel: string;
  type: string;
  message: AlertMessage;
  outcome: DeliveryOutcome;
  /** Attempts made (0 for a dropped message). */
  attempts: number;
  /** The last attempt's result, or why it was dropped. */
  detail: string;
}

/** The delay before retry number `retry` (1 = the first retry), ms. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (retry - 1));
}

/** Attempts until the channel accepts, refuses for good, or the retries are spent. */
export async function deliverWithRetries(
  channel: AlertChannel,
  message: AlertMessage,
  policy: RetryPolicy,
  sleep: Sleep,
  onRetry: () => void = () => undefined,
): Promise<{ ok: boolean; attempts: number; detail: string }> {
  for (let attempt = 1; ; attempt++) {
    const result = await channel.send(message);
    if (result.ok) return { ok: true, attempts: attempt, detail: result.detail };
    if (!result.retryable || attempt > policy.retries) return { ok: false, attempts: attempt, detail: result.detail };
    onRetry();
    await sleep(backoffDelay(policy, attempt));
  }
}

export interface ChannelQueueOptions {
  /** Messages waiting at most (the one being delivered not counted). */
  limit: number;
  policy: RetryPolicy;
  sleep: Sleep;
  onReport: (report: DeliveryReport) => void;
  onRetry: () => void;
}

export class ChannelQueue {
  private readonly waiting: AlertMessage[] = [];
  /** A sender is running; cleared by the sender itself, in the same turn it finds the queue empty. */
  private active = false;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    readonly channel: AlertChannel,
    private readonly options: ChannelQueueOptions,
  ) {}

  /** Messages waiting (not counting one being delivered). */
  get length(): number {
    return this.waiting.length;
  }

  /** Queues `message`; never waits, never throws. */
  enqueue(message: AlertMessage): void {
    this.waiting.push(message);
    while (this.waiting.length > this.options.limit) {
      const dropped = this.waiting.shift()!;
      this.report(dropped, "dropped", 0, `queue full (${this.options.limit} waiting): dropped the oldest`);
    }
    if (!this.active) {
      this.active = true;
      this.draining = this.drain();
    }
  }

  /** Resolves once nothing is waiting or being delivered. */
  async idle(): Promise<void> {
    while (this.active) await this.draining;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const message = this.waiting.shift();
      if (message === undefined) {
        // No await between this check and the flag: an enqueue after it starts a new sender.
        this.active = false;
        return;
      }
      try {
        const { ok, attempts, detail } = await deliverWithRetries(this.channel, message, this.options.policy, this.options.sleep, this.options.onRetry);
        this.report(message, ok ? "sent" : "failed", attempts, detail);
      } catch (error) {
        this.report(message, "failed", 1, `channel failed: ${(error as Error).message}`);
      }
    }
  }

  private report(message: AlertMessage, outcome: DeliveryOutcome, attempts: number, detail: string): void {
    try {
      this.options.onReport({ channel: this.channel.name, type: this.channel.type, message, outcome, attempts, detail });
    } catch {
      // A failing observer (metrics, logs) must not stop the deliveries.
    }
  }
}
