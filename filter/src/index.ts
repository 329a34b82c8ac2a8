// Entry of the Open-AutoGLM proxy-wasm filter (ABI 0.2.1). Re-exports only: the ABI surface
// lives in ./abi/, the filter's root and request contexts in ./filter/.
import "./abi/abort"; // the abort handler named in asconfig.json ("use": abort=…/filterAbort)
export { proxy_on_memory_allocate } from "./abi/memory";
export * from "./abi/exports";
