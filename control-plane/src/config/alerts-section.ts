// The `alerts` section, still checked by hand (its JSON Schema comes with the alerts work in
// control-plane/src/alerts/); validateConfig runs it in the same pass as the schema-checked
// sections, so its problems are listed with theirs.
import { FieldReader, describe, isObject, type Obj } from "./fields.js";
import { DEFAULTS } from "./defaults.js";
import type { AlertsConfig, WebhookTarget } from "./types.js";

/** Reads `root.alerts`, recording every problem in `r`. */
export function readAlerts(r: FieldReader, root: Obj): AlertsConfig {
  const alertsIn = r.section(root, "alerts", "alerts", ["webhooks", "cooldown_s", "retries", "backoff_ms", "timeout_ms"]);
  const webhooks: WebhookTarget[] = [];
  r.list(alertsIn, "webhooks", "alerts.webhooks").forEach((item, i) => {
    const path = `alerts.webhooks[${i}]`;
    const entry = typeof item === "string" ? { url: item } : item;
    if (!isObject(entry)) {
      r.fail(path, `expected a URL or { url, headers }, got ${describe(item)}`);
      return;
    }
    r.unknownKeys(entry, path, ["url", "headers"]);
    const url = r.string(entry, "url", `${path}.url`, "", false);
    if (entry.url === undefined) r.fail(`${path}.url`, "required");
    else if (url !== "" && !isHttpUrl(url)) r.fail(`${path}.url`, `expected an http:// or https:// URL, got ${describe(url)}`);
    const headers: Record<string, string> = {};
    const headersIn = entry.headers;
    if (headersIn !== undefined) {
      if (!isObject(headersIn)) r.fail(`${path}.headers`, `expected an object of strings, got ${describe(headersIn)}`);
      else {
        for (const [name, value] of Object.entries(headersIn)) {
          if (typeof value === "string") headers[name.toLowerCase()] = value;
          else r.fail(`${path}.headers.${name}`, `expected a string, got ${describe(value)}`);
        }
      }
    }
    webhooks.push({ url, headers });
  });
  return {
    webhooks,
    cooldownS: r.number(alertsIn, "cooldown_s", "alerts.cooldown_s", { min: 0, max: 86_400 }, DEFAULTS.alertCooldownS),
    retries: r.int(alertsIn, "retries", "alerts.retries", 0, 20, DEFAULTS.alertRetries),
    backoffMs: r.int(alertsIn, "backoff_ms", "alerts.backoff_ms", 0, 600_000, DEFAULTS.alertBackoffMs),
    timeoutMs: r.int(alertsIn, "timeout_ms", "alerts.timeout_ms", 1, 600_000, DEFAULTS.alertTimeoutMs),
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
