// The `clusters` section: the upstream clusters the breaker decides on.
import type { JsonSchema } from "../schema-problems.js";
import { objectSchema } from "./common.js";

/** Letters, digits, ".", "_" or "-", at most 63, starting with a letter or digit. */
export const CLUSTER_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$";

export const CLUSTERS_SCHEMA: JsonSchema = {
  type: "array",
  minItems: 1,
  description: "Required: the upstream clusters the breaker decides on, each named once.",
  items: objectSchema(
    "One upstream cluster.",
    {
      name: { type: "string", pattern: CLUSTER_NAME_PATTERN, description: 'Cluster name as the sidecars know it (letters, digits, ".", "_", "-"; at most 63).' },
      base_weight: { type: "integer", minimum: 1, maximum: 1_000_000, default: 1, description: "Relative share of traffic when nothing is wrong (the operator's base weights)." },
    },
    ["name"],
  ),
};
