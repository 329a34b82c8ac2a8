import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { execFileSync } from "node:child_process";

test("the committed models/onnx/gen TypeScript is what buf generates from models/onnx/onnx.proto", () => {
  const out = mkdtempSync(join(tmpdir(), "autoglm-onnx-gen-"));
  try {
    // Same plugin and options as models/buf.gen.yaml, written to a scratch directory.
    const template = join(out, "buf.gen.yaml");
    writeFileSync(
      template,
      `version: v2\nplugins:\n  - local: protoc-gen-es\n    out: ${out}/gen\n    opt:\n      - target=ts\n      - import_extension=js\n`,
    );
    const bin = join(process.cwd(), "node_modules", ".bin");
    execFileSync(join(bin, "buf"), ["generate", "models", "--template", template], {
      stdio: "pipe",
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` },
    });
    const generated = readdirSync(join(out, "gen")).sort();
    const committed = readdirSync(join("models", "onnx", "gen")).sort();
    assert.deepEqual(committed, generated, "models/onnx/gen lists other files than buf generates");
    for (const file of generated) {
      assert.equal(
        readFileSync(join("models", "onnx", "gen", file), "utf8"),
        readFileSync(join(out, "gen", file), "utf8"),
        `models/onnx/gen/${file} is stale: run buf generate models --template models/buf.gen.yaml and commit it`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
