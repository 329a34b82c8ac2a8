// What the host decoded at an address of module memory (a header name or value), remembered so
// that the next call passing the same address costs a byte compare instead of a decode. The
// caller checks that the bytes there are still the ones decoded; this only finds the entry.

/** Sets per cache (a power of two; two addresses each). */
export const ADDRESS_CACHE_SETS = 256;

/**
 * A two-way set-associative cache keyed by address: each address maps to one set of two slots,
 * picked by a multiplicative hash; a new address evicts the one of the two used less recently.
 * Cheaper per look-up than a Map, and bounded by construction (2 × ADDRESS_CACHE_SETS entries).
 *
 * Two ways, not one: a module's dozen or so hot addresses (its header names and values) collide
 * in a direct-mapped table of 256 slots with a probability near one half, and two hot addresses
 * sharing a slot evict each other on every request. Measured with the filter: a build whose
 * `:status` name shared a slot with another name missed twice per request (a decode and an
 * intern each), about +500 ns per request in `bench filter`.
 */
export class AddressCache<T> {
  private readonly addresses = new Int32Array(ADDRESS_CACHE_SETS * 2).fill(-1);
  private readonly entries: Array<T | undefined> = new Array<T | undefined>(ADDRESS_CACHE_SETS * 2).fill(undefined);
  /** Per set: the way (0 or 1) to evict next, i.e. the one not used last. */
  private readonly victims = new Uint8Array(ADDRESS_CACHE_SETS);

  /** The set of an address (a non-negative 32-bit integer). */
  static setOf(address: number): number {
    return Math.imul(address, 0x9e3779b1) >>> 24; // top 8 bits: ADDRESS_CACHE_SETS = 256 sets
  }

  get(address: number): T | undefined {
    const set = AddressCache.setOf(address);
    const first = set << 1;
    if (this.addresses[first] === address) {
      this.victims[set] = 1;
      return this.entries[first];
    }
    if (this.addresses[first + 1] === address) {
      this.victims[set] = 0;
      return this.entries[first + 1];
    }
    return undefined;
  }

  /** Remembers `entry` for `address` (replacing its entry, else evicting its set's older one). */
  put(address: number, entry: T): void {
    const set = AddressCache.setOf(address);
    const first = set << 1;
    const way = this.addresses[first] === address ? 0 : this.addresses[first + 1] === address ? 1 : this.victims[set]!;
    this.addresses[first + way] = address;
    this.entries[first + way] = entry;
    this.victims[set] = way ^ 1;
  }
}
