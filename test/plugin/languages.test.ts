/**
 * The component package from other languages: a Python and a Pulumi YAML program, checked against the schema the
 * package's own analyzer infers (the golden file that `schema.test.ts` proves current). They cannot run here (no
 * Pulumi CLI, no generated SDK), so each is parsed and every class, argument, property, enum and required input it
 * uses is checked the way the generated SDK or the YAML type checker would. Each check is shown to fail on a broken
 * copy.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const SCHEMA_FILE = path.join(ROOT, "test", "golden", "schema", "registry-setup.json");
const PYTHON = path.join(ROOT, "examples", "python-cluster", "__main__.py");
const YAML_PROGRAM = path.join(ROOT, "examples", "yaml-cluster", "Pulumi.yaml");

interface Prop {
  type?: string;
  $ref?: string;
  items?: Prop;
  additionalProperties?: Prop;
}
interface Schema {
  name: string;
  resources: Record<string, { inputProperties: Record<string, Prop>; requiredInputs?: string[] }>;
  types: Record<
    string,
    { type: string; properties?: Record<string, Prop>; required?: string[]; enum?: { value: string }[] }
  >;
}
const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as Schema;

/** Problems of a Python program, from `check_python.py`. */
function pythonProblems(file: string): string[] {
  const r = spawnSync(
    "python3",
    [path.join(__dirname, "check_python.py"), SCHEMA_FILE, file, "registry_setup"],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(r.stderr || r.stdout);
  return r.stdout.split("\n").filter(Boolean);
}

/** Problems of a YAML program's use of the package's resources, as the YAML type checker would see them. */
function yamlProblems(text: string): string[] {
  const doc = YAML.parse(text) as {
    packages?: Record<string, string>;
    resources?: Record<string, { type: string; properties?: unknown }>;
  };
  const problems: string[] = [];
  if (!doc.packages?.["registry-setup"]) problems.push("packages: registry-setup is not declared");
  const interpolated = (v: unknown) => typeof v === "string" && /\$\{[^}]+\}/.test(v);
  const check = (value: unknown, prop: Prop, at: string): void => {
    if (interpolated(value)) return; // known only when the program runs
    if (prop.$ref?.startsWith("#/types/")) {
      const t = schema.types[prop.$ref.slice("#/types/".length)];
      if (t.enum) {
        if (!t.enum.some((e) => e.value === value))
          problems.push(
            `${at}: ${JSON.stringify(value)} is not one of ${t.enum.map((e) => e.value).join(", ")}`,
          );
        return;
      }
      return checkObject(value, t.properties ?? {}, t.required ?? [], at);
    }
    switch (prop.type) {
      case "array":
        if (!Array.isArray(value)) return void problems.push(`${at}: must be a list`);
        return value.forEach((v, i) => check(v, prop.items!, `${at}[${i}]`));
      case "object":
        if (typeof value !== "object" || value === null) return void problems.push(`${at}: must be a map`);
        return Object.entries(value).forEach(([k, v]) =>
          check(v, prop.additionalProperties!, `${at}["${k}"]`),
        );
      case "string":
      case "boolean":
      case "integer":
        if (typeof value !== (prop.type === "integer" ? "number" : prop.type))
          problems.push(`${at}: must be a ${prop.type}`);
        return;
      case "number":
        if (typeof value !== "number") problems.push(`${at}: must be a number`);
        return;
    }
  };
  const checkObject = (value: unknown, props: Record<string, Prop>, required: string[], at: string): void => {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return void problems.push(`${at}: must be an object`);
    for (const [k, v] of Object.entries(value)) {
      if (!props[k]) problems.push(`${at}.${k}: is not a property (known: ${Object.keys(props).join(", ")})`);
      else check(v, props[k], `${at}.${k}`);
    }
    for (const r of required) if (!(r in value)) problems.push(`${at}.${r}: is required`);
  };
  for (const [name, res] of Object.entries(doc.resources ?? {})) {
    if (!res.type.startsWith("registry-setup:")) continue;
    const r = schema.resources[res.type];
    if (!r) {
      problems.push(`resources.${name}.type: ${res.type} is not a component of the package`);
      continue;
    }
    checkObject(
      res.properties ?? {},
      r.inputProperties,
      r.requiredInputs ?? [],
      `resources.${name}.properties`,
    );
  }
  return problems;
}

function withCopy(file: string, edit: (text: string) => string, fn: (copy: string) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lang-"));
  const copy = path.join(dir, path.basename(file));
  try {
    fs.writeFileSync(copy, edit(fs.readFileSync(file, "utf8")));
    fn(copy);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the Python example", () => {
  test("compiles with python3", () => {
    const r = spawnSync("python3", ["-m", "py_compile", PYTHON], {
      encoding: "utf8",
      env: { ...process.env, PYTHONPYCACHEPREFIX: os.tmpdir() },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("uses only classes, arguments and enum members of the schema", () => {
    expect(pythonProblems(PYTHON)).toEqual([]);
  });

  test.each([
    [
      "an unknown argument",
      (t: string) => t.replace("max_unavailable=1", "max_unavailable=1, rolling=True"),
      "ClusterRegistries has no argument 'rolling'",
    ],
    [
      "a missing required input",
      (t: string) => t.replace(/ {4}nodes=\[[\s\S]*?\n {4}\],\n/, ""),
      "ClusterRegistries needs 'nodes'",
    ],
    [
      "an unknown enum member",
      (t: string) => t.replace("ProfileKind.KUBELET", "ProfileKind.PODMAN"),
      "ProfileKind has no member PODMAN",
    ],
    [
      "an argument of another type",
      (t: string) => t.replace("override_path=True", "overridePath=True"),
      "MirrorArgs has no argument 'overridePath'",
    ],
  ])("refuses a broken copy: %s", (_label, edit, message) => {
    withCopy(PYTHON, edit, (copy) => expect(pythonProblems(copy).join("\n")).toContain(message));
  });
});

describe("the Pulumi YAML example", () => {
  const text = fs.readFileSync(YAML_PROGRAM, "utf8");

  test("uses the package's type token and only its properties, with valid enum values", () => {
    expect(yamlProblems(text)).toEqual([]);
    expect(text).toContain("type: registry-setup:index:ClusterRegistries");
  });

  test.each([
    [
      "an unknown property",
      (t: string) => t.replace("drift: overwrite", "drift: overwrite\n      rolling: true"),
      "resources.dev.properties.rolling: is not a property",
    ],
    [
      "a bad enum value",
      (t: string) => t.replace("kind: microk8s", "kind: podman"),
      'profiles[0].kind: "podman" is not one of',
    ],
    [
      "a wrong type token",
      (t: string) => t.replace("index:ClusterRegistries", "index:Cluster"),
      "is not a component of the package",
    ],
    [
      "a missing required property",
      (t: string) => t.replace(/ {6}nodes:[\s\S]*?credentials: hosts\n/, ""),
      "resources.dev.properties.nodes: is required",
    ],
  ])("refuses a broken copy: %s", (_label, edit, message) => {
    expect(yamlProblems(edit(text)).join("\n")).toContain(message);
  });
});
