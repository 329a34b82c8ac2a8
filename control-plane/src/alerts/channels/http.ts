// What the HTTP channels (webhook, SMS) share: {{placeholder}} templates and one HTTP attempt
// with a timeout, classified as delivered, worth retrying (network error, timeout, 408, 429,
// 5xx) or refused (any other status: the receiver will not take it).
import type { SendResult } from "../channel.js";

const PLACEHOLDER = /\{\{\s*([A-Za-z_]+)\s*\}\}/g;

/** The placeholders `template` uses, in order, each once. */
export function placeholdersIn(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** Problems of `template` at `path`: placeholders outside `allowed`. */
export function templateProblems(template: string, path: string, allowed: readonly string[]): string[] {
  return placeholdersIn(template)
    .filter((name) => !allowed.includes(name))
    .map((name) => `${path}: unknown placeholder {{${name}}}; expected one of ${allowed.map((a) => `{{${a}}}`).join(", ")}`);
}

/** `template` with every placeholder replaced by `encode(value, name)` (absent values: ""). */
export function fill(
  template: string,
  values: Readonly<Record<string, string>>,
  encode: (value: string, name: string) => string = (v) => v,
): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => encode(values[name] ?? "", name));
}

/** A header value may not carry line breaks or other control characters (RFC 9110 §5.5). */
export function headerSafe(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]+/g, " ");
}

/** Whether `url` is an absolute http(s) URL once its placeholders are filled with "x". */
export function isHttpUrlTemplate(url: string): boolean {
  try {
    const parsed = new URL(fill(url, {}, () => "x"));
    return parsed.protocol === "http:" || parsed.protocol === "https:";
  } catch {
    return false;
  }
}

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** One attempt; never rejects. `detail` names the status or the error, never the URL. */
export async function httpAttempt(fetchImpl: typeof fetch, request: HttpRequest, timeoutMs: number): Promise<SendResult> {
  try {
    const res = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    const detail = `HTTP ${res.status}`;
    if (res.ok) return { ok: true, detail };
    return { ok: false, retryable: res.status >= 500 || res.status === 429 || res.status === 408, detail };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError") return { ok: false, retryable: true, detail: `timeout after ${timeoutMs} ms` };
    const cause = e.cause?.code ?? e.cause?.message;
    return { ok: false, retryable: true, detail: cause === undefined ? e.message : `${e.message}: ${cause}` };
  }
}
