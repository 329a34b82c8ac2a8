// Entry of a benchmark worker thread: registers the TypeScript loader (as bin/autoglm.mjs does)
// and loads the worker body.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
