import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorShapeProto_DimensionSchema } from "../models/onnx/gen/onnx_pb.js";
import { create } from "@bufbuild/protobuf";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { FEATURE_COUNT, FEATURE_NAMES, HISTORY_WINDOWS, HORIZON_S, METADATA_KEYS } from "../control-plane/src/model/contract.js";
import { createModelScorer, loadModel, ModelLoadError, OnnxScorer } from "../control-plane/src/model/index.js";
import { createMlp } from "../models/src/mlp.js";
import { exportOnnx } from "../models/src/onnx-export.js";
import { createRng } from "../models/src/prng.js";

const slo = { latencyMs: 2000, successRate: 0.99 };
let dir = "";

function modelBytes(seed: number, metadata?: Array<[string, string]>): Uint8Array {
  const mlp = createMlp([FEATURE_COUNT, 4, 1], new Float64Array(FEATURE_COUNT), new Float64Array(FEATURE_COUNT).fill(1), createRng(seed));
  return exportOnnx(mlp, {
    docString: "test",
    modelVersion: 1,
    metadata: metadata ?? [
      [METADATA_KEYS.featureNames, FEATURE_NAMES.join(",")],
      [METADATA_KEYS.historyWindows, String(HISTORY_WINDOWS)],
      [METADATA_KEYS.horizonS, String(HORIZON_S)],
      [METADATA_KEYS.version, `test-${seed}`],
      [METADATA_KEYS.threshold, "0.5"],
    ],
  });
}

/** A valid model edited by `edit` (on the decoded protobuf) and re-encoded. */
function edited(edit: (m: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>) => void): Uint8Array {
  const m = fromBinary(ModelProtoSchema, modelBytes(1));
  edit(m);
  return toBinary(ModelProtoSchema, m);
}

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "autoglm-model-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("a model that meets the contract loads, with its metadata", async () => {
  const loaded = await loadModel(file("good.onnx", modelBytes(1)));
  assert.equal(loaded.info.version, "test-1");
  assert.deepEqual(loaded.info.featureNames, [...FEATURE_NAMES]);
  assert.equal(loaded.info.alarmThreshold, 0.5);
  assert.match(loaded.info.sha256, /^[0-9a-f]{64}$/);
  await loaded.session.release();
});

const wrong: Array<{ name: string; bytes: () => Uint8Array | string; code: string; message: RegExp }> = [
  { name: "garbage bytes", bytes: () => "this is not a model at all, just some text\n".repeat(20), code: "MODEL_ERR_NOT_ONNX", message: /not an ONNX model/ },
  { name: "an empty file", bytes: () => new Uint8Array(0), code: "MODEL_ERR_NOT_ONNX", message: /is empty/ },
  {
    name: "a wrong input name",
    bytes: () =>
      edited((m) => {
        m.graph!.input[0]!.name = "x";
        m.graph!.node[0]!.input[0] = "x";
      }),
    code: "MODEL_ERR_SIGNATURE",
    message: /inputs are \[x\], expected exactly one named "features"/,
  },
  {
    name: "a wrong output name",
    bytes: () =>
      edited((m) => {
        m.graph!.output[0]!.name = "score";
        m.graph!.node.at(-1)!.output[0] = "score";
      }),
    code: "MODEL_ERR_SIGNATURE",
    message: /outputs are \[score\], expected exactly one named "risk"/,
  },
  {
    name: "a wrong input width",
    bytes: () => {
      const mlp = createMlp([FEATURE_COUNT + 2, 4, 1], new Float64Array(FEATURE_COUNT + 2), new Float64Array(FEATURE_COUNT + 2).fill(1), createRng(3));
      return exportOnnx(mlp, { docString: "", modelVersion: 1, metadata: [] });
    },
    code: "MODEL_ERR_SIGNATURE",
    message: new RegExp(`input "features" has shape \\[N, ${FEATURE_COUNT + 2}\\], expected \\[N, ${FEATURE_COUNT}\\]`),
  },
  {
    name: "a fixed batch size of 1 in the input shape",
    bytes: () =>
      edited((m) => {
        const t = m.graph!.input[0]!.type!.value;
        if (t.case === "tensorType") t.value.shape!.dim[0] = create(TensorShapeProto_DimensionSchema, { value: { case: "dimValue", value: 1n } });
      }),
    code: "MODEL_ERR_SIGNATURE",
    message: /input "features" has shape \[1, \d+\], expected \[N, \d+\]/,
  },
  {
    name: "other feature names in the metadata",
    bytes: () => modelBytes(1, [[METADATA_KEYS.featureNames, "a,b,c"], [METADATA_KEYS.historyWindows, String(HISTORY_WINDOWS)], [METADATA_KEYS.horizonS, String(HORIZON_S)]]),
    code: "MODEL_ERR_METADATA",
    message: /metadata "autoglm.feature_names" is "a,b,c", this build computes/,
  },
  {
    name: "another horizon in the metadata",
    bytes: () => modelBytes(1, [[METADATA_KEYS.featureNames, FEATURE_NAMES.join(",")], [METADATA_KEYS.historyWindows, String(HISTORY_WINDOWS)], [METADATA_KEYS.horizonS, "999"]]),
    code: "MODEL_ERR_METADATA",
    message: /metadata "autoglm.horizon_s" is 999, this build uses/,
  },
  {
    name: "a graph onnxruntime cannot run",
    bytes: () =>
      edited((m) => {
        m.graph!.node[0]!.opType = "NoSuchOperator";
      }),
    code: "MODEL_ERR_RUNTIME",
    message: /onnxruntime refuses it/,
  },
];

