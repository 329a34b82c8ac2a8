// What the workers of one proxy share through the host's shared data (Envoy: per process).
//   autoglm.worker_next         u32 LE: the next worker id (allocated by compare-and-swap)
//   autoglm.decisions           u64 version, u64 received-at ms, then ControlMessage bytes
//   autoglm.decisions.version   u64 version: cheap to poll (8 bytes instead of the whole set)
// The worker that applies a newer decision set publishes it (compare-and-swap on the set; the
// version key only moves forward). The others poll the version key at most every
// decision_check_ms and, when it moved past theirs, decode, validate and apply the stored set.
import { getSharedData, setSharedData, utf8 } from "../abi/hostcalls";
import { Status } from "../abi/types";

const WORKER_NEXT_KEY = utf8("autoglm.worker_next");
const DECISIONS_KEY = utf8("autoglm.decisions");
const VERSION_KEY = utf8("autoglm.decisions.version");

const CAS_ATTEMPTS = 16;

function u32Bytes(v: u32): ArrayBuffer {
  const b = new ArrayBuffer(4);
  store<u32>(changetype<usize>(b), v);
  return b;
}

function u64Bytes(v: u64): ArrayBuffer {
  const b = new ArrayBuffer(8);
  store<u64>(changetype<usize>(b), v);
  return b;
}

/**
 * Allocates this worker's id: 0, 1, 2… in the order workers start. Uses compare-and-swap on a
 * shared counter; if the host keeps refusing, falls back to `fallback`.
 */
export function allocateWorkerId(fallback: u32): u32 {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const current = getSharedData(WORKER_NEXT_KEY);
    let id: u32 = 0;
    if (current.value !== null && (current.value as ArrayBuffer).byteLength >= 4) {
      id = load<u32>(changetype<usize>(current.value));
    }
    // cas 0 creates the key when absent; otherwise the stored cas must still match.
    const status = setSharedData(WORKER_NEXT_KEY, u32Bytes(id + 1), current.value === null ? 0 : current.cas);
    if (status == Status.OK) return id;
    if (status != Status.CAS_MISMATCH) break;
  }
  return fallback;
}

/** The version in the small version key (0 when none). */
export function sharedDecisionVersion(): u64 {
  const v = getSharedData(VERSION_KEY);
  if (v.value === null || (v.value as ArrayBuffer).byteLength < 8) return 0;
  return load<u64>(changetype<usize>(v.value));
}

/** A decision set read from shared data. */
export class SharedDecisions {
  version: u64 = 0;
  /** When the publishing worker received it from the control plane, epoch ms. */
  receivedAtMs: u64 = 0;
  /** The ControlMessage bytes. */
  message: ArrayBuffer = new ArrayBuffer(0);
}

export function readSharedDecisions(): SharedDecisions | null {
  const v = getSharedData(DECISIONS_KEY);
  if (v.value === null) return null;
  const raw = v.value as ArrayBuffer;
  if (raw.byteLength < 16) return null;
  const out = new SharedDecisions();
  out.version = load<u64>(changetype<usize>(raw));
  out.receivedAtMs = load<u64>(changetype<usize>(raw), 8);
  out.message = raw.slice(16);
  return out;
}

/**
 * Publishes a decision set this worker validated and applied, unless shared data already holds
 * the same or a newer version. Returns true when it was stored.
 */
export function publishDecisions(version: u64, receivedAtMs: u64, message: ArrayBuffer): bool {
  const value = new ArrayBuffer(16 + message.byteLength);
  const base = changetype<usize>(value);
  store<u64>(base, version);
  store<u64>(base, receivedAtMs, 8);
  memory.copy(base + 16, changetype<usize>(message), <usize>message.byteLength);
  let stored = false;
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const current = getSharedData(DECISIONS_KEY);
    if (current.value !== null && (current.value as ArrayBuffer).byteLength >= 8 &&
        load<u64>(changetype<usize>(current.value)) >= version) {
      break;
    }
    const status = setSharedData(DECISIONS_KEY, value, current.value === null ? 0 : current.cas);
    if (status == Status.OK) {
      stored = true;
      break;
    }
    if (status != Status.CAS_MISMATCH) break;
  }
  // Move the version key forward (never back), after the set it announces.
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const current = getSharedData(VERSION_KEY);
    if (current.value !== null && (current.value as ArrayBuffer).byteLength >= 8 &&
        load<u64>(changetype<usize>(current.value)) >= version) {
      break;
    }
    const status = setSharedData(VERSION_KEY, u64Bytes(version), current.value === null ? 0 : current.cas);
    if (status != Status.CAS_MISMATCH) break;
  }
  return stored;
}
