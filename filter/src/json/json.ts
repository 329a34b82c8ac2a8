// A small, strict JSON parser for AssemblyScript (RFC 8259), used by the filter to read its
// plugin configuration. It never traps: any input gives either a value tree or an error naming
// the problem and where it is.
//
// API
//   parseJson(text: string): JsonResult
//     result.error: string | null   e.g. "expected ':' after an object key at line 3, column 9 (offset 41)"
//     result.value: JsonValue | null   (set exactly when error is null)
//   parseJsonText(text) is the same function (the name the filter's interim reader used).
//
//   JsonValue.kind: JSON_NULL | JSON_BOOL | JSON_NUMBER | JSON_STRING | JSON_ARRAY | JSON_OBJECT
//     boolValue / numberValue (f64) / stringValue   for scalars
//     items: JsonValue[]   array elements, or object member values (parallel to keys)
//     keys: string[]       object member names, in document order
//   Typed getters (no traps; a missing member or one of another kind gives the fallback/null):
//     v.isNull() isBool() isNumber() isString() isArray() isObject(); v.kindName() ("a string"...)
//     v.has(key), v.get(key): JsonValue | null     (objects; a repeated key: the last one wins)
//     v.getString(key, fallback), v.getNumber(key, fallback), v.getBool(key, fallback)
//     v.getArray(key): JsonValue[] | null, v.getObject(key): JsonValue | null
//   Writing: stringifyJson(v): string (compact), quoteJsonString(s): string ("..." with escapes).
//
// Strictness: no comments, no trailing commas, no leading zeros, no NaN/Infinity, no control
// characters inside strings, only the JSON whitespace (space, tab, CR, LF), one value per text.
// Nesting is limited to MAX_JSON_DEPTH arrays/objects. \uXXXX escapes may form surrogate pairs;
// lone surrogates are kept as they are (AssemblyScript strings are UTF-16).

import { parseDecimal } from "../core/decimal";
import { dec, decSigned } from "../core/numbertext";

export const JSON_NULL: i32 = 0;
export const JSON_BOOL: i32 = 1;
export const JSON_NUMBER: i32 = 2;
export const JSON_STRING: i32 = 3;
export const JSON_ARRAY: i32 = 4;
export const JSON_OBJECT: i32 = 5;

/** For error messages: JSON_KIND_NAMES[kind] is "null", "a boolean", "a number", ... */
export const JSON_KIND_NAMES: StaticArray<string> = ["null", "a boolean", "a number", "a string", "an array", "an object"];

/** Deepest nesting of arrays and objects accepted. */
export const MAX_JSON_DEPTH: i32 = 64;

export class JsonValue {
  kind: i32 = JSON_NULL;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  /** Array elements, or object member values (keys[i] names items[i]). */
  items: JsonValue[] = [];
  /** Object member names. */
  keys: string[] = [];

  isNull(): bool {
    return this.kind == JSON_NULL;
  }
  isBool(): bool {
    return this.kind == JSON_BOOL;
  }
  isNumber(): bool {
    return this.kind == JSON_NUMBER;
  }
  isString(): bool {
    return this.kind == JSON_STRING;
  }
  isArray(): bool {
    return this.kind == JSON_ARRAY;
  }
  isObject(): bool {
    return this.kind == JSON_OBJECT;
  }
  kindName(): string {
    return JSON_KIND_NAMES[this.kind];
  }

  /** The member named key of an object (the last one if repeated), or null. */
  get(key: string): JsonValue | null {
    if (this.kind != JSON_OBJECT) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.items[i]);
    }
    return null;
  }

  has(key: string): bool {
    return this.get(key) !== null;
  }

  getString(key: string, fallback: string): string {
    const v = this.get(key);
    return v !== null && v.kind == JSON_STRING ? v.stringValue : fallback;
  }

  getNumber(key: string, fallback: f64): f64 {
    const v = this.get(key);
    return v !== null && v.kind == JSON_NUMBER ? v.numberValue : fallback;
  }

  getBool(key: string, fallback: bool): bool {
    const v = this.get(key);
    return v !== null && v.kind == JSON_BOOL ? v.boolValue : fallback;
  }

  getArray(key: string): JsonValue[] | null {
    const v = this.get(key);
    return v !== null && v.kind == JSON_ARRAY ? v.items : null;
  }

  getObject(key: string): JsonValue | null {
    const v = this.get(key);
    return v !== null && v.kind == JSON_OBJECT ? v : null;
  }
}

