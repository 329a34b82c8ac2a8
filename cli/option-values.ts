// Numeric option values of the bench commands: the value, or an error that names the option,
// the range and what was given (the caller prints it and exits 2).

/** A whole number from `min` to `max`; `fallback` when the option is absent. */
export function wholeNumber(name: string, text: string | undefined, fallback: number, min: number, max: number): number | string {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min || n > max) return `--${name}: expected a whole number from ${min} to ${max}, got "${text}"`;
  return n;
}

/** A share from 0 to 1; `fallback` when the option is absent. */
export function share(name: string, text: string | undefined, fallback: number): number | string {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === "" || !(n >= 0 && n <= 1)) return `--${name}: expected a number from 0 to 1, got "${text}"`;
  return n;
}
