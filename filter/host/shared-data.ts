// Shared key-value data with Envoy's compare-and-swap semantics (proxy-wasm-cpp-host
// src/shared_data.cc): keys live per VM id; every successful write gives the entry a fresh CAS
// value from one process-wide counter; a write with CAS 0 always succeeds, any other CAS must equal
// the entry's current one (a CAS given for a missing key is ignored, as in the reference host).
import { Status } from "./abi.js";

export interface SharedEntry {
  value: Uint8Array;
  /** The compare-and-swap token of the current value (never 0). */
  cas: number;
}

export class SharedData {
  private readonly byVm = new Map<string, Map<string, SharedEntry>>();
  private casCounter = 0;

  private nextCas(): number {
    this.casCounter = (this.casCounter + 1) >>> 0;
    if (this.casCounter === 0) this.casCounter = 1; // 0 means "no CAS"; skip it on wrap-around
    return this.casCounter;
  }

  get(vmId: string, key: string): SharedEntry | undefined {
    return this.byVm.get(vmId)?.get(key);
  }

  /** Sets `key` to `value` when `cas` is 0 or matches; Status.CasMismatch otherwise. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): Status {
    let map = this.byVm.get(vmId);
    if (map === undefined) {
      map = new Map();
      this.byVm.set(vmId, map);
    }
    const entry = map.get(key);
    if (entry !== undefined) {
      if (cas !== 0 && cas !== entry.cas) return Status.CasMismatch;
    }
    // A new entry object each time: an entry read earlier stays a snapshot.
    map.set(key, { value, cas: this.nextCas() });
    return Status.Ok;
  }

  /** Every key of a VM id (for tests and debugging). */
  keys(vmId: string): string[] {
    return [...(this.byVm.get(vmId)?.keys() ?? [])];
  }
}
