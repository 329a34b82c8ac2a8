// One streamed response (Content-Type text/event-stream) as it passes: the body callbacks' times
// and a bounded copy of its last bytes, turned at the end into what StreamWindow reports (see
// proto/autoglm/v1/traffic_guard.proto): time to first token, time per output token, the largest
// gap between chunks, the output tokens, and whether the stream was cut. Per chunk only a clock
// read (by the caller), a few counters and a copy of at most SSE_TAIL_BYTES bytes; the body is
// never held back (the caller always continues). Reused by the request contexts FilterRoot recycles.
import { utf8 } from "../core/bytes";
import { copyBufferBytes } from "../abi/hostcalls";
import { BufferType } from "../abi/types";
import { SSE_TAIL_BYTES, tailCompletionTokens, tailHasDone, tailHasError } from "../core/ssetail";

/** "text/event-stream", the media type of server-sent events (WHATWG HTML, 9.2). */
const EVENT_STREAM = utf8("text/event-stream");

/** Whether a Content-Type value (len bytes at ptr) is text/event-stream, with or without
 *  parameters; media types compare case-insensitively (RFC 9110, 8.3.1). */
export function isEventStream(ptr: usize, len: i32): bool {
  const n = EVENT_STREAM.byteLength;
  if (len < n) return false;
  for (let i = 0; i < n; i++) {
    if ((load<u8>(ptr + <usize>i) | 0x20) != load<u8>(changetype<usize>(EVENT_STREAM) + <usize>i)) return false;
  }
  return len == n || load<u8>(ptr + <usize>n) == 0x3b || load<u8>(ptr + <usize>n) == 0x20; // ";" or " "
}

export class SseMeter {
  /** Non-empty body chunks so far. */
  chunks: u32 = 0;
  /** Host times of the first and the last non-empty chunk, and the largest gap between two, ns. */
  firstNs: u64 = 0;
  lastNs: u64 = 0;
  maxGapNs: u64 = 0;
  /** The stream's last bytes (at most SSE_TAIL_BYTES, oldest first) and how many there are. */
  private tail: StaticArray<u8> = new StaticArray<u8>(SSE_TAIL_BYTES);
  private tailLen: i32 = 0;

  reset(): void {
    this.chunks = 0;
    this.firstNs = 0;
    this.lastNs = 0;
    this.maxGapNs = 0;
    this.tailLen = 0;
  }

  /** A non-empty chunk of bodySize bytes, now in the host's response body buffer, arrived at nowNs. */
  chunk(bodySize: u32, nowNs: u64): void {
    if (this.chunks == 0) this.firstNs = nowNs;
    else if (nowNs - this.lastNs > this.maxGapNs) this.maxGapNs = nowNs - this.lastNs;
    this.lastNs = nowNs;
    this.chunks++;
    const room = <u32>SSE_TAIL_BYTES;
    const take = bodySize < room ? bodySize : room;
    // Keep the newest (room - take) bytes already held, then append the chunk's last `take`.
    const tail = changetype<usize>(this.tail);
    const held = this.tailLen;
    const keep = held < <i32>(room - take) ? held : <i32>(room - take);
    if (keep > 0 && keep < held) memory.copy(tail, tail + <usize>(held - keep), <usize>keep);
    const got = copyBufferBytes(BufferType.HTTP_RESPONSE_BODY, bodySize - take, take, tail + <usize>keep);
    this.tailLen = keep + <i32>got;
  }

  // What end() found (the StreamWindow sample of this stream).
  /** Cut: reset or timed out after the headers, an error event in the tail, or no [DONE]. */
  cut: bool = false;
  /** Cut, and not already a failure by its status or transport (an error event inside a 2xx-4xx,
   *  or an end without [DONE]): StreamWindow.failed_in_stream. */
  failedInStream: bool = false;
  /** Output tokens: usage.completion_tokens, else the non-empty chunks (then `estimated`). */
  tokens: u64 = 0;
  estimated: bool = false;
  /** Microseconds; u64.MAX_VALUE when the stream gives none (no chunk; fewer than two chunks or
   *  tokens: a stream in one chunk was buffered upstream and has no time per token; no usage:
   *  its events may carry several tokens each, so chunks would overstate the time per token). */
  ttftUs: u64 = u64.MAX_VALUE;
  tpotUs: u64 = u64.MAX_VALUE;
  maxGapUs: u64 = u64.MAX_VALUE;

  /**
   * The stream ended (startNs: its request headers, host time). transportCut: reset or timed out
   * after its headers; clientLeft: the client ended it (not the upstream's doing: never cut);
   * failed: already counted as a failure (5xx, timeout, reset, gRPC error).
   */
  end(startNs: u64, transportCut: bool, clientLeft: bool, failed: bool): void {
    const tail = changetype<usize>(this.tail);
    const n = this.tailLen;
    this.cut = !clientLeft && (transportCut || tailHasError(tail, n) || !tailHasDone(tail, n));
    this.failedInStream = this.cut && !failed;
    const usage = tailCompletionTokens(tail, n);
    this.estimated = usage < 0;
    this.tokens = usage < 0 ? <u64>this.chunks : <u64>usage;
    const chunks = this.chunks;
    this.ttftUs = chunks > 0 ? (this.firstNs > startNs ? (this.firstNs - startNs) / 1000 : 0) : u64.MAX_VALUE;
    this.maxGapUs = chunks > 1 ? this.maxGapNs / 1000 : u64.MAX_VALUE;
    this.tpotUs = !this.estimated && chunks > 1 && this.tokens > 1 ? (this.lastNs - this.firstNs) / 1000 / (this.tokens - 1) : u64.MAX_VALUE;
  }
}
