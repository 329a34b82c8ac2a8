// A small JSON reader for the plugin configuration (until the shared one in ./json/ lands):
// builds a tree of JsonValue, never traps, reports the first syntax error with its offset.

export const JSON_NULL: i32 = 0;
export const JSON_BOOL: i32 = 1;
export const JSON_NUMBER: i32 = 2;
export const JSON_STRING: i32 = 3;
export const JSON_ARRAY: i32 = 4;
export const JSON_OBJECT: i32 = 5;

export const JSON_KIND_NAMES: StaticArray<string> = ["null", "a boolean", "a number", "a string", "an array", "an object"];

export class JsonValue {
  kind: i32 = JSON_NULL;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  items: JsonValue[] = [];
  keys: string[] = [];

  /** The member named key of an object, or null (last one wins on repeats). */
  get(key: string): JsonValue | null {
    for (let i = this.keys.length - 1; i >= 0; i--) if (unchecked(this.keys[i]) == key) return unchecked(this.items[i]);
    return null;
  }
}

export class JsonParseResult {
  value: JsonValue | null = null;
  error: string | null = null;
}

const MAX_DEPTH = 32;

class Reader {
  pos: i32 = 0;
  error: string | null = null;
  constructor(public text: string) {}

  fail(what: string): void {
    if (this.error === null) this.error = what + " at offset " + this.pos.toString();
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.pos++;
      else break;
    }
  }

  value(depth: i32): JsonValue {
    const v = new JsonValue();
    if (depth > MAX_DEPTH) { this.fail("nesting deeper than " + MAX_DEPTH.toString()); return v; }
    this.skipSpace();
    const t = this.text;
    if (this.pos >= t.length) { this.fail("unexpected end of input"); return v; }
    const c = t.charCodeAt(this.pos);
    if (c == 0x7b) this.object(v, depth);
    else if (c == 0x5b) this.array(v, depth);
    else if (c == 0x22) { v.kind = JSON_STRING; v.stringValue = this.string(); }
    else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) { v.kind = JSON_NUMBER; v.numberValue = this.number(); }
    else if (this.literal("true")) { v.kind = JSON_BOOL; v.boolValue = true; }
    else if (this.literal("false")) { v.kind = JSON_BOOL; v.boolValue = false; }
    else if (this.literal("null")) { v.kind = JSON_NULL; }
    else this.fail("unexpected character '" + String.fromCharCode(c) + "'");
    return v;
  }

  literal(word: string): bool {
    if (this.text.substr(this.pos, word.length) == word) { this.pos += word.length; return true; }
    return false;
  }

  object(v: JsonValue, depth: i32): void {
    v.kind = JSON_OBJECT;
    this.pos++;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x7d) { this.pos++; return; }
    while (this.error === null) {
      this.skipSpace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x22) { this.fail("expected a member name"); return; }
      const key = this.string();
      this.skipSpace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x3a) { this.fail("expected ':'"); return; }
      this.pos++;
      const item = this.value(depth + 1);
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      if (this.pos >= this.text.length) { this.fail("unexpected end of input in an object"); return; }
      const c = this.text.charCodeAt(this.pos++);
      if (c == 0x7d) return;
      if (c != 0x2c) { this.pos--; this.fail("expected ',' or '}'"); return; }
    }
  }

  array(v: JsonValue, depth: i32): void {
    v.kind = JSON_ARRAY;
    this.pos++;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x5d) { this.pos++; return; }
    while (this.error === null) {
      v.items.push(this.value(depth + 1));
      this.skipSpace();
      if (this.pos >= this.text.length) { this.fail("unexpected end of input in an array"); return; }
      const c = this.text.charCodeAt(this.pos++);
      if (c == 0x5d) return;
      if (c != 0x2c) { this.pos--; this.fail("expected ',' or ']'"); return; }
    }
  }

  string(): string {
    const t = this.text;
    this.pos++; // opening quote
    let out = "";
    let from = this.pos;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c == 0x22) {
        out += t.substring(from, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) { this.fail("control character in a string"); return out; }
      if (c == 0x5c) {
        out += t.substring(from, this.pos);
        this.pos++;
        if (this.pos >= t.length) break;
        const e = t.charCodeAt(this.pos++);
        if (e == 0x22) out += "\"";
        else if (e == 0x5c) out += "\\";
        else if (e == 0x2f) out += "/";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x75) {
          let code = 0;
          for (let k = 0; k < 4; k++) {
            if (this.pos >= t.length) { this.fail("truncated \\u escape"); return out; }
            const h = t.charCodeAt(this.pos++);
            let d = -1;
            if (h >= 0x30 && h <= 0x39) d = h - 0x30;
            else if (h >= 0x61 && h <= 0x66) d = h - 0x57;
            else if (h >= 0x41 && h <= 0x46) d = h - 0x37;
            if (d < 0) { this.fail("bad \\u escape"); return out; }
            code = (code << 4) | d;
          }
          out += String.fromCharCode(code);
        } else { this.fail("bad escape"); return out; }
        from = this.pos;
        continue;
      }
      this.pos++;
    }
    this.fail("unterminated string");
    return out;
  }

  number(): f64 {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(this.pos) == 0x2d) this.pos++;
    let digits = 0;
    while (this.pos < t.length && isDigit(t.charCodeAt(this.pos))) { this.pos++; digits++; }
    if (digits == 0) { this.fail("bad number"); return 0; }
    if (this.pos < t.length && t.charCodeAt(this.pos) == 0x2e) {
      this.pos++;
      let frac = 0;
      while (this.pos < t.length && isDigit(t.charCodeAt(this.pos))) { this.pos++; frac++; }
      if (frac == 0) { this.fail("bad number"); return 0; }
    }
    if (this.pos < t.length && (t.charCodeAt(this.pos) == 0x65 || t.charCodeAt(this.pos) == 0x45)) {
      this.pos++;
      if (this.pos < t.length && (t.charCodeAt(this.pos) == 0x2b || t.charCodeAt(this.pos) == 0x2d)) this.pos++;
      let exp = 0;
      while (this.pos < t.length && isDigit(t.charCodeAt(this.pos))) { this.pos++; exp++; }
      if (exp == 0) { this.fail("bad number"); return 0; }
    }
    return parseFloat(t.substring(start, this.pos));
  }
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

export function parseJsonText(text: string): JsonParseResult {
  const r = new Reader(text);
  const v = r.value(0);
  r.skipSpace();
  if (r.error === null && r.pos < text.length) r.fail("trailing characters after the value");
  const out = new JsonParseResult();
  if (r.error !== null) out.error = r.error;
  else out.value = v;
  return out;
}
