// A state store for tests that restores a given state and keeps nothing: the control plane starts
// from `state` (as from an audit log), and every append is durable at once.
import type { PersistedState } from "../../control-plane/src/core/types.js";
import type { StateStore } from "../../control-plane/src/state/state-store.js";

export function restoredStore(state: PersistedState): StateStore {
  return { restored: state, append: async () => {}, flush: async () => {} };
}
