// Minimal protobuf wire-format primitives for AssemblyScript: a growable writer and a
// bounds-checked reader that never traps. Only what traffic_guard.proto needs: varint
// (uint32/uint64/bool/enum), fixed32 (float), fixed64 (skipped), length-delimited
// (string, message, packed repeated uint32).
import { dec } from "../core/numbertext";

export const WIRE_VARINT: i32 = 0;
export const WIRE_FIXED64: i32 = 1;
export const WIRE_LEN: i32 = 2;
export const WIRE_FIXED32: i32 = 5;

/** Bytes a varint of v takes (1..10). */
export function varintSize(v: u64): i32 {
  let n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/** Appends protobuf fields to a growable buffer; proto3 defaults (0, "", false) are skipped. */
export class PbWriter {
  private buf: ArrayBuffer;
  /** Bytes written so far. */
  pos: i32 = 0;

  constructor(capacity: i32 = 128) {
    this.buf = new ArrayBuffer(capacity);
  }

  private ensure(extra: i32): usize {
    const need = this.pos + extra;
    if (need > this.buf.byteLength) {
      let cap = this.buf.byteLength << 1;
      if (cap < need) cap = need;
      const next = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.pos);
      this.buf = next;
    }
    return changetype<usize>(this.buf) + <usize>this.pos;
  }

  varint(v: u64): void {
    let p = this.ensure(10);
    const start = p;
    while (v >= 0x80) {
      store<u8>(p++, <u8>(v | 0x80));
      v >>= 7;
    }
    store<u8>(p++, <u8>v);
    this.pos += <i32>(p - start);
  }

  tag(field: i32, wireType: i32): void {
    this.varint(<u64>((field << 3) | wireType));
  }

  uint64(field: i32, v: u64): void {
    if (v != 0) {
      this.tag(field, WIRE_VARINT);
      this.varint(v);
    }
  }

  uint32(field: i32, v: u32): void {
    this.uint64(field, <u64>v);
  }

  /** sint64: zigzag-encoded, so small negative values stay short. */
  sint64(field: i32, v: i64): void {
    this.uint64(field, <u64>((v << 1) ^ (v >> 63)));
  }

  /** int32/enum: negative values sign-extend to 10 bytes, as protobuf does. */
  int32(field: i32, v: i32): void {
    this.uint64(field, <u64>(<i64>v));
  }

  bool(field: i32, v: bool): void {
    this.uint64(field, v ? 1 : 0);
  }

  float(field: i32, v: f32): void {
    if (v != 0) {
      this.tag(field, WIRE_FIXED32);
      store<f32>(this.ensure(4), v);
      this.pos += 4;
    }
  }

  double(field: i32, v: f64): void {
    if (v != 0) {
      this.tag(field, WIRE_FIXED64);
      store<f64>(this.ensure(8), v);
      this.pos += 8;
    }
  }

  /** A string field, UTF-8; written even when empty if `always` (repeated string elements). */
  string(field: i32, s: string, always: bool = false): void {
    if (s.length == 0 && !always) return;
    this.tag(field, WIRE_LEN);
    const n = String.UTF8.byteLength(s);
    this.varint(<u64>n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.ensure(n));
    this.pos += n;
  }

  /** Starts a length-delimited field (message or packed); returns the mark for end(). */
  begin(field: i32): i32 {
    this.tag(field, WIRE_LEN);
    this.ensure(5);
    const mark = this.pos;
    this.pos += 5; // room for the longest 32-bit length varint; end() closes the gap
    return mark;
  }

  /** Ends the field started at mark: writes its length and moves the content down to it. */
  end(mark: i32): void {
    const len = this.pos - mark - 5;
    const n = varintSize(<u64>len);
    const base = changetype<usize>(this.buf);
    memory.copy(base + <usize>(mark + n), base + <usize>(mark + 5), <usize>len);
    this.pos = mark;
    this.varint(<u64>len);
    this.pos = mark + n + len;
  }

  /** The bytes written, as a new buffer of exactly that size. */
  finish(): ArrayBuffer {
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Reads protobuf fields from a buffer. Every read is bounds-checked against `limit` (the end of
 * the message being read); the first problem is kept in `error` and later reads return zeros,
 * so decoders just loop `while (r.more())` and check `error` at the end.
 */
export class PbReader {
  /** Kept so the buffer stays reachable (and unmoved) while it is read. */
  private buf: ArrayBuffer;
  private base: usize;
  pos: i32 = 0;
  /** End of the current message (exclusive). */
  limit: i32;
  /** First problem met, naming the field; null while all is well. */
  error: string | null = null;
  /** Wire type of the last key read by key(). */
  wireType: i32 = 0;

  constructor(buf: ArrayBuffer) {
    this.buf = buf;
    this.base = changetype<usize>(buf);
    this.limit = buf.byteLength;
  }

  fail(what: string, problem: string): void {
    if (this.error === null) this.error = what + ": " + problem;
    this.pos = this.limit; // stop every loop
  }

  /** True while there are fields left in the current message and no error. */
  more(): bool {
    return this.error === null && this.pos < this.limit;
  }

  varint(what: string): u64 {
    let result: u64 = 0;
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      if (this.pos >= this.limit) {
        this.fail(what, "truncated varint");
        return 0;
      }
      const b = <u64>load<u8>(this.base + <usize>this.pos);
      this.pos++;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
    }
    this.fail(what, "varint longer than 10 bytes");
    return 0;
  }

  /** Reads a field key; returns the field number (0 on error) and sets wireType. */
  key(what: string): i32 {
    const k = this.varint(what + " field key");
    if (this.error !== null) return 0;
    const field = k >> 3;
    if (field == 0 || field > 0x1fffffff) {
      this.fail(what, "invalid field number " + dec(field));
      return 0;
    }
    this.wireType = <i32>(k & 7);
    return <i32>field;
  }

  /** Checks the last key's wire type is the expected one for a known field. */
  expect(wireType: i32, what: string): bool {
    if (this.wireType == wireType) return true;
    this.fail(what, "wire type " + dec(this.wireType) + ", expected " + dec(wireType));
    return false;
  }

  uint64(what: string): u64 {
    return this.expect(WIRE_VARINT, what) ? this.varint(what) : 0;
  }

  /** uint32: the low 32 bits of the varint, as protobuf parsers do. */
  uint32(what: string): u32 {
    return <u32>this.uint64(what);
  }

  int32(what: string): i32 {
    return <i32>this.uint64(what);
  }

  /** sint64: zigzag-decoded. */
  sint64(what: string): i64 {
    const z = this.uint64(what);
    return <i64>(z >> 1) ^ -<i64>(z & 1);
  }

  bool(what: string): bool {
    return this.uint64(what) != 0;
  }

  float(what: string): f32 {
    if (!this.expect(WIRE_FIXED32, what)) return 0;
    if (this.limit - this.pos < 4) {
      this.fail(what, "truncated fixed32");
      return 0;
    }
    const v = load<f32>(this.base + <usize>this.pos);
    this.pos += 4;
    return v;
  }

  double(what: string): f64 {
    if (!this.expect(WIRE_FIXED64, what)) return 0;
    if (this.limit - this.pos < 8) {
      this.fail(what, "truncated fixed64");
      return 0;
    }
    const v = load<f64>(this.base + <usize>this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix and checks it fits in the current message; -1 on error. */
  length(what: string): i32 {
    if (!this.expect(WIRE_LEN, what)) return -1;
    const n = this.varint(what + " length");
    if (this.error !== null) return -1;
    const left = <u64>(this.limit - this.pos);
    if (n > left) {
      this.fail(what, "length " + dec(n) + " exceeds the " + dec(left) + " bytes left");
      return -1;
    }
    return <i32>n;
  }

  string(what: string): string {
    const n = this.length(what);
    if (n < 0) return "";
    const s = String.UTF8.decodeUnsafe(this.base + <usize>this.pos, <usize>n);
    this.pos += n;
    return s;
  }

  /** Enters a length-delimited field: returns the outer limit to pass to leave(), or -1. */
  enter(what: string): i32 {
    const n = this.length(what);
    if (n < 0) return -1;
    const outer = this.limit;
    this.limit = this.pos + n;
    return outer;
  }

  /** Leaves a field entered with enter(); on error the position stays at the end. */
  leave(outer: i32): void {
    if (this.error !== null) {
      this.limit = outer;
      this.pos = outer;
      return;
    }
    this.pos = this.limit;
    this.limit = outer;
  }

  /** Skips the value of an unknown field of the last key's wire type. */
  skip(what: string): void {
    const wt = this.wireType;
    if (wt == WIRE_VARINT) {
      this.varint(what);
    } else if (wt == WIRE_FIXED64 || wt == WIRE_FIXED32) {
      const n = wt == WIRE_FIXED64 ? 8 : 4;
      if (this.limit - this.pos < n) this.fail(what, "truncated fixed" + dec(n * 8));
      else this.pos += n;
    } else if (wt == WIRE_LEN) {
      const n = this.length(what);
      if (n >= 0) this.pos += n;
    } else if (wt == 3 || wt == 4) {
      this.fail(what, "wire type " + dec(wt) + " (group) is not supported");
    } else {
      this.fail(what, "invalid wire type " + dec(wt));
    }
  }
}
