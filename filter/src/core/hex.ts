// Hexadecimal helpers that build strings without intermediate allocations.

// @ts-ignore: decorator
@inline function hexDigit(n: u32): u16 {
  return <u16>(n < 10 ? 48 + n : 87 + n); // '0'..'9', 'a'..'f'
}

/** Allocates a string of `length` UTF-16 code units to be filled in place. */
export function allocString(length: i32): string {
  return changetype<string>(__new(<usize>length << 1, idof<string>()));
}

/** Writes `digits` lower-case hex digits of v (most significant first) at code unit `at`. */
export function writeHex(s: string, at: i32, v: u64, digits: i32): void {
  const base = changetype<usize>(s) + (<usize>at << 1);
  for (let i = digits - 1; i >= 0; i--) {
    store<u16>(base + (<usize>i << 1), hexDigit(<u32>(v & 0xf)));
    v >>= 4;
  }
}

/** Writes one ASCII code unit at `at`. */
export function writeChar(s: string, at: i32, c: u16): void {
  store<u16>(changetype<usize>(s) + (<usize>at << 1), c);
}

/** Value of a lower-case hex digit, or -1 (upper case is rejected, as W3C trace context requires). */
export function lowerHexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
