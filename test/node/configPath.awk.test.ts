import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CONFIG_PATH_CASES } from "../render/configPath.cases";
import { AWKS, finalNl, runAwk, tempFiles } from "../helpers/awk";

// The node enables config_path with configPath.awk. It reads headers and key lines where the TypeScript twin
// parses the whole TOML, so it must agree on every case of the shared table; the few refusals that need a full
// parser are made on the node by its own `containerd config dump`, which this test runs for real.
const NEEDS_A_PARSER = new Set(
  CONFIG_PATH_CASES.filter(
    (c) => c.expected === "error" && /does not parse|dotted|inline|not a string|version = "/.test(c.name),
  ).map((c) => c.name),
);

describe.each(AWKS)("configPath.awk under %s", (_name, awk) => {
  test.each(CONFIG_PATH_CASES.map((c) => [c.name, c] as const))("%s", (name, c) => {
    const { dir, paths } = tempFiles({ existing: c.existing });
    try {
      const r = runAwk(
        awk,
        "configPath.awk",
        {
          value: c.configPath,
          exists: c.existing === undefined ? "0" : "1",
          final_nl: finalNl(c.existing),
          major: String(c.containerdMajor ?? 1),
        },
        paths.existing,
      );
      if (c.expected === "error") {
        if (NEEDS_A_PARSER.has(name) && r.code === 0) {
          // The script checks every edited config with the node's containerd before switching it in.
          const out = path.join(dir, "out.toml");
          fs.writeFileSync(out, r.stdout);
          const dump = spawnSync("containerd", ["--config", out, "config", "dump"], { encoding: "utf8" });
          expect(dump.status).not.toBe(0);
          return;
        }
        expect(r.code).not.toBe(0);
        return;
      }
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(c.expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
