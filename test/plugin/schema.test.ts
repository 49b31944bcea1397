/**
 * The component package as other languages see it: `@pulumi/pulumi`'s own analyzer (the one the Pulumi CLI runs when
 * `pulumi package add` points at `plugin/`) infers the schema from the TypeScript sources. The whole schema is a
 * golden file: a change of any component, input, output, type or description shows up in review.
 */
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as plugin from "../../plugin";
import { expectGolden } from "../helpers/golden";

const PLUGIN = path.join(__dirname, "..", "..", "plugin");

type Schema = {
  name: string;
  resources: Record<
    string,
    { description?: string; inputProperties: Record<string, Prop>; properties: Record<string, Prop> }
  >;
  types: Record<
    string,
    { properties?: Record<string, Prop>; enum?: { name: string; value: string; description?: string }[] }
  >;
};
type Prop = { description?: string };

let schema: Schema;
let text: string;
beforeAll(async () => {
  const components = getPulumiComponents(plugin);
  const provider = new ComponentProvider({
    components,
    dirname: PLUGIN,
    name: "registry-setup",
    version: "0.1.0",
  });
  schema = JSON.parse(await provider.getSchema()) as Schema;
  text = JSON.stringify(schema, null, 2) + "\n";
}, 120_000);

test("the plugin directory is a Pulumi component package: PulumiPlugin.yaml, its name, its entry point", () => {
  expect(fs.readFileSync(path.join(PLUGIN, "PulumiPlugin.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
  const pkg = JSON.parse(fs.readFileSync(path.join(PLUGIN, "package.json"), "utf8")) as {
    name: string;
    main: string;
  };
  // The CLI names the provider after the plugin's package.json: the type tokens are registry-setup:index:<Name>.
  expect(pkg).toMatchObject({ name: "registry-setup", main: "index.ts" });
  expect(
    getPulumiComponents(plugin)
      .map((c) => c.name)
      .sort(),
  ).toEqual([
    "ClusterRegistries",
    "MicroK8sRegistryAddon",
    "NodeClassRegistries",
    "NodeRegistries",
    "RegistrySetup",
    "SideLoad",
  ]);
});

test("the schema, golden: every component, input, output and type", () => {
  expectGolden("schema/registry-setup.json", text);
});

test("tokens are registry-setup:index:<Name> and match the classes' own type tokens", () => {
  expect(Object.keys(schema.resources).sort()).toEqual([
    "registry-setup:index:ClusterRegistries",
    "registry-setup:index:MicroK8sRegistryAddon",
    "registry-setup:index:NodeClassRegistries",
    "registry-setup:index:NodeRegistries",
    "registry-setup:index:RegistrySetup",
    "registry-setup:index:SideLoad",
  ]);
  for (const source of [
    "nodeRegistries",
    "clusterRegistries",
    "microk8sAddon",
    "sideLoad",
    "nodeClassRegistries",
    "registrySetup",
  ]) {
    const code = fs.readFileSync(
      path.join(__dirname, "..", "..", "components", "resources", `${source}.ts`),
      "utf8",
    );
    const token = /super\("([^"]+)"/.exec(code)![1];
    expect(Object.keys(schema.resources)).toContain(token);
  }
});

test("every component, input and output has a description, none garbled by JSDoc tags or links", () => {
  const missing: string[] = [];
  for (const [token, r] of Object.entries(schema.resources)) {
    if (!r.description) missing.push(token);
    for (const [kind, props] of [
      ["input", r.inputProperties],
      ["output", r.properties],
    ] as const) {
      for (const [name, p] of Object.entries(props))
        if (!p.description) missing.push(`${token} ${kind} ${name}`);
    }
  }
  for (const [token, t] of Object.entries(schema.types)) {
    for (const [name, p] of Object.entries(t.properties ?? {}))
      if (!p.description) missing.push(`${token}.${name}`);
  }
  expect(missing).toEqual([]);
  expect(text).not.toContain("[object Object]");
});

test("nothing internal shows: no path, no prepared declaration, no plain Record of resources", () => {
  for (const r of Object.values(schema.resources)) {
    expect(Object.keys(r.inputProperties)).not.toContain("path");
    for (const p of Object.values(r.properties)) expect(JSON.stringify(p)).not.toContain("/resources/");
  }
});
