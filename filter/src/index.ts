// Entry of the Open-AutoGLM proxy-wasm filter (ABI 0.2.1). The ABI surface lives in ./abi/, the
// filter's root and request contexts in ./filter/, the pure decision pieces in ./core/.
import "./abi/abort"; // the abort handler named in asconfig.json ("use": abort=…/filterAbort)
import { RootContext, setRootContextFactory } from "./abi/context";
import { FilterRoot } from "./filter/root";

setRootContextFactory((contextId: u32): RootContext => new FilterRoot(contextId));

export { proxy_on_memory_allocate } from "./abi/memory";
export * from "./abi/exports";
