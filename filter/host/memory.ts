// Access to a proxy-wasm module's linear memory: bounds-checked reads, writes of return values, and
// copies into memory the module allocates. Views are cached and refreshed only when the memory has
// grown (growing detaches the old ArrayBuffer, so a cached view then reports length 0).

import type { WasmMemoryObject } from "./wasm-api.js";


// Node's own UTF-8 slice/write on any Uint8Array: much cheaper per call than TextDecoder/TextEncoder,
// which allocate and cross into C++ with more ceremony.
type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;
type Utf8Write = (this: Uint8Array, s: string, offset: number, length: number) => number;
type Latin1Write = Utf8Write;
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: Utf8Slice }).utf8Slice;
const utf8Write = (Buffer.prototype as unknown as { utf8Write: Utf8Write }).utf8Write;
const latin1Write = (Buffer.prototype as unknown as { latin1Write: Latin1Write }).latin1Write;

const byteLength = Buffer.byteLength;

/** Bytes of `s` encoded as UTF-8 (Node's native count: several times faster than a JS loop). */
export function utf8Length(s: string): number {
  return byteLength(s, "utf8");
}

export function encodeUtf8(s: string): Uint8Array {
  const len = utf8Length(s);
  const out = new Uint8Array(len);
  writeString(out, 0, s, len);
  return out;
}

export function decodeUtf8(bytes: Uint8Array): string {
  return decodeString(bytes, 0, bytes.length);
}

/** Allocates `size` bytes inside the module (its malloc or proxy_on_memory_allocate); 0 on failure. */
export type Allocator = (size: number) => number;

export class WasmMemory {
  private u8: Uint8Array;
  private dv: DataView;

  constructor(
    private readonly memory: WasmMemoryObject,
    private readonly allocator: Allocator,
  ) {
    this.u8 = new Uint8Array(memory.buffer);
    this.dv = new DataView(memory.buffer);
  }

  /** The current bytes of memory (re-created only after the memory grew). */
  // Growing a (non-shared) memory detaches its old ArrayBuffer, so a view of length 0 means "grown".
  // `.length`, not `.byteLength`: in Node 20's V8 a typed array's byteLength getter is not inlined
  // and costs ~50 ns a read (length: under 1 ns), several times per host call (scratch-measured).
  bytes(): Uint8Array {
    if (this.u8.length === 0) this.refresh();
    return this.u8;
  }

  view(): DataView {
    if (this.u8.length === 0) this.refresh();
    return this.dv;
  }

  private refresh(): void {
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
  }

  /** True when [ptr, ptr+len) lies inside memory. */
  inBounds(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.bytes().length;
  }

  /** A copy of `len` bytes at `ptr`, or null when out of bounds. */
  readBytes(ptr: number, len: number): Uint8Array | null {
    const u8 = this.bytes();
    if (ptr < 0 || len < 0 || ptr + len > u8.length) return null;
    return u8.slice(ptr, ptr + len);
  }

  /** The UTF-8 string of `len` bytes at `ptr`, or null when out of bounds. */
  readString(ptr: number, len: number): string | null {
    const u8 = this.bytes();
    if (ptr < 0 || len < 0 || ptr + len > u8.length) return null;
    return decodeString(u8, ptr, len);
  }

  readU32(ptr: number): number {
    return this.view().getUint32(ptr, true);
  }

  /** Writes a little-endian u32; false when out of bounds. */
  writeU32(ptr: number, value: number): boolean {
    // Bounds from the byte view's length: a DataView's byteLength getter is a builtin call too.
    if (ptr < 0 || ptr + 4 > this.bytes().length) return false;
    this.dv.setUint32(ptr, value >>> 0, true);
    return true;
  }

  /** Writes a little-endian u64; false when out of bounds. */
  writeU64(ptr: number, value: bigint): boolean {
    if (ptr < 0 || ptr + 8 > this.bytes().length) return false;
    this.dv.setBigUint64(ptr, value, true);
    return true;
  }

