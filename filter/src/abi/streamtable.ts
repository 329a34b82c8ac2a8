// Live HTTP stream contexts by context id: an open-addressing hash table (linear probing,
// deletion by backward shift, so no tombstones). A request inserts and deletes one entry; unlike
// ~lib/map, which rehashes into fresh buffers every few insertions when entries come and go, this
// table allocates only when it grows or shrinks, so a steady stream of requests leaves no
// garbage behind.
import { HttpContext } from "./context";

/** Smallest capacity (slots; a power of two). */
const MIN_CAPACITY: i32 = 16;

export class StreamTable {
  /** Context id per slot; 0 marks an empty slot (id 0 itself lives in `zero`). */
  private ids: StaticArray<u32> = new StaticArray<u32>(MIN_CAPACITY);
  private contexts: StaticArray<HttpContext | null> = new StaticArray<HttpContext | null>(MIN_CAPACITY);
  /** 32 − log2(capacity): the hash keeps the product's top bits. */
  private shift: u32 = 32 - 4;
  private count: i32 = 0;
  private zero: HttpContext | null = null;

  @inline private home(id: u32): i32 {
    return <i32>((id * 0x9e3779b1) >> this.shift); // Fibonacci hashing: ids in sequence spread out
  }

  /** The slot holding `id`, or -1. */
  private slotOf(id: u32): i32 {
    const ids = this.ids;
    const mask = ids.length - 1;
    let i = this.home(id);
    // The table is never more than half full: the probe ends at an empty slot.
    let k = unchecked(ids[i]);
    while (k != id) {
      if (k == 0) return -1;
      i = (i + 1) & mask;
      k = unchecked(ids[i]);
    }
    return i;
  }

  get(id: u32): HttpContext | null {
    if (id == 0) return this.zero;
    const i = this.slotOf(id);
    return i < 0 ? null : unchecked(this.contexts[i]);
  }

  /** Inserts or replaces the context of `id`. */
  set(id: u32, ctx: HttpContext): void {
    if (id == 0) {
      this.zero = ctx;
      return;
    }
    if ((this.count + 1) * 2 > this.ids.length) this.resize(this.ids.length * 2);
    const ids = this.ids;
    const mask = ids.length - 1;
    let i = this.home(id);
    for (;;) {
      const k = unchecked(ids[i]);
      if (k == id) break;
      if (k == 0) {
        unchecked((ids[i] = id));
        this.count++;
        break;
      }
      i = (i + 1) & mask;
    }
    unchecked((this.contexts[i] = ctx));
  }

  delete(id: u32): void {
    if (id == 0) {
      this.zero = null;
      return;
    }
    let i = this.slotOf(id);
    if (i < 0) return;
    const ids = this.ids;
    const contexts = this.contexts;
    const mask = ids.length - 1;
    // Backward shift: move later entries of the probe run into the hole when their home slot
    // does not lie cyclically in (hole, their slot].
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = unchecked(ids[j]);
      if (k == 0) break;
      const h = this.home(k);
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (stays) continue;
      unchecked((ids[i] = k));
      unchecked((contexts[i] = unchecked(contexts[j])));
      i = j;
    }
    unchecked((ids[i] = 0));
    unchecked((contexts[i] = null));
    this.count--;
    if (this.ids.length > MIN_CAPACITY && this.count * 8 < this.ids.length) this.resize(this.ids.length / 2);
  }

  private resize(capacity: i32): void {
    const oldIds = this.ids;
    const oldContexts = this.contexts;
    this.ids = new StaticArray<u32>(capacity);
    this.contexts = new StaticArray<HttpContext | null>(capacity);
    this.shift = 32 - <u32>ctz(capacity);
    this.count = 0;
    for (let s = 0; s < oldIds.length; s++) {
      const k = unchecked(oldIds[s]);
      if (k != 0) this.set(k, changetype<HttpContext>(unchecked(oldContexts[s])));
    }
  }
}
