// Whether a sidecar's configuration fits the control plane it streams to: the clusters its filter
// decides over are the control plane's, with the same base shares (a sidecar on its fallback
// splits traffic by its own weights); its stream reaches the control plane's gRPC port and sends
// the token the control plane asks for. Pure: both configurations are already validated.
import type { ControlPlaneConfig } from "../control-plane/src/config/types.js";
import type { SidecarConfig } from "../sidecar/config.js";

interface FilterView {
  clusters: { name: string; weight: number }[];
  token: string;
}

/** The parts of the filter's plugin configuration compared here (it is checked by the filter). */
function filterView(configuration: SidecarConfig["filter"]["configuration"]): FilterView | undefined {
  let doc: unknown = configuration;
  if (typeof configuration === "string") {
    try {
      doc = JSON.parse(configuration);
    } catch {
      return undefined;
    }
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as { clusters?: unknown }).clusters)) return undefined;
  const { clusters, control_plane: cp } = doc as { clusters: unknown[]; control_plane?: { token?: unknown } };
  return {
    clusters: clusters.flatMap((c) => {
      const { name, weight } = (c ?? {}) as { name?: unknown; weight?: unknown };
      return typeof name === "string" ? [{ name, weight: typeof weight === "number" ? weight : 1 }] : [];
    }),
    token: typeof cp?.token === "string" ? cp.token : "",
  };
}

const share = (weight: number, total: number): string => `${((100 * weight) / total).toFixed(1)} %`;

/** Every disagreement, each naming the sidecar field concerned and the control plane's. */
export function configAgreementProblems(cp: ControlPlaneConfig, sidecar: SidecarConfig): string[] {
  const problems: string[] = [];
  const filter = filterView(sidecar.filter.configuration);
  if (filter !== undefined) {
    const cpNames = cp.clusters.map((c) => c.name);
    const filterNames = filter.clusters.map((c) => c.name);
    const onlyHere = filterNames.filter((n) => !cpNames.includes(n));
    const onlyThere = cpNames.filter((n) => !filterNames.includes(n));
    if (onlyHere.length > 0) {
      problems.push(`filter.configuration.clusters: ${onlyHere.join(", ")} not among the control plane's clusters (${cpNames.join(", ")}): it decides nothing for them`);
    }
    if (onlyThere.length > 0) {
      problems.push(`filter.configuration.clusters: the control plane's ${onlyThere.join(", ")} missing: its decisions for them cannot be followed`);
    }
    if (onlyHere.length === 0 && onlyThere.length === 0) {
      const cpTotal = cp.clusters.reduce((a, c) => a + c.baseWeight, 0);
      const filterTotal = filter.clusters.reduce((a, c) => a + c.weight, 0);
      const differ = cp.clusters.filter((c) => {
        const mine = filter.clusters.find((f) => f.name === c.name)!;
        return filterTotal > 0 && Math.abs(c.baseWeight / cpTotal - mine.weight / filterTotal) > 1e-9;
      });
      if (differ.length > 0) {
        const text = differ.map((c) => `${c.name} ${share(filter.clusters.find((f) => f.name === c.name)!.weight, filterTotal)} here, ${share(c.baseWeight, cpTotal)} there`);
        problems.push(`filter.configuration.clusters: base shares differ from the control plane's base_weight (${text.join("; ")}): on its fallback the sidecar would split traffic otherwise`);
      }
    }
    if (cp.grpc.token !== "" && filter.token !== cp.grpc.token) {
      problems.push("filter.configuration.control_plane.token: differs from the control plane's grpc.token: its stream would be refused");
    }
  }
  // Replicas of one control plane share its configuration, so each listens on grpc.port.
  const addresses = sidecar.controlPlane?.addresses ?? [];
  addresses.forEach((address, i) => {
    const port = Number(/:(\d+)$/.exec(address)?.[1]);
    const field = addresses.length === 1 ? "control_plane.address" : `control_plane.addresses[${i}]`;
    if (cp.grpc.port !== 0 && port !== cp.grpc.port) problems.push(`${field}: port ${port} is not the control plane's grpc.port (${cp.grpc.port})`);
  });
  return problems;
}
