// The anomaly model as a detector of the decision core: a Scorer that turns every cluster's
// recent windows into features (features.ts) and runs one batched onnxruntime inference per
// decision round. `reload` swaps in a new file only if it loads and checks cleanly; otherwise the
// running model stays. Inference failures never throw into the decision round: the clusters
// get risk 0 with the failure as reason, and the error is logged.
import * as ort from "onnxruntime-node";
import type { ClusterWindowStats, Scorer, ScoreResult, Slo } from "../core/types.js";
import type { Logger } from "../../../lib/log.js";
import { FEATURE_COUNT, FEATURE_NAMES, INPUT_NAME, OUTPUT_NAME, SCORER_NAME, type ModelInference } from "./contract.js";
import { FeatureExtractor } from "./features.js";
import { loadModel, ModelLoadError, type LoadedModel, type ModelInfo } from "./model-file.js";

export interface OnnxScorerOptions {
  /** The SLO the model's SLO-relative features and baselines are computed against. */
  slo: Slo;
  logger?: Logger;
}

/** Result of a reload: the model now running, or why the new file was refused (old one kept). */
export type ReloadResult = { ok: true; info: ModelInfo } | { ok: false; error: ModelLoadError; info: ModelInfo };

/** A loaded model plus how many inferences are running on it (released once idle and replaced). */
interface ActiveModel {
  loaded: LoadedModel;
  running: number;
  retired: boolean;
}

/** Names and values of the features that push a row furthest from normal, for reasons. */
function describeRow(row: Float32Array): string {
  const parts: string[] = [];
  const show = (i: number, digits: number): void => {
    parts.push(`${FEATURE_NAMES[i]} ${row[i]!.toFixed(digits)}`);
  };
  show(4, 2); // p99_ratio
  show(1, 3); // error_rate
  show(0, 2); // rate_ratio
  show(11, 2); // p99_over_slo
  return parts.join(", ");
}

export class OnnxScorer implements Scorer {
  readonly name = SCORER_NAME;
  private active: ActiveModel;
  private readonly extractor: FeatureExtractor;
  private readonly logger: Logger | undefined;
  private last: ModelInference | undefined;

  constructor(model: LoadedModel, options: OnnxScorerOptions) {
    this.active = { loaded: model, running: 0, retired: false };
    this.extractor = new FeatureExtractor(options.slo);
    this.logger = options.logger;
  }

  /** The running model. */
  get info(): ModelInfo {
    return this.active.loaded.info;
  }

  /** The input rows and outputs of the last successful inference (fault snapshots); undefined before one. */
  lastInference(): ModelInference | undefined {
    return this.last;
  }

  async score(history: ReadonlyMap<string, readonly ClusterWindowStats[]>, nowMs: number): Promise<Map<string, ScoreResult>> {
    const rows = this.extractor.extract(history);
    const clusters = [...rows.keys()];
    const result = new Map<string, ScoreResult>();
    if (clusters.length === 0) return result;
    const input = new Float32Array(clusters.length * FEATURE_COUNT);
    clusters.forEach((cluster, i) => input.set(rows.get(cluster)!, i * FEATURE_COUNT));
    const model = this.active;
    model.running += 1;
    try {
      const out = await model.loaded.session.run({
        [INPUT_NAME]: new ort.Tensor("float32", input, [clusters.length, FEATURE_COUNT]),
      });
      const risk = out[OUTPUT_NAME]!.data as Float32Array;
      const threshold = model.loaded.info.alarmThreshold;
      const kept = new Map<string, { features: readonly number[]; risk: number }>();
      clusters.forEach((cluster, i) => kept.set(cluster, { features: [...rows.get(cluster)!], risk: risk[i]! }));
      this.last = { windowStartMs: nowMs, rows: kept };
      clusters.forEach((cluster, i) => {
        const r = risk[i]!;
        const score = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
        result.set(cluster, {
          score,
          hard: false,
          reasons: score >= threshold ? [`model risk ${score.toFixed(2)} >= ${threshold} (${describeRow(rows.get(cluster)!)})`] : [],
        });
      });
    } catch (err) {
      const message = (err as Error).message;
      this.logger?.error({ err: message, model: model.loaded.info.path }, "anomaly model inference failed");
      for (const cluster of clusters) result.set(cluster, { score: 0, hard: false, reasons: [`model inference failed: ${message}`] });
    } finally {
      model.running -= 1;
      if (model.retired && model.running === 0) await this.release(model);
    }
    return result;
  }

  /** Loads `path` and, if it checks out, runs it from the next round on; else keeps the old model. */
  async reload(path: string): Promise<ReloadResult> {
    let loaded: LoadedModel;
    try {
      loaded = await loadModel(path);
    } catch (err) {
      const error = err instanceof ModelLoadError ? err : new ModelLoadError("MODEL_ERR_READ", path, (err as Error).message);
      this.logger?.warn({ code: error.code, err: error.message, kept: this.info.path }, "anomaly model reload refused; keeping the running model");
      return { ok: false, error, info: this.info };
    }
    const old = this.active;
    this.active = { loaded, running: 0, retired: false };
    old.retired = true;
    if (old.running === 0) await this.release(old);
    this.logger?.info({ path, version: loaded.info.version, sha256: loaded.info.sha256 }, "anomaly model reloaded");
    return { ok: true, info: loaded.info };
  }

  /** Releases the running model's session; the scorer must not be used afterwards. */
  async close(): Promise<void> {
    this.active.retired = true;
    if (this.active.running === 0) await this.release(this.active);
  }

  private async release(model: ActiveModel): Promise<void> {
    try {
      await model.loaded.session.release();
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, "releasing an anomaly model session failed");
    }
  }
}

export interface CreateModelScorerOptions extends OnnxScorerOptions {
  path: string;
}

/**
 * The control plane's entry point: loads the model at `path` and wraps it in a scorer, or says
 * why it cannot (the caller then runs rules-only, logs it and sets its metric). Never throws.
 */
export async function createModelScorer(
  options: CreateModelScorerOptions,
): Promise<{ scorer: OnnxScorer; info: ModelInfo } | { error: ModelLoadError }> {
  try {
    const loaded = await loadModel(options.path);
    const scorer = new OnnxScorer(loaded, options);
    options.logger?.info({ path: options.path, version: loaded.info.version, sha256: loaded.info.sha256 }, "anomaly model loaded");
    return { scorer, info: loaded.info };
  } catch (err) {
    const error = err instanceof ModelLoadError ? err : new ModelLoadError("MODEL_ERR_READ", options.path, (err as Error).message);
    options.logger?.warn({ code: error.code, err: error.message }, "anomaly model not usable; deciding on rules only");
    return { error };
  }
}
