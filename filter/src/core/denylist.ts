// The banned-output deny-list and the scan of a response body against it, chunk by chunk as the
// body streams past (server-sent events included). Literals match ASCII case-insensitively
// (A-Z folded to a-z; other bytes, UTF-8 included, compare as they are). A match that straddles
// two chunks is found: each scan keeps the last maxLen - 1 bytes it saw (the carry) and looks
// again at the positions that start there. So the part of a match that lies in earlier chunks
// (at most maxLen - 1 bytes) has already gone to the client when the match is found; the filter
// does not hold bytes back (see the README, "Banned output").
// Pure: the caller hands over the chunk's bytes (address and length).
import { utf8 } from "./bytes";

/** At most this many literals, each of at most MAX_BANNED_BYTES bytes (the configuration's bounds). */
export const MAX_BANNED: i32 = 32;
export const MAX_BANNED_BYTES: i32 = 128;

/** Byte c with A-Z folded to a-z. */
// @ts-ignore: decorator
@inline function fold(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

export class DenyList {
  /** The literals' bytes, folded. */
  literals: StaticArray<ArrayBuffer>;
  /** Per byte value (either case): 1 + the index of the first literal that starts with it, 0 for
   *  none; `next` chains the others with the same first byte (1 + index, 0 ends). So a byte of
   *  the body costs one table load, and a start only compares the literals it can begin. */
  head: StaticArray<u8> = new StaticArray<u8>(256);
  next: StaticArray<u8>;
  /** The longest literal's length, bytes. */
  maxLen: i32 = 0;

  constructor(words: string[]) {
    const n = words.length;
    this.literals = new StaticArray<ArrayBuffer>(n);
    this.next = new StaticArray<u8>(n);
    for (let k = 0; k < n; k++) {
      const bytes = utf8(unchecked(words[k]));
      const p = changetype<usize>(bytes);
      const len = bytes.byteLength;
      for (let i = 0; i < len; i++) store<u8>(p + <usize>i, fold(load<u8>(p + <usize>i)));
      unchecked((this.literals[k] = bytes));
      const c = load<u8>(p);
      unchecked((this.next[k] = this.head[c]));
      unchecked((this.head[c] = <u8>(k + 1)));
      if (c - 0x61 < 26) unchecked((this.head[c ^ 0x20] = <u8>(k + 1)));
      if (len > this.maxLen) this.maxLen = len;
    }
  }
}

/** One body's scan state: the carry (the last maxLen - 1 bytes seen). Reused across streams. */
export class BodyScanner {
  private carry: StaticArray<u8> = new StaticArray<u8>(MAX_BANNED_BYTES);
  private held: i32 = 0;
  /** The current chunk (set for the duration of scan()). */
  private ptr: usize = 0;

  reset(): void {
    this.held = 0;
  }

  /** Byte q of the carry followed by the chunk. */
  private at(q: i32): u32 {
    return q < this.held ? <u32>unchecked(this.carry[q]) : <u32>load<u8>(this.ptr + <usize>(q - this.held));
  }

  /** Whether a literal of the chain from `k` (DenyList.head) starts at q and ends within the
   *  carry and the chunk's `total` bytes (its first byte is known to match). */
  private matchAt(list: DenyList, k: u32, q: i32, total: i32): bool {
    do {
      const lit = changetype<usize>(unchecked(list.literals[k - 1]));
      const n = changetype<ArrayBuffer>(lit).byteLength;
      if (q + n <= total) { // else not complete yet: the carry keeps its start
        let i = 1;
        while (i < n && fold(this.at(q + i)) == <u32>load<u8>(lit + <usize>i)) i++;
        if (i == n) return true;
      }
      k = unchecked(list.next[k - 1]);
    } while (k != 0);
    return false;
  }

  /**
   * Scans the next len bytes of the body (at ptr) as the continuation of the bytes before;
   * true when a literal is complete in them. After false, keeps the last maxLen - 1 bytes.
   */
  scan(list: DenyList, ptr: usize, len: i32): bool {
    this.ptr = ptr;
    const held = this.held;
    const total = held + len;
    const head = changetype<usize>(list.head);
    // Starts in the carry (a match straddling the boundary), then starts in the chunk.
    const carry = changetype<usize>(this.carry);
    for (let q = 0; q < held; q++) {
      const k = <u32>load<u8>(head + <usize>load<u8>(carry + <usize>q));
      if (k != 0 && this.matchAt(list, k, q, total)) return true;
    }
    for (let i = 0; i < len; i++) {
      const k = <u32>load<u8>(head + <usize>load<u8>(ptr + <usize>i));
      if (k != 0 && this.matchAt(list, k, held + i, total)) return true;
    }
    const keep = min(list.maxLen - 1, total);
    if (keep <= len) {
      memory.copy(carry, ptr + <usize>(len - keep), <usize>keep);
    } else {
      const old = keep - len;
      memory.copy(carry, carry + <usize>(held - old), <usize>old);
      memory.copy(carry + <usize>old, ptr, <usize>len);
    }
    this.held = keep;
    return false;
  }
}
