export { Replica, type ReplicaRole } from "./replica.js";
export { ReplicaStore, AppliedRevisions } from "./replica-store.js";
export { EtcdState, type SharedChange, type SharedSnapshot } from "./etcd-state.js";
export { TelemetryForwarder } from "./telemetry-forwarder.js";
export { PartialWindows, type MergedWindow } from "./partial-windows.js";
export { SidecarPresence } from "./sidecar-presence.js";
