// The alert pipeline as the control plane wires it, on a test clock: configuration read as from
// a file (readAlertsConfig), channels built with the given environment, a notifier bound to a
// FakeControlPlane, retries' waits recorded instead of waited.
import { FakeControlPlane } from "../../control-plane/src/admin/fake-control-plane.js";
import { AlertNotifier, bindAlerts, buildChannels, readAlertsConfig, type DeliveryReport } from "../../control-plane/src/alerts/index.js";
import { createLogger, type Logger } from "../../lib/log.js";

export const T0 = 1_800_000_000_000;

export function alertsConfig(section: unknown) {
  const { config, problems } = readAlertsConfig(section);
  if (problems.length > 0) throw new Error(`test configuration refused:\n  ${problems.join("\n  ")}`);
  return config;
}

export function alertPipeline(section: unknown, options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {}) {
  let now = T0;
  const sleeps: number[] = [];
  const deliveries: DeliveryReport[] = [];
  const retries: string[] = [];
  const config = alertsConfig(section);
  const logger = options.logger ?? createLogger("alerts-test", "silent");
  const channels = buildChannels(config, { env: options.env ?? {}, logger });
  const cp = new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }, { name: "llm-b", baseWeight: 1 }], () => now);
  const notifier = new AlertNotifier({
    config,
    channels,
    logger,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onDelivery: (report) => deliveries.push(report),
    onRetry: (channel) => retries.push(channel),
  });
  bindAlerts(cp, (a) => notifier.notify(a));
  return {
    cp,
    notifier,
    sleeps,
    deliveries,
    retries,
    /** "channel:outcome" per delivery report, in order. */
    outcomes: () => deliveries.map((d) => `${d.channel}:${d.outcome}`),
    advance: (ms: number) => (now += ms),
    now: () => now,
  };
}
