/**
 * The committed bundles of the kubectl programs are what scripts/bundleScripts.ts builds from the current sources:
 * the script a local.Command runs is never stale. (Fix with `npm run bundle`.)
 */
import * as fs from "fs";
import * as path from "path";
import { BUNDLES, bundleFile, bundleModuleText, bundleScript } from "../../scripts/bundleScripts";
import { SERVICE_ACCOUNT_SCRIPT } from "../../components/kubectl/serviceAccountScript.bundle";
import { DAEMONSET_SCRIPT } from "../../components/kubectl/daemonSetScript.bundle";

const SCRIPTS: Record<string, string> = { SERVICE_ACCOUNT_SCRIPT, DAEMONSET_SCRIPT };

test.each(BUNDLES.map((b) => [path.basename(bundleFile(b)), b] as const))(
  "components/kubectl/%s is up to date (npm run bundle)",
  (_file, spec) => {
    expect(fs.readFileSync(bundleFile(spec), "utf8")).toBe(bundleModuleText(spec));
    expect(SCRIPTS[spec.constant]).toBe(bundleScript(spec));
  },
);

test.each(Object.entries(SCRIPTS))(
  "%s is self-contained: only Node's own modules are required from outside it",
  (_name, script) => {
    const outside = [...script.matchAll(/require\("([^".][^"]*)"\)/g)].map((m) => m[1]);
    expect([...new Set(outside)].sort()).toEqual(["child_process"]);
    expect(script).not.toMatch(/\/work\/|\/home\/|\/root\//);
  },
);
