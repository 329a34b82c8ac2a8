// The filter's banned-output scan of response bodies (proto BodyScan; filter configuration key
// banned_output), as the core sees it: per cluster and window, bodies scanned, of them ended for
// a banned literal, and bodies passed unscanned because compressed. Counted by the filter when
// seen (a body at its response headers, a match at the chunk that completed it), so a window may
// hold a match whose body was counted in the window before. Windows of several workers merge by
// adding. Pure data and functions.

export interface BodyScanCounts {
  /** Responses whose body was scanned. */
  scanned: number;
  /** Responses ended by the filter because a banned literal appeared in the body. */
  matched: number;
  /** Responses passed unscanned: a Content-Encoding other than identity. */
  compressed: number;
}

export function emptyBodyScan(): BodyScanCounts {
  return { scanned: 0, matched: 0, compressed: 0 };
}

/** Adds `from` into `into`. */
export function addBodyScan(into: BodyScanCounts, from: BodyScanCounts): void {
  into.scanned += from.scanned;
  into.matched += from.matched;
  into.compressed += from.compressed;
}
