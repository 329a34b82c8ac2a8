// The banned-output scanner (filter/src/core/denylist.ts) in isolation, run as compiled
// AssemblyScript through the wire harness: a deny-list scanned over a body chunk by chunk, as
// the filter scans a streamed response. Each case gives the chunk in which a literal completes.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { loadWireHarness, type WireHarness } from "./golden/as-harness.js";

let harness: WireHarness;
before(async () => {
  harness = await loadWireHarness();
});

const LONG = "x".repeat(100) + "end-of-the-long-one";

const CASES: Array<{ name: string; words: string[]; chunks: string[]; matchIn: number }> = [
  { name: "a literal inside one chunk is found in that chunk", words: ["secret"], chunks: ["no", "the secret key", "more"], matchIn: 1 },
  { name: "a body without any literal has no match", words: ["secret", "token"], chunks: ["nothing ", "to see ", "here"], matchIn: -1 },
  { name: "case does not matter on either side (ASCII)", words: ["Begin RSA Private KEY"], chunks: ["-----BEGIN rsa PRIVATE key-----"], matchIn: 0 },
  { name: "a match split across two chunks is found in the second", words: ["password"], chunks: ["your pass", "word is"], matchIn: 1 },
  { name: "a match split after its first byte is found", words: ["password"], chunks: ["p", "assword"], matchIn: 1 },
  { name: "a match split before its last byte is found", words: ["password"], chunks: ["passwor", "d"], matchIn: 1 },
  { name: "a match spread over many one-byte chunks is found at its last byte", words: ["abcdef"], chunks: ["a", "b", "c", "d", "e", "f", "g"], matchIn: 5 },
  { name: "empty chunks between the parts keep the carry", words: ["danger"], chunks: ["dan", "", "", "ger"], matchIn: 3 },
  { name: "empty chunks alone match nothing", words: ["x"], chunks: ["", "", ""], matchIn: -1 },
  { name: "a literal longer than every chunk is found across them", words: [LONG], chunks: [...LONG.match(/.{1,7}/g)!], matchIn: Math.ceil(LONG.length / 7) - 1 },
  { name: "a literal longer than the chunks, with a near miss first, is found", words: ["abcabd"], chunks: ["ab", "cab", "cabd"], matchIn: 2 },
  { name: "overlapping literals: the one that completes first counts", words: ["abcd", "bc"], chunks: ["xab", "cd"], matchIn: 1 },
  { name: "overlapping literals sharing a prefix: the shorter completes first", words: ["token-long", "token"], chunks: ["tok", "en-"], matchIn: 1 },
  { name: "a literal still incomplete when the body ends is no match", words: ["goodbye"], chunks: ["hello good"], matchIn: -1 },
  { name: "a partial literal carried into the last chunk and not completed is no match", words: ["forbidden"], chunks: ["this is forbid", "dance"], matchIn: -1 },
  { name: "a literal exactly a chunk long", words: ["exact"], chunks: ["exact"], matchIn: 0 },
  { name: "a one-byte literal", words: ["#"], chunks: ["abc", "d#e"], matchIn: 1 },
  { name: "non-ASCII bytes compare as they are (UTF-8, no case folding)", words: ["Ünïcode"], chunks: ["ünïcode Ün", "ïcode"], matchIn: 1 },
  { name: "a multi-byte (UTF-8) literal split between its characters is found", words: ["日本"], chunks: ["\u65e5", "\u672c"], matchIn: 1 },
  { name: "a match far from a short literal's start is not confused by the carry", words: ["ab", "zzzzzzzzzz"], chunks: ["za", "xb", "ab"], matchIn: 2 },
];

for (const c of CASES) {
  test(`the deny-list scan: ${c.name}`, () => {
    assert.equal(harness.denyScan(JSON.stringify(c.words), JSON.stringify(c.chunks)), c.matchIn);
  });
}
