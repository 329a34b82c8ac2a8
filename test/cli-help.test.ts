import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

function autoglm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["bin/autoglm.mjs", ...args], {
    encoding: "utf8",
    env: { ...process.env, AUTOGLM_LOG_LEVEL: "silent" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("autoglm --help lists every subcommand", () => {
  const { status, stdout } = autoglm("--help");
  assert.equal(status, 0);
  for (const name of ["demo", "control-plane", "sidecar", "check-config", "bench", "train"]) {
    assert.match(stdout, new RegExp(`^  ${name} `, "m"), `--help does not list ${name}`);
  }
});

test("an unknown subcommand is named in the error and exits 2", () => {
  const { status, stderr } = autoglm("frobnicate");
  assert.equal(status, 2);
  assert.match(stderr, /unknown command "frobnicate"/);
});

test("every subcommand and benchmark prints its own help", () => {
  for (const args of [["demo"], ["control-plane"], ["sidecar"], ["check-config"], ["train"], ["bench"], ["bench", "filter"], ["bench", "control-plane"], ["bench", "scenarios"]]) {
    const { status, stdout, stderr } = autoglm(...args, "--help");
    assert.equal(status, 0, `autoglm ${args.join(" ")} --help failed: ${stderr}`);
    assert.match(stdout, /Usage: autoglm/, `autoglm ${args.join(" ")} --help printed no usage line`);
  }
});
