// An operator's change, write-ahead: its audit record first, the change in memory only once that
// record is durable, then a round, and the answer only once the resulting decision set's record
// is durable too. So an acknowledged call has outlived this process, and a restore never yields
// a lower version than a caller saw.
import type { AuditRecord } from "../audit/records.js";
import { ControlPlaneError } from "../core/errors.js";
import type { DecisionSet } from "../core/types.js";
import type { PublishedSet } from "./published-set.js";
import type { RunStatus } from "./run-state.js";
import type { SerialQueue } from "./serial-queue.js";

export interface AcknowledgedWritesDeps {
  state: RunStatus;
  queue: Pick<SerialQueue, "run">;
  /** Appends to the audit log (if any); resolves when durable, rejects naming why not. */
  record(record: AuditRecord): Promise<void>;
  /** One decision round (decision-round.ts; the leader only). */
  runRound(): Promise<unknown>;
  published: Pick<PublishedSet, "current" | "recorded">;
}

export class AcknowledgedWrites {
  constructor(private readonly deps: AcknowledgedWritesDeps) {}

  /**
   * Appends `record` at once (group-committed with concurrent calls); applies the change (in call
   * order, serialised with rounds) only once that record is durable, then a round runs; resolves
   * to the resulting decision set once its record is durable too. A failed write of the change's
   * record rejects with CP_ERR_AUDIT and nothing changed in memory; a failed write of the decision
   * set's record rejects with CP_ERR_AUDIT although the change (durable) is in effect.
   */
  async write(record: AuditRecord, apply: () => void): Promise<DecisionSet> {
    const what = record.kind;
    const recorded = this.deps.record(record);
    const { set, setRecorded } = await this.deps.queue.run(async () => {
      try {
        await recorded;
      } catch (error) {
        throw new ControlPlaneError("CP_ERR_AUDIT", `${(error as Error).message}; the ${what} was not applied`);
      }
      apply();
      // A follower's change is committed to the shared store; the leader applies it and publishes.
      if (this.deps.state.leading) await this.deps.runRound();
      return { set: this.deps.published.current, setRecorded: this.deps.published.recorded };
    });
    try {
      await setRecorded;
    } catch (error) {
      throw new ControlPlaneError("CP_ERR_AUDIT", `${(error as Error).message}; the ${what} is recorded and in effect, but decision set version ${set.version} is not recorded`);
    }
    return set;
  }
}
