// Byte helpers shared across the filter, written to save code at their call sites (the module has
// a size budget of 65,536 bytes).

/** Whether the n bytes at a and at b are equal. Not inlined: memory.compare's body (memcmp) is
 *  inlined where it is written, about 200 bytes of code at each site, and the module has a size
 *  budget (65,536 bytes); the call costs a few nanoseconds. */
// @ts-ignore: decorator
@noinline export function sameBytes(a: usize, b: usize, n: usize): bool {
  return memory.compare(a, b, n) == 0;
}

/** s as UTF-8. Every argument given: a call that leaves String.UTF8.encode's optional ones out
 *  goes through its varargs trampoline, which sets the argument count at each of the ~50 call
 *  sites (inlined, this is one instruction shorter at each). */
export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.WTF8);
}
