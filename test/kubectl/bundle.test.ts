/**
 * The committed bundle of the ServiceAccount program is what scripts/bundleScripts.ts builds from the current
 * sources: the script a local.Command runs is never stale. (Fix with `npm run bundle`.)
 */
import * as fs from "fs";
import { BUNDLE_FILE, bundleModuleText, bundleServiceAccountScript } from "../../scripts/bundleScripts";
import { SERVICE_ACCOUNT_SCRIPT } from "../../components/kubectl/serviceAccountScript.bundle";

test("components/kubectl/serviceAccountScript.bundle.ts is up to date (npm run bundle)", () => {
  expect(fs.readFileSync(BUNDLE_FILE, "utf8")).toBe(bundleModuleText());
  expect(SERVICE_ACCOUNT_SCRIPT).toBe(bundleServiceAccountScript());
});

test("the bundle is self-contained: only Node's own modules are required from outside it", () => {
  const outside = [...SERVICE_ACCOUNT_SCRIPT.matchAll(/require\("([^".][^"]*)"\)/g)].map((m) => m[1]);
  expect([...new Set(outside)].sort()).toEqual(["child_process"]);
  expect(SERVICE_ACCOUNT_SCRIPT).not.toMatch(/\/work\/|\/home\/|\/root\//);
});
