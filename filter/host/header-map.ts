// An HTTP header / trailer / gRPC metadata map, and the ABI's pairs encoding of it:
//   u32 count, then count × (u32 key_len, u32 value_len), then key\0value\0 … (little-endian).
// Keys are stored lower-case (as Envoy's header maps hold them); values as given. Entries are kept
// in one flat array [key0, value0, key1, value1, …] — the same shape as Node's rawHeaders — so that
// a request costs no per-header objects.
import { decodeString, utf8Length, writeString } from "./memory.js";

/** Header pairs as the embedder passes and reads them. */
export type HeaderPairs = Array<[string, string]>;

/** Anything the embedder may pass as headers. */
export type HeaderInput = HeaderPairs | Record<string, string | string[] | undefined> | HeaderMap;

export class HeaderMap {
  /** Flat [key, value, key, value, …]; keys lower-case. */
  entries: string[];

  constructor(entries: string[] = []) {
    this.entries = entries;
  }

  static from(input: HeaderInput | undefined): HeaderMap {
    const map = new HeaderMap();
    if (input !== undefined) map.setAll(input);
    return map;
  }

  /** Builds a map from Node's rawHeaders ([name, value, …] with original case). */
  static fromRaw(raw: readonly string[]): HeaderMap {
    const entries = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i += 2) {
      entries[i] = raw[i]!.toLowerCase();
      entries[i + 1] = raw[i + 1]!;
    }
    return new HeaderMap(entries);
  }

  /** Replaces every entry with `input`. */
  setAll(input: HeaderInput): void {
    const entries: string[] = [];
    if (input instanceof HeaderMap) {
      this.entries = input.entries.slice();
      return;
    }
    if (Array.isArray(input)) {
      // Indexed, without destructuring: this runs for every request's header maps.
      for (let i = 0; i < input.length; i++) {
        const pair = input[i]!;
        entries.push(pair[0].toLowerCase(), pair[1]);
      }
    } else {
      for (const key of Object.keys(input)) {
        const value = input[key];
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) entries.push(key.toLowerCase(), v);
        else entries.push(key.toLowerCase(), value);
      }
    }
    this.entries = entries;
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.length >> 1;
  }

  /** The first value of `key`, or undefined. */
  get(key: string): string | undefined {
    return this.getLower(key.toLowerCase());
  }

  /** get() for a key that is already lower-case (the host's decoded keys). */
  getLower(k: string): string | undefined {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) if (e[i] === k) return e[i + 1];
    return undefined;
  }

  getAll(key: string): string[] {
    const k = key.toLowerCase();
    const out: string[] = [];
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) if (e[i] === k) out.push(e[i + 1]!);
    return out;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  add(key: string, value: string): void {
    this.entries.push(key.toLowerCase(), value);
  }

  /** add() for a key that is already lower-case. */
  addLower(k: string, value: string): void {
    this.entries.push(k, value);
  }

  /** Sets `key` to the single value `value` (replacing the first entry, removing the others). */
  replace(key: string, value: string): void {
    this.replaceLower(key.toLowerCase(), value);
  }

  /** replace() for a key that is already lower-case. */
  replaceLower(k: string, value: string): void {
    const e = this.entries;
    let found = false;
    for (let i = 0; i < e.length; i += 2) {
      if (e[i] !== k) continue;
      if (!found) {
        e[i + 1] = value;
        found = true;
      } else {
        e.splice(i, 2);
        i -= 2;
      }
    }
    if (!found) e.push(k, value);
  }

  remove(key: string): void {
    this.removeLower(key.toLowerCase());
  }

  /** remove() for a key that is already lower-case. */
  removeLower(k: string): void {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) {
      if (e[i] === k) {
        e.splice(i, 2);
        i -= 2;
      }
    }
  }

  toPairs(): HeaderPairs {
    const out: HeaderPairs = [];
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) out.push([e[i]!, e[i + 1]!]);
    return out;
  }

  /** A plain object; repeated keys are joined with ", " (as HTTP allows for most headers). */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) {
      const k = e[i]!;
      out[k] = out[k] === undefined ? e[i + 1]! : `${out[k]}, ${e[i + 1]!}`;
    }
    return out;
  }

  /** Bytes of the pairs encoding of this map. */
  serializedSize(): number {
    return serializedSize(this.entries);
  }

  /** Writes the pairs encoding at `ptr` (which must have serializedSize() bytes). */
  serializeInto(u8: Uint8Array, view: DataView, ptr: number): void {
    serializeInto(this.entries, u8, view, ptr);
  }

  serialize(): Uint8Array {
    return serializePairs(this.entries);
  }
}

