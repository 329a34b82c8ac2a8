// Delivers one alert payload to one webhook target: a JSON POST, retried with exponential
// backoff on network errors, timeouts, 429 and 5xx (not on other 4xx: the receiver refused it).
import type { WebhookTarget } from "../config/types.js";
import type { AlertPayload } from "./types.js";

export interface DeliveryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Delay before the first retry, ms; doubled for each further one. */
  backoffMs: number;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
}

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  /** The last HTTP status, or the error of the last attempt. */
  last: string;
}

export type Sleep = (ms: number) => Promise<void>;

export async function deliver(
  target: WebhookTarget,
  payload: AlertPayload,
  policy: DeliveryPolicy,
  sleep: Sleep,
  fetchImpl: typeof fetch = fetch,
): Promise<DeliveryResult> {
  const body = JSON.stringify(payload);
  let last = "";
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    try {
      const res = await fetchImpl(target.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "open-autoglm-alerts", ...target.headers },
        body,
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      last = `HTTP ${res.status}`;
      if (res.ok) return { ok: true, attempts: attempt, last };
      if (res.status < 500 && res.status !== 429 && res.status !== 408) return { ok: false, attempts: attempt, last };
    } catch (error) {
      last = (error as Error).name === "TimeoutError" ? `timeout after ${policy.timeoutMs} ms` : (error as Error).message;
    }
    if (attempt <= policy.retries) await sleep(policy.backoffMs * 2 ** (attempt - 1));
  }
  return { ok: false, attempts: policy.retries + 1, last };
}
