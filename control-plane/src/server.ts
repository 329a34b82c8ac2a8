// The control plane as a running process: wires the validated configuration (config/) to the
// decision core (service.ts), the sidecar gRPC server, the audit log, the anomaly model (or the
// rules-only fallback), metrics, alerts, the admin API with the dashboard and, when enabled, the
// xDS server. `autoglm control-plane` and the demo both start it through startControlPlane().
import { Registry } from "prom-client";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { createLogger, type Logger } from "../../lib/log.js";
import { buildAdminApp, type AdminHttpsOptions } from "./admin/app.js";
import { ModelReloadError, type AuditQuery, type AuditSource, type ModelControl, type ModelStatus, type SnapshotAccess } from "./admin/deps.js";
import { AlertNotifier, alertsConfigView, bindAlerts, buildChannels, modelFallbackAlert } from "./alerts/index.js";
import { AuditLog } from "./audit/audit-log.js";
import { readAudit } from "./audit/reader.js";
import { auditDecisionHistory } from "./audit/decision-history.js";
import type { AuditRecord, ModelReload, RestoredState } from "./audit/records.js";
import type { RollbackLookup } from "./core/rollback.js";
import { ConfigError } from "./config/index.js";
import type { ControlPlaneConfig, TlsConfig } from "./config/types.js";
import { resolveConfig, type PartialCoreConfig } from "./core/config.js";
import { ControlPlaneError } from "./core/errors.js";
import { startGrpcServer, type GrpcServerHandle, type GrpcTlsOptions } from "./grpc/server.js";
import { alertMetricsHooks, bindMetrics, ConfirmationMetrics, ControlPlaneMetrics, ErrorBudgetMetrics, ExportMetrics, timedScorer } from "./metrics/index.js";
import { ErrorBudgetMonitor } from "./error-budget/monitor.js";
import type { PersistedBudget } from "./core/error-budget/types.js";
import { ExportLimiter } from "./admin/export-limiter.js";
import { createModelScorer, FEATURE_NAMES, type OnnxScorer } from "./model/index.js";
import { hostname } from "node:os";
import { Replica, TelemetryForwarder } from "./replicas/index.js";
import { redactedConfig, secretValues, snapshotAccess, snapshotMetrics, SnapshotRecorder, SnapshotStore } from "./snapshots/index.js";
import { ControlPlane } from "./service.js";
import { createXdsServer, type XdsServiceConfig } from "./xds/index.js";
import { HostHealth, clusterLoads } from "./xds/host-health.js";
import { HostHealthMetrics } from "./metrics/host-health-metrics.js";

export interface StartOptions {
  /** Parent logger; each part logs through a child of it. Default createLogger("control-plane"). */
  logger?: Logger;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** xDS services (parseXdsServices output); required when config.xds.enabled. */
  xdsServices?: readonly XdsServiceConfig[];
  /** Largest gRPC message accepted or sent, bytes. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Where alert channels read the secrets their configuration names (*_env). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface RunningControlPlane {
  /** Bound port of the sidecar gRPC server (autoglm.v1.TrafficGuard). */
  grpcPort: number;
  /** Base URL of the admin API and dashboard, e.g. "http://127.0.0.1:18081" (https:// with admin.tls). */
  adminUrl: string;
  /** Bound port of the xDS (ADS) server; undefined when xDS is disabled. */
  xdsPort?: number;
  controlPlane: ControlPlane;
  /** The registry GET /metrics exposes. */
  registry: Registry;
  /** Whether the ONNX model scores clusters now ("model") or the rules-only fallback does. */
  modelStatus(): ModelStatus;
  /** With an `etcd` section: this replica's place in the election and its shared store. */
  replica?: Replica;
  /** Graceful stop: stop accepting, close every stream, flush alerts and the audit log. Idempotent. */
  close(): Promise<void>;
}

/**
 * The core's tuning parameters from the configuration's detector and breaker sections (checked
 * by validateConfig already); throws ConfigError naming every bad parameter of a configuration
 * built by hand.
 */