// UTF-8 lengths of the strings last measured (scratch, reused across calls): measuring and writing
// a map then counts each string once, and a request allocates nothing for it.
let lens = new Uint32Array(64);
let measured: readonly string[] | null = null;
let measuredCount = 0;

/** Bytes of the pairs encoding of `entries`; remembers each string's length for writeMeasuredPairs. */
export function measurePairs(entries: readonly string[]): number {
  const n = entries.length;
  if (lens.length < n) lens = new Uint32Array(n * 2);
  let size = 4 + (n >> 1) * 8 + n; // count, lengths, one NUL per string
  for (let i = 0; i < n; i++) {
    const len = utf8Length(entries[i]!);
    lens[i] = len;
    size += len;
  }
  measured = entries;
  measuredCount = n;
  return size;
}

/**
 * Writes the pairs encoding of `entries` at `ptr` (which must have measurePairs(entries) bytes),
 * straight into `u8` (module memory) with the lengths measurePairs just computed.
 */
export function writeMeasuredPairs(entries: readonly string[], u8: Uint8Array, view: DataView, ptr: number): void {
  const n = entries.length;
  if (measured !== entries || measuredCount !== n) measurePairs(entries);
  view.setUint32(ptr, n >> 1, true);
  let slot = ptr + 4;
  let data = slot + (n >> 1) * 8;
  for (let i = 0; i < n; i++) {
    const s = entries[i]!;
    const len = lens[i]!;
    view.setUint32(slot, len, true);
    slot += 4;
    writeString(u8, data, s, len);
    data += len;
    u8[data++] = 0;
  }
  measured = null;
}

function serializedSize(entries: readonly string[]): number {
  const size = measurePairs(entries);
  measured = null;
  return size;
}

function serializeInto(entries: readonly string[], u8: Uint8Array, view: DataView, ptr: number): void {
  writeMeasuredPairs(entries, u8, view, ptr); // measures first: serializedSize() forgets its lengths
}

/** The pairs encoding of flat entries (or of pairs). */
export function serializePairs(input: readonly string[] | HeaderPairs): Uint8Array {
  const entries: readonly string[] =
    input.length > 0 && Array.isArray(input[0]) ? (input as HeaderPairs).flat() : (input as readonly string[]);
  const out = new Uint8Array(serializedSize(entries));
  serializeInto(entries, out, new DataView(out.buffer), 0);
  return out;
}

/** Why a serialized map could not be decoded. */
export class PairsFormatError extends Error {
  override name = "PairsFormatError";
}

/**
 * Decodes the pairs encoding at [ptr, ptr+len) of `u8` into flat entries (keys lower-cased when
 * `lowerKeys`). An empty map may be 0 bytes or a single 0x00 byte (spec, "Serialization").
 */
export function deserializePairs(u8: Uint8Array, ptr: number, len: number, lowerKeys = true): string[] {
  if (len === 0 || (len === 1 && u8[ptr] === 0)) return [];
  if (len < 4) throw new PairsFormatError(`serialized map of ${len} bytes is shorter than its 4-byte count`);
  const view = new DataView(u8.buffer, u8.byteOffset + ptr, len);
  const count = view.getUint32(0, true);
  const headerEnd = 4 + count * 8;
  if (count > len || headerEnd > len) {
    throw new PairsFormatError(`serialized map claims ${count} pairs but has only ${len} bytes`);
  }
  const entries = new Array<string>(count * 2);
  let data = headerEnd;
  for (let i = 0; i < count * 2; i++) {
    const size = view.getUint32(4 + i * 4, true);
    if (data + size + 1 > len) throw new PairsFormatError(`serialized map entry ${i >> 1} runs past the end`);
    const s = decodeString(u8, ptr + data, size);
    entries[i] = lowerKeys && (i & 1) === 0 ? s.toLowerCase() : s;
    data += size + 1;
  }
  return entries;
}
