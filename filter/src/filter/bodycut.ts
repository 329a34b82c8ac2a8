// Ending a response in flight, as far as proxy-wasm ABI 0.2.1 lets a filter: for banned output
// (core/denylist.ts) and under an immediate halt (DecisionSet.halt_mode). The ABI has no way to
// end a response cleanly from a body callback (no end_of_stream to set); what it has, as Envoy
// implements it (source/extensions/common/wasm/context.cc):
//   - proxy_set_buffer_bytes on the response body: Buffer::copyFrom(0, size, data) drains the
//     chunk's `size` bytes and prepends `data`: the chunk is replaced before it goes on;
//   - proxy_close_stream(HttpResponse): Context::closeStream sets the response code details
//     "wasm_close_stream" (when unset) and, after the callback returns, calls
//     encoder_callbacks_->resetStream(): the stream is reset, the client sees it end without its
//     proper end (HTTP/2 RST_STREAM, HTTP/1.1 connection closed), the upstream request is reset
//     too, and a chunk of that same callback is not sent;
//   - proxy_continue_stream only resumes a paused stream.
// So an event stream gets its chunk replaced by a final SSE error event that reaches the client,
// and is reset at its next chunk (which is dropped; a last chunk is dropped and the stream ends
// on its own); any other response gets its chunk emptied and is reset at once.
import { borrowBufferBytes, closeStream, replaceBufferBytes, returnedSize } from "../abi/hostcalls";
import { releaseHostBlock } from "../abi/memory";
import { BufferType, StreamType } from "../abi/types";
import { BodyScanner, DenyList } from "../core/denylist";

/** Why a response was cut. */
export const CUT_BANNED: i32 = 0;
export const CUT_HALTED: i32 = 1;

// The final SSE events, as raw bytes in the data segment (a string literal would be stored as
// UTF-16 and encoded at start-up: twice the bytes, plus code). OpenAI-style error objects, which
// clients of those streams read as the stream's error and the stream meter (ssetail.ts) as one:
//   "event: error\ndata: {"error":{"type":"banned_output","message":"cut by the mesh"}}\n\n"
//   "event: error\ndata: {"error":{"type":"mesh_halted","message":"cut by the mesh"}}\n\n"
// test/filter-body-scan.test.ts checks the bytes the client gets.
const BANNED_EVENT: usize = memory.data<u8>([
  101, 118, 101, 110, 116, 58, 32, 101, 114, 114, 111, 114, 10, 100, 97, 116, 97, 58, 32, 123, 34, 101, 114,
  114, 111, 114, 34, 58, 123, 34, 116, 121, 112, 101, 34, 58, 34, 98, 97, 110, 110, 101, 100, 95, 111, 117,
  116, 112, 117, 116, 34, 44, 34, 109, 101, 115, 115, 97, 103, 101, 34, 58, 34, 99, 117, 116, 32, 98, 121, 32,
  116, 104, 101, 32, 109, 101, 115, 104, 34, 125, 125, 10, 10,
]);
const BANNED_EVENT_LENGTH: usize = 83;
const HALTED_EVENT: usize = memory.data<u8>([
  101, 118, 101, 110, 116, 58, 32, 101, 114, 114, 111, 114, 10, 100, 97, 116, 97, 58, 32, 123, 34, 101, 114,
  114, 111, 114, 34, 58, 123, 34, 116, 121, 112, 101, 34, 58, 34, 109, 101, 115, 104, 95, 104, 97, 108, 116,
  101, 100, 34, 44, 34, 109, 101, 115, 115, 97, 103, 101, 34, 58, 34, 99, 117, 116, 32, 98, 121, 32, 116, 104,
  101, 32, 109, 101, 115, 104, 34, 125, 125, 10, 10,
]);
const HALTED_EVENT_LENGTH: usize = 81;

/** Cuts the response at the chunk now in its body buffer (bodySize bytes), see above. */
export function cutChunk(bodySize: u32, sse: bool, why: i32): void {
  if (!sse) {
    replaceBufferBytes(BufferType.HTTP_RESPONSE_BODY, bodySize, 0, 0);
    closeStream(StreamType.HTTP_RESPONSE);
  } else if (why == CUT_BANNED) {
    replaceBufferBytes(BufferType.HTTP_RESPONSE_BODY, bodySize, BANNED_EVENT, BANNED_EVENT_LENGTH);
  } else {
    replaceBufferBytes(BufferType.HTTP_RESPONSE_BODY, bodySize, HALTED_EVENT, HALTED_EVENT_LENGTH);
  }
}

/** A chunk after the cut: dropped; the stream is reset unless this chunk ends it anyway. */
export function dropChunk(bodySize: u32, endOfStream: bool): void {
  if (bodySize > 0) replaceBufferBytes(BufferType.HTTP_RESPONSE_BODY, bodySize, 0, 0);
  if (!endOfStream) closeStream(StreamType.HTTP_RESPONSE);
}

/** Whether the chunk now in the response body buffer (bodySize bytes) completes a banned literal,
 *  read in place from the host's copy (given back to the small-block pool when small). */
export function bannedIn(scanner: BodyScanner, list: DenyList, bodySize: u32): bool {
  const ptr = borrowBufferBytes(BufferType.HTTP_RESPONSE_BODY, bodySize);
  if (ptr == 0) return false;
  const size = returnedSize();
  const hit = scanner.scan(list, ptr, <i32>size);
  releaseHostBlock(ptr, size);
  return hit;
}
