import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * `pulumi preview` of the render-only example with a local backend. Needs the Pulumi CLI and its nodejs
 * language host, which cannot be downloaded on the CI machines: the test is skipped, with this reason in its
 * name, when `pulumi` is not on the PATH.
 */
const cli = spawnSync("pulumi", ["version"], { encoding: "utf8" });
const hasCli = cli.status === 0;
const name = hasCli
  ? `pulumi preview of examples/render-only (Pulumi CLI ${cli.stdout.trim()})`
  : "pulumi preview of examples/render-only — SKIPPED: the Pulumi CLI is not installed on this machine";

(hasCli ? test : test.skip)(
  name,
  () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-home-"));
    const env = {
      ...process.env,
      PULUMI_HOME: home,
      PULUMI_CONFIG_PASSPHRASE: "test",
      PULUMI_BACKEND_URL: `file://${home}`,
    };
    const cwd = path.join(__dirname, "..", "..", "examples", "render-only");
    const run = (args: string[]) =>
      spawnSync("pulumi", args, { cwd, env, encoding: "utf8", timeout: 240_000 });
    try {
      expect(run(["stack", "init", "test", "--non-interactive"]).status).toBe(0);
      const preview = run(["preview", "--non-interactive", "--diff"]);
      expect(preview.status).toBe(0);
      expect(preview.stdout).toContain("kindContainerdConfigPatches");
    } finally {
      run(["stack", "rm", "test", "--yes", "--force"]);
      fs.rmSync(home, { recursive: true, force: true });
    }
  },
  300_000,
);
