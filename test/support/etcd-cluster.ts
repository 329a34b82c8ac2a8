// A three-member etcd cluster on loopback for tests: cli/local-etcd-cluster.ts (also used by
// `autoglm bench control-plane --replicas`).
export * from "../../cli/local-etcd-cluster.js";
