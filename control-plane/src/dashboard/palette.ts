// Colours of the dashboard. Eight cluster colours, told apart from each other (CIE76 ΔE of at
// least 35 between any two) and readable on the panel (contrast ratio above 5:1), and the
// colours of the breaker states (card borders and the charts' transition markers). Checked by
// test/dashboard-palette.test.ts. A ninth cluster reuses the first colour.

/** The panel behind the charts. */
export const PANEL_COLOR = "#171d24";

/** One colour per cluster, in the order the clusters are listed. */
export const CLUSTER_COLORS: readonly string[] = [
  "#4ea1ff", // blue
  "#ffe066", // yellow
  "#f778ba", // pink
  "#56d4dd", // cyan
  "#9d7bff", // violet
  "#a6e22e", // lime
  "#d98e5e", // terracotta
  "#e6edf3", // white
];

/** Breaker states: card borders, state badges, transition markers. */
export const STATE_COLORS = { closed: "#2fb36d", open: "#e5484d", half_open: "#f5a524" } as const;
