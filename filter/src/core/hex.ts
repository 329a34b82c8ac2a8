// Hexadecimal helpers that write ASCII bytes in place (no allocation on the request path).

// @ts-ignore: decorator
@inline function hexDigit(n: u32): u8 {
  return <u8>(n < 10 ? 48 + n : 87 + n); // '0'..'9', 'a'..'f'
}

/** Writes `digits` lower-case hex digits of v (most significant first) at ptr. */
export function writeHex(ptr: usize, v: u64, digits: i32): void {
  for (let i = digits - 1; i >= 0; i--) {
    store<u8>(ptr + <usize>i, hexDigit(<u32>(v & 0xf)));
    v >>= 4;
  }
}

/** Value of a lower-case hex digit, or -1 (upper case is rejected, as W3C trace context requires). */
export function lowerHexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
