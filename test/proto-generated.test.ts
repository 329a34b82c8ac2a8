import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { execFileSync } from "node:child_process";

test("the committed proto/gen TypeScript is what buf generate writes from proto/", () => {
  const out = mkdtempSync(join(tmpdir(), "autoglm-gen-"));
  try {
    const template = join(out, "buf.gen.yaml");
    writeFileSync(
      template,
      `version: v2\nplugins:\n  - local: protoc-gen-es\n    out: ${out}/gen\n    opt:\n      - target=ts\n      - import_extension=js\n`,
    );
    // buf finds the protoc-gen-es plugin on PATH, as `npm run generate` puts node_modules/.bin there.
    const bin = join(process.cwd(), "node_modules", ".bin");
    execFileSync(join(bin, "buf"), ["generate", "--template", template], {
      stdio: "pipe",
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
    });
    const dir = join("autoglm", "v1");
    const generated = readdirSync(join(out, "gen", dir)).sort();
    const committed = readdirSync(join("proto", "gen", dir)).sort();
    assert.deepEqual(committed, generated, "proto/gen lists other files than buf generates: run npm run generate");
    for (const file of generated) {
      assert.equal(
        readFileSync(join("proto", "gen", dir, file), "utf8"),
        readFileSync(join(out, "gen", dir, file), "utf8"),
        `proto/gen/${dir}/${file} is stale: run npm run generate and commit it`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
