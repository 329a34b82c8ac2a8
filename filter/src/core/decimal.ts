// Decimal text to f64, shared by the JSON parser (configuration, the JSON form of ORCA reports)
// and the TEXT form of ORCA reports, without AssemblyScript's parseFloat (whose strtod, scalbn and
// power table cost about 1.8 KB of the module).
//
// Grammar: an optional "-", digits with at most one ".", at least one digit, then optionally
// "e" or "E", an optional sign and at least one digit. No spaces, no "+" in front, no "Infinity"
// or "NaN". Leading zeros are read here; the JSON parser refuses them before it calls in.
//
// Rounding: the value m × 10^e (m the first 19 significant digits as an integer) is
//   - exact and correctly rounded when m ≤ 2^53 and |e| ≤ 22 (one operation on two exact
//     doubles; Clinger's fast path, "How to read floating point numbers accurately", 1990);
//   - otherwise computed in double-double arithmetic (about 104 bits; Dekker's error-free
//     products, "A floating-point technique for extending the available precision", 1971) and
//     rounded once, so it is correctly rounded unless the decimal lies within about 2^-100
//     (relative) of a point halfway between two doubles, has more than 19 significant digits,
//     or is a subnormal (below 2.2e-308: rounded twice, so possibly one unit off).
// Results below the smallest subnormal are ±0, above the largest double ±Infinity.
// Pure: no host calls, no allocation.

/** Exact powers of ten as doubles (10^0 .. 10^22: every one is exact in binary64). */
const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];
/** 2^53: mantissas up to it are exact doubles. */
const EXACT_INTEGER: u64 = 9007199254740992;
/** Dekker's splitter for binary64: 2^27 + 1. */
const SPLITTER: f64 = 134217729.0;
/** 2^±600: keeps double-double intermediates away from overflow and subnormals (exact scalings). */
const SCALE_UP: f64 = reinterpret<f64>(<u64>(1023 + 600) << 52);
const SCALE_DOWN: f64 = reinterpret<f64>(<u64>(1023 - 600) << 52);

/** The double-double being scaled: hi + lo, |lo| ≤ ulp(hi) / 2. */
let ddHi: f64 = 0;
let ddLo: f64 = 0;

/** hi + lo ← (hi + lo) × p, p an exact power of ten (error-free product, then renormalised). */
function ddMul(p: f64): void {
  const a = ddHi;
  const ph = a * p;
  // Dekker's TwoProduct: ph + pl == a × p exactly.
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * p;
  const bh = t - (t - p);
  const bl = p - bh;
  const pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl;
  const lo = pl + ddLo * p;
  ddHi = ph + lo;
  ddLo = lo - (ddHi - ph);
}

/** hi + lo ← (hi + lo) / p, p an exact power of ten: the quotient, then the exact remainder's. */
function ddDiv(p: f64): void {
  const q = ddHi / p;
  const hi = ddHi;
  const lo = ddLo;
  // q × p exactly, as ph + pl (TwoProduct through ddMul's registers).
  ddHi = q;
  ddLo = 0;
  ddMul(p);
  const r = ((hi - ddHi) - ddLo) + lo;
  const q2 = r / p;
  ddHi = q + q2;
  ddLo = q2 - (ddHi - q);
}

/**
 * m × 10^e as a double (m > 0), rounded as the header says.
 */
export function scaleDecimal(m: u64, e: i32): f64 {
  // Clinger's fast path, and its extension: a few more powers moved into an exact mantissa.
  while (e > 22 && m <= EXACT_INTEGER / 10) {
    m *= 10;
    e--;
  }
  if (m <= EXACT_INTEGER && e >= -22 && e <= 22) {
    return e >= 0 ? <f64>m * unchecked(POW10[e]) : <f64>m / unchecked(POW10[-e]);
  }
  // m < 10^19 < 2^64: beyond 10^308 is Infinity, below 10^-343 is 0.
  if (e > 310) return Infinity;
  if (e < -362) return 0;
  const hi = <f64>m;
  const back = <u64>hi;
  // hi + lo == m exactly: the part of m the rounding to hi lost is below 2^11.
  ddLo = m >= back ? <f64>(m - back) : -<f64>(back - m);
  // Scaled by 2^-600 on the way up and 2^600 on the way down (undone at the end): no
  // intermediate overflows, none is subnormal.
  const up = e > 0;
  ddHi = hi * (up ? SCALE_DOWN : SCALE_UP);
  ddLo *= up ? SCALE_DOWN : SCALE_UP;
  for (; e > 22; e -= 22) ddMul(1e22);
  for (; e < -22; e += 22) ddDiv(1e22);
  if (e > 0) ddMul(unchecked(POW10[e]));
  else if (e < 0) ddDiv(unchecked(POW10[-e]));
  return (ddHi + ddLo) * (up ? SCALE_UP : SCALE_DOWN);
}

/**
 * Parses len characters at ptr as a decimal number (grammar in the header); NaN when they are
 * not one. `wide`: the characters are UTF-16 code units (an AssemblyScript string), else bytes.
 */
export function parseDecimal(ptr: usize, len: i32, wide: bool): f64 {
  const shift: usize = wide ? 1 : 0;
  let i = 0;
  let c: u32 = 0;
  const negative = len > 0 && charAt(ptr, 0, shift) == 0x2d;
  if (negative) i++;
  let m: u64 = 0;
  /** Significant digits taken into m (leading zeros are not significant). */
  let taken = 0;
  let digits = 0;
  /** Power of ten of m's last digit, before the exponent. */
  let e: i32 = 0;
  let point = false;
  for (; i < len; i++) {
    c = charAt(ptr, i, shift);
    if (c == 0x2e && !point) {
      point = true;
      continue;
    }
    const d = c - 0x30;
    if (d > 9) break;
    digits++;
    if (taken < 19) {
      if (m != 0 || d != 0) {
        m = m * 10 + <u64>d;
        taken++;
      }
      if (point) e--;
    } else if (!point) {
      e++; // a digit beyond the 19th, before the point: dropped, its place kept
    }
  }
  if (digits == 0) return NaN;
  if (i < len) {
    if ((c | 0x20) != 0x65) return NaN; // e or E
    i++;
    let expNegative = false;
    if (i < len) {
      c = charAt(ptr, i, shift);
      if (c == 0x2d || c == 0x2b) {
        expNegative = c == 0x2d;
        i++;
      }
    }
    if (i >= len) return NaN;
    let x: i32 = 0;
    for (; i < len; i++) {
      const d = charAt(ptr, i, shift) - 0x30;
      if (d > 9) return NaN;
      if (x < 100000) x = x * 10 + <i32>d;
    }
    e += expNegative ? -x : x;
  }
  const v = m == 0 ? 0.0 : scaleDecimal(m, e);
  return negative ? -v : v;
}

function charAt(ptr: usize, i: i32, shift: usize): u32 {
  return shift != 0 ? <u32>load<u16>(ptr + (<usize>i << 1)) : <u32>load<u8>(ptr + <usize>i);
}
