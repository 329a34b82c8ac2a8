// Memory the host writes into: proxy_on_memory_allocate hands out raw (non-GC) heap blocks.
// Every block the host returns through a return_* pointer is copied and freed by hostcalls.ts.

/** ABI: allocate `size` bytes for the host; 0 on failure. */
export function proxy_on_memory_allocate(size: usize): usize {
  return heap.alloc(size == 0 ? 1 : size);
}
