// The decision set in force: the set itself, its serialised ControlMessage bytes (what every
// stream receives), when it was published, and the durability of its audit record. One owner of
// this state; publish() is the one way a new set comes into force. Times are epoch ms of the
// injected clock.
import { create, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema } from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { AuditRecord } from "../audit/records.js";
import type { DecisionSet } from "../core/types.js";
import { decisionSetToProto } from "../grpc/convert.js";

/** What publishing a set touches outside this object. */
export interface PublishEffects {
  /** Appends to the audit log (if any); resolves when durable. */
  record(record: AuditRecord): Promise<void>;
  /** Pushes the set's bytes to every sidecar stream. */
  pushToStreams(bytes: Uint8Array, version: number): void;
  /** The incidents learn of the new set (incident-tracker.ts published()). */
  incidentsPublished(set: DecisionSet, previous: DecisionSet | undefined): void;
  /** The versions the replica watches changed (a halt began, ended or changed mode). */
  workersChanged(): void;
  /** The 'decisions' event. */
  emitDecisions(set: DecisionSet): void;
}

export class PublishedSet {
  private set: DecisionSet;
  private setBytes: Uint8Array;
  private publishedAt: number;
  private setRecorded: Promise<void> = Promise.resolve();

  /** `initial`: the set in force at construction (version 1 with base weights, or the restored
   *  one), published at `atMs`. Its audit record is not written here (recordCurrent()). */
  constructor(initial: DecisionSet, atMs: number, private readonly effects: PublishEffects) {
    this.set = initial;
    this.setBytes = encodeDecisions(initial);
    this.publishedAt = atMs;
  }

  /** The decision set in force. */
  get current(): DecisionSet {
    return this.set;
  }

  /** Serialised ControlMessage bytes of the set in force. */
  get bytes(): Uint8Array {
    return this.setBytes;
  }

  /** When the set in force was published (this lifetime's first: when constructed), epoch ms. */
  get publishedAtMs(): number {
    return this.publishedAt;
  }

  /** Durability of the audit record of the set in force (an acknowledged call waits for it, so a
   *  restore never yields a lower version than a caller saw). */
  get recorded(): Promise<void> {
    return this.setRecorded;
  }

  /** Appends the audit record of the set in force (at construction, when the audit log does not
   *  hold it yet). */
  recordCurrent(atMs: number): void {
    this.setRecorded = this.effects.record({ kind: "decisions", atMs, decisions: this.set });
  }

  /** Makes `decisions` the set in force: audit record, every stream, the incidents, the
   *  'decisions' event. */
  publish(decisions: DecisionSet, atMs: number): void {
    const previous = this.set;
    this.set = decisions;
    this.setBytes = encodeDecisions(decisions);
    this.publishedAt = atMs;
    this.setRecorded = this.effects.record({ kind: "decisions", atMs, decisions });
    this.effects.pushToStreams(this.setBytes, decisions.version);
    this.effects.incidentsPublished(decisions, previous);
    // A halt that began (or changed mode) changes the versions watched.
    if (decisions.halted !== previous.halted || decisions.haltMode !== previous.haltMode) this.effects.workersChanged();
    this.effects.emitDecisions(decisions);
  }
}

/** A decision set as the ControlMessage bytes a stream sends. */
export function encodeDecisions(set: DecisionSet): Uint8Array {
  return toBinary(ControlMessageSchema, create(ControlMessageSchema, { kind: { case: "decisions", value: decisionSetToProto(set) } }));
}
