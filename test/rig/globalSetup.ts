/**
 * Jest global setup of the "rig" project: brings the real-consumer rig up with test/rig/rig.sh.
 *
 * A rig left up by an earlier run (RIG_KEEP=1, or a crash) is stopped and started fresh, so every run starts
 * from clean nodes and registries. RIG_REUSE=1 keeps a rig that is fully up as it is (faster when iterating).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { CANARY_PASSWORD } from "../helpers/fixtures";

const RIG_SH = path.join(__dirname, "rig.sh");

function rigSh(action: "start" | "stop" | "status"): { code: number | null; out: string } {
  const r = spawnSync("bash", [RIG_SH, action], { encoding: "utf8", env: process.env, timeout: 120_000 });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  // The registry password is the canary that the tests look for everywhere it must never appear.
  process.env.RIG_PASSWORD ??= CANARY_PASSWORD;
  const status = rigSh("status");
  if (status.code === 0 && process.env.RIG_REUSE === "1") {
    console.log(`\n[rig] reusing the running rig (RIG_REUSE=1), checked in ${Date.now() - t0} ms`);
    return;
  }
  let how = "started";
  if (status.code !== 3) {
    const stop = rigSh("stop");
    if (stop.code !== 0) throw new Error(`[rig] stopping the previous rig failed:\n${stop.out}`);
    how = "restarted (a previous rig was up)";
  }
  const start = rigSh("start");
  if (start.code !== 0) {
    throw new Error(`[rig] test/rig/rig.sh start failed (exit ${start.code}):\n${start.out.trim()}`);
  }
  const json = path.join(process.env.RIG_DIR ?? path.resolve(__dirname, "..", "..", ".rig"), "rig.json");
  console.log(
    `\n[rig] ${how} in ${((Date.now() - t0) / 1000).toFixed(1)} s (3 nodes, registries :5000 :5443 :5001): ${json}`,
  );
}
