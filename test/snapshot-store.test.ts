// The snapshot store (files beside the audit log: atomic writes, caps, an index rebuilt on open)
// and the recorder that feeds it (writes off the emitting call, failures logged and counted).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { TypedEmitter } from "../control-plane/src/core/typed-emitter.js";
import type { ControlPlaneEvents, DecisionSet } from "../control-plane/src/core/types.js";
import {
  captureSnapshot,
  snapshotId,
  snapshotMetrics,
  SnapshotRecorder,
  SnapshotStore,
  type Snapshot,
  type SnapshotFacts,
} from "../control-plane/src/snapshots/index.js";
import { createLogger } from "../lib/log.js";

const logger = createLogger("test", "silent");
const T0 = 1_800_000_000_000;
const DECISIONS: DecisionSet = { version: 1, issuedAtMs: T0, ttlMs: 30_000, halted: false, haltReason: "", clusters: [] };

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-snapshot-store-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function facts(atMs: number): SnapshotFacts {
  return { atMs, decisions: DECISIONS, clusters: [], sidecars: [], gone: [], model: { mode: "rules-only", featureNames: [] } };
}

/** A snapshot taken at T0 + i s whose file is about `bytes` long. */
function snapshot(i: number, bytes = 0): { snapshot: Snapshot; text: string } {
  const s = captureSnapshot(snapshotId(T0 + i * 1000, "on_demand", i + 1), { kind: "on_demand", cluster: "", reason: "x".repeat(bytes), actor: "a", trigger: "" }, facts(T0 + i * 1000), { windowsBefore: 1, config: {} });
  return { snapshot: s, text: JSON.stringify(s) };
}

describe("the snapshot store", () => {
  const caps: [string, { maxFiles: number; maxBytes: number }, number[], number[]][] = [
    // [name, caps, reason sizes of snapshots 0..n-1 saved in order, the ones kept]
    ["the file count cap removes the oldest", { maxFiles: 3, maxBytes: 1e9 }, [0, 0, 0, 0, 0], [2, 3, 4]],
    ["the byte cap removes the oldest", { maxFiles: 100, maxBytes: 12_000 }, [5000, 5000, 5000, 5000], [2, 3]],
    ["a single snapshot over the byte cap is kept alone", { maxFiles: 100, maxBytes: 4096 }, [100, 9000], [1]],
    ["within both caps nothing is removed", { maxFiles: 10, maxBytes: 1e9 }, [10, 10, 10], [0, 1, 2]],
  ];
  for (const [name, cap, sizes, kept] of caps) {
    it(name, async (t) => {
      const dir = await tempDir(t);
      const store = await SnapshotStore.open({ dir, ...cap, logger });
      for (const [i, size] of sizes.entries()) {
        const { snapshot: s, text } = snapshot(i, size);
        await store.save(s, text);
      }
      const expected = kept.map((i) => snapshot(i).snapshot.id);
      assert.deepEqual(store.list().map((s) => s.id).reverse(), expected);
      assert.deepEqual((await readdir(dir)).sort(), expected.map((id) => `${id}.json`).sort());
    });
  }

  it("opening does not create the directory; the first save does", async (t) => {
    const dir = join(await tempDir(t), "snapshots");
    const store = await SnapshotStore.open({ dir, maxFiles: 10, maxBytes: 1e9, logger });
    await assert.rejects(readdir(dir), /ENOENT/);
    const s = snapshot(0);
    await store.save(s.snapshot, s.text);
    assert.deepEqual(await readdir(dir), [`${s.snapshot.id}.json`]);
  });

  it("a second save of an id replaces its file whole and leaves no temporary file", async (t) => {
    const dir = await tempDir(t);
    const store = await SnapshotStore.open({ dir, maxFiles: 10, maxBytes: 1e9, logger });
    const first = snapshot(0, 10);
    await store.save(first.snapshot, first.text);
    const completed = { ...first.snapshot, complete: true };
    await store.save(completed, JSON.stringify(completed));
    assert.deepEqual(await readdir(dir), [`${first.snapshot.id}.json`]);
    assert.equal(JSON.parse(await readFile(join(dir, `${first.snapshot.id}.json`), "utf8")).complete, true);
    assert.equal(store.list()[0]!.complete, true);
  });

  it("reopening indexes the snapshots there, skips a damaged one and removes a crash's temporary file", async (t) => {
    const dir = await tempDir(t);
    const store = await SnapshotStore.open({ dir, maxFiles: 10, maxBytes: 1e9, logger });
    for (const i of [0, 1]) {
      const s = snapshot(i, 10);
      await store.save(s.snapshot, s.text);
    }
    const damaged = snapshotId(T0 + 5000, "halt", 9);
    await writeFile(join(dir, `${damaged}.json`), "{ cut sho");
    await writeFile(join(dir, ".tmp-1-1-x.json"), "partial");
    await writeFile(join(dir, "notes.txt"), "an operator's file");
    const reopened = await SnapshotStore.open({ dir, maxFiles: 10, maxBytes: 1e9, logger });
    assert.deepEqual(reopened.list().map((s) => s.id), [snapshot(1).snapshot.id, snapshot(0).snapshot.id]);
    assert.equal(reopened.list()[0]!.bytes, Buffer.byteLength(snapshot(1, 10).text));
    assert.ok(!(await readdir(dir)).includes(".tmp-1-1-x.json"));
    assert.ok((await readdir(dir)).includes("notes.txt"), "files that are not snapshots are left alone");
    assert.equal(await reopened.read(damaged), undefined);
  });

  const reads: [string, string][] = [
    ["a path outside the directory", "../outside"],
    ["an absolute path", "/etc/passwd"],
    ["a well-formed id not kept", snapshotId(T0, "halt", 77)],
  ];
  for (const [name, id] of reads) {
    it(`reading ${name} gives nothing`, async (t) => {
      const dir = await tempDir(t);
      // <dir>/outside.json exists: "../outside" from the store's directory would name it.
      await writeFile(join(dir, "outside.json"), "{}");
      const store = await SnapshotStore.open({ dir: join(dir, "s"), maxFiles: 10, maxBytes: 1e9, logger });
      assert.equal(await store.read(id), undefined);
    });
  }

  it("a directory that cannot be created gives an empty list and every save rejects naming why", async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, "file"), "x");
    const store = await SnapshotStore.open({ dir: join(dir, "file", "snapshots"), maxFiles: 10, maxBytes: 1e9, logger });
    assert.deepEqual(store.list(), []);
    const s = snapshot(0);
    await assert.rejects(store.save(s.snapshot, s.text), /ENOTDIR/);
  });
});