export class JsonResult {
  /** The parsed value; null when error is set. */
  value: JsonValue | null = null;
  /** What is wrong and where; null when the text parsed. */
  error: string | null = null;
}

/** c as 4 lowercase hex digits (for U+XXXX and \uXXXX). */
function hex4(c: i32): string {
  let out = "";
  for (let shift = 12; shift >= 0; shift -= 4) {
    const d = (c >> shift) & 15;
    out += String.fromCharCode(d < 10 ? 0x30 + d : 0x57 + d, -1);
  }
  return out;
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

class Parser {
  pos: i32 = 0;
  error: string | null = null;

  constructor(public text: string) {}

  /** Records the first error, with line, column (both from 1) and offset (UTF-16 units). */
  fail(problem: string): void {
    if (this.error !== null) return;
    const t = this.text;
    const at = min(this.pos, t.length);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at; i++) {
      if (t.charCodeAt(i) == 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    this.error = problem + " at line " + dec(line) + ", column " + dec(at - lineStart + 1) + " (offset " + dec(at) + ")";
    this.pos = t.length;
  }

  peek(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  /** Fails with "expected <what>, found <the character at pos>" (one text for every such error:
   *  its words are stored once in the module). */
  expected(what: string): void {
    this.fail("expected " + what + ", found " + this.found());
  }

  /** Describes the character at pos for errors. */
  found(): string {
    const c = this.peek();
    if (c < 0) return "end of input";
    if (c < 0x20 || c == 0x7f) return "character U+" + hex4(c);
    return "'" + String.fromCharCode(c, -1) + "'";
  }

  value(depth: i32): JsonValue {
    const v = new JsonValue();
    this.skipSpace();
    const c = this.peek();
    if (c == 0x7b || c == 0x5b) {
      if (depth >= MAX_JSON_DEPTH) {
        this.fail("nesting deeper than " + dec(MAX_JSON_DEPTH) + " levels");
        return v;
      }
      if (c == 0x7b) this.object(v, depth + 1);
      else this.array(v, depth + 1);
    } else if (c == 0x22) {
      v.kind = JSON_STRING;
      v.stringValue = this.string();
    } else if (c == 0x2d || isDigit(c)) {
      v.kind = JSON_NUMBER;
      v.numberValue = this.number();
    } else if (this.literal("true")) {
      v.kind = JSON_BOOL;
      v.boolValue = true;
    } else if (this.literal("false")) {
      v.kind = JSON_BOOL;
    } else if (!this.literal("null")) {
      this.expected("a value");
    }
    return v;
  }

  literal(word: string): bool {
    const t = this.text;
    const n = word.length;
    if (this.pos + n > t.length) return false;
    for (let i = 0; i < n; i++) if (t.charCodeAt(this.pos + i) != word.charCodeAt(i)) return false;
    this.pos += n;
    return true;
  }

  object(v: JsonValue, depth: i32): void {
    v.kind = JSON_OBJECT;
    this.pos++; // {
    this.skipSpace();
    if (this.peek() == 0x7d) {
      this.pos++;
      return;
    }
    while (this.error === null) {
      this.skipSpace();
      if (this.peek() != 0x22) {
        this.expected("a string key");
        return;
      }
      const key = this.string();
      this.skipSpace();
      if (this.peek() != 0x3a) {
        this.expected("':' after an object key");
        return;
      }
      this.pos++;
      const item = this.value(depth);
      if (this.error !== null) return;
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return;
      if (c != 0x2c) {
        this.pos--;
        this.expected("',' or '}' in an object");
        return;
      }
    }
  }

  array(v: JsonValue, depth: i32): void {
    v.kind = JSON_ARRAY;
    this.pos++; // [
    this.skipSpace();
    if (this.peek() == 0x5d) {
      this.pos++;
      return;
    }
    while (this.error === null) {
      const item = this.value(depth);
      if (this.error !== null) return;
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return;
      if (c != 0x2c) {
        this.pos--;
        this.expected("',' or ']' in an array");
        return;
      }
    }
  }

  /** Reads a string starting at the opening quote. */
  string(): string {
    const t = this.text;
    this.pos++; // "
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.pos >= t.length) {
        this.fail("unterminated string");
        return "";
      }
      const c = t.charCodeAt(this.pos);
      if (c == 0x22) {
        out += t.substring(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail("control character U+" + hex4(c) + " in a string (escape it)");
        return "";
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      out += t.substring(runStart, this.pos);
      this.pos++; // backslash
      const e = this.peek();
      let code: i32 = -1;
      if (e == 0x22 || e == 0x5c || e == 0x2f) code = e;
      else if (e == 0x62) code = 0x08;
      else if (e == 0x66) code = 0x0c;
      else if (e == 0x6e) code = 0x0a;
      else if (e == 0x72) code = 0x0d;
      else if (e == 0x74) code = 0x09;
      else if (e == 0x75) {
        code = 0;
        for (let i = 1; i <= 4; i++) {
          const h = this.pos + i < t.length ? hexValue(t.charCodeAt(this.pos + i)) : -1;
          if (h < 0) {
            this.pos--;
            this.fail("\\u must be followed by 4 hex digits");
            return "";
          }
          code = (code << 4) | h;
        }
        this.pos += 4;
      }
      if (code < 0) {
        this.pos--;
        this.fail("invalid escape \\" + (e < 0 ? "" : String.fromCharCode(e, -1)) + " in a string");
        return "";
      }
      out += String.fromCharCode(code, -1);
      this.pos++;
      runStart = this.pos;
    }
  }

  number(): f64 {
    const t = this.text;
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    const c = this.peek();
    if (c == 0x30) {
      this.pos++;
      if (isDigit(this.peek())) {
        this.fail("leading zero in a number");
        return 0;
      }
    } else if (isDigit(c)) {
      while (isDigit(this.peek())) this.pos++;
    } else {
      this.expected("a digit");
      return 0;
    }
    if (this.peek() == 0x2e) {
      this.pos++;
      if (!isDigit(this.peek())) {
        this.expected("a digit after '.'");
        return 0;
      }
      while (isDigit(this.peek())) this.pos++;
    }
    const e = this.peek();
    if (e == 0x65 || e == 0x45) {
      this.pos++;
      const s = this.peek();
      if (s == 0x2b || s == 0x2d) this.pos++;
      if (!isDigit(this.peek())) {
        this.expected("a digit in the exponent");
        return 0;
      }
      while (isDigit(this.peek())) this.pos++;
    }
    return parseDecimal(changetype<usize>(t) + (<usize>start << 1), this.pos - start, true);
  }
}

/** Parses a whole JSON text. Never traps. */
export function parseJson(text: string): JsonResult {
  const p = new Parser(text);
  const v = p.value(0);
  if (p.error === null) {
    p.skipSpace();
    if (p.pos < text.length) p.fail("unexpected " + p.found() + " after the value");
  }
  const result = new JsonResult();
  if (p.error !== null) result.error = p.error;
  else result.value = v;
  return result;
}

/** Same as parseJson. */
export function parseJsonText(text: string): JsonResult {
  return parseJson(text);
}

/** s as a JSON string literal, with quotes and escapes (control characters as \u00XX). */
export function quoteJsonString(s: string): string {
  let out = "\"";
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(runStart, i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else out += "\\u" + hex4(c);
    runStart = i + 1;
  }
  return out + s.substring(runStart) + "\"";
}

/** v as compact JSON text (numbers as AssemblyScript prints f64; non-finite ones as null). */
export function stringifyJson(v: JsonValue): string {
  if (v.kind == JSON_BOOL) return v.boolValue ? "true" : "false";
  if (v.kind == JSON_NUMBER) {
    const n = v.numberValue;
    if (!isFinite(n)) return "null";
    if (n == Math.floor(n) && Math.abs(n) < 1e15) return decSigned(<i64>n);
    return n.toString(); // f64: only the test harness serialises numbers
  }
  if (v.kind == JSON_STRING) return quoteJsonString(v.stringValue);
  if (v.kind == JSON_ARRAY || v.kind == JSON_OBJECT) {
    const obj = v.kind == JSON_OBJECT;
    let out = obj ? "{" : "[";
    for (let i = 0; i < v.items.length; i++) {
      if (i > 0) out += ",";
      if (obj) out += quoteJsonString(v.keys[i]) + ":";
      out += stringifyJson(v.items[i]);
    }
    return out + (obj ? "}" : "]");
  }
  return "null";
}
