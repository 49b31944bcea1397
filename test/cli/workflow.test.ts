/**
 * The example pull-request workflow (examples/ci/pulumi-preview.yml) parses as a GitHub Actions workflow and has the
 * steps its README promises: an offline `registry-setup render --check` with its diff, and pulumi/actions' preview
 * commented on the pull request.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
const file = path.join(__dirname, "..", "..", "examples", "ci", "pulumi-preview.yml");
const doc = YAML.parse(fs.readFileSync(file, "utf8")) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { "runs-on": string; steps: Step[] }>;
};
const steps = Object.values(doc.jobs)[0].steps;

test("runs on pull requests with the permission to comment", () => {
  expect(Object.keys(doc.on)).toEqual(["pull_request"]);
  expect(doc.permissions["pull-requests"]).toBe("write");
  expect(Object.values(doc.jobs)[0]["runs-on"]).toBe("ubuntu-latest");
});

test("installs the project before anything runs it", () => {
  const i = steps.findIndex((s) => s.run === "npm ci");
  expect(i).toBeGreaterThan(0);
  expect(steps.slice(0, i).map((s) => s.uses)).toEqual(["actions/checkout@v4", "actions/setup-node@v4"]);
});

test("checks the committed render without a backend, and shows the diff", () => {
  const render = steps.find((s) => s.run?.includes("registry-setup render"));
  expect(render?.run).toMatch(/npx registry-setup render \. --stack \S+ --out rendered\/\S+ --check/);
  expect(render?.run).toContain("GITHUB_STEP_SUMMARY");
  expect(render?.env ?? {}).toEqual({});
});

test("posts pulumi preview --diff on the pull request with pulumi/actions@v7", () => {
  const preview = steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
  expect(preview?.uses).toBe("pulumi/actions@v7");
  expect(preview?.with).toMatchObject({ command: "preview", "comment-on-pr": true, diff: true });
  expect(String(preview?.with?.["stack-name"])).toMatch(/^[\w.-]+\/[\w.-]+$/);
  expect(preview?.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
});
