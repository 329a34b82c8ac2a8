// Who sends the traffic, per request: the client identity (configuration `sources`), counted in
// the worker's sketch (core/sourcesketch.ts), and the source limits of the enforced decision set
// (core/sourcelimits.ts), refused with a local 429. Called only when `sources` is configured.
import { getProperty, HeaderScan, utf8 } from "../abi/hostcalls";
import { noteGarbage, SMALL_GARBAGE } from "../abi/gc";
import { writeHex } from "../core/hex";
import { fnv1a64, SourceSketch } from "../core/sourcesketch";
import { refusingLimit } from "../core/sourcelimits";
import { FilterConfig } from "../config";
import { SourceCount } from "../wire/messages";
import { sendLocalReply } from "./localreply";
import { FilterRoot, REQUEST_SCAN_SOURCE } from "./root";

/** Envoy's attribute `source.address`: the downstream address, "ip:port" or "[ipv6]:port"
 *  (envoy/docs/root/intro/arch_overview/advanced/attributes.rst). */
const SOURCE_ADDRESS_PATH = utf8("source\0address");
/** The 16 hex digits of a hashed header value (the host copies nothing from here). */
const HASH_TEXT: usize = memory.data(16);
const WHY_SOURCE_LIMITED = "source_limited";

/** Identity kinds (FilterRoot.sourceMode), from sources.header. */
export const IDENTITY_ADDRESS: i32 = 0;
export const IDENTITY_FORWARDED_FOR: i32 = 1;
export const IDENTITY_HASHED: i32 = 2;

/** The identity kind of a configured sources.header. */
export function identityMode(header: string): i32 {
  if (header.length == 0) return IDENTITY_ADDRESS;
  return header == "x-forwarded-for" ? IDENTITY_FORWARDED_FOR : IDENTITY_HASHED;
}

/** The result of identify(): where the identity's bytes are (valid until the scan's release). */
let idPtr: usize = 0;
let idLen: i32 = 0;

/** Sets idPtr/idLen to the request's identity ("" when the property or header is absent). */
function identify(mode: i32, scan: HeaderScan): void {
  idLen = 0;
  let p: usize;
  let n: i32;
  if (mode == IDENTITY_ADDRESS) {
    const v = getProperty(SOURCE_ADDRESS_PATH);
    noteGarbage(SMALL_GARBAGE);
    if (v === null) return;
    p = changetype<usize>(v);
    n = v.byteLength;
    // "ipv4:port" up to its last ':' (an IPv6 address keeps its brackets: "[2001:db8::7]").
    let colon = n;
    while (colon > 0 && load<u8>(p + <usize>--colon) != 0x3a);
    if (colon > 0) n = colon;
  } else {
    n = scan.valueLength(REQUEST_SCAN_SOURCE);
    if (n < 0) return;
    p = scan.valuePtr(REQUEST_SCAN_SOURCE);
    if (mode == IDENTITY_HASHED) {
      writeHex(HASH_TEXT, fnv1a64(p, n), 16);
      p = HASH_TEXT;
      n = 16;
    } else {
      // x-forwarded-for: the first (client-most) hop, up to its ',' (Envoy writes "a, b").
      let end = 0;
      while (end < n && load<u8>(p + <usize>end) != 0x2c) end++;
      n = end;
    }
  }
  idPtr = p;
  idLen = n;
}

/** Counts the request's source in the sketch and applies the source limits: its counts, or
 *  null when a limit refused it (a local 429 was sent and counted). */
export function countSource(root: FilterRoot, scan: HeaderScan, nowMs: u64): SourceCount | null {
  identify(root.sourceMode, scan);
  const counts = (root.sketch as SourceSketch).offer(fnv1a64(idPtr, idLen), idPtr, idLen);
  const limits = root.enforcedLimits(nowMs);
  if (limits === null) return counts;
  const limit = refusingLimit(limits, counts.key);
  if (limit === null) return counts;
  counts.limited++;
  sendLocalReply(429, WHY_SOURCE_LIMITED, WHY_SOURCE_LIMITED, "", (root.config as FilterConfig).retryAfterS);
  return null;
}
