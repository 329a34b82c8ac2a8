// The `halt` section: how a halt's confirmation by the sidecars is judged.
import { objectSchema } from "./common.js";

export const HALT_SCHEMA = objectSchema("How a halt's confirmation by the sidecar workers is judged (GET /v1/halt).", {
  confirm_wait_s: {
    type: "number",
    exclusiveMinimum: 0,
    maximum: 86_400,
    default: 30,
    description: "Seconds the connected sidecar workers are given to acknowledge a halt's decision version before GET /v1/halt lists them as unconfirmed.",
  },
});