for (const c of wrong) {
  test(`a model file with ${c.name} is refused with a clear error`, async () => {
    const path = file(`${c.name.replaceAll(" ", "-")}.onnx`, c.bytes());
    await assert.rejects(loadModel(path), (err: unknown) => {
      assert.ok(err instanceof ModelLoadError, String(err));
      assert.equal(err.code, c.code, err.message);
      assert.ok(err.message.includes(path), err.message);
      assert.match(err.message, c.message);
      return true;
    });
  });
}

test("a missing file is refused naming the path", async () => {
  const result = await createModelScorer({ path: join(dir, "nope.onnx"), slo });
  assert.ok("error" in result);
  assert.equal(result.error.code, "MODEL_ERR_READ");
  assert.match(result.error.message, /nope\.onnx: cannot be read/);
});

function history(clusters: string[], seconds: number): Map<string, ClusterWindowStats[]> {
  return new Map(
    clusters.map((cluster) => [
      cluster,
      Array.from({ length: seconds }, (_, s) => ({
        cluster, windowStartMs: s * 1000, windowLengthMs: 1000, requests: 100, errors5xx: 0, localRejects: 0,
        timeouts: 0, resets: 0, grpcErrors: 0, errorRate: 0, p50Ms: 100, p95Ms: 300, p99Ms: 500, rps: 100, reporters: 1,
      })),
    ]),
  );
}

test("the scorer scores every cluster of a round in one batch, each risk in [0, 1]", async () => {
  const result = await createModelScorer({ path: file("s.onnx", modelBytes(5)), slo });
  assert.ok("scorer" in result);
  const scores = await result.scorer.score(history(["a", "b", "c"], 12), 12_000);
  assert.deepEqual([...scores.keys()], ["a", "b", "c"]);
  for (const s of scores.values()) {
    assert.ok(s.score >= 0 && s.score <= 1);
    assert.equal(s.hard, false);
  }
  await result.scorer.close();
});

test("reload keeps the running model when the new file is bad, and switches when it is good", async () => {
  const first = file("first.onnx", modelBytes(7));
  const loaded = await loadModel(first);
  const scorer = new OnnxScorer(loaded, { slo });
  const h = history(["a"], 12);
  const before = (await scorer.score(h, 0)).get("a")!.score;

  const bad = await scorer.reload(file("bad.onnx", "garbage"));
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.error.code === "MODEL_ERR_NOT_ONNX");
  assert.equal(scorer.info.path, first);
  assert.equal((await scorer.score(h, 0)).get("a")!.score, before);

  const good = await scorer.reload(file("second.onnx", modelBytes(8)));
  assert.equal(good.ok, true);
  assert.equal(scorer.info.version, "test-8");
  assert.notEqual((await scorer.score(h, 0)).get("a")!.score, before);
  await scorer.close();
});
