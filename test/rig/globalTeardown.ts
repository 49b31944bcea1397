/**
 * Jest global teardown of the "rig" project: stops the rig (test/rig/rig.sh stop) unless RIG_KEEP=1, which
 * leaves it up for inspection (see test/rig/README.md).
 */
import { spawnSync } from "child_process";
import * as path from "path";

export default async function globalTeardown(): Promise<void> {
  if (process.env.RIG_KEEP === "1") {
    console.log("\n[rig] left running (RIG_KEEP=1); stop it with test/rig/rig.sh stop");
    return;
  }
  const t0 = Date.now();
  const r = spawnSync("bash", [path.join(__dirname, "rig.sh"), "stop"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) {
    throw new Error(`[rig] test/rig/rig.sh stop failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  console.log(`[rig] stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
