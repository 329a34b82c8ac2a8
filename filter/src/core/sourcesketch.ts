// Who sends the traffic: a space-saving heavy-hitters sketch (Metwally, Agrawal, El Abbadi,
// "Efficient Computation of Frequent and Top-k Elements in Data Streams", ICDT 2005) over K
// slots allocated once, at configuration time. A source already in a slot adds one to its count;
// a new one takes a free slot, or else the slot of the smallest count c, starting at c + 1 with
// overestimate c. So after N requests a kept source's count exceeds its true count by at most its
// overestimate (<= N / K), every source with more than N / K requests is kept, and a source not
// kept sent at most N / K. Per request: one pass over the K keys (and one more to find the
// smallest count when a new source displaces one).
import { SourceCount, TelemetryReport } from "../wire/messages";

/** 64-bit FNV-1a over len bytes at ptr (the identity's key; and the hash that keeps a header's
 *  value secret). Not cryptographic: a guessable value (a short key) can be found by trying. */
export function fnv1a64(ptr: usize, len: i32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < len; i++) {
    h ^= <u64>load<u8>(ptr + <usize>i);
    h *= 0x100000001b3;
  }
  return h;
}

export class SourceSketch {
  /** Each slot's counts and key; a drained slot gets a new SourceCount (the old one went to a
   *  report). */
  private entries: StaticArray<SourceCount>;
  /** Slots in use (the first `used`). */
  used: i32 = 0;
  /** Requests counted since the last drain (every source's, kept or not). */
  total: u64 = 0;

  constructor(k: i32) {
    const entries = new StaticArray<SourceCount>(k);
    for (let i = 0; i < k; i++) unchecked((entries[i] = new SourceCount()));
    this.entries = entries;
  }

  /** Counts one request of the source with this key, whose identity is the len bytes at ptr
   *  (UTF-8; read only when the source enters the sketch). Returns its counts, which stay this
   *  source's while their key is its key (a source that displaces it reuses them; a drain hands
   *  them to the window's report). */
  offer(key: u64, ptr: usize, len: i32): SourceCount {
    this.total++;
    const entries = this.entries;
    const n = this.used;
    for (let i = 0; i < n; i++) {
      const e = unchecked(entries[i]);
      if (e.key == key) {
        e.requests++;
        return e;
      }
    }
    let slot = n;
    let base: u32 = 0;
    if (n < entries.length) {
      this.used = n + 1;
    } else {
      slot = 0;
      base = unchecked(entries[0]).requests;
      for (let i = 1; i < n; i++) {
        const c = unchecked(entries[i]).requests;
        if (c < base) {
          base = c;
          slot = i;
        }
      }
    }
    const e = unchecked(entries[slot]);
    e.key = key;
    e.source = String.UTF8.decodeUnsafe(ptr, <usize>len);
    e.requests = base + 1;
    e.overestimate = base;
    e.errors = 0;
    e.limited = 0;
    return e;
  }

  /** Hands the window's counts to `report` and starts empty. */
  drain(report: TelemetryReport): void {
    const entries = this.entries;
    for (let i = 0; i < this.used; i++) {
      report.sources.push(unchecked(entries[i]));
      unchecked((entries[i] = new SourceCount()));
    }
    report.sourcesTotal = this.total;
    this.used = 0;
    this.total = 0;
  }
}
