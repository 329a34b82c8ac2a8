// The dashboard's icon (SVG: a pulse line, in the "closed" green, on the page's background),
// served at /favicon.svg, linked from the page, and at /favicon.ico, the path browsers and
// other clients ask for by convention.
import { STATE_COLORS } from "./palette.js";

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#0f1419"/>' +
  `<path d="M4 18h6l3-8 4 14 3-6h8" fill="none" stroke="${STATE_COLORS.closed}" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>` +
  "</svg>";

export const FAVICON_ROUTES = ["/favicon.svg", "/favicon.ico"] as const;
