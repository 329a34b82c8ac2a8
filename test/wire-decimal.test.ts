// The filter's decimal reader (filter/src/core/decimal.ts), shared by the JSON parser and the ORCA
// TEXT form, run as compiled AssemblyScript through the wire harness over UTF-16 text and over
// UTF-8 bytes: the same double as JavaScript's Number() (bit for bit, -0 included), and NaN for
// what is not a decimal number.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { loadWireHarness, type WireHarness } from "./golden/as-harness.js";

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

/** Both ways of reading must give exactly `expected` (Object.is: -0 and NaN count). */
function check(text: string, expected: number): void {
  for (const wide of [true, false]) {
    const got = harness.decimalParse(text, wide);
    assert.ok(Object.is(got, expected), `${JSON.stringify(text)} (${wide ? "UTF-16" : "bytes"}): got ${got}, expected ${expected}`);
  }
}

const VALUES: [string, string][] = [
  ["plain integers", "0"], ["", "7"], ["", "4294967296"], ["", "9007199254740993"],
  ["negative zero", "-0"], ["", "-0.0"], ["", "-0e10"],
  ["fractions", "0.1"], ["", "0.3"], ["", "-2.75"], ["", "123456.789012345"],
  ["a bare fraction and a trailing point (the ORCA TEXT form takes them)", ".5"], ["", "2."],
  ["leading zeros (the JSON parser refuses them before it calls in)", "007"], ["", "0000.0001"],
  ["exponents", "1e3"], ["", "1E-7"], ["", "-12.5e+2"], ["", "1e-05"], ["", "9.5e-1"], ["", "1e22"], ["", "1e23"], ["", "4.35e100"],
  ["17-digit mantissas", "0.12345678901234567"], ["", "12345678901234567"], ["", "1.7976931348623157e308"], ["", "2.2250738585072014e-308"],
  ["", "9007199254740993e-5"], ["", "98765432109876543e-30"], ["", "0.30000000000000004"],
  ["halfway cases", "9007199254740993"], ["", "9007199254740995"], ["", "4503599627370496.5"], ["", "4503599627370497.5"],
  ["more than 19 digits", "123456789012345678901234"], ["", "0.1000000000000000000000001"],
  ["the extremes", "5e-324"], ["", "4.9406564584124654e-324"], ["", "1e-400"], ["", "1e400"], ["", "-1e400"], ["", "1e-350"],
];

test("decimals read as JavaScript's Number() reads them, bit for bit, over a table of cases", () => {
  for (const [, text] of VALUES) check(text, Number(text));
});

const INVALID = ["", "-", ".", "-.", "e5", "1e", "1e+", "1.2.3", "1x", "+1", " 1", "1 ", "0x10", "Infinity", "NaN", "1e5.5", "--1"];

test("texts that are not decimal numbers read as NaN", () => {
  for (const text of INVALID) check(text, Number.NaN);
});

/** Seeded xorshift32, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

test("random decimals of up to 19 significant digits and exponents from -330 to 310 read as Number() reads them", () => {
  const random = rng(0x5eed);
  let compared = 0;
  for (let i = 0; i < 20_000; i++) {
    const digits = 1 + Math.floor(random() * 19);
    let m = String(1 + Math.floor(random() * 9));
    for (let d = 1; d < digits; d++) m += String(Math.floor(random() * 10));
    const point = Math.floor(random() * (digits + 1));
    const mantissa = point === digits ? m : `${m.slice(0, point)}.${m.slice(point)}`;
    const text = `${random() < 0.5 ? "-" : ""}${mantissa}e${Math.floor(random() * 640) - 330}`;
    const expected = Number(text);
    // Subnormal results are rounded twice (the module's header says so): left to the table above.
    if (expected !== 0 && Math.abs(expected) < 2.2250738585072014e-308) continue;
    check(text, expected);
    compared++;
  }
  assert.ok(compared > 19_000, `compared ${compared}`);
});