describe("the snapshot recorder", () => {
  function recorder(store: SnapshotStore, registry: Registry, options: { queueLimit?: number; windowsAfter?: number } = {}) {
    let now = T0;
    const events = new TypedEmitter<ControlPlaneEvents>();
    const rec = new SnapshotRecorder({
      store, facts: () => facts(now), config: {}, secrets: [], windowsBefore: 1, windowsAfter: options.windowsAfter ?? 1, logger,
      hooks: snapshotMetrics(registry), ...(options.queueLimit === undefined ? {} : { queueLimit: options.queueLimit }),
    });
    rec.bind({ on: (e, l) => events.on(e, l) });
    const round = (): void => events.emit("round", { atMs: now, durationMs: 1, windowsClosed: 1, version: 1, changed: true, computedAtHrMs: 0 });
    return { rec, events, round, setNow: (ms: number) => (now = ms) };
  }

  it("a breaker opening gets its id at once and is written after the round's listeners return, never inside them", async (t) => {
    const dir = await tempDir(t);
    const store = await SnapshotStore.open({ dir, maxFiles: 10, maxBytes: 1e9, logger });
    const { rec, events, round } = recorder(store, new Registry());
    events.emit("transition", { cluster: "llm-a", from: "closed", to: "open", atMs: T0, reason: "r" });
    const id = rec.forTransition("llm-a", T0);
    assert.equal(id, snapshotId(T0, "breaker_open", 1));
    events.emit("transition", { cluster: "llm-a", from: "open", to: "half_open", atMs: T0 + 1, reason: "r" });
    assert.equal(rec.forTransition("llm-a", T0 + 1), undefined, "only openings are snapshots");
    round();
    assert.deepEqual(await readdir(dir), [], "nothing written inside the emitting call");
    await rec.close();
    assert.deepEqual(await readdir(dir), [`${id}.json`]);
  });

  it("a recorder opened on kept snapshots numbers its ids after theirs", async (t) => {
    const dir = await tempDir(t);
    const store = await SnapshotStore.open({ dir, maxFiles: 10, maxBytes: 1e9, logger });
    const kept = snapshot(6);
    await store.save(kept.snapshot, kept.text);
    const { rec } = recorder(store, new Registry());
    const taken = await rec.capture({ kind: "on_demand", cluster: "", reason: "r", actor: "a", trigger: "" });
    assert.equal(taken.id, snapshotId(T0, "on_demand", 8));
    await rec.close();
  });

  it("a write that fails is logged and counted, and the next one still goes", async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, "blocker"), "x");
    const registry = new Registry();
    const store = await SnapshotStore.open({ dir: join(dir, "blocker"), maxFiles: 10, maxBytes: 1e9, logger });
    const { rec } = recorder(store, registry);
    await assert.rejects(rec.capture({ kind: "on_demand", cluster: "", reason: "r", actor: "a", trigger: "" }), /could not be written: .*(ENOTDIR|EEXIST)/);
    await assert.rejects(rec.capture({ kind: "on_demand", cluster: "", reason: "r", actor: "a", trigger: "" }), /ENOTDIR|EEXIST/);
    assert.match(await registry.getSingleMetricAsString("autoglm_snapshot_failures_total"), /reason="write"} 2/);
    await rm(join(dir, "blocker"));
    await mkdir(join(dir, "blocker"));
    const ok = await rec.capture({ kind: "on_demand", cluster: "", reason: "r", actor: "a", trigger: "" });
    assert.equal(ok.cause, "on_demand");
    assert.match(await registry.getSingleMetricAsString("autoglm_snapshot_writes_total"), / 1$/m);
  });

  it("snapshots past the write queue's limit are dropped and counted, not queued without bound", async (t) => {
    const dir = await tempDir(t);
    const registry = new Registry();
    const store = await SnapshotStore.open({ dir, maxFiles: 100, maxBytes: 1e9, logger });
    const { rec, events, round } = recorder(store, registry, { queueLimit: 2 });
    for (let i = 0; i < 5; i++) events.emit("halt", { halted: true, reason: `h${i}`, actor: "a", atMs: T0 + i });
    round();
    await rec.close();
    assert.equal((await readdir(dir)).length, 2);
    assert.match(await registry.getSingleMetricAsString("autoglm_snapshot_failures_total"), /reason="queue_full"} 3/);
  });
});
