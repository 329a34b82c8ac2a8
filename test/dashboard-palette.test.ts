import { test } from "node:test";
import assert from "node:assert/strict";
import { CLUSTER_COLORS, PANEL_COLOR, STATE_COLORS } from "../control-plane/src/dashboard/palette.js";

/** sRGB "#rrggbb" to linear RGB in [0, 1]. */
function linear(hex: string): [number, number, number] {
  assert.match(hex, /^#[0-9a-f]{6}$/i, hex);
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return [channel(1), channel(3), channel(5)];
}

/** CIE L*a*b* (D65). */
function lab(hex: string): [number, number, number] {
  const [r, g, b] = linear(hex);
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** CIE76 colour difference: about 2.3 is just noticeable; above 30, different colours. */
function deltaE(a: string, b: string): number {
  const p = lab(a), q = lab(b);
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** WCAG 2 contrast ratio. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, b2] = linear(hex);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b2;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

test("the colour math agrees with known values", () => {
  assert.ok(Math.abs(contrast("#ffffff", "#000000") - 21) < 1e-9);
  assert.ok(Math.abs(deltaE("#ffffff", "#000000") - 100) < 0.01);
  assert.ok(deltaE("#4ea1ff", "#4ea1ff") === 0);
});

test("eight clusters get eight colours, any two at least ΔE 35 apart", () => {
  assert.equal(CLUSTER_COLORS.length, 8);
  for (let i = 0; i < CLUSTER_COLORS.length; i++) {
    for (let j = i + 1; j < CLUSTER_COLORS.length; j++) {
      const d = deltaE(CLUSTER_COLORS[i]!, CLUSTER_COLORS[j]!);
      assert.ok(d >= 35, `${CLUSTER_COLORS[i]} and ${CLUSTER_COLORS[j]} are only ΔE ${d.toFixed(1)} apart`);
    }
  }
});

test("every cluster colour reads on the chart panel (contrast above 4.5:1) and differs from the breaker-state marker colours (ΔE 25 or more)", () => {
  for (const color of CLUSTER_COLORS) {
    assert.ok(contrast(color, PANEL_COLOR) >= 4.5, `${color} on ${PANEL_COLOR}: ${contrast(color, PANEL_COLOR).toFixed(2)}:1`);
    for (const [state, marker] of Object.entries(STATE_COLORS)) {
      assert.ok(deltaE(color, marker) >= 25, `${color} is ΔE ${deltaE(color, marker).toFixed(1)} from the ${state} marker ${marker}`);
    }
  }
});