export function coreConfigFrom(config: ControlPlaneConfig): PartialCoreConfig {
  const partial: PartialCoreConfig = { detector: config.detector, breaker: config.breaker, ...(config.sources === undefined ? {} : { sources: config.sources }) };
  try {
    resolveConfig(partial);
  } catch (error) {
    throw new ConfigError((error as Error).message.split("; "));
  }
  return partial;
}

function auditSource(dir: string, log: Logger): AuditSource {
  return {
    async *read(query: AuditQuery): AsyncIterable<AuditRecord> {
      const q = {
        ...(query.sinceMs === undefined ? {} : { sinceMs: query.sinceMs }),
        ...(query.untilMs === undefined ? {} : { untilMs: query.untilMs }),
        ...(query.cluster === undefined ? {} : { cluster: query.cluster }),
        onCorrupt: (c: { file: string; line: number; error: string }) => log.warn(c, "corrupt audit line skipped"),
      };
      yield* readAudit(dir, q);
    },
  };
}

/** A replica's rollback lookups: etcd's decision history (every replica's published sets), then
 *  the local audit log's when etcd no longer has the version. */
function sharedDecisionHistory(replica: Replica, local: ((version: number) => Promise<RollbackLookup>) | undefined): (version: number) => Promise<RollbackLookup> {
  return async (version) => {
    const shared = await replica.history.find(version);
    if (shared.kind === "found" || local === undefined) return shared;
    const own = await local(version);
    return own.kind === "found" ? own : shared;
  };
}

/** Opens the audit log; a directory that cannot be created or written is a ConfigError naming audit.dir. */
async function openAudit(dir: string, maxBytes: number, log: Logger): Promise<AuditLog> {
  try {
    return await AuditLog.open({ dir, maxBytes, logger: log.child({ part: "audit" }) });
  } catch (error) {
    throw new ConfigError([`audit.dir: ${(error as Error).message.replace(/^audit\.dir: /, "")}`]);
  }
}

