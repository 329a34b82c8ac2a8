// The configuration file's sections, each checked by its own JSON Schema (one file per section,
// here). Adding a section is one line in SECTION_SCHEMAS (plus its reading in ../validate.ts).
// Sections without a schema yet are checked by hand in ../validate.ts, in the same run.
import type { JsonSchema } from "../schema-problems.js";
import { etcdSchema } from "../etcd.js";
import { ADMIN_SCHEMA } from "./admin.js";
import { AUDIT_SCHEMA } from "./audit.js";
import { BREAKER_SCHEMA } from "./breaker.js";
import { CLUSTERS_SCHEMA } from "./clusters.js";
import { DETECTOR_SCHEMA } from "./detector.js";
import { GRPC_SCHEMA } from "./grpc.js";
import { HALT_SCHEMA } from "./halt.js";
import { MODEL_SCHEMA } from "./model.js";
import { SLO_SCHEMA } from "./slo.js";
import { SOURCES_SCHEMA } from "./sources.js";
import { XDS_SCHEMA } from "./xds.js";

/** Top-level key -> its section's schema, in the order the documentation lists them. */
export const SECTION_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  grpc: GRPC_SCHEMA,
  admin: ADMIN_SCHEMA,
  xds: XDS_SCHEMA,
  clusters: CLUSTERS_SCHEMA,
  slo: SLO_SCHEMA,
  detector: DETECTOR_SCHEMA,
  breaker: BREAKER_SCHEMA,
  sources: SOURCES_SCHEMA,
  model: MODEL_SCHEMA,
  audit: AUDIT_SCHEMA,
  halt: HALT_SCHEMA,
};

/** Top-level keys a file must have. */
export const REQUIRED_SECTIONS: readonly string[] = ["clusters"];

/**
 * Top-level keys read by their own modules, each with its own JSON Schema and cross-checks (they
 * pass the document schema here unchecked, so each problem is reported once), with what they hold.
 */
export const HAND_CHECKED_SECTIONS: Readonly<Record<string, string>> = {
  alerts: "Alert channels (e-mail, webhooks, SMS) and routing by severity and kind: control-plane/src/alerts/config-schema.ts; README, \"Alerts\".",
  triggers: "Rules that halt the mesh, open a cluster, shed load or limit a source when a condition holds: control-plane/src/config/triggers.ts; README, \"Triggers, load shedding and upstream load\".",
  etcd: "Several control-plane replicas sharing their state in etcd: control-plane/src/config/etcd.ts; README, \"Running several replicas\".",
  error_budgets: "SLO error budgets per cluster and mesh-wide, with multi-window burn-rate alerts: control-plane/src/config/error-budgets.ts; README, \"Error budgets\".",
};

/** Hand-checked sections whose fields docs/configuration.md lists from their schema. */
export const HAND_CHECKED_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  etcd: etcdSchema,
};

/** The whole file: the sections above, nothing else (hand-checked ones pass here unchecked). */
export const DOCUMENT_SCHEMA: JsonSchema = {
  type: "object",
  description: "The control plane's configuration file (YAML, or JSON in a .json file), snake_case keys.",
  additionalProperties: false,
  required: [...REQUIRED_SECTIONS],
  properties: {
    ...SECTION_SCHEMAS,
    ...Object.fromEntries(Object.entries(HAND_CHECKED_SECTIONS).map(([key, description]) => [key, { description }])),
  },
};
