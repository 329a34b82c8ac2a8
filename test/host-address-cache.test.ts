// The host's address cache (filter/host/address-cache.ts): two addresses of one set both stay
// cached, and a third evicts the one used less recently.
import assert from "node:assert/strict";
import test from "node:test";
import { AddressCache } from "../filter/host/address-cache.js";

/** The first `count` 16-byte-aligned addresses (as a module's allocator hands out) in `set`. */
function addressesInSet(set: number, count: number): number[] {
  const found: number[] = [];
  for (let address = 16; found.length < count; address += 16) {
    if (AddressCache.setOf(address) === set) found.push(address);
  }
  return found;
}

test("two hot addresses that share a set both stay cached", () => {
  const cache = new AddressCache<string>();
  const [a, b] = addressesInSet(AddressCache.setOf(32496), 2) as [number, number];
  cache.put(a, "a");
  cache.put(b, "b");
  for (let round = 0; round < 3; round++) {
    assert.equal(cache.get(a), "a");
    assert.equal(cache.get(b), "b");
  }
});

test("a third address in a set evicts the one used less recently, and replacing keeps one slot", () => {
  const cache = new AddressCache<string>();
  const [a, b, c] = addressesInSet(7, 3) as [number, number, number];
  cache.put(a, "a");
  cache.put(b, "b");
  assert.equal(cache.get(a), "a"); // a used last: b is the older one
  cache.put(c, "c");
  assert.equal(cache.get(b), undefined);
  assert.equal(cache.get(a), "a");
  assert.equal(cache.get(c), "c");
  cache.put(c, "c2"); // same address: replaced in place, a stays
  assert.equal(cache.get(c), "c2");
  assert.equal(cache.get(a), "a");
});

test("addresses of other sets and absent addresses are not confused", () => {
  const cache = new AddressCache<number>();
  for (let address = 0; address < 64 * 1024; address += 16) cache.put(address, address);
  let hits = 0;
  for (let address = 0; address < 64 * 1024; address += 16) {
    const got = cache.get(address);
    if (got !== undefined) {
      assert.equal(got, address);
      hits++;
    }
  }
  assert.ok(hits > 0 && hits <= 512, `hits ${hits}`);
  assert.equal(cache.get(3), undefined); // never put (and not 16-aligned)
});
