// Telling a sidecar stream that its reports are refused (ControlMessage.report_rejected), at most
// once per reason per NOTICE_INTERVAL_MS: a sidecar whose clock is wrong has every report
// refused, and one notice (and one log line) every few seconds is enough. A later notice names
// how many refusals of that reason it stands for. Pure apart from encoding: time comes in as nowMs.
import { create, toBinary } from "@bufbuild/protobuf";
import { ControlMessageSchema } from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { RefusalReason, ReportRefusal } from "../core/report-admission.js";

/** Smallest interval between two notices of the same reason on one stream, ms. */
export const NOTICE_INTERVAL_MS = 10_000;

export interface RejectionNotice {
  /** Serialised ControlMessage{report_rejected}. */
  bytes: Uint8Array;
  /** Refusals of this reason since the previous notice, this one included. */
  refusals: number;
}

export class ReportRejections {
  private readonly last = new Map<RefusalReason, { atMs: number; refusals: number }>();

  /** The notice to send for a refused report, or undefined when one was sent recently. */
  notice(sequence: number, refusal: ReportRefusal, nowMs: number): RejectionNotice | undefined {
    const prev = this.last.get(refusal.reason);
    if (prev !== undefined && nowMs - prev.atMs < NOTICE_INTERVAL_MS && nowMs >= prev.atMs) {
      prev.refusals++;
      return undefined;
    }
    const refusals = (prev?.refusals ?? 0) + 1;
    this.last.set(refusal.reason, { atMs: nowMs, refusals: 0 });
    const reason = refusals > 1 ? `${refusal.message} (${refusals} reports refused for this reason since the last notice)` : refusal.message;
    const bytes = toBinary(
      ControlMessageSchema,
      create(ControlMessageSchema, {
        kind: { case: "reportRejected", value: { sequence: BigInt(sequence), reason, clockOffsetMs: BigInt(Math.round(refusal.clockOffsetMs)) } },
      }),
    );
    return { bytes, refusals };
  }
}
