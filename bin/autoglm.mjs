#!/usr/bin/env node
// Entry point of the `autoglm` command: registers the TypeScript loader (tsx) and hands over
// to cli/main.ts, which dispatches to the subcommands.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
