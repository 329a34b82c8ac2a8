// Numbers as text for error messages, without pulling AssemblyScript's general float printer
// into the module: integers exactly, other values with up to 6 decimals.

export function numberText(x: f64): string {
  if (isNaN(x)) return "NaN";
  if (!isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  const negative = x < 0;
  let a = negative ? -x : x;
  if (a >= 9.0e15) return negative ? "a huge negative number" : "a huge number";
  let whole = <u64>Math.floor(a);
  let micro = <u64>Math.round((a - <f64>whole) * 1.0e6);
  if (micro >= 1000000) {
    whole += 1;
    micro -= 1000000;
  }
  let text = (negative ? "-" : "") + whole.toString();
  if (micro == 0) return text;
  let digits = micro.toString();
  while (digits.length < 6) digits = "0" + digits;
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) == 48) end--;
  return text + "." + digits.substring(0, end);
}
