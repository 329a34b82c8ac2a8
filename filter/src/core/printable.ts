// Text from the wire echoed into logs, NACK reasons and local replies: printable ASCII only
// (anything else becomes '?'), at most 80 characters, so that bytes that are not valid UTF-8
// (which decode to lone surrogates) never reach the host or the control plane as invalid UTF-8.

export function printable(s: string): string {
  const n = s.length < 80 ? s.length : 80;
  let clean = true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) { clean = false; break; }
  }
  if (clean && n == s.length) return s;
  let out = "";
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c > 0x7e ? "?" : String.fromCharCode(c, -1);
  }
  return n < s.length ? out + "…" : out;
}