  /** Writes a little-endian u64 given as epoch milliseconds, in nanoseconds, without BigInt. */
  writeNanosFromMs(ptr: number, ms: number): boolean {
    if (ptr < 0 || ptr + 8 > this.bytes().length) return false;
    const dv = this.dv;
    const whole = Math.floor(ms);
    const fracNs = Math.round((ms - whole) * 1e6);
    const wholeHigh = Math.floor(whole / 4294967296); // < 2^10 for any epoch before year 2100
    const wholeLow = whole - wholeHigh * 4294967296;
    const low = wholeLow * 1e6 + fracNs; // < 2^53: exact
    const carry = Math.floor(low / 4294967296);
    dv.setUint32(ptr, low - carry * 4294967296, true);
    dv.setUint32(ptr + 4, wholeHigh * 1e6 + carry, true);
    return true;
  }

  /** Allocates `size` bytes in the module; 0 when the module's allocator failed. */
  allocate(size: number): number {
    // Allocating 0 bytes is legal for most allocators but returns a pointer nobody frees; use 1.
    return this.allocator(size === 0 ? 1 : size) >>> 0;
  }

  /**
   * Copies `bytes` into freshly allocated module memory and writes its address and size into the
   * return slots, the way the reference host returns values. An empty value is returned as
   * (0, 0) without allocating. False when a slot is out of bounds or allocation failed.
   */
  returnBytes(bytes: Uint8Array, retPtrPtr: number, retSizePtr: number): boolean {
    let ptr = 0;
    if (bytes.length > 0) {
      ptr = this.allocate(bytes.length);
      if (ptr === 0) return false;
      const u8 = this.bytes();
      if (ptr + bytes.length > u8.length) return false;
      u8.set(bytes, ptr);
    }
    return this.writeU32(retPtrPtr, ptr) && this.writeU32(retSizePtr, bytes.length);
  }

  /** Like returnBytes for a string, encoding it as UTF-8 straight into module memory. */
  returnString(s: string, retPtrPtr: number, retSizePtr: number): boolean {
    const units = s.length;
    if (units > 0 && units < NATIVE_ASCII_WRITE_MIN) return this.returnShortString(s, units, retPtrPtr, retSizePtr);
    const len = utf8Length(s);
    let ptr = 0;
    if (len > 0) {
      ptr = this.allocate(len);
      if (ptr === 0) return false;
      const u8 = this.bytes();
      if (ptr + len > u8.length) return false;
      writeString(u8, ptr, s, len);
    }
    return this.writeU32(retPtrPtr, ptr) && this.writeU32(retSizePtr, len);
  }

  /**
   * returnString for a short string (most header values: a status, a content type) in one pass,
   * without measuring it first: the block is sized for the worst case (UTF-8 needs at most 3
   * bytes per UTF-16 unit), filled as ASCII, and re-encoded by utf8Write only if a character is
   * not ASCII. The returned size is the bytes written; the block's spare end is unused.
   */
  private returnShortString(s: string, units: number, retPtrPtr: number, retSizePtr: number): boolean {
    const capacity = units * 3;
    const ptr = this.allocate(capacity);
    if (ptr === 0) return false;
    const u8 = this.bytes();
    if (ptr + capacity > u8.length) return false;
    let len = units;
    for (let i = 0; i < units; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        len = utf8Write.call(u8, s, ptr, capacity);
        break;
      }
      u8[ptr + i] = c;
    }
    return this.writeU32(retPtrPtr, ptr) && this.writeU32(retSizePtr, len);
  }
}

/** Decodes UTF-8 at [ptr, ptr+len) of `u8` (Node's utf8Slice straight on the memory view: cheaper
 *  than a hand loop even for short ASCII strings, and no intermediate copy or TextDecoder). */
export function decodeString(u8: Uint8Array, ptr: number, len: number): string {
  if (len === 0) return "";
  return utf8Slice.call(u8, ptr, ptr + len);
}

/** ASCII strings at least this long are copied by Node's latin1Write (one native call, ~40 ns
 *  here) rather than a charCodeAt loop (~1.7 ns a character). */
const NATIVE_ASCII_WRITE_MIN = 24;

/** Writes `s` (whose UTF-8 length is `len`) at `ptr`. A UTF-8 length equal to the string's length
 *  means every character is ASCII, for which Latin-1 and UTF-8 bytes are the same. */
export function writeString(u8: Uint8Array, ptr: number, s: string, len: number): void {
  if (len === s.length) {
    if (len >= NATIVE_ASCII_WRITE_MIN) {
      latin1Write.call(u8, s, ptr, len);
      return;
    }
    for (let i = 0; i < len; i++) u8[ptr + i] = s.charCodeAt(i);
    return;
  }
  utf8Write.call(u8, s, ptr, len);
}
