// Hexadecimal helpers that write ASCII bytes in place (no allocation on the request path).

// @ts-ignore: decorator
@inline function hexDigit(n: u32): u8 {
  return <u8>(n < 10 ? 48 + n : 87 + n); // '0'..'9', 'a'..'f'
}

/** Two hex digits per byte value: u16 at HEX_PAIRS + 2·b holds b's digits in memory order
 *  (little-endian: the high nibble's digit in the low byte). 512 bytes, filled at start. */
const HEX_PAIRS: usize = memory.data(512);
for (let b: u32 = 0; b < 256; b++) {
  store<u16>(HEX_PAIRS + (<usize>b << 1), <u16>hexDigit(b >> 4) | (<u16>hexDigit(b & 0xf) << 8));
}

/** Writes `digits` lower-case hex digits of v (most significant first) at ptr, two per store. */
export function writeHex(ptr: usize, v: u64, digits: i32): void {
  let i = digits - 2;
  for (; i >= 0; i -= 2) {
    store<u16>(ptr + <usize>i, load<u16>(HEX_PAIRS + (<usize>(v & 0xff) << 1)));
    v >>= 8;
  }
  if (i == -1) store<u8>(ptr, hexDigit(<u32>(v & 0xf))); // odd count: the leading digit
}

/** Per byte value: its value as a lower-case hex digit, or -1. 256 bytes, filled at start. */
const HEX_VALUES: usize = memory.data(256);
for (let c: i32 = 0; c < 256; c++) {
  store<i8>(HEX_VALUES + <usize>c, <i8>(c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1));
}

/** Value of a lower-case hex digit (a byte, 0–255), or -1 (upper case is rejected, as W3C trace
 *  context requires). One table load: a traceparent has 34 digits to check. */
// @ts-ignore: decorator
@inline
export function lowerHexValue(c: i32): i32 {
  return <i32>load<i8>(HEX_VALUES + <usize>(c & 0xff));
}