/** Reads a PEM file named by configuration field `field`; ConfigError naming both if it cannot. */
async function readPem(path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError([`${field}: cannot read ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
}

/** Checks that a certificate and key load together; ConfigError naming the section if not. */
function checkKeyPair(section: string, tls: TlsConfig, cert: Buffer, key: Buffer): void {
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError([
      `${section}: cert_file ${JSON.stringify(tls.certFile)} and key_file ${JSON.stringify(tls.keyFile)} are not a PEM certificate and its private key: ${(error as Error).message}`,
    ]);
  }
}

async function grpcTlsOptions(config: ControlPlaneConfig): Promise<GrpcTlsOptions | undefined> {
  const tls = config.grpc.tls;
  if (tls === undefined) return undefined;
  const certChain = await readPem(tls.certFile, "grpc.tls.cert_file");
  const privateKey = await readPem(tls.keyFile, "grpc.tls.key_file");
  checkKeyPair("grpc.tls", tls, certChain, privateKey);
  return tls.caFile === undefined ? { certChain, privateKey } : { certChain, privateKey, clientCa: await readPem(tls.caFile, "grpc.tls.ca_file") };
}

async function adminHttpsOptions(config: ControlPlaneConfig): Promise<AdminHttpsOptions | undefined> {
  const tls = config.admin.tls;
  if (tls === undefined) return undefined;
  const cert = await readPem(tls.certFile, "admin.tls.cert_file");
  const key = await readPem(tls.keyFile, "admin.tls.key_file");
  checkKeyPair("admin.tls", tls, cert, key);
  return { cert, key };
}

/** host:port for a listen address (IPv6 literals bracketed). */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts everything `config` describes; ports 0 pick free ones. Rejects with ConfigError for
 * problems of the configuration (bad core parameters, unreadable TLS files, xDS enabled without
 * services, an audit directory that cannot be created or written) and with other errors for
 * other I/O failures (port in use);
 * whatever was started before a failure is closed again.
 */
export async function startControlPlane(config: ControlPlaneConfig, options: StartOptions = {}): Promise<RunningControlPlane> {
  const log = options.logger ?? createLogger("control-plane");
  const now = options.now ?? Date.now;
  const coreConfig = coreConfigFrom(config);
  if (config.xds.enabled && (options.xdsServices === undefined || options.xdsServices.length === 0)) {
    throw new ConfigError(["xds.enabled: true needs the xDS services (clusters with endpoints), e.g. --xds-services <file>"]);
  }
  const tls = await grpcTlsOptions(config);
  const adminHttps = await adminHttpsOptions(config);
  // Before anything starts: a secret variable that is not set is a configuration problem.
  const alertChannels = buildChannels(config.alerts, { env: options.env ?? process.env, logger: log.child({ part: "alerts" }) });
  const closers: (() => Promise<void>)[] = [];
  // Last to run (closers run in reverse); the notifier closes them first when it was created.
  closers.push(async () => void (await Promise.all(alertChannels.map((c) => c.close()))));
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        log.warn({ err }, "shutdown step failed");
      }
    }
  };

  try {
    // Audit log first: the control plane restores its state from it.
    let audit: AuditLog | undefined;
    if (config.audit.dir !== undefined) {
      audit = await openAudit(config.audit.dir, config.audit.rotateBytes, log);
      const opened = audit;
      closers.push(() => opened.close());
    }

    // Several replicas: the shared state in etcd (restored before the control plane is built).
    let replica: Replica | undefined;
    let sharedState: RestoredState | undefined;
    let forwarder: TelemetryForwarder | undefined;
    if (config.etcd !== undefined) {
      const opened = await Replica.open(config.etcd, { ...(audit === undefined ? {} : { local: audit }), logger: log, now });
      replica = opened.replica;
      sharedState = opened.restored;
      const started = replica;
      closers.push(() => started.stop());
      forwarder = new TelemetryForwarder({
        replicaId: config.etcd.replicaId,
        clusters: config.clusters.map((c) => c.name),
        token: config.grpc.token,
        // Forward before the leader closes the window (it waits aggregation.closeDelayMs).
        flushDelayMs: resolveConfig(coreConfig).aggregation.closeDelayMs / 2,
        now,
        logger: log.child({ part: "telemetry" }),
      });
      const running = forwarder;
      closers.push(async () => running.stop());
    }

    // The model, or rules-only.
    let modelScorer: OnnxScorer | undefined;
    let modelStatus: ModelStatus = { mode: "rules-only", detail: "no model.path configured" };
    let fallbackReason: string | undefined;
    if (config.model.path !== undefined) {
      const result = await createModelScorer({ path: config.model.path, slo: config.slo, logger: log.child({ part: "model" }) });
      if ("error" in result) {
        fallbackReason = result.error.message;
        modelStatus = { mode: "rules-only", path: config.model.path, detail: result.error.message };
      } else {
        modelScorer = result.scorer;
        modelStatus = { mode: "model", path: config.model.path, loadedAtMs: now() };
      }
    }

    closers.push(async () => {
      await modelScorer?.close();
    });

    const registry = new Registry();
    // Metrics read the control plane lazily (collect callbacks); it is created just below.
    let cpRef: ControlPlane | undefined;
    const metrics = new ControlPlaneMetrics(
      registry,
      {
        clusterStatuses: () => cpRef?.clusterStatuses() ?? [],
        sidecarStatuses: () => cpRef?.sidecarStatuses() ?? [],
        currentDecisions: () => cpRef?.currentDecisions() ?? { version: 0, halted: false },
      },
      now,
    );

    const cp = new ControlPlane({
      clusters: config.clusters,
      slo: config.slo,
      now,
      config: coreConfig,
      ...(replica !== undefined
        ? {
            audit: replica.store,
            follower: true,
            onSidecarAhead: (held: number) => replica.registerVersion(held),
            onWorkersChanged: () => replica.workersChanged(),
            ...(forwarder === undefined ? {} : { followerTelemetry: forwarder.sink }),
          }
        : audit === undefined
          ? {}
          : { audit }),
      ...(modelScorer === undefined ? {} : { modelScorer: timedScorer(modelScorer, metrics) }),
      logger: log,
      ...(config.grpc.token === "" ? {} : { sidecarToken: config.grpc.token }),
      triggers: config.triggers,
      haltConfirmWaitMs: config.halt.confirmWaitS * 1000,
      // Rollback reads earlier sets from the local audit log; several replicas from etcd's history
      // first (any replica may be asked), then from their local audit log when they have one.
      ...(replica !== undefined
        ? { decisionHistory: sharedDecisionHistory(replica, config.audit.dir === undefined ? undefined : auditDecisionHistory(config.audit.dir)) }
        : config.audit.dir === undefined
          ? {}
          : { decisionHistory: auditDecisionHistory(config.audit.dir) }),
    });
    cpRef = cp;
    new ConfirmationMetrics(registry, cp);
    const unbindMetrics = bindMetrics(cp, metrics);
    closers.push(async () => unbindMetrics());
    metrics.modelInUse.set(modelScorer === undefined ? 0 : 1);
    for (const [reason, count] of Object.entries(audit?.health().skippedByReason ?? {})) metrics.auditRecordsSkipped.inc({ reason }, count);

    // Fault snapshots beside the audit log. Closed after the control plane stops (closers run in
    // reverse): the snapshots still waiting for their windows after are saved as they stand.
    let snapshots: SnapshotAccess | undefined;
    if (config.audit.dir !== undefined) {
      const s = config.audit.snapshots;
      const store = await SnapshotStore.open({ dir: join(config.audit.dir, "snapshots"), maxBytes: s.maxBytes, maxFiles: s.maxFiles, logger: log.child({ part: "snapshots" }) });
      const recorder = new SnapshotRecorder({
        store,
        facts: () => ({
          atMs: now(),
          decisions: cp.currentDecisions(),
          clusters: cp.clusterStatuses(),
          sidecars: cp.sidecarStatuses(),
          gone: cp.goneSidecars(),
          model: {
            ...modelStatus,
            featureNames: FEATURE_NAMES,
            ...(modelStatus.mode !== "model" ? {} : { lastInference: modelScorer?.lastInference() }),
          },
        }),
        config: redactedConfig(config),
        secrets: secretValues(config, options.env ?? process.env),
        windowsBefore: s.windowsBefore,
        windowsAfter: s.windowsAfter,
        logger: log.child({ part: "snapshots" }),
        hooks: snapshotMetrics(registry),
      });
      const unbindSnapshots = recorder.bind(cp);
      closers.push(async () => {
        unbindSnapshots();
        await recorder.close();
      });
      snapshots = snapshotAccess(store, recorder);
    }

    const notifier = new AlertNotifier({
      config: config.alerts,
      channels: alertChannels,
      logger: log.child({ part: "alerts" }),
      now,
      ...alertMetricsHooks(metrics),
    });
    log.info({ alerts: alertsConfigView(config.alerts) }, "alerts configured");
    const unbindAlerts = bindAlerts(cp, (a) => notifier.notify(a));
    closers.push(async () => {
      unbindAlerts();
      await notifier.close();
    });
    // Closed before the alerts and the model: ends every stream, waits for a running round,
    // flushes the audit log.
    closers.push(() => cp.stop());
    // Error budgets (when configured): fed by closed windows, alerts through the notifier, the
    // period's counts kept in the audit log (written once more before the log closes).
    let budgets: ErrorBudgetMonitor | undefined;
    if (config.errorBudgets !== undefined) {
      const budgetMetrics = new ErrorBudgetMetrics(registry, { statuses: () => budgets?.statuses() ?? [] });
      // Several replicas: the counts in etcd (the leader writes them, followers mirror them).
      const restoredBudget = replica !== undefined ? sharedState?.errorBudget : audit?.restored?.errorBudget;
      const store = replica?.store ?? audit;
      budgets = new ErrorBudgetMonitor({
        settings: config.errorBudgets,
        clusters: config.clusters.map((c) => c.name),
        now,
        ...(restoredBudget === undefined ? {} : { restored: restoredBudget }),
        // Several replicas: the alert windows' minute buckets too, so a burn survives a failover.
        ...(sharedState?.burnWindows === undefined ? {} : { restoredWindows: sharedState.burnWindows }),
        ...(replica === undefined ? {} : { saveWindows: (budget: PersistedBudget, atMs: number) => replica.store.saveBurnWindows(budget, atMs) }),
        ...(store === undefined ? {} : { append: (record: AuditRecord) => store.append(record) }),
        notify: (a) => notifier.notify(a),
        onCounts: (counts) => budgetMetrics.countWindow(counts),
        logger: log.child({ part: "error-budgets" }),
      });
      const monitor = budgets;
      const unbindBudgets = monitor.bind(cp);
      closers.push(async () => {
        unbindBudgets();
        await monitor.persist();
      });
    }
    const exportLimiter = new ExportLimiter(config.admin.export);
    const exportMetrics = new ExportMetrics(registry);

    if (fallbackReason !== undefined) {
      log.warn({ path: config.model.path, reason: fallbackReason }, "anomaly model not in use; deciding on rules only");
      metrics.modelFallbacks.inc({ reason: "load_failed" });
      notifier.notify(modelFallbackAlert(fallbackReason, now(), config.model.path));
    }

    /** Records a reload attempt; resolves when durable (at once without an audit log). */
    const recordReload = (reload: ModelReload): Promise<void> => audit?.append({ kind: "model_reload", atMs: now(), ...reload }) ?? Promise.resolve();
    const model: ModelControl = {
      status: () => modelStatus,
      async reload(actor: string, reason?: string): Promise<ModelStatus> {
        const path = config.model.path;
        if (path === undefined) throw new ModelReloadError("model.path: not configured; nothing to reload");
        const asked = { actor, path, ...(reason === undefined ? {} : { reason }) };
        try {
          if (modelScorer !== undefined) {
            const result = await modelScorer.reload(path);
            if (!result.ok) throw new ModelReloadError(result.error.message);
          } else {
            const result = await createModelScorer({ path, slo: config.slo, logger: log.child({ part: "model" }) });
            if ("error" in result) throw new ModelReloadError(result.error.message);
            modelScorer = result.scorer;
            cp.setModelScorer(timedScorer(modelScorer, metrics));
            metrics.modelInUse.set(1);
          }
        } catch (error) {
          if (error instanceof ModelReloadError) {
            // The refusal is the answer; a failure to record it is only logged.
            await recordReload({ ...asked, outcome: "rejected", detail: error.message }).catch((err: unknown) =>
              log.error({ err, path }, "model reload rejected and not recorded in the audit log"),
            );
          }
          throw error;
        }
        modelStatus = { mode: "model", path, loadedAtMs: now() };
        log.info({ actor, path }, "anomaly model reloaded");
        try {
          await recordReload({ ...asked, outcome: "loaded" });
        } catch (error) {
          throw new ControlPlaneError("CP_ERR_AUDIT", `${(error as Error).message}; the model from ${path} is loaded and in use, but its reload is not recorded`);
        }
        return modelStatus;
      },
    };
    let grpcListening = false;
    const grpc: GrpcServerHandle = await startGrpcServer(cp, {
      address: hostPort(config.grpc.host, config.grpc.port),
      ...(tls === undefined ? {} : { tls }),
      ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
      logger: log.child({ part: "grpc" }),
    });
    grpcListening = true;
    closers.push(async () => {
      grpcListening = false;
      await grpc.close();
    });

    let xdsPort: number | undefined;
    if (config.xds.enabled) {
      const xdsLog = log.child({ part: "xds" });
      const hostHealth = config.xds.hostEjection ? new HostHealth(options.xdsServices!.flatMap((s) => s.clusters)) : undefined;
      const hostClusters = options.xdsServices!.flatMap((s) => s.clusters.map((c) => c.name));
      const hostMetrics = hostHealth === undefined ? undefined : new HostHealthMetrics(registry, hostClusters);
      const server = createXdsServer({
        services: options.xdsServices!,
        logger: xdsLog,
        initialDecisions: cp.currentDecisions(),
        ...(hostHealth === undefined
          ? {}
          : {
              loadReports: {
                // Twice per judgement, so that every judgement holds a report of every Envoy
                // however their timers drift against the control plane's.
                intervalMs: Math.max(1, Math.floor(cp.config.decision.decideIntervalMs / 2)),
                onLoads: (nodeId, loads) => {
                  hostHealth.addLoads(loads, nodeId);
                  hostMetrics?.loadReports.inc();
                },
              },
            }),
      });
      const offDecisions = cp.on("decisions", (d) => server.update(d));
      // Every decision interval, on every replica (followers too: they take LRS streams as
      // well, and a host they ejected must come back), the hosts are judged on the reports since
      // the last judgement. A timer of its own, not the decision rounds: rounds also come early
      // and only on the leader, and a judgement with no report in between would count as a
      // window without evidence.
      const judgeHosts = (): void => {
        if (hostHealth === undefined) return;
        const events = hostHealth.judge(now() / 1000, clusterLoads(cp.clusterStatuses(), config.slo.latencyMs));
        for (const event of events) {
          xdsLog.warn({ ...event }, event.kind === "eject" ? `host ejected: it ${event.reason === "latency" ? "is clearly slower" : "fails clearly more"} than its cluster's other hosts; served UNHEALTHY over EDS` : `host back in service (${event.kind})`);
        }
        const unhealthy = hostHealth.unhealthy();
        hostMetrics?.judged(events, unhealthy, hostClusters);
        server.setUnhealthyEndpoints(unhealthy);
      };
      const judgeTimer = hostHealth === undefined ? undefined : setInterval(judgeHosts, cp.config.decision.decideIntervalMs);
      judgeTimer?.unref();
      const stopJudging = (): void => {
        if (judgeTimer !== undefined) clearInterval(judgeTimer);
      };
      closers.push(async () => {
        offDecisions();
        stopJudging();
        await server.close();
      });
      xdsPort = await server.listen(hostPort(config.xds.host, config.xds.port));
    }

    const app = await buildAdminApp(
      {
        controlPlane: cp,
        model,
        readiness: { grpcListening: () => grpcListening, ...(audit === undefined ? {} : { audit: () => audit.health() }) },
        ...(config.audit.dir === undefined ? {} : { audit: auditSource(config.audit.dir, log) }),
        ...(snapshots === undefined ? {} : { snapshots }),
        registry,
        alerts: notifier,
        ...(budgets === undefined ? {} : { errorBudgets: budgets }),
        exportLimits: { limiter: exportLimiter, metrics: exportMetrics },
        token: config.admin.token,
        readToken: config.admin.readToken,
        logger: log.child({ part: "admin" }),
        now,
      },
      adminHttps === undefined ? {} : { https: adminHttps },
    );
    closers.push(() => app.close());
    await app.listen({ host: config.admin.host, port: config.admin.port });
    const address = app.server.address();
    const adminPort = typeof address === "object" && address !== null ? address.port : config.admin.port;
    const adminUrl = `${adminHttps === undefined ? "http" : "https"}://${hostPort(config.admin.host, adminPort)}`;

    cp.start();
    if (replica !== undefined) {
      const etcd = config.etcd!;
      const wildcard = config.grpc.host === "0.0.0.0" || config.grpc.host === "::";
      const peer = etcd.advertiseAddress ?? hostPort(wildcard ? hostname() : config.grpc.host, grpc.port);
      // The forwarder speaks plaintext gRPC; with grpc.tls the followers' telemetry stays local.
      const forwarding = tls === undefined ? forwarder : undefined;
      if (tls !== undefined) log.warn("grpc.tls is set: followers do not forward telemetry to the leader yet (plaintext only)");
      forwarding?.start();
      await replica.start(cp, { peer, onLeaderPeer: (leader) => forwarding?.setTarget(leader), onBudget: (budget) => budgets?.mirror(budget) });
    }
    log.info({ grpcPort: grpc.port, adminUrl, xdsPort, clusters: config.clusters.map((c) => c.name), model: modelStatus.mode }, "control plane started");

    let closing: Promise<void> | undefined;
    return {
      grpcPort: grpc.port,
      adminUrl,
      ...(xdsPort === undefined ? {} : { xdsPort }),
      controlPlane: cp,
      registry,
      modelStatus: () => modelStatus,
      ...(replica === undefined ? {} : { replica }),
      close(): Promise<void> {
        closing ??= (async () => {
          log.info("control plane stopping");
          await closeAll();
          log.info("control plane stopped");
        })();
        return closing;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
