// The AssemblyScript abort handler (asconfig "use": abort=filter/src/abi/abort/filterAbort).
// Envoy provides no env.abort: log the message through proxy_log at CRITICAL, then trap.
import { proxy_log } from "./imports";
import { LogLevel } from "./types";
import { dec } from "../core/numbertext";

export function filterAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  // Build the text without allocating through the (possibly broken) heap more than needed.
  let text = "autoglm filter abort: ";
  if (message !== null) text += message;
  if (fileName !== null) text += " at " + fileName + ":" + dec(line) + ":" + dec(column);
  const bytes = String.UTF8.encode(text, false, String.UTF8.ErrorMode.WTF8);
  proxy_log(LogLevel.CRITICAL, changetype<usize>(bytes), <usize>bytes.byteLength);
  unreachable();
}
