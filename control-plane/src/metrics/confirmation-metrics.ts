// Prometheus gauges of what the sidecars confirmed, read from the control plane at scrape time:
// the workers the halt in force lists as unconfirmed (GET /v1/halt), the workers that have not
// confirmed the decision version in force within halt.confirm_wait_s (GET /v1/sidecars,
// core/halt/version-confirmation.ts), and whether a rollback pins an earlier set.
import { Gauge, type Registry } from "prom-client";
import type { Rollback, SidecarStatus } from "../core/types.js";
import type { HaltStatus } from "../incident-tracker.js";

export interface ConfirmationSource {
  sidecarStatuses(): SidecarStatus[];
  haltStatus(): HaltStatus;
  rollbackInForce(): Rollback | undefined;
}

export class ConfirmationMetrics {
  constructor(registry: Registry, source: ConfirmationSource) {
    const registers = [registry];
    new Gauge({
      name: "autoglm_halt_unconfirmed_sidecars",
      help: "Sidecar workers that did not confirm the halt in force within halt.confirm_wait_s (0 when not halted; names in GET /v1/halt).",
      registers,
      collect() {
        const halt = source.haltStatus();
        this.set(halt.halted ? halt.confirmation.unconfirmed.length : 0);
      },
    });
    new Gauge({
      name: "autoglm_sidecars_unconfirmed",
      help: "Sidecar workers that did not confirm (acknowledge or enforce) the decision version in force within halt.confirm_wait_s of its publication or their connection (flagged in GET /v1/sidecars).",
      registers,
      collect() {
        this.set(source.sidecarStatuses().filter((s) => s.confirmation?.state === "unconfirmed").length);
      },
    });
    new Gauge({
      name: "autoglm_decisions_rolled_back",
      help: "1 while a rollback pins an earlier decision set (GET /v1/decisions/rollback), 0 otherwise.",
      registers,
      collect() {
        this.set(source.rollbackInForce() === undefined ? 0 : 1);
      },
    });
  }
}
