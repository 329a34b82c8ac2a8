// Numbers as text for error messages and headers, without pulling AssemblyScript's general float
// printer, nor its radix-generic integer printers (their digit and error strings), into the
// module: integers exactly (dec, decSigned), other values with up to 6 decimals (numberText).

/** v in decimal. */
export function dec(v: u64): string {
  let n = 1;
  for (let t = v; t >= 10; t /= 10) n++;
  const out = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const p = changetype<usize>(out);
  do {
    n--;
    store<u16>(p + (<usize>n << 1), <u16>(0x30 + <u32>(v % 10)));
    v /= 10;
  } while (v != 0);
  return out;
}

/** v in decimal, "-" first when negative. */
export function decSigned(v: i64): string {
  return v < 0 ? "-" + dec(<u64>(-v)) : dec(<u64>v);
}

export function numberText(x: f64): string {
  if (isNaN(x)) return "NaN";
  if (!isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  const negative = x < 0;
  let a = negative ? -x : x;
  if (a >= 9.0e15) return negative ? "< -9e15" : "> 9e15";
  let whole = <u64>Math.floor(a);
  let micro = <u64>Math.round((a - <f64>whole) * 1.0e6);
  if (micro >= 1000000) {
    whole += 1;
    micro -= 1000000;
  }
  let text = (negative ? "-" : "") + dec(whole);
  if (micro == 0) return text;
  let digits = dec(micro);
  while (digits.length < 6) digits = "0" + digits;
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) == 48) end--;
  return text + "." + digits.substring(0, end);
}
