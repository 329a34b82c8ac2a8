// The `halt` section: how the sidecars' confirmation of a halt (and of any decision version) is judged.
import { objectSchema } from "./common.js";

export const HALT_SCHEMA = objectSchema("How a halt's confirmation by the sidecar workers is judged (GET /v1/halt), and that of every decision version (GET /v1/sidecars).", {
  confirm_wait_s: {
    type: "number",
    exclusiveMinimum: 0,
    maximum: 86_400,
    default: 30,
    description: "Seconds the connected sidecar workers are given to acknowledge a halt's decision version before GET /v1/halt lists them as unconfirmed; also the bound for any decision version, past which GET /v1/sidecars, the dashboard and autoglm_sidecars_unconfirmed flag a worker that has not confirmed it.",
  },
});
