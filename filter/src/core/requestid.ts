// x-request-id values: UUID version 4 text whose first half is the worker's instance id (random,
// mixed from time, node, worker and counters when the VM starts) and whose second half is a
// bijective scramble of a per-worker sequence number. Two requests of one instance never get
// the same id (the scramble is a permutation), and instances differ in their first half.
import { writeHex } from "./hex";

export const REQUEST_ID_LENGTH: i32 = 36;

const MASK62: u64 = 0x3fffffffffffffff;

/** A permutation of [0, 2^62): odd multiplications and xor-shifts, all invertible mod 2^62. */
export function scramble62(x: u64): u64 {
  x = (x * 0x9e3779b97f4a7c15) & MASK62;
  x ^= x >> 29;
  x = (x * 0xbf58476d1ce4e5b9) & MASK62;
  x ^= x >> 32;
  return x;
}

/** Bytes of an id that depend only on the instance: "xxxxxxxx-xxxx-4xxx-". */
const PREFIX_LENGTH: i32 = 19;

export class RequestIdSource {
  private sequence: u64 = 0;
  /** The first PREFIX_LENGTH bytes of every id of this instance, formatted once. */
  private prefix: StaticArray<u8> = new StaticArray<u8>(PREFIX_LENGTH);

  /** instanceId: the worker instance's random id. */
  constructor(instanceId: u64) {
    const high = (instanceId & ~(<u64>0xf << 12)) | (<u64>4 << 12); // version 4 nibble
    const p = changetype<usize>(this.prefix);
    writeHex(p, high >> 32, 8);
    store<u8>(p + 8, 45);
    writeHex(p + 9, (high >> 16) & 0xffff, 4);
    store<u8>(p + 13, 45);
    writeHex(p + 14, high & 0xffff, 4);
    store<u8>(p + 18, 45);
  }

  /** Writes the next id (REQUEST_ID_LENGTH ASCII bytes) at ptr. */
  next(ptr: usize): void {
    this.sequence++;
    const low = scramble62(this.sequence) | 0x8000000000000000; // RFC 4122 variant bits 10
    memory.copy(ptr, changetype<usize>(this.prefix), PREFIX_LENGTH);
    writeHex(ptr + 19, low >> 48, 4);
    store<u8>(ptr + 23, 45);
    writeHex(ptr + 24, low & 0xffffffffffff, 12);
  }
}
