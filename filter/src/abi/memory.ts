// Memory the host writes into: proxy_on_memory_allocate hands out raw (non-GC) heap blocks.
// Every block the host returns through a return_* pointer is copied and freed by hostcalls.ts.
//
// Small requests (header values, a response's header map: a few per request) get a block of
// exactly SMALL_BLOCK_BYTES, and blocks given back through releaseHostBlock() are kept on a short
// free list for the next request instead of going through the allocator twice. Any block may
// still be freed with heap.free (pooled blocks are ordinary heap blocks).

/** Size of every block handed out for a request of at most this many bytes. */
const SMALL_BLOCK_BYTES: usize = 256;
/** Blocks kept on the free list at most (bounds the memory held: 2 KiB). */
const POOL_LIMIT: i32 = 8;

/** Head of the free list (0: empty); each free block's first word links to the next. */
let pool: usize = 0;
let pooled: i32 = 0;

/** ABI: allocate `size` bytes for the host; 0 on failure. */
export function proxy_on_memory_allocate(size: usize): usize {
  if (size <= SMALL_BLOCK_BYTES) {
    const block = pool;
    if (block != 0) {
      pool = load<usize>(block);
      pooled--;
      return block;
    }
    return heap.alloc(SMALL_BLOCK_BYTES);
  }
  return heap.alloc(size);
}

/**
 * Gives back a block the host allocated and returned with `size` bytes of content. Content of at
 * most SMALL_BLOCK_BYTES means the block holds at least that many (a small request got exactly
 * that; a larger one more), so it can serve any small request: it is pooled while there is room.
 */
export function releaseHostBlock(block: usize, size: usize): void {
  if (size <= SMALL_BLOCK_BYTES && pooled < POOL_LIMIT) {
    store<usize>(block, pool);
    pool = block;
    pooled++;
    return;
  }
  heap.free(block);
}
