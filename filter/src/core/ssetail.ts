// What the last bytes of a server-sent-events response (text/event-stream: OpenAI-compatible LLM
// streams from vLLM, TGI, SGLang) say about how it ended, found by byte search, without parsing
// JSON (facts and sources: the streams issue's notes):
//   - "[DONE]": the stream's clean end (`data: [DONE]`, the OpenAI stream's last event);
//   - "\"error\"" or "event: error": an error event, sent inside a 200 once the headers are out
//     (vLLM `data: {"error": ...}` / `"object": "error"`, TGI `data: {"error": ...}`). Inside a
//     token's text the quote is escaped (\"error\"), so generated text does not match;
//   - "\"completion_tokens\":" then digits: the output tokens of the final usage event
//     (`stream_options.include_usage`; its `usage` object closes the last chunk before [DONE]).
// Pure: the caller hands over the tail's bytes.
import { sameBytes, utf8 } from "./bytes";

/** Bytes of a stream's end kept for the search: the usage event's end, [DONE] and an error event
 *  fit (vLLM's usage chunk ends with `"completion_tokens":N}}` about 100 bytes before [DONE]). */
export const SSE_TAIL_BYTES: i32 = 256;

const DONE = utf8("[DONE]");
const ERROR_KEY = utf8("\"error\"");
const ERROR_EVENT = utf8("event: error");
const COMPLETION_TOKENS = utf8("\"completion_tokens\":");

/** Index of the last occurrence of needle in the len bytes at ptr; -1 when absent. */
function lastIndexOf(ptr: usize, len: i32, needle: ArrayBuffer): i32 {
  const n = needle.byteLength;
  const first = load<u8>(changetype<usize>(needle));
  for (let i = len - n; i >= 0; i--) {
    if (load<u8>(ptr + <usize>i) == first && sameBytes(ptr + <usize>i, changetype<usize>(needle), <usize>n)) return i;
  }
  return -1;
}

/** Whether the tail holds the clean end, `[DONE]`. */
export function tailHasDone(ptr: usize, len: i32): bool {
  return lastIndexOf(ptr, len, DONE) >= 0;
}

/** Whether the tail holds an error event. */
export function tailHasError(ptr: usize, len: i32): bool {
  return lastIndexOf(ptr, len, ERROR_KEY) >= 0 || lastIndexOf(ptr, len, ERROR_EVENT) >= 0;
}

/** The last `"completion_tokens":` value in the tail (spaces allowed before the digits); -1 when
 *  there is none or its digits are cut off by the tail's end. */
export function tailCompletionTokens(ptr: usize, len: i32): i64 {
  const at = lastIndexOf(ptr, len, COMPLETION_TOKENS);
  if (at < 0) return -1;
  let i = at + COMPLETION_TOKENS.byteLength;
  while (i < len && load<u8>(ptr + <usize>i) == 0x20) i++;
  let v: i64 = 0;
  let digits = 0;
  for (; i < len && digits < 12; i++, digits++) {
    const d = <i32>load<u8>(ptr + <usize>i) - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + <i64>d;
  }
  return digits > 0 && i < len ? v : -1;
}
